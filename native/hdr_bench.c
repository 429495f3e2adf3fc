/* hdr_bench: the timed loops behind bench/instrumentation.py. Baseline and instrumented runs share
 * one work function whose instrumentation is a compile-time constant argument, so both are the
 * same machine code except for the stamps and records. */
#include "hdr_bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_RING_SLOTS 1024u
#define BENCH_LEVELS 4096u

typedef struct bench_state {
    eng_cmd_t ring[BENCH_RING_SLOTS];
    eng_evt_t log[BENCH_RING_SLOTS];
    int64_t levels[BENCH_LEVELS];
    _Atomic uint64_t ring_tail;  /* single thread here, but published and read as a real SPSC ring
                                  * would be, so the ordering cost is part of the work */
    uint64_t rng;
    uint64_t seq;
    uint64_t checksum;
} bench_state_t;

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

/* One order. `instrumented` is a constant at every call site, so the branches fold away. */
static inline __attribute__((always_inline)) void bench_one(bench_state_t *st, const hdr_hist_t *h,
                                                            int instrumented)
{
    uint64_t t[HDR_POINT_COUNT] = {0};
    if (instrumented)
        t[HDR_POINT_SOCKET_RECEIVE] = hdr_now();

    uint64_t r = xorshift(&st->rng);
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.new_order.hdr.type = ENG_CMD_NEW_ORDER;
    cmd.new_order.hdr.instrument_id = 1 + (uint32_t)(r & 7);
    cmd.new_order.hdr.seq = ++st->seq;
    cmd.new_order.order_id = st->seq;
    cmd.new_order.price = 10000 + (int64_t)((r >> 8) % BENCH_LEVELS);
    cmd.new_order.qty = 1 + (int64_t)((r >> 24) & 255);
    cmd.new_order.side = (r >> 40) & 1 ? ENG_SIDE_BUY : ENG_SIDE_SELL;
    cmd.new_order.ord_type = ENG_ORD_LIMIT;
    cmd.new_order.tif = ENG_TIF_DAY;
    /* decode: the checks a gateway makes before a command may enter the ring */
    if (cmd.new_order.qty <= 0 || cmd.new_order.price <= 0)
        st->checksum++;
    if (instrumented)
        t[HDR_POINT_DECODE] = hdr_now();

    uint64_t tail = atomic_load_explicit(&st->ring_tail, memory_order_relaxed);
    st->ring[tail & (BENCH_RING_SLOTS - 1)] = cmd;
    /* release: publishes the slot written above; pairs with the acquire load just below, which
     * stands in for the engine's dequeue */
    atomic_store_explicit(&st->ring_tail, tail + 1, memory_order_release);
    if (instrumented)
        t[HDR_POINT_RING_ENQUEUE] = hdr_now();

    uint64_t seen = atomic_load_explicit(&st->ring_tail, memory_order_acquire);
    eng_cmd_t in = st->ring[(seen - 1) & (BENCH_RING_SLOTS - 1)];
    if (instrumented)
        t[HDR_POINT_ENGINE_DEQUEUE] = hdr_now();

    uint32_t level = (uint32_t)(in.new_order.price - 10000) % BENCH_LEVELS;
    int64_t sign = in.new_order.side == ENG_SIDE_BUY ? 1 : -1;
    int64_t before = st->levels[level];
    st->levels[level] = before + sign * in.new_order.qty;
    int64_t traded = (before * sign < 0) ? in.new_order.qty : 0;
    if (instrumented)
        t[HDR_POINT_MATCHING_DONE] = hdr_now();

    eng_evt_t *ev = &st->log[in.new_order.hdr.seq & (BENCH_RING_SLOTS - 1)];
    memset(ev, 0, sizeof *ev);
    ev->trade.hdr.type = traded ? ENG_EVT_TRADE : ENG_EVT_ACCEPTED;
    ev->trade.hdr.instrument_id = in.new_order.hdr.instrument_id;
    ev->trade.hdr.seq = in.new_order.hdr.seq;
    ev->trade.price = in.new_order.price;
    ev->trade.qty = traded ? traded : in.new_order.qty;
    if (instrumented)
        t[HDR_POINT_EVENT_PUBLISHED] = hdr_now();

    /* transmit: fold the event's words as an encoder would read them */
    const uint64_t *w = (const uint64_t *)ev;
    uint64_t hsh = st->checksum;
    for (size_t i = 0; i < sizeof *ev / sizeof *w; i++)
        hsh = (hsh ^ w[i]) * 0x100000001b3ull;
    st->checksum = hsh;
    if (instrumented) {
        t[HDR_POINT_GATEWAY_TRANSMIT] = hdr_now();
        for (int s = 0; s < HDR_STAGE_END_TO_END; s++)
            hdr_hist_record_ticks(&h[s], t[s], t[s + 1]);
        hdr_hist_record_ticks(&h[HDR_STAGE_END_TO_END], t[HDR_POINT_SOCKET_RECEIVE],
                              t[HDR_POINT_GATEWAY_TRANSMIT]);
    }
}

int hdr_bench_order_path(uint32_t mode, hdr_region_t *region, uint32_t batches, uint32_t batch_ops,
                         uint64_t *batch_ns, uint64_t *checksum)
{
    if (mode > HDR_BENCH_PATH || batches == 0 || batch_ops == 0 || !batch_ns || !checksum)
        return -EINVAL;
    hdr_hist_t h[HDR_STAGE_COUNT];
    if (mode == HDR_BENCH_PATH) {
        if (!region || region->hist_count < HDR_STAGE_COUNT)
            return -EINVAL;
        for (uint32_t s = 0; s < HDR_STAGE_COUNT; s++) {
            int rc = hdr_region_hist(region, s, &h[s]);
            if (rc != 0)
                return rc;
        }
    }
    bench_state_t *st = aligned_alloc(64, sizeof(bench_state_t));
    if (!st)
        return -ENOMEM;
    memset(st, 0, sizeof *st);
    st->rng = 0x9e3779b97f4a7c15ull;
    for (uint32_t b = 0; b < batches; b++) {
        uint64_t t0 = mono_ns();
        if (mode == HDR_BENCH_PATH)
            for (uint32_t i = 0; i < batch_ops; i++)
                bench_one(st, h, 1);
        else
            for (uint32_t i = 0; i < batch_ops; i++)
                bench_one(st, h, 0);
        batch_ns[b] = mono_ns() - t0;
    }
    *checksum = st->checksum;
    free(st);
    return 0;
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
