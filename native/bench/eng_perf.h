/*
 * eng_perf.h - a C timing loop around eng_process for bench/engine.py, so that throughput and
 * per-message latency are measured without Python in the loop.
 */
#ifndef ENG_PERF_H
#define ENG_PERF_H

#include <stddef.h>
#include <stdint.h>

#include "eng_engine.h"

/* CFFI-BEGIN */

typedef struct eng_bench_result {
    uint64_t messages;
    uint64_t events;          /* events the engine emitted (discarded by the bench sink) */
    int64_t elapsed_ns;       /* CLOCK_MONOTONIC time of the whole loop */
    int64_t cpu_ns;           /* CLOCK_THREAD_CPUTIME_ID time of the loop: excludes time the
                                 thread spent descheduled on a shared machine */
    int64_t timer_overhead_ns;/* median cost of one empty timestamp pair, already subtracted */
} eng_bench_result_t;

/* Feeds cmds[0..n) through eng_process into a sink that discards events (copying them into a
 * 4096-event buffer first, as a real sink would). With lat_ns NULL it measures throughput only;
 * otherwise lat_ns[i] receives the latency of message i in ns, timed with the TSC (x86-64) or
 * CLOCK_MONOTONIC (elsewhere), scaled by the loop's own monotonic time and minus the timer
 * overhead. Returns 0, or -EINVAL for NULL eng/cmds/out. */
int eng_bench_run(eng_engine_t *eng, const eng_cmd_t *cmds, size_t n, uint32_t *lat_ns, eng_bench_result_t *out);

/* Batch hint for callers that hold a batch (eng_submit, the venue runner, the bench loop): stage
 * 0 prefetches the index slots processing cmd will probe first; stage 1, issued a few commands
 * later for the same cmd, prefetches the order and level entries those slots name; stage 2 the
 * level and queue neighbours of that order. Issue stage 0 about ENG_PREFETCH_FAR commands ahead,
 * stage 1 ENG_PREFETCH_MID and stage 2 ENG_PREFETCH_NEAR ahead. Reads only: no effect on state or
 * events. */
#define ENG_PREFETCH_FAR 10
#define ENG_PREFETCH_MID 5
#define ENG_PREFETCH_NEAR 2
void eng_prefetch(const eng_engine_t *eng, const eng_cmd_t *cmd, int stage);

/* CFFI-END */

#endif /* ENG_PERF_H */
