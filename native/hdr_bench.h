/* hdr_bench: the C loops bench/instrumentation.py times, so that the cost of the order-path
 * instrumentation is measured in C on a representative unit of work, never through Python calls.
 * It owns only its own scratch memory (allocated per call, outside the timed loops). */
#ifndef HDR_BENCH_H
#define HDR_BENCH_H

#include <stdint.h>

#include "hdr_recorder.h"

/* CFFI-BEGIN */
typedef enum hdr_bench_mode {
    HDR_BENCH_BASELINE = 0,  /* the order-path work alone */
    HDR_BENCH_PATH = 1       /* the same work with the order path's instrumentation: a stamp at
                              * each of the HDR_POINT_COUNT points and a record into each of the
                              * HDR_STAGE_COUNT histograms, per order */
} hdr_bench_mode_t;

/* Runs batches * batch_ops orders through an in-memory stand-in of the order path: build a
 * 96-byte new-order record, validate it (decode), copy it through a 1024-slot SPSC-style command
 * ring (enqueue, dequeue), update a price-level table (matching), write a 96-byte event into a
 * 1024-slot log (publish) and fold it into a checksum (transmit). Writes each batch's
 * CLOCK_MONOTONIC duration to batch_ns[b] and the checksum (so the work cannot be optimized away)
 * to *checksum. region: a region with HDR_STAGE_COUNT histograms, used in HDR_BENCH_PATH only.
 * Returns 0; -EINVAL for an unknown mode, zero batches or batch_ops, NULL outputs, or a missing
 * region (or one with fewer histograms) in HDR_BENCH_PATH; -EXDEV as hdr_region_hist();
 * -ENOMEM when the scratch memory cannot be allocated. */
int hdr_bench_order_path(uint32_t mode, hdr_region_t *region, uint32_t batches, uint32_t batch_ops,
                         uint64_t *batch_ns, uint64_t *checksum);

/* Times n back-to-back hdr_now() calls and n records of varying values into histogram `index`
 * of region; writes the two totals in ns. Returns 0; -EINVAL for n == 0 or NULL pointers;
 * the error of hdr_region_hist() otherwise. */
int hdr_bench_primitives(hdr_region_t *region, uint32_t index, uint64_t n, uint64_t *now_total_ns,
                         uint64_t *record_total_ns);
/* CFFI-END */

#endif
