/*
 * ring_probe.c - ping-pong probes (see ring_probe.h). Spinning is unconditional here: a probe
 * measures the path, not a wait strategy. The clock is read only every 1024 spins while waiting,
 * so a timeout check costs nothing per round trip.
 */
#include "ring_probe.h"

#include <string.h>

#include "ring_atomic.h"

#define RING_PROBE_CLOCK_EVERY 1024u

static int ring_probe_expired(uint32_t *spins, int64_t *deadline, uint64_t timeout_ns)
{
    if ((++*spins & (RING_PROBE_CLOCK_EVERY - 1)) != 0)
        return 0;
    int64_t now = ring_now_ns();
    if (*deadline == 0) {
        *deadline = now + (int64_t)timeout_ns;
        return 0;
    }
    return now >= *deadline;
}

int ring_probe_line_ping(ring_probe_lines_t *lines, uint64_t *rtt_ns, uint32_t samples,
                         uint32_t warmup, uint64_t timeout_ns)
{
    if (!lines || !rtt_ns || samples == 0 || ((uintptr_t)lines & 7))
        return RING_INVALID;
    for (uint64_t i = 1; i <= (uint64_t)warmup + samples; i++) {
        int64_t t0 = ring_now_ns();
        /* release: pairs with the acquire load of ping in ring_probe_line_pong(). */
        atomic_store_explicit(ring_a64(&lines->ping), i, RING_RELEASE);
        uint32_t spins = 0;
        int64_t deadline = 0;
        /* acquire: pairs with the release store of pong in ring_probe_line_pong(). */
        while (atomic_load_explicit(ring_a64(&lines->pong), RING_ACQUIRE) != i) {
            if (ring_probe_expired(&spins, &deadline, timeout_ns))
                return RING_TIMEOUT;
        }
        int64_t t1 = ring_now_ns();
        if (i > warmup)
            rtt_ns[i - warmup - 1] = (uint64_t)(t1 - t0);
    }
    return 0;
}

int ring_probe_line_pong(ring_probe_lines_t *lines, uint32_t rounds, uint64_t timeout_ns)
{
    for (uint64_t i = 1; i <= rounds; i++) {
        uint32_t spins = 0;
        int64_t deadline = 0;
        /* acquire: pairs with the release store of ping in ring_probe_line_ping(). */
        while (atomic_load_explicit(ring_a64(&lines->ping), RING_ACQUIRE) != i) {
            if (ring_probe_expired(&spins, &deadline, timeout_ns))
                return RING_TIMEOUT;
        }
        /* release: pairs with the acquire load of pong in ring_probe_line_ping(). */
        atomic_store_explicit(ring_a64(&lines->pong), i, RING_RELEASE);
    }
    return 0;
}

/* Spins for the next record on `in`; returns its offset or RING_TIMEOUT / RING_SEG_CORRUPT. */
static int32_t ring_probe_await(struct ring_spsc *in, uint32_t *length, uint64_t timeout_ns)
{
    uint32_t spins = 0;
    int64_t deadline = 0;
    int32_t type;
    for (;;) {
        int32_t off = ring_spsc_peek(in, &type, length);
        if (off >= 0)
            return off;
        if (off != RING_EMPTY)
            return off;
        if (ring_probe_expired(&spins, &deadline, timeout_ns))
            return RING_TIMEOUT;
    }
}

int ring_probe_ring_ping(struct ring_spsc *out, struct ring_spsc *in, uint32_t payload_bytes,
                         uint64_t *rtt_ns, uint32_t samples, uint32_t warmup, uint64_t timeout_ns)
{
    if (!out || !in || !rtt_ns || samples == 0 || payload_bytes < 8 || payload_bytes > 4096)
        return RING_INVALID;
    for (uint64_t i = 1; i <= (uint64_t)warmup + samples; i++) {
        int64_t t0 = ring_now_ns();
        int32_t off;
        while ((off = ring_spsc_claim(out, 1, payload_bytes)) == RING_FULL)
            ring_cpu_relax();
        if (off < 0)
            return off;
        memcpy(out->data + off, &i, 8);
        ring_spsc_commit(out, off);
        uint32_t length;
        int32_t got = ring_probe_await(in, &length, timeout_ns);
        if (got < 0)
            return got;
        uint64_t echo;
        memcpy(&echo, in->data + got, 8);
        ring_spsc_consume(in);
        ring_spsc_release(in);
        int64_t t1 = ring_now_ns();
        if (echo != i || length != payload_bytes)
            return RING_SEG_CORRUPT;
        if (i > warmup)
            rtt_ns[i - warmup - 1] = (uint64_t)(t1 - t0);
    }
    return 0;
}

int ring_probe_ring_pong(struct ring_spsc *in, struct ring_spsc *out, uint32_t rounds, uint64_t timeout_ns)
{
    for (uint32_t i = 0; i < rounds; i++) {
        uint32_t length;
        int32_t got = ring_probe_await(in, &length, timeout_ns);
        if (got < 0)
            return got;
        int32_t off;
        while ((off = ring_spsc_claim(out, 1, length)) == RING_FULL)
            ring_cpu_relax();
        if (off < 0)
            return off;
        memcpy(out->data + off, in->data + got, length);
        ring_spsc_consume(in);
        ring_spsc_release(in);
        ring_spsc_commit(out, off);
    }
    return 0;
}

int ring_probe_engine_rtt(struct runner_client *c, uint32_t instrument_id, int64_t price, int64_t qty,
                          uint32_t account_id, uint64_t first_order_id, uint64_t *rtt_ns,
                          uint16_t *first_evt_types, uint32_t samples, uint32_t warmup,
                          uint64_t timeout_ns)
{
    if (!c || !rtt_ns || samples == 0)
        return RING_INVALID;
    eng_cmd_t cmd;
    ring_reply_t reply;
    for (uint64_t i = 0; i < (uint64_t)warmup + samples; i++) {
        memset(&cmd, 0, sizeof cmd);
        cmd.new_order.hdr.type = ENG_CMD_NEW_ORDER;
        cmd.new_order.hdr.instrument_id = instrument_id;
        cmd.new_order.order_id = first_order_id + i;
        cmd.new_order.client_order_id = first_order_id + i;
        cmd.new_order.price = price;
        cmd.new_order.qty = qty;
        cmd.new_order.account_id = account_id;
        cmd.new_order.side = (i & 1) ? ENG_SIDE_SELL : ENG_SIDE_BUY;
        cmd.new_order.ord_type = ENG_ORD_LIMIT;
        cmd.new_order.tif = ENG_TIF_DAY;
        uint32_t done;
        int64_t t0 = ring_now_ns();
        int rc = runner_client_submit(c, &cmd, 1, &reply, timeout_ns, &done);
        int64_t t1 = ring_now_ns();
        if (rc != 0)
            return rc;
        if (i >= warmup) {
            rtt_ns[i - warmup] = (uint64_t)(t1 - t0);
            if (first_evt_types)
                first_evt_types[i - warmup] = reply.first.hdr.type;
        }
    }
    return 0;
}
