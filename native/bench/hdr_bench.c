/* hdr_bench: the in-process cost of the instrumentation's two primitives (one hdr_now(), one
 * record), timed in C so no Python call is in the loop. bench/instrumentation.py reports them as
 * the arithmetic floor of what stamping adds per order; the order path itself is measured there
 * on the real venue processes. */
#include "hdr_bench.h"

#include <errno.h>
#include <time.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int hdr_bench_primitives(hdr_region_t *region, uint32_t index, uint64_t n, uint64_t *now_total_ns,
                         uint64_t *record_total_ns)
{
    if (!region || n == 0 || !now_total_ns || !record_total_ns)
        return -EINVAL;
    hdr_hist_t h;
    int rc = hdr_region_hist(region, index, &h);
    if (rc != 0)
        return rc;
    uint64_t sink = 0;
    uint64_t t0 = mono_ns();
    for (uint64_t i = 0; i < n; i++)
        sink += hdr_now();
    uint64_t t1 = mono_ns();
    /* varying values over ~3 decades so the index computation is not one cached answer */
    uint64_t rng = 0x2545f4914f6cdd1dull | sink;
    for (uint64_t i = 0; i < n; i++)
        hdr_hist_record(&h, (int64_t)(200 + (xorshift(&rng) & 0x3ffff)));
    uint64_t t2 = mono_ns();
    *now_total_ns = t1 - t0;
    *record_total_ns = t2 - t1;
    return 0;
}
