/*
 * ring_probe.h - round-trip latency probes timed in C: the raw cache-line ping-pong (the
 * physical limit between two cores), the same through our SPSC rings, and a producer submitting
 * orders through the running engine. Each side runs in its own process (shm/probe.py forks and
 * pins them); the timing side records one CLOCK_MONOTONIC round trip per sample.
 * Every wait is bounded by timeout_ns, so a dead peer ends the run with RING_TIMEOUT.
 */
#ifndef RING_PROBE_H
#define RING_PROBE_H

#include <stdint.h>

#include "ring_spsc.h"
#include "runner_client.h"

/* Parsed by cffi before ring_spsc.h and runner_client.h (name order): handles are named by their
 * struct tags, completed by those headers. */

/* CFFI-BEGIN */
/* Two 128-byte blocks in shared memory, one written by each side. */
typedef struct ring_probe_lines {
    uint64_t ping;                  /* written by the pinging side only */
    uint8_t _pad0[120];
    uint64_t pong;                  /* written by the ponging side only */
    uint8_t _pad1[120];
} ring_probe_lines_t;

/* Pinging side of the raw ping-pong: for i in 1..warmup+samples stores ping = i (release) and
 * spins until pong == i (acquire). rtt_ns[k] gets the k-th timed round trip. 0, RING_INVALID
 * (samples 0 or lines not 8-aligned) or RING_TIMEOUT. */
int ring_probe_line_ping(ring_probe_lines_t *lines, uint64_t *rtt_ns, uint32_t samples,
                         uint32_t warmup, uint64_t timeout_ns);

/* Ponging side: answers rounds pings by copying ping into pong. 0 or RING_TIMEOUT. */
int ring_probe_line_pong(ring_probe_lines_t *lines, uint32_t rounds, uint64_t timeout_ns);

/* Pinging side through rings: writes a payload_bytes record (its first 8 bytes the round number)
 * on `out`, spins for the answer on `in`. 0, RING_INVALID (payload_bytes < 8, samples 0),
 * RING_TIMEOUT, RING_SEG_CORRUPT (a wrong answer). */
int ring_probe_ring_ping(struct ring_spsc *out, struct ring_spsc *in, uint32_t payload_bytes,
                         uint64_t *rtt_ns, uint32_t samples, uint32_t warmup, uint64_t timeout_ns);

/* Ponging side through rings: echoes rounds records from `in` to `out`. 0, RING_TIMEOUT or
 * RING_SEG_CORRUPT. */
int ring_probe_ring_pong(struct ring_spsc *in, struct ring_spsc *out, uint32_t rounds, uint64_t timeout_ns);

/* Order round trip through the engine: per sample one NEW_ORDER limit order of qty on
 * instrument_id at price, alternating buy and sell (so the book empties again), order ids
 * first_order_id + i; timed from before the ring write to the reply. rtt_ns[k] per timed sample;
 * if first_evt_types is not NULL it receives each timed reply's first event type. 0,
 * RING_INVALID, RING_TIMEOUT, RING_SEG_CLOSED or RING_SEG_CORRUPT (as runner_client_submit). */
int ring_probe_engine_rtt(struct runner_client *c, uint32_t instrument_id, int64_t price, int64_t qty,
                          uint32_t account_id, uint64_t first_order_id, uint64_t *rtt_ns,
                          uint16_t *first_evt_types, uint32_t samples, uint32_t warmup,
                          uint64_t timeout_ns);
/* CFFI-END */

#endif /* RING_PROBE_H */
