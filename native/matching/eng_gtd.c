/*
 * eng_gtd.c - the GTD heap: a binary min-heap of order slots keyed by (expire_ts_ns, accept_seq).
 *
 * accept_seq is unique per order (one NEW_ORDER per command), so the key is a total order and
 * expiry is deterministic. Each order in the heap stores its 1-based position (heap_pos) so a
 * cancel or fill removes it in O(log n). Only resting or waiting GTD orders are in the heap.
 * A data structure only: expiring what is due is eng_expiry.c's.
 */
#include "eng_internal.h"

static inline int key_less(const eng_engine_t *e, uint32_t a, uint32_t b)
{
    const eng_order_t *x = &e->orders[a], *y = &e->orders[b];
    const int64_t tx = eng_ext(e, x)->expire_ts_ns, ty = eng_ext(e, y)->expire_ts_ns;
    if (tx != ty) return tx < ty;
    return eng_order_accept_seq(e, x) < eng_order_accept_seq(e, y);
}

static inline void place(eng_engine_t *e, uint32_t pos, uint32_t oi)
{
    e->heap[pos] = oi;
    eng_ext(e, &e->orders[oi])->heap_pos = pos;
}

static void sift_up(eng_engine_t *e, uint32_t pos)
{
    uint32_t oi = e->heap[pos];
    while (pos > 1 && key_less(e, oi, e->heap[pos / 2])) {
        place(e, pos, e->heap[pos / 2]);
        pos /= 2;
    }
    place(e, pos, oi);
}

static void sift_down(eng_engine_t *e, uint32_t pos)
{
    uint32_t oi = e->heap[pos], n = e->heap_n;
    for (;;) {
        uint32_t c = pos * 2;
        if (c > n) break;
        if (c + 1 <= n && key_less(e, e->heap[c + 1], e->heap[c])) c++;
        if (!key_less(e, e->heap[c], oi)) break;
        place(e, pos, e->heap[c]);
        pos = c;
    }
    place(e, pos, oi);
}

/* Files a resting or waiting GTD order for expiry; O(log n), cannot fail (heap sized to the pool). */
void eng_gtd_push(eng_engine_t *e, uint32_t oi)
{
    e->heap_n++;
    place(e, e->heap_n, oi);
    sift_up(e, e->heap_n);
}

/* Takes an order that is in the heap (heap_pos != 0) out of it; O(log n). */
void eng_gtd_erase(eng_engine_t *e, uint32_t oi)
{
    uint32_t pos = eng_ext(e, &e->orders[oi])->heap_pos;
    uint32_t last = e->heap[e->heap_n];
    e->heap_n--;
    eng_ext(e, &e->orders[oi])->heap_pos = 0;
    if (pos > e->heap_n) return;
    place(e, pos, last);
    sift_up(e, pos);
    sift_down(e, eng_ext(e, &e->orders[last])->heap_pos);
}
