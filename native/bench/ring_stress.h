/*
 * ring_stress.h - C loops that push numbered, self-checking records through the rings, for the
 * multi-process tests (tests/shm) and the throughput part of bench/rings.py. Python forks the
 * processes and compares counters; no record crosses into Python.
 * Record k: length L(k) in [min_len, max_len] from a hash of k; payload = k (8 bytes) followed by
 * bytes (k * 131 + j) & 0xff. A reader regenerates and compares every byte.
 */
#ifndef RING_STRESS_H
#define RING_STRESS_H

#include <stdint.h>

#include "ring_bcast.h"
#include "ring_spsc.h"

/* CFFI-BEGIN */
#define RING_STRESS_TYPE 7          /* record type the stress loops use */

typedef struct ring_stress_result {
    uint64_t records;               /* written, or read intact */
    uint64_t bytes;                 /* payload bytes written or read */
    uint64_t out_of_order;          /* reader: a record number other than the expected next */
    uint64_t corrupt;               /* reader: payload bytes other than those written */
    uint64_t full;                  /* writer: claims refused with RING_FULL (then retried) */
    uint64_t lapped;                /* broadcast reader: laps reported */
    uint64_t skipped;               /* broadcast reader: records lost to laps */
    uint64_t checksum;              /* sum of the record numbers written or read */
    uint64_t last;                  /* last record number written or read (+1; 0: none) */
    uint64_t elapsed_ns;
    int32_t rc;                     /* 0, or the RING_* error that ended the loop */
    uint32_t _pad0;
} ring_stress_result_t;

/* Writes records 0..count-1 of lengths in [min_len, max_len] (8 <= min_len <= max_len), retrying
 * on RING_FULL (counted in ->full) until timeout_ns passes without room. Returns out->rc. */
int ring_stress_spsc_produce(ring_spsc_t *r, uint64_t count, uint32_t min_len, uint32_t max_len,
                             uint64_t timeout_ns, ring_stress_result_t *out);

/* Reads count records, checking order and content, releasing once per batch of up to 64.
 * Returns out->rc (RING_TIMEOUT if timeout_ns passes with nothing to read). */
int ring_stress_spsc_consume(ring_spsc_t *r, uint64_t count, uint32_t min_len, uint32_t max_len,
                             uint64_t timeout_ns, ring_stress_result_t *out);

/* Transmits records 0..count-1. If n_readers > 0, it throttles itself (a test harness policy,
 * not the log's) so that it is never more than max_ahead records ahead of the slowest progress
 * counter reader_progress[i * stride_words], i < n_readers (a stride of 16 words puts
 * each counter on its own 128-byte block). Returns out->rc (RING_TIMEOUT if a reader made no
 * progress for timeout_ns). */
int ring_stress_bcast_transmit(ring_bcast_tx_t *tx, uint64_t count, uint32_t min_len,
                               uint32_t max_len, uint64_t *reader_progress, uint32_t n_readers,
                               uint32_t stride_words, uint64_t max_ahead, uint64_t timeout_ns,
                               ring_stress_result_t *out);

/* Receives until record count-1 is seen (or timeout_ns without a new record), checking that
 * numbers strictly increase, that a gap is always announced by a lap, and every byte. Stores
 * (release) the number of records it has passed into *progress after each record if progress is
 * not NULL. delay_spins: busy-wait per record, to make a deliberately slow reader. */
int ring_stress_bcast_receive(ring_bcast_rx_t *rx, uint64_t count, uint32_t min_len,
                              uint32_t max_len, uint64_t *progress, uint32_t delay_spins,
                              uint64_t timeout_ns, ring_stress_result_t *out);

/* CFFI-END */

#endif /* RING_STRESS_H */
