/*
 * ring_bcast.c - broadcast transmitter and receiver (steps W1-W2 and R1-R3 of venue_layout.h
 * Section 4; shaped after Aeron's broadcast transmitter/receiver).
 * Invariants: tail <= tail_intent <= tail + capacity (records staged but not yet published lie
 * between tail and tail_intent: the writer keeps them under the capacity); latest < tail once
 * anything is published;
 * a record never straddles the end of the data area (padding fills the gap).
 */
#include "ring_bcast.h"

#include <string.h>

#include "ring_atomic.h"

static int ring_bcast_seg_ok(const struct ring_seg *seg)
{
    return seg && seg->base && seg->kind == RING_KIND_BROADCAST;
}

int ring_bcast_tx_init(ring_bcast_tx_t *tx, const struct ring_seg *seg)
{
    if (!tx || !ring_bcast_seg_ok(seg))
        return RING_INVALID;
    memset(tx, 0, sizeof *tx);
    tx->ctl = (ring_bcast_ctl_t *)seg->ctl;
    tx->data = seg->data;
    tx->capacity = seg->hdr->capacity;
    tx->mask = tx->capacity - 1;
    tx->max_record = seg->hdr->max_record;
    tx->tail = atomic_load_explicit(ring_a64(&tx->ctl->tail), RING_RELAXED);   /* single writer */
    tx->records = atomic_load_explicit(ring_a64(&tx->ctl->records), RING_RELAXED);
    tx->latest = atomic_load_explicit(ring_a64(&tx->ctl->latest), RING_RELAXED);
    return 0;
}

static void ring_bcast_put_hdr(uint8_t *at, int32_t length, int32_t type)
{
    ring_record_hdr_t h = { .length = length, .type = type };
    ring_copy_to_shared(at, &h, sizeof h);
}

int ring_bcast_stage(ring_bcast_tx_t *tx, int32_t type, const void *src, uint32_t length)
{
    if (type <= 0)
        return RING_INVALID;
    if ((uint64_t)length + RING_RECORD_HDR_BYTES > tx->max_record)
        return RING_TOO_BIG;
    uint64_t rec = ring_align8((uint64_t)length + RING_RECORD_HDR_BYTES);
    uint64_t tail = tx->tail;
    uint64_t to_end = tx->capacity - (tail & tx->mask);
    uint64_t pad = rec > to_end ? to_end : 0;
    uint64_t new_tail = tail + pad + rec;

    /* W1: announce the overwrite before doing it. relaxed store + release fence: the fence
     * orders this store before every store below; pairs with the acquire fence in
     * ring_bcast_copy_valid() (R3): a reader whose copy saw any byte written below also sees
     * tail_intent >= new_tail and discards the copy. */
    atomic_store_explicit(ring_a64(&tx->ctl->tail_intent), new_tail, RING_RELAXED);
    atomic_thread_fence(RING_RELEASE);

    if (pad) {
        ring_bcast_put_hdr(tx->data + (tail & tx->mask), (int32_t)pad, RING_MSG_PADDING);
        tail += pad;
    }
    uint8_t *at = tx->data + (tail & tx->mask);
    ring_bcast_put_hdr(at, (int32_t)(length + RING_RECORD_HDR_BYTES), type);
    uint64_t body = length & ~(uint64_t)7;
    ring_copy_to_shared(at + RING_RECORD_HDR_BYTES, src, body);
    if (body < length) {
        uint8_t last[8] = { 0 };
        memcpy(last, (const uint8_t *)src + body, length - body);
        ring_copy_to_shared(at + RING_RECORD_HDR_BYTES + body, last, 8);
    }

    tx->tail = new_tail;
    tx->latest = tail;
    tx->records++;
    return 0;
}

ring_bcast_mark_t ring_bcast_written(const ring_bcast_tx_t *tx)
{
    return (ring_bcast_mark_t){.tail = tx->tail, .latest = tx->latest, .records = tx->records};
}

void ring_bcast_publish(ring_bcast_tx_t *tx, ring_bcast_mark_t m)
{
    atomic_store_explicit(ring_a64(&tx->ctl->latest), m.latest, RING_RELAXED);
    atomic_store_explicit(ring_a64(&tx->ctl->records), m.records, RING_RELAXED);
    /* W2 release: the records before m.tail (and latest) happen-before a reader's use of them;
     * pairs with the acquire load of tail in ring_bcast_receive() / ring_bcast_receive_batch() (R1). */
    atomic_store_explicit(ring_a64(&tx->ctl->tail), m.tail, RING_RELEASE);
}

uint64_t ring_bcast_unpublished(const ring_bcast_tx_t *tx)
{
    /* relaxed: only this (the writer's) thread stores the shared tail */
    return tx->tail - atomic_load_explicit(ring_a64(&tx->ctl->tail), RING_RELAXED);
}

int ring_bcast_transmit(ring_bcast_tx_t *tx, int32_t type, const void *src, uint32_t length)
{
    int rc = ring_bcast_stage(tx, type, src, length);
    if (rc == 0)
        ring_bcast_publish(tx, ring_bcast_written(tx));
    return rc;
}

int ring_bcast_rx_init(ring_bcast_rx_t *rx, const struct ring_seg *seg)
{
    if (!rx || !ring_bcast_seg_ok(seg))
        return RING_INVALID;
    memset(rx, 0, sizeof *rx);
    rx->ctl = (ring_bcast_ctl_t *)seg->ctl;
    rx->data = seg->data;
    rx->capacity = seg->hdr->capacity;
    rx->mask = rx->capacity - 1;
    rx->max_record = seg->hdr->max_record;
    /* acquire: pairs with the release store of tail (W2); we start after everything published. */
    rx->cursor = atomic_load_explicit(ring_a64(&rx->ctl->tail), RING_ACQUIRE);
    return 0;
}

/* R3: were the bytes read at [pos, pos + capacity) still unwritten by the next lap when we read
 * them? acquire fence: pairs with the release fence after the tail_intent store in
 * ring_bcast_transmit() (W1); our relaxed loads of the record happen before the fence, so if any
 * of them saw a newer lap's byte, the tail_intent load below sees that lap's announcement. */
static int ring_bcast_copy_valid(const ring_bcast_rx_t *rx, uint64_t pos)
{
    atomic_thread_fence(RING_ACQUIRE);
    uint64_t intent = atomic_load_explicit(ring_a64(&rx->ctl->tail_intent), RING_RELAXED);
    return intent <= pos + rx->capacity;
}

static int ring_bcast_lap(ring_bcast_rx_t *rx)
{
    /* acquire: pairs with the release store of tail (W2), which follows the store of latest. */
    (void)atomic_load_explicit(ring_a64(&rx->ctl->tail), RING_ACQUIRE);
    uint64_t latest = atomic_load_explicit(ring_a64(&rx->ctl->latest), RING_RELAXED);
    if (latest > rx->cursor)
        rx->lapped_bytes += latest - rx->cursor;
    rx->cursor = latest > rx->cursor ? latest : rx->cursor;
    rx->lapped++;
    return RING_LAPPED;
}

/* Reads the (non-padding) record header at the cursor, stepping over one padding record.
 * Returns 1 with *h and *at set, 0 if nothing is published at the cursor, or a RING_* error. */
static int ring_bcast_next_hdr(ring_bcast_rx_t *rx, uint64_t tail, ring_record_hdr_t *h,
                               uint64_t *at)
{
    for (int round = 0; round < 2; round++) {
        if (rx->cursor >= tail)
            return 0;
        if (tail - rx->cursor > rx->capacity)
            return ring_bcast_lap(rx);
        uint64_t pos = rx->cursor;
        ring_copy_from_shared(h, rx->data + (pos & rx->mask), sizeof *h);
        if (!ring_bcast_copy_valid(rx, pos))
            return ring_bcast_lap(rx);
        uint64_t rec = ring_align8((uint64_t)(uint32_t)h->length);
        uint64_t to_end = rx->capacity - (pos & rx->mask);
        if (h->length < RING_RECORD_HDR_BYTES || rec > to_end ||
            (h->type != RING_MSG_PADDING && (uint32_t)h->length > rx->max_record))
            return RING_SEG_CORRUPT;
        if (h->type == RING_MSG_PADDING) {
            rx->cursor += rec;
            continue;
        }
        *at = pos;
        return 1;
    }
    return RING_SEG_CORRUPT;
}

int ring_bcast_receive(ring_bcast_rx_t *rx, void *dst, uint32_t dst_cap, int32_t *type,
                       uint32_t *length)
{
    /* R1 acquire: pairs with the release store of tail in ring_bcast_transmit() (W2). */
    uint64_t tail = atomic_load_explicit(ring_a64(&rx->ctl->tail), RING_ACQUIRE);
    ring_record_hdr_t h;
    uint64_t pos;
    int rc = ring_bcast_next_hdr(rx, tail, &h, &pos);
    if (rc <= 0)
        return rc == 0 ? RING_EMPTY : rc;
    uint32_t payload = (uint32_t)h.length - RING_RECORD_HDR_BYTES;
    if (payload > dst_cap)
        return RING_INVALID;
    /* R2: copy out in whole words (a record is 8-aligned and zero-padded to 8 bytes). */
    uint8_t *src = rx->data + (pos & rx->mask) + RING_RECORD_HDR_BYTES;
    uint32_t body = payload & ~7u;
    ring_copy_from_shared(dst, src, body);
    uint8_t last[8];
    if (body < payload)
        ring_copy_from_shared(last, src + body, 8);
    if (!ring_bcast_copy_valid(rx, pos))   /* R3 */
        return ring_bcast_lap(rx);
    if (body < payload)
        memcpy((uint8_t *)dst + body, last, payload - body);
    rx->cursor = pos + ring_align8((uint64_t)h.length);
    rx->received++;
    *type = h.type;
    *length = payload;
    return 1;
}

int32_t ring_bcast_receive_batch(ring_bcast_rx_t *rx, uint8_t *dst, uint64_t dst_cap,
                                 uint32_t max, uint32_t *lapped, uint64_t *used_bytes)
{
    *lapped = 0;
    *used_bytes = 0;
    /* R1 acquire: pairs with the release store of tail (W2); one load serves the whole batch. */
    uint64_t tail = atomic_load_explicit(ring_a64(&rx->ctl->tail), RING_ACQUIRE);
    uint64_t used = 0;
    int32_t n = 0;
    while ((uint32_t)n < max) {
        ring_record_hdr_t h;
        uint64_t pos;
        int rc = ring_bcast_next_hdr(rx, tail, &h, &pos);
        if (rc == RING_LAPPED) {
            *lapped = 1;
            break;
        }
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        uint64_t rec = ring_align8((uint64_t)h.length);
        if (used + rec > dst_cap)
            break;
        /* R2: header and padded payload in whole words. */
        ring_copy_from_shared(dst + used, rx->data + (pos & rx->mask), rec);
        if (!ring_bcast_copy_valid(rx, pos)) {   /* R3 */
            ring_bcast_lap(rx);
            *lapped = 1;
            break;
        }
        used += rec;
        rx->cursor = pos + rec;
        rx->received++;
        *used_bytes = used;
        n++;
    }
    return n;
}

uint64_t ring_bcast_backlog(const ring_bcast_rx_t *rx)
{
    uint64_t tail = atomic_load_explicit(ring_a64(&rx->ctl->tail), RING_RELAXED);
    return tail > rx->cursor ? tail - rx->cursor : 0;
}
