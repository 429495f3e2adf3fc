/* hdr_bench: the C loop bench/instrumentation.py times for the cost of one stamp and one record
 * (the arithmetic floor of the instrumentation), never through Python calls. */
#ifndef HDR_BENCH_H
#define HDR_BENCH_H

#include <stdint.h>

#include "hdr_recorder.h"

/* CFFI-BEGIN */
/* Times n back-to-back hdr_now() calls and n records of varying values into histogram `index`
 * of region; writes the two totals in ns. Returns 0; -EINVAL for n == 0 or NULL pointers;
 * the error of hdr_region_hist() otherwise. */
int hdr_bench_primitives(hdr_region_t *region, uint32_t index, uint64_t n, uint64_t *now_total_ns,
                         uint64_t *record_total_ns);
/* CFFI-END */

#endif
