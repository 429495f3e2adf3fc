/*
 * ring_spsc.c - the SPSC ring (protocol steps P0-P2 and C1-C2 of venue_layout.h Section 4).
 * Invariants: producer: head_cache <= head <= tail and tail - head_cache <= capacity; consumer:
 * released <= read_pos <= the producer's tail; every byte in [head, tail) belongs to exactly one
 * record or padding; every byte outside it is zero.
 */
#include "ring_spsc.h"

#include <string.h>

#include "ring_atomic.h"

static ring_record_hdr_t *ring_spsc_hdr_at(const ring_spsc_t *r, uint64_t pos)
{
    return (ring_record_hdr_t *)(r->data + (pos & r->mask));
}

int ring_spsc_init(ring_spsc_t *r, const ring_seg_t *seg)
{
    if (!r || !seg || !seg->base || seg->kind != RING_KIND_SPSC)
        return RING_INVALID;
    memset(r, 0, sizeof *r);
    r->ctl = (ring_spsc_ctl_t *)seg->ctl;
    r->data = seg->data;
    r->capacity = seg->hdr->capacity;
    r->mask = r->capacity - 1;
    r->max_record = seg->hdr->max_record;
    /* acquire: pairs with the release store of head in ring_spsc_release(), so a re-attached
     * producer sees the zeroed bytes before it claims them. */
    uint64_t head = atomic_load_explicit(ring_a64(&r->ctl->head), RING_ACQUIRE);
    r->tail = atomic_load_explicit(ring_a64(&r->ctl->tail), RING_RELAXED);
    r->head_cache = head;
    r->read_pos = head;
    r->released = head;
    return 0;
}

/* Room check shared by claim and has_room: `need` bytes from tail, refreshing head only when the
 * cached copy says the ring is full (step P0). */
static int ring_spsc_room(ring_spsc_t *r, uint64_t need)
{
    if (need <= r->capacity - (r->tail - r->head_cache))
        return 1;
    /* acquire: pairs with the release store of head in ring_spsc_release() (C2): the consumer's
     * zeroing of the freed bytes happens-before our writes into them. */
    r->head_cache = atomic_load_explicit(ring_a64(&r->ctl->head), RING_ACQUIRE);
    return need <= r->capacity - (r->tail - r->head_cache);
}

static uint64_t ring_spsc_need(const ring_spsc_t *r, uint64_t rec)
{
    uint64_t to_end = r->capacity - (r->tail & r->mask);
    return rec <= to_end ? rec : to_end + rec;
}

int32_t ring_spsc_claim(ring_spsc_t *r, int32_t type, uint32_t length)
{
    if (type <= 0)
        return RING_INVALID;
    if ((uint64_t)length + RING_RECORD_HDR_BYTES > r->max_record)
        return RING_TOO_BIG;
    uint64_t rec = ring_align8((uint64_t)length + RING_RECORD_HDR_BYTES);
    if (!ring_spsc_room(r, ring_spsc_need(r, rec))) {
        r->full_count++;
        return RING_FULL;
    }
    uint64_t to_end = r->capacity - (r->tail & r->mask);
    if (rec > to_end) {
        ring_record_hdr_t *pad = ring_spsc_hdr_at(r, r->tail);
        atomic_store_explicit(ring_ai32(&pad->type), RING_MSG_PADDING, RING_RELAXED);
        /* release: the padding's type is visible before its length; pairs with the acquire
         * load of the length in ring_spsc_peek() (C1). */
        atomic_store_explicit(ring_ai32(&pad->length), (int32_t)to_end, RING_RELEASE);
        r->tail += to_end;
    }
    ring_record_hdr_t *h = ring_spsc_hdr_at(r, r->tail);
    atomic_store_explicit(ring_ai32(&h->type), type, RING_RELAXED);
    /* relaxed: a negative length only says "claimed"; the consumer stops at <= 0 whether it sees
     * this store or the zero before it (P1). */
    atomic_store_explicit(ring_ai32(&h->length), -(int32_t)(length + RING_RECORD_HDR_BYTES),
                          RING_RELAXED);
    uint32_t offset = (uint32_t)(r->tail & r->mask) + RING_RECORD_HDR_BYTES;
    r->tail += rec;
    /* relaxed: monitors and a re-attaching producer only; the consumer never reads tail. */
    atomic_store_explicit(ring_a64(&r->ctl->tail), r->tail, RING_RELAXED);
    return (int32_t)offset;
}

static ring_record_hdr_t *ring_spsc_open_claim(ring_spsc_t *r, int32_t offset, int32_t *len)
{
    if (offset < RING_RECORD_HDR_BYTES || (uint64_t)offset >= r->capacity || (offset & 7))
        return NULL;
    ring_record_hdr_t *h = (ring_record_hdr_t *)(r->data + offset - RING_RECORD_HDR_BYTES);
    *len = atomic_load_explicit(ring_ai32(&h->length), RING_RELAXED);   /* our own store */
    return *len < 0 ? h : NULL;
}

int ring_spsc_commit(ring_spsc_t *r, int32_t offset)
{
    int32_t len;
    ring_record_hdr_t *h = ring_spsc_open_claim(r, offset, &len);
    if (!h)
        return RING_INVALID;
    /* release: the payload written since the claim happens-before the consumer's reads; pairs
     * with the acquire load of the length in ring_spsc_peek() (P2 -> C1). */
    atomic_store_explicit(ring_ai32(&h->length), -len, RING_RELEASE);
    return 0;
}

int ring_spsc_abort(ring_spsc_t *r, int32_t offset)
{
    int32_t len;
    ring_record_hdr_t *h = ring_spsc_open_claim(r, offset, &len);
    if (!h)
        return RING_INVALID;
    atomic_store_explicit(ring_ai32(&h->type), RING_MSG_PADDING, RING_RELAXED);
    /* release: the padding type is visible before the length; pairs with ring_spsc_peek(). The
     * length stays the claimed one, so the consumer skips exactly the claimed bytes. */
    atomic_store_explicit(ring_ai32(&h->length), (int32_t)ring_align8((uint64_t)-len),
                          RING_RELEASE);
    return 0;
}

int ring_spsc_write(ring_spsc_t *r, int32_t type, const void *src, uint32_t length)
{
    int32_t off = ring_spsc_claim(r, type, length);
    if (off < 0)
        return off;
    memcpy(r->data + off, src, length);
    return ring_spsc_commit(r, off);
}

int ring_spsc_has_room(ring_spsc_t *r, uint32_t length)
{
    if ((uint64_t)length + RING_RECORD_HDR_BYTES > r->max_record)
        return 0;
    uint64_t rec = ring_align8((uint64_t)length + RING_RECORD_HDR_BYTES);
    return ring_spsc_room(r, ring_spsc_need(r, rec));
}

int32_t ring_spsc_peek(ring_spsc_t *r, int32_t *type, uint32_t *length)
{
    /* At most one padding record precedes a real one, so two rounds suffice. */
    for (int round = 0; round < 2; round++) {
        /* Bytes consumed but not yet released are not zeroed yet; a read position a whole
         * capacity past `released` would land on them and take a stale record for a new one
         * (Aeron avoids it the same way, by never reading past one lap per batch). */
        if (r->read_pos - r->released >= r->capacity)
            return RING_EMPTY;
        ring_record_hdr_t *h = ring_spsc_hdr_at(r, r->read_pos);
        /* acquire: pairs with the release store of a positive length in ring_spsc_commit(),
         * ring_spsc_abort() or the padding store in ring_spsc_claim() (C1 <- P2): the type and
         * payload are visible once the length is. */
        int32_t len = atomic_load_explicit(ring_ai32(&h->length), RING_ACQUIRE);
        if (len <= 0)
            return RING_EMPTY;
        int32_t t = atomic_load_explicit(ring_ai32(&h->type), RING_RELAXED);
        uint64_t rec = ring_align8((uint64_t)len);
        uint64_t to_end = r->capacity - (r->read_pos & r->mask);
        if (t == RING_MSG_PADDING) {
            if (rec > to_end)
                return RING_SEG_CORRUPT;
            r->read_pos += rec;
            continue;
        }
        if ((uint32_t)len < RING_RECORD_HDR_BYTES || (uint32_t)len > r->max_record || rec > to_end)
            return RING_SEG_CORRUPT;
        r->peek_bytes = (uint32_t)rec;
        *type = t;
        *length = (uint32_t)len - RING_RECORD_HDR_BYTES;
        return (int32_t)((r->read_pos & r->mask) + RING_RECORD_HDR_BYTES);
    }
    return RING_SEG_CORRUPT;
}

void ring_spsc_consume(ring_spsc_t *r)
{
    r->read_pos += r->peek_bytes;
    r->peek_bytes = 0;
}

uint32_t ring_spsc_read_batch(ring_spsc_t *r, ring_msg_t *out, uint32_t max)
{
    uint32_t n = 0;
    while (n < max) {
        int32_t type;
        uint32_t length;
        int32_t off = ring_spsc_peek(r, &type, &length);
        if (off < 0)
            break;
        out[n].offset = (uint32_t)off;
        out[n].length = length;
        out[n].type = type;
        out[n]._pad0 = 0;
        ring_spsc_consume(r);
        n++;
    }
    return n;
}

uint64_t ring_spsc_release(ring_spsc_t *r)
{
    uint64_t from = r->released, to = r->read_pos;
    if (from == to)
        return 0;
    /* Zero so that the next lap's length words read 0 until the producer claims them (C2).
     * Plain stores suffice: the release below orders them before the producer's reuse. */
    uint64_t off = from & r->mask, n = to - from;
    uint64_t first = n < r->capacity - off ? n : r->capacity - off;
    memset(r->data + off, 0, first);
    if (n > first)
        memset(r->data, 0, n - first);
    /* release: our reads of the records and the zeroing above happen-before the producer
     * overwrites these bytes; pairs with the acquire load of head in ring_spsc_room() (P0). */
    atomic_store_explicit(ring_a64(&r->ctl->head), to, RING_RELEASE);
    r->released = to;
    return n;
}

int ring_spsc_ready(ring_spsc_t *r)
{
    return ring_spsc_ready_at(r, r->read_pos);
}

int ring_spsc_ready_at(const ring_spsc_t *r, uint64_t pos)
{
    ring_record_hdr_t *h = ring_spsc_hdr_at(r, pos);
    /* relaxed: a hint for the wait strategy; the record is read through ring_spsc_peek(), whose
     * acquire load of length pairs with the producer's release store in ring_spsc_commit(). */
    return atomic_load_explicit(ring_ai32(&h->length), RING_RELAXED) > 0;
}

