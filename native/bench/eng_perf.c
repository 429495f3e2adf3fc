/*
 * eng_perf.c - benchmark driver for the engine: a tight C loop over eng_process with optional
 * per-message timestamps. Used only by bench/engine.py; nothing on the venue path calls it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "eng_perf.h"

static inline void prefetch_ahead(eng_engine_t *eng, const eng_cmd_t *cmds, size_t i, size_t n, int batched)
{
    if (!batched) return;
    eng_prefetch_schedule(eng, i + ENG_PREFETCH_FAR < n ? &cmds[i + ENG_PREFETCH_FAR] : NULL,
                          i + ENG_PREFETCH_MID < n ? &cmds[i + ENG_PREFETCH_MID] : NULL,
                          i + ENG_PREFETCH_NEAR < n ? &cmds[i + ENG_PREFETCH_NEAR] : NULL);
}

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t ticks_begin(void)
{
    _mm_lfence(); /* keeps earlier work from leaking into the measured region */
    return __rdtsc();
}
static inline uint64_t ticks_end(void)
{
    unsigned aux;
    uint64_t t = __rdtscp(&aux); /* waits for the measured work to retire */
    _mm_lfence();
    return t;
}
#else
static inline uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t ticks_begin(void) { return mono_ns(); }
static inline uint64_t ticks_end(void) { return mono_ns(); }
#endif

static int64_t clock_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct {
    eng_sink_t sink;
    uint64_t flushed;
} bench_sink_t;

static void discard_flush(eng_sink_t *s)
{
    ((bench_sink_t *)s)->flushed += s->len;
    s->len = 0;
}

static int64_t thread_minflt(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? (int64_t)ru.ru_minflt : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* See eng_perf.h. */
int eng_bench_run(eng_engine_t *eng, const eng_cmd_t *cmds, size_t n, uint32_t *lat_ns, eng_bench_result_t *out)
{
    return eng_bench_run_path(eng, cmds, n, 1, lat_ns, out);
}

/* See eng_perf.h. */
int eng_bench_run_path(eng_engine_t *eng, const eng_cmd_t *cmds, size_t n, int batched, uint32_t *lat_ns,
                       eng_bench_result_t *out)
{
    if (!eng || !cmds || !out) return -EINVAL;
    static eng_evt_t buf[4096];
    bench_sink_t bs = {{buf, 0, 4096, discard_flush, NULL}, 0};
    uint64_t overhead = 0;
    if (lat_ns) {
        uint64_t samples[1001];
        for (int i = 0; i < 1001; i++) {
            uint64_t t0 = ticks_begin();
            samples[i] = ticks_end() - t0;
        }
        qsort(samples, 1001, sizeof(samples[0]), cmp_u64);
        overhead = samples[500];
    }
    int64_t f0 = thread_minflt();
    int64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    int64_t w0 = clock_ns(CLOCK_MONOTONIC);
    uint64_t k0 = ticks_begin();
    if (!lat_ns) {
        for (size_t i = 0; i < n; i++) {
            prefetch_ahead(eng, cmds, i, n, batched);
            eng_process(eng, &cmds[i], &bs.sink);
            if (bs.sink.len > 2048) discard_flush(&bs.sink);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            prefetch_ahead(eng, cmds, i, n, batched);
            uint64_t t0 = ticks_begin();
            eng_process(eng, &cmds[i], &bs.sink);
            uint64_t t1 = ticks_end();
            uint64_t d = t1 - t0;
            lat_ns[i] = (uint32_t)(d > overhead ? (d - overhead > UINT32_MAX ? UINT32_MAX : d - overhead) : 0);
            if (bs.sink.len > 2048) discard_flush(&bs.sink);
        }
    }
    uint64_t k1 = ticks_end();
    int64_t w1 = clock_ns(CLOCK_MONOTONIC);
    int64_t c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    out->minor_faults = thread_minflt() - f0;
    discard_flush(&bs.sink);
    out->messages = n;
    out->events = bs.flushed;
    out->elapsed_ns = w1 - w0;
    out->cpu_ns = c1 - c0;
    double ns_per_tick = k1 > k0 ? (double)(w1 - w0) / (double)(k1 - k0) : 1.0;
    out->timer_overhead_ns = (int64_t)(overhead * ns_per_tick);
    if (lat_ns)
        for (size_t i = 0; i < n; i++) lat_ns[i] = (uint32_t)(lat_ns[i] * ns_per_tick + 0.5);
    return 0;
}
