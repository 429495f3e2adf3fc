/*
 * ring_stress.c - self-checking record streams through the SPSC ring and the broadcast log.
 */
#include "ring_stress.h"

#include <string.h>

#include "ring_atomic.h"
#include "ring_segment.h"

#define RING_STRESS_MAX_LEN 4096u

static uint32_t ring_stress_len(uint64_t k, uint32_t min_len, uint32_t max_len)
{
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return min_len + (uint32_t)(h % (uint64_t)(max_len - min_len + 1));
}

static void ring_stress_body(uint8_t *dst, uint64_t k, uint32_t len)
{
    memcpy(dst, &k, 8);
    for (uint32_t j = 8; j < len; j++)
        dst[j] = (uint8_t)(k * 131 + j);
}

static int ring_stress_body_ok(const uint8_t *src, uint64_t k, uint32_t len)
{
    for (uint32_t j = 8; j < len; j++)
        if (src[j] != (uint8_t)(k * 131 + j))
            return 0;
    return 1;
}

static int ring_stress_args_ok(uint32_t min_len, uint32_t max_len, ring_stress_result_t *out)
{
    if (!out)
        return 0;
    memset(out, 0, sizeof *out);
    return min_len >= 8 && min_len <= max_len && max_len <= RING_STRESS_MAX_LEN;
}

/* Deadline helper: re-armed whenever progress is made; the clock is read every 256 idle spins. */
typedef struct ring_stress_clock {
    uint32_t spins;
    int64_t deadline;
} ring_stress_clock_t;

static int ring_stress_stalled(ring_stress_clock_t *c, uint64_t timeout_ns)
{
    if ((++c->spins & 255u) != 0)
        return 0;
    int64_t now = ring_now_ns();
    if (c->deadline == 0) {
        c->deadline = now + (int64_t)timeout_ns;
        return 0;
    }
    return now >= c->deadline;
}

int ring_stress_spsc_produce(ring_spsc_t *r, uint64_t count, uint32_t min_len, uint32_t max_len,
                             uint64_t timeout_ns, ring_stress_result_t *out)
{
    if (!ring_stress_args_ok(min_len, max_len, out) || !r)
        return out ? (out->rc = RING_INVALID) : RING_INVALID;
    int64_t t0 = ring_now_ns();
    for (uint64_t k = 0; k < count; k++) {
        uint32_t len = ring_stress_len(k, min_len, max_len);
        ring_stress_clock_t clk = { 0, 0 };
        int32_t off;
        while ((off = ring_spsc_claim(r, RING_STRESS_TYPE, len)) == RING_FULL) {
            out->full++;
            if (ring_stress_stalled(&clk, timeout_ns)) {
                out->rc = RING_TIMEOUT;
                goto done;
            }
            ring_cpu_relax();
        }
        if (off < 0) {
            out->rc = off;
            goto done;
        }
        ring_stress_body(r->data + off, k, len);
        ring_spsc_commit(r, off);
        out->records++;
        out->bytes += len;
        out->checksum += k;
        out->last = k + 1;
    }
done:
    out->elapsed_ns = (uint64_t)(ring_now_ns() - t0);
    return out->rc;
}

int ring_stress_spsc_consume(ring_spsc_t *r, uint64_t count, uint32_t min_len, uint32_t max_len,
                             uint64_t timeout_ns, ring_stress_result_t *out)
{
    if (!ring_stress_args_ok(min_len, max_len, out) || !r)
        return out ? (out->rc = RING_INVALID) : RING_INVALID;
    int64_t t0 = 0;
    uint64_t expect = 0;
    ring_stress_clock_t clk = { 0, 0 };
    while (out->records + out->corrupt + out->out_of_order < count) {
        uint32_t batch = 0;
        int32_t type;
        uint32_t length;
        int32_t off;
        while (batch < 64 && (off = ring_spsc_peek(r, &type, &length)) >= 0) {
            if (t0 == 0)
                t0 = ring_now_ns();
            const uint8_t *p = r->data + off;
            uint64_t k;
            memcpy(&k, p, 8);
            if (k != expect)
                out->out_of_order++;
            else if (type != RING_STRESS_TYPE || length != ring_stress_len(k, min_len, max_len) ||
                     !ring_stress_body_ok(p, k, length))
                out->corrupt++;
            else
                out->records++;
            out->bytes += length;
            out->checksum += k;
            out->last = k + 1;
            expect = k + 1;
            ring_spsc_consume(r);
            batch++;
        }
        if (batch) {
            ring_spsc_release(r);
            clk.deadline = 0;
            continue;
        }
        if (off != RING_EMPTY) {
            out->rc = off;
            break;
        }
        if (ring_stress_stalled(&clk, timeout_ns)) {
            out->rc = RING_TIMEOUT;
            break;
        }
        ring_cpu_relax();
    }
    out->elapsed_ns = t0 ? (uint64_t)(ring_now_ns() - t0) : 0;
    return out->rc;
}

static uint64_t ring_stress_slowest(uint64_t *progress, uint32_t n, uint32_t stride)
{
    uint64_t min = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        /* acquire: pairs with the release store in ring_stress_bcast_receive(); orders nothing
         * the log needs, it only keeps the harness honest under weak memory models. */
        uint64_t v = atomic_load_explicit(ring_a64(&progress[(uint64_t)i * stride]), RING_ACQUIRE);
        if (v < min)
            min = v;
    }
    return min;
}

int ring_stress_bcast_transmit(ring_bcast_tx_t *tx, uint64_t count, uint32_t min_len,
                               uint32_t max_len, uint64_t *reader_progress, uint32_t n_readers,
                               uint32_t stride_words, uint64_t max_ahead, uint64_t timeout_ns,
                               ring_stress_result_t *out)
{
    if (!ring_stress_args_ok(min_len, max_len, out) || !tx || (n_readers && (!reader_progress || !stride_words)))
        return out ? (out->rc = RING_INVALID) : RING_INVALID;
    uint8_t buf[RING_STRESS_MAX_LEN];
    int64_t t0 = ring_now_ns();
    for (uint64_t k = 0; k < count; k++) {
        if (n_readers) {
            ring_stress_clock_t clk = { 0, 0 };
            while (k - ring_stress_slowest(reader_progress, n_readers, stride_words) > max_ahead) {
                out->full++;
                if (ring_stress_stalled(&clk, timeout_ns)) {
                    out->rc = RING_TIMEOUT;
                    goto done;
                }
                ring_cpu_relax();
            }
        }
        uint32_t len = ring_stress_len(k, min_len, max_len);
        ring_stress_body(buf, k, len);
        int rc = ring_bcast_transmit(tx, RING_STRESS_TYPE, buf, len);
        if (rc != 0) {
            out->rc = rc;
            goto done;
        }
        out->records++;
        out->bytes += len;
        out->checksum += k;
        out->last = k + 1;
    }
done:
    out->elapsed_ns = (uint64_t)(ring_now_ns() - t0);
    return out->rc;
}

int ring_stress_bcast_receive(ring_bcast_rx_t *rx, uint64_t count, uint32_t min_len,
                              uint32_t max_len, uint64_t *progress, uint32_t delay_spins,
                              uint64_t timeout_ns, ring_stress_result_t *out)
{
    if (!ring_stress_args_ok(min_len, max_len, out) || !rx)
        return out ? (out->rc = RING_INVALID) : RING_INVALID;
    uint8_t buf[RING_STRESS_MAX_LEN];
    int64_t t0 = 0;
    uint64_t next = 0;              /* the record number expected next */
    int lap_pending = 0;            /* a lap was reported: the next number may jump ahead */
    ring_stress_clock_t clk = { 0, 0 };
    while (out->last < count) {
        int32_t type;
        uint32_t length;
        int rc = ring_bcast_receive(rx, buf, sizeof buf, &type, &length);
        if (rc == RING_EMPTY) {
            if (ring_stress_stalled(&clk, timeout_ns)) {
                out->rc = RING_TIMEOUT;
                break;
            }
            ring_cpu_relax();
            continue;
        }
        clk.deadline = 0;
        if (rc == RING_LAPPED) {
            out->lapped++;
            lap_pending = 1;
            continue;
        }
        if (rc < 0) {
            out->rc = rc;
            break;
        }
        if (t0 == 0)
            t0 = ring_now_ns();
        uint64_t k;
        memcpy(&k, buf, 8);
        if (k < next || (k > next && !lap_pending))
            out->out_of_order++;
        else if (type != RING_STRESS_TYPE || length != ring_stress_len(k, min_len, max_len) ||
                 !ring_stress_body_ok(buf, k, length))
            out->corrupt++;
        else
            out->records++;
        if (k > next)
            out->skipped += k - next;
        lap_pending = 0;
        next = k + 1;
        out->bytes += length;
        out->checksum += k;
        out->last = k + 1;
        if (progress)
            /* release: pairs with the acquire load in ring_stress_slowest(). */
            atomic_store_explicit(ring_a64(progress), out->last, RING_RELEASE);
        for (uint32_t s = 0; s < delay_spins; s++)
            ring_cpu_relax();
    }
    out->elapsed_ns = t0 ? (uint64_t)(ring_now_ns() - t0) : 0;
    return out->rc;
}
