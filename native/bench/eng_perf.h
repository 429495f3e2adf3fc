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
    int64_t minor_faults;     /* page faults the thread took inside the loop (getrusage around it) */
} eng_bench_result_t;

/* Feeds cmds[0..n) through eng_process into a sink that discards events (copying them into a
 * 4096-event buffer first, as a real sink would), with the batch prefetch schedule below (what the
 * venue runner does when its ring holds several commands). With lat_ns NULL it measures throughput only;
 * otherwise lat_ns[i] receives the latency of message i in ns, timed with the TSC (x86-64) or
 * CLOCK_MONOTONIC (elsewhere), scaled by the loop's own monotonic time and minus the timer
 * overhead. Returns 0, or -EINVAL for NULL eng/cmds/out. */
int eng_bench_run(eng_engine_t *eng, const eng_cmd_t *cmds, size_t n, uint32_t *lat_ns, eng_bench_result_t *out);

/* As eng_bench_run, choosing the path: batched 1 is eng_bench_run's (prefetch schedule over the
 * batch), batched 0 processes one command at a time with no look-ahead at all, as an engine that
 * is handed each command alone. Returns 0, or -EINVAL for NULL eng/cmds/out. */
int eng_bench_run_path(eng_engine_t *eng, const eng_cmd_t *cmds, size_t n, int batched, uint32_t *lat_ns,
                       eng_bench_result_t *out);

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

/* The schedule itself, shared by every batch caller so that the benchmark measures the venue's
 * path: called before processing a command, with the commands ENG_PREFETCH_FAR / MID / NEAR
 * places after it in the batch (NULL where the batch ends first, or for a record that is not a
 * command), it issues their stages 0 / 1 / 2. It does nothing while the order pool's used part is
 * small enough to stay in the caches (fewer than ENG_PREFETCH_MIN_ORDERS slots ever used, 8 MiB
 * of orders): there a prefetch only costs instructions. Measured with bench/engine.py's synthetic
 * mix, M commands per thread-CPU second one at a time / prefetched: 20 K resting orders 10.7 / 8.4,
 * 100 K 3.5 / 5.5, 500 K 2.0 / 3.2-4.7 (load 10 on 2 CPUs). */
#define ENG_PREFETCH_MIN_ORDERS 65536
void eng_prefetch_schedule(const eng_engine_t *eng, const eng_cmd_t *far, const eng_cmd_t *mid,
                           const eng_cmd_t *near);

/* CFFI-END */

#endif /* ENG_PERF_H */
