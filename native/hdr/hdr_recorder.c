/* hdr_recorder: region layout, validation and snapshots for the latency histograms, plus the
 * exported forms of the inline recorders. The hot path lives in hdr_recorder.h; nothing here runs
 * per recorded value except the batch loops. */
#include "hdr_recorder.h"

#include <errno.h>
#include <string.h>
#include <time.h>

_Static_assert(sizeof(hdr_hist_hdr_t) == 128, "histogram header is two cache lines");
_Static_assert(offsetof(hdr_hist_hdr_t, overflow_count) == 64,
               "writer-owned tallies start on their own cache line");
_Static_assert(offsetof(hdr_region_t, hists) % 64 == 0, "histogram headers are line-aligned");
_Static_assert(sizeof(((hdr_region_t *)0)->hists) / sizeof(hdr_hist_hdr_t) == HDR_REGION_MAX_HISTS,
               "hists[] holds HDR_REGION_MAX_HISTS headers");
_Static_assert(sizeof(((hdr_hist_hdr_t *)0)->name) == HDR_HIST_NAME_LEN, "name length");
_Static_assert(sizeof(_Atomic uint64_t) == sizeof(uint64_t) &&
                   _Alignof(_Atomic uint64_t) == _Alignof(uint64_t),
               "count words are accessed as _Atomic uint64_t");

#define HDR_ALIGN 64u

static const char *const hdr_stage_names[HDR_STAGE_COUNT] = {
    [HDR_STAGE_RECEIVE_TO_DECODE] = "receive_to_decode",
    [HDR_STAGE_DECODE_TO_ENQUEUE] = "decode_to_enqueue",
    [HDR_STAGE_ENQUEUE_TO_DEQUEUE] = "enqueue_to_dequeue",
    [HDR_STAGE_DEQUEUE_TO_MATCHED] = "dequeue_to_matched",
    [HDR_STAGE_MATCHED_TO_PUBLISHED] = "matched_to_published",
    [HDR_STAGE_PUBLISHED_TO_TRANSMIT] = "published_to_transmit",
    [HDR_STAGE_END_TO_END] = "end_to_end",
};

const char *hdr_stage_name(uint32_t stage)
{
    return stage < HDR_STAGE_COUNT ? hdr_stage_names[stage] : NULL;
}

static uint64_t align_up(uint64_t n)
{
    return (n + HDR_ALIGN - 1) & ~(uint64_t)(HDR_ALIGN - 1);
}

/* Java AbstractHistogram.getBucketsNeededToCoverValue(). */
static int32_t buckets_needed(int64_t value, int32_t sub_bucket_count, int32_t unit_magnitude)
{
    int64_t smallest_untrackable = (int64_t)sub_bucket_count << unit_magnitude;
    int32_t needed = 1;
    while (smallest_untrackable <= value) {
        if (smallest_untrackable > INT64_MAX / 2)
            return needed + 1;
        smallest_untrackable <<= 1;
        needed++;
    }
    return needed;
}

int hdr_params_init(hdr_params_t *out, int64_t lowest_discernible_value,
                    int64_t highest_trackable_value, int32_t significant_figures)
{
    if (!out || lowest_discernible_value < 1 || significant_figures < 1 ||
        significant_figures > 5 || highest_trackable_value / 2 < lowest_discernible_value)
        return -EINVAL;
    /* Java: subBucketCountMagnitude = ceil(log2(2 * 10^sf)); 2 * 10^sf is never a power of two
     * for sf >= 1, so "the smallest m with 2^m above it" is the same number, without floats. */
    int64_t largest_single_unit = 2;
    for (int32_t i = 0; i < significant_figures; i++)
        largest_single_unit *= 10;
    int32_t sub_bucket_count_magnitude = 0;
    while ((1ll << sub_bucket_count_magnitude) < largest_single_unit)
        sub_bucket_count_magnitude++;

    hdr_params_t p = {0};
    p.lowest_discernible_value = lowest_discernible_value;
    p.highest_trackable_value = highest_trackable_value;
    p.significant_figures = significant_figures;
    p.unit_magnitude = 63 - __builtin_clzll((uint64_t)lowest_discernible_value);
    p.sub_bucket_half_count_magnitude =
        (sub_bucket_count_magnitude > 1 ? sub_bucket_count_magnitude : 1) - 1;
    p.sub_bucket_count = 1 << (p.sub_bucket_half_count_magnitude + 1);
    p.sub_bucket_half_count = p.sub_bucket_count / 2;
    p.sub_bucket_mask = ((int64_t)p.sub_bucket_count - 1) << p.unit_magnitude;
    if (p.unit_magnitude + p.sub_bucket_half_count_magnitude > 61)
        return -EINVAL; /* Java's own limit: the sub-bucket range must fit in a long */
    p.bucket_count = buckets_needed(highest_trackable_value, p.sub_bucket_count, p.unit_magnitude);
    p.counts_len = (p.bucket_count + 1) * p.sub_bucket_half_count;
    *out = p;
    return 0;
}

static int params_consistent(const hdr_params_t *p)
{
    hdr_params_t again;
    if (hdr_params_init(&again, p->lowest_discernible_value, p->highest_trackable_value,
                        p->significant_figures) != 0)
        return 0;
    return again.unit_magnitude == p->unit_magnitude &&
           again.sub_bucket_half_count_magnitude == p->sub_bucket_half_count_magnitude &&
           again.sub_bucket_count == p->sub_bucket_count &&
           again.sub_bucket_half_count == p->sub_bucket_half_count &&
           again.bucket_count == p->bucket_count && again.counts_len == p->counts_len &&
           again.sub_bucket_mask == p->sub_bucket_mask;
}

static uint64_t counts_bytes(const hdr_params_t *p)
{
    return align_up((uint64_t)p->counts_len * sizeof(uint64_t));
}

int hdr_region_bytes(const hdr_params_t *params, uint32_t hist_count, uint64_t *out_bytes)
{
    if (!params || !out_bytes || hist_count < 1 || hist_count > HDR_REGION_MAX_HISTS ||
        !params_consistent(params))
        return -EINVAL;
    *out_bytes = align_up(sizeof(hdr_region_t)) + (uint64_t)hist_count * counts_bytes(params);
    return 0;
}

int hdr_region_init(void *mem, uint64_t mem_bytes, const hdr_params_t *params, uint32_t hist_count,
                    const char *const *names, const hdr_clock_info_t *clock, hdr_region_t **out)
{
    uint64_t need;
    if (!mem || !out || ((uintptr_t)mem % HDR_ALIGN) != 0)
        return -EINVAL;
    int rc = hdr_region_bytes(params, hist_count, &need);
    if (rc != 0)
        return rc;
    if (!names && hist_count != HDR_STAGE_COUNT)
        return -EINVAL;
    for (uint32_t i = 0; names && i < hist_count; i++) {
        if (!names[i] || names[i][0] == '\0' || strlen(names[i]) >= HDR_HIST_NAME_LEN)
            return -EINVAL;
    }
    if (mem_bytes < need)
        return -ENOSPC;

    hdr_region_t *r = mem;
    memset(mem, 0, need);
    r->version = HDR_REGION_VERSION;
    r->hist_count = hist_count;
    r->region_bytes = need;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    r->created_realtime_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    r->params = *params;
    if (clock)
        r->clock = *clock;
    else
        hdr_clock_current(&r->clock);
    uint64_t offset = align_up(sizeof(hdr_region_t));
    for (uint32_t i = 0; i < hist_count; i++) {
        const char *name = names ? names[i] : hdr_stage_names[i];
        memcpy(r->hists[i].name, name, strlen(name) + 1);
        r->hists[i].counts_offset = offset;
        offset += counts_bytes(params);
    }
    /* release: publishes every header field written above; pairs with the acquire load of the
     * magic in hdr_region_attach() */
    atomic_store_explicit((_Atomic uint64_t *)&r->magic, HDR_REGION_MAGIC, memory_order_release);
    *out = r;
    return 0;
}

int hdr_region_attach(void *mem, uint64_t mem_bytes, hdr_region_t **out)
{
    if (!mem || !out || ((uintptr_t)mem % HDR_ALIGN) != 0 || mem_bytes < sizeof(hdr_region_t))
        return -EINVAL;
    hdr_region_t *r = mem;
    /* acquire: pairs with the release store of the magic in hdr_region_init(), so the header
     * read below is the one init wrote */
    uint64_t magic = atomic_load_explicit((_Atomic uint64_t *)&r->magic, memory_order_acquire);
    if (magic == 0)
        return -EAGAIN;
    if (magic != HDR_REGION_MAGIC)
        return -EPROTO;
    if (r->version != HDR_REGION_VERSION)
        return -EPROTONOSUPPORT;
    uint64_t need;
    if (hdr_region_bytes(&r->params, r->hist_count, &need) != 0 || r->region_bytes != need)
        return -EPROTO;
    if (need > mem_bytes)
        return -ENOSPC;
    uint64_t offset = align_up(sizeof(hdr_region_t));
    for (uint32_t i = 0; i < r->hist_count; i++) {
        if (r->hists[i].counts_offset != offset ||
            memchr(r->hists[i].name, '\0', HDR_HIST_NAME_LEN) == NULL)
            return -EPROTO;
        offset += counts_bytes(&r->params);
    }
    *out = r;
    return 0;
}

int hdr_region_hist(hdr_region_t *region, uint32_t index, hdr_hist_t *out)
{
    if (!region || !out || index >= region->hist_count)
        return -EINVAL;
    if (region->clock.source != hdr_clock_g.source)
        return -EXDEV;
    const hdr_params_t *p = &region->params;
    hdr_hist_t h = {0};
    h.counts = (uint64_t *)((char *)region + region->hists[index].counts_offset);
    h.hdr = &region->hists[index];
    h.sub_bucket_mask = p->sub_bucket_mask;
    h.ns_mult = region->clock.ns_mult;
    h.ns_shift = region->clock.ns_shift;
    h.unit_magnitude = p->unit_magnitude;
    h.sub_bucket_half_count_magnitude = p->sub_bucket_half_count_magnitude;
    h.sub_bucket_half_count = p->sub_bucket_half_count;
    h.counts_len = p->counts_len;
    *out = h;
    return 0;
}

int hdr_hist_declare_corrected(const hdr_hist_t *h, int64_t expected_interval_ns)
{
    if (!h || expected_interval_ns <= 0)
        return -EINVAL;
    atomic_store_explicit((_Atomic int64_t *)&h->hdr->co_expected_interval_ns,
                          expected_interval_ns, memory_order_relaxed);
    return 0;
}

void hdr_hist_record_interval(const hdr_hist_t *h, uint64_t start_ticks, uint64_t end_ticks)
{
    hdr_hist_record_ticks(h, start_ticks, end_ticks);
}

void hdr_hist_record_values(const hdr_hist_t *h, const int64_t *values_ns, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hdr_hist_record(h, values_ns[i]);
}

void hdr_hist_record_corrected_values(const hdr_hist_t *h, const int64_t *values_ns, size_t n,
                                      int64_t expected_interval_ns)
{
    for (size_t i = 0; i < n; i++)
        hdr_hist_record_corrected(h, values_ns[i], expected_interval_ns);
}

int hdr_region_snapshot(const hdr_region_t *region, uint32_t index, uint64_t *counts_out,
                        uint64_t counts_cap, hdr_hist_tallies_t *out)
{
    if (!region || !counts_out || !out || index >= region->hist_count)
        return -EINVAL;
    int32_t len = region->params.counts_len;
    if (counts_cap < (uint64_t)len)
        return -ENOSPC;
    const hdr_hist_hdr_t *hh = &region->hists[index];
    _Atomic uint64_t *counts = (_Atomic uint64_t *)((char *)region + hh->counts_offset);
    uint64_t total = 0;
    for (int32_t i = 0; i < len; i++) {
        uint64_t c = atomic_load_explicit(&counts[i], memory_order_relaxed);
        counts_out[i] = c;
        total += c;
    }
    out->total_count = total;
    out->overflow_count =
        atomic_load_explicit((_Atomic uint64_t *)&hh->overflow_count, memory_order_relaxed);
    out->overflow_max =
        atomic_load_explicit((_Atomic int64_t *)&hh->overflow_max, memory_order_relaxed);
    out->underflow_count =
        atomic_load_explicit((_Atomic uint64_t *)&hh->underflow_count, memory_order_relaxed);
    out->co_expected_interval_ns = atomic_load_explicit(
        (_Atomic int64_t *)&hh->co_expected_interval_ns, memory_order_relaxed);
    return 0;
}
