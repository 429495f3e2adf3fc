/* hdr_recorder: records latencies into the HdrHistogram-layout count arrays of a latency region
 * (layout: venue_layout.h Section 5) and copies them out for Python's snapshots. It owns the
 * bucket arithmetic and region init/attach on caller-provided memory; the clock is hdr_clock's and
 * placing the region in a segment is the caller's. Invariants: recording never allocates, locks,
 * or makes a system call; every value lands in exactly one of counts, overflow or underflow; each
 * histogram has one writer thread. */
#ifndef HDR_RECORDER_H
#define HDR_RECORDER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hdr_clock.h"
#include "venue_layout.h"

/* CFFI-BEGIN */

/* A writer's handle on one histogram of a region: pointers into the region plus private copies of
 * the parameters the index computation needs, so recording touches only the handle (the writer's
 * own memory) and the one count word. Filled by hdr_region_hist(); never shared between threads. */
typedef struct hdr_hist {
    uint64_t *counts;            /* region memory: counts[counts_len] */
    hdr_hist_hdr_t *hdr;         /* region memory: this histogram's header */
    int64_t sub_bucket_mask;
    uint64_t ns_mult;            /* the region's tick-to-ns calibration */
    uint32_t ns_shift;
    int32_t unit_magnitude;
    int32_t sub_bucket_half_count_magnitude;
    int32_t sub_bucket_half_count;
    int32_t counts_len;
    int32_t _pad0;
} hdr_hist_t;

/* What a snapshot read besides the counts. */
typedef struct hdr_hist_tallies {
    uint64_t total_count;            /* sum of the counts copied, so always consistent with them */
    uint64_t overflow_count;
    int64_t overflow_max;
    uint64_t underflow_count;
    int64_t co_expected_interval_ns; /* 0: values recorded uncorrected */
} hdr_hist_tallies_t;

/* Fills *out with HdrHistogram's derived parameters for this range and precision (the Java
 * constructor's arithmetic, so the `hdrhistogram` package built with the same three arguments has
 * the same bucket_count, sub_bucket_count and counts_len). Returns 0; -EINVAL when lowest < 1,
 * highest < 2 * lowest, significant_figures outside 1..5, or out is NULL. */
int hdr_params_init(hdr_params_t *out, int64_t lowest_discernible_value,
                    int64_t highest_trackable_value, int32_t significant_figures);

/* Bytes a region with hist_count histograms of these parameters needs (header + counts).
 * Returns 0 with *out_bytes set; -EINVAL for NULL pointers, inconsistent params, or hist_count
 * outside 1..HDR_REGION_MAX_HISTS. */
int hdr_region_bytes(const hdr_params_t *params, uint32_t hist_count, uint64_t *out_bytes);

/* Lays a fresh region out in mem (64-byte aligned, mem_bytes long): zeroes it all, which also
 * faults every page in before recording starts, writes the header, then publishes the magic.
 * names: hist_count NUL-terminated labels (< HDR_HIST_NAME_LEN bytes each), or NULL for the
 * order-path stages (then hist_count must be HDR_STAGE_COUNT). clock: the calibration recorders
 * will convert ticks with; NULL means this process's current one (hdr_clock_current()).
 * Returns 0 with *out set to mem; -EINVAL for NULL mem/out, misaligned mem, bad params or
 * hist_count, a missing, empty or too long name; -ENOSPC when mem_bytes is below
 * hdr_region_bytes(). Nothing may attach or record while init runs. */
int hdr_region_init(void *mem, uint64_t mem_bytes, const hdr_params_t *params, uint32_t hist_count,
                    const char *const *names, const hdr_clock_info_t *clock, hdr_region_t **out);

/* Validates a region another process laid out in mem: magic, version, histogram count, the
 * stored parameters against their recomputation, every offset against mem_bytes, NUL-terminated
 * names. Returns 0 with *out set; -EINVAL for NULL or misaligned arguments; -EAGAIN when the magic
 * is still 0 (not initialized yet: try again); -EPROTO for a wrong magic or an inconsistent
 * header; -EPROTONOSUPPORT for another layout version; -ENOSPC when the region claims more bytes
 * than mem_bytes. */
int hdr_region_attach(void *mem, uint64_t mem_bytes, hdr_region_t **out);

/* Label of an order-path stage (hdr_stage_t), e.g. "end_to_end"; NULL for an unknown stage. */
const char *hdr_stage_name(uint32_t stage);

/* Fills the writer's handle for histogram `index`. Returns 0; -EINVAL for NULL pointers or an
 * index >= hist_count; -EXDEV when this process's clock source differs from the region's (its
 * ticks would be in another unit: call hdr_clock_adopt(&region->clock) first). */
int hdr_region_hist(hdr_region_t *region, uint32_t index, hdr_hist_t *out);

/* Writer only, before its first corrected record: marks the histogram as corrected for
 * coordinated omission at this expected interval, so reports label it. -EINVAL if <= 0. */
int hdr_hist_declare_corrected(const hdr_hist_t *h, int64_t expected_interval_ns);

/* Writer only. Exported forms of the inline recorders below, and batch forms for callers that
 * collected values elsewhere (a load generator, tests). Cannot fail. */
void hdr_hist_record_interval(const hdr_hist_t *h, uint64_t start_ticks, uint64_t end_ticks);
void hdr_hist_record_values(const hdr_hist_t *h, const int64_t *values_ns, size_t n);
void hdr_hist_record_corrected_values(const hdr_hist_t *h, const int64_t *values_ns, size_t n,
                                      int64_t expected_interval_ns);

/* Copies histogram `index`'s counts into counts_out (each word loaded relaxed; see Section 5 for
 * why that is a consistent histogram) and its tallies into *out. Any thread, any process.
 * Returns 0; -EINVAL for NULL pointers or an index >= hist_count; -ENOSPC when counts_cap is below
 * the region's counts_len. */
int hdr_region_snapshot(const hdr_region_t *region, uint32_t index, uint64_t *counts_out,
                        uint64_t counts_cap, hdr_hist_tallies_t *out);
/* CFFI-END */

/* One count word: relaxed load + relaxed store instead of an atomic add, because the histogram's
 * single writer is the only thread that ever stores to it, so no increment can be lost, and a
 * locked RMW would cost ~20 cycles on every record. Relaxed (not plain) so the compiler neither
 * tears nor caches the word that snapshots read concurrently; no ordering is needed because each
 * word is a self-contained count and snapshots never pair one word with another. */
static inline void hdr_word_add(uint64_t *word, uint64_t n)
{
    _Atomic uint64_t *w = (_Atomic uint64_t *)word;
    atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* HdrHistogram's countsArrayIndex(): the bucket is the power of two above the value (one clz; the
 * mask keeps values below the first bucket in bucket 0 and makes clz's argument non-zero), the
 * sub-bucket is the value's top bits within it. */
static inline int32_t hdr_hist_index(const hdr_hist_t *h, uint64_t value)
{
    int32_t pow2ceiling = 64 - __builtin_clzll(value | (uint64_t)h->sub_bucket_mask);
    int32_t bucket = pow2ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
    int32_t sub_bucket = (int32_t)(value >> (bucket + h->unit_magnitude));
    return ((bucket + 1) << h->sub_bucket_half_count_magnitude) +
           (sub_bucket - h->sub_bucket_half_count);
}

/* Records one value (ns). Writer only. */
static inline void hdr_hist_record(const hdr_hist_t *h, int64_t value_ns)
{
    if (__builtin_expect(value_ns < 0, 0)) {
        hdr_word_add(&h->hdr->underflow_count, 1);
        return;
    }
    int32_t i = hdr_hist_index(h, (uint64_t)value_ns);
    if (__builtin_expect(i >= h->counts_len, 0)) {
        hdr_word_add(&h->hdr->overflow_count, 1);
        _Atomic int64_t *max = (_Atomic int64_t *)&h->hdr->overflow_max;
        if (value_ns > atomic_load_explicit(max, memory_order_relaxed)) {
            /* relaxed: single writer, as in hdr_word_add() */
            atomic_store_explicit(max, value_ns, memory_order_relaxed);
        }
        return;
    }
    hdr_word_add(&h->counts[i], 1);
}

/* Records end - start, both hdr_now() ticks, converted with the region's calibration. An end
 * before its start (clock skew between cores, or swapped arguments) counts as an underflow. */
static inline void hdr_hist_record_ticks(const hdr_hist_t *h, uint64_t start_ticks,
                                         uint64_t end_ticks)
{
    if (__builtin_expect(end_ticks < start_ticks, 0)) {
        hdr_word_add(&h->hdr->underflow_count, 1);
        return;
    }
    uint64_t ns = hdr_ticks_to_ns_with(end_ticks - start_ticks, h->ns_mult, h->ns_shift);
    hdr_hist_record(h, ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ns);
}

/* Coordinated-omission correction as HdrHistogram's recordValueWithExpectedInterval() (Java and
 * HdrHistogram_c): besides the value, records the samples a stalled closed-loop load generator
 * failed to send, value - k * interval for every k >= 1 that leaves at least one interval. A value
 * out of range counts once as an overflow and synthesizes nothing. Writer only. */
static inline void hdr_hist_record_corrected(const hdr_hist_t *h, int64_t value_ns,
                                             int64_t expected_interval_ns)
{
    hdr_hist_record(h, value_ns);
    if (expected_interval_ns <= 0 || value_ns <= expected_interval_ns)
        return;
    if (hdr_hist_index(h, (uint64_t)value_ns) >= h->counts_len)
        return;
    for (int64_t missing = value_ns - expected_interval_ns; missing >= expected_interval_ns;
         missing -= expected_interval_ns)
        hdr_hist_record(h, missing);
}

#endif
