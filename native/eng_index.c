/*
 * eng_index.c - the two open-addressing hash indexes of the engine: order id -> order slot and
 * (instrument, side, price) -> level slot.
 *
 * Both are power-of-two tables sized at eng_create to at least twice their pool, probed linearly
 * and cleaned by backward-shift deletion, so there are no tombstones and a probe sequence never
 * outgrows the cluster it sits in. Slot value 0 means empty (pool slot 0 is the NIL sentinel).
 */
#include "eng_internal.h"

static inline uint64_t lkey_hash(uint32_t key, int64_t price)
{
    return eng_hash64((uint64_t)price * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)key << 1));
}

static inline uint32_t lkey(uint32_t instrument_id, uint8_t side)
{
    return (instrument_id << 1) | (uint32_t)(side - 1);
}

/* Order slot of a live order id, or ENG_NIL. */
uint32_t eng_oidx_find(const eng_engine_t *e, uint64_t order_id)
{
    uint64_t m = e->oidx_mask, i = eng_hash64(order_id) & m;
    for (;;) {
        const eng_oidx_slot_t *s = &e->oidx[i];
        if (s->idx == ENG_NIL) return ENG_NIL;
        if (s->order_id == order_id) return s->idx;
        i = (i + 1) & m;
    }
}

/* Inserts an id known to be absent; the table is never full (twice the order pool). */
void eng_oidx_insert(eng_engine_t *e, uint64_t order_id, uint32_t idx)
{
    uint64_t m = e->oidx_mask, i = eng_hash64(order_id) & m;
    while (e->oidx[i].idx != ENG_NIL) i = (i + 1) & m;
    e->oidx[i].order_id = order_id;
    e->oidx[i].idx = idx;
}

/* Removes an id known to be present, shifting later members of its cluster back so that every
 * remaining key stays reachable from its home slot without tombstones. */
void eng_oidx_erase(eng_engine_t *e, uint64_t order_id)
{
    uint64_t m = e->oidx_mask, i = eng_hash64(order_id) & m;
    while (e->oidx[i].order_id != order_id || e->oidx[i].idx == ENG_NIL) i = (i + 1) & m;
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & m;
        if (e->oidx[j].idx == ENG_NIL) break;
        uint64_t home = eng_hash64(e->oidx[j].order_id) & m;
        /* j's entry may fill hole i only if its home is not cyclically inside (i, j]. */
        if (((j - home) & m) >= ((j - i) & m)) {
            e->oidx[i] = e->oidx[j];
            i = j;
        }
    }
    e->oidx[i].idx = ENG_NIL;
    e->oidx[i].order_id = 0;
}

/* Level slot of (instrument, side, price), or ENG_NIL. */
uint32_t eng_lidx_find(const eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price)
{
    uint32_t k = lkey(instrument_id, side);
    uint64_t m = e->lidx_mask, i = lkey_hash(k, price) & m;
    for (;;) {
        const eng_lidx_slot_t *s = &e->lidx[i];
        if (s->idx == ENG_NIL) return ENG_NIL;
        if (s->price == price && s->key == k) return s->idx;
        i = (i + 1) & m;
    }
}

void eng_lidx_insert(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price, uint32_t idx)
{
    uint32_t k = lkey(instrument_id, side);
    uint64_t m = e->lidx_mask, i = lkey_hash(k, price) & m;
    while (e->lidx[i].idx != ENG_NIL) i = (i + 1) & m;
    e->lidx[i].price = price;
    e->lidx[i].key = k;
    e->lidx[i].idx = idx;
}

void eng_lidx_erase(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price)
{
    uint32_t k = lkey(instrument_id, side);
    uint64_t m = e->lidx_mask, i = lkey_hash(k, price) & m;
    while (e->lidx[i].idx == ENG_NIL || e->lidx[i].price != price || e->lidx[i].key != k)
        i = (i + 1) & m;
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & m;
        if (e->lidx[j].idx == ENG_NIL) break;
        uint64_t home = lkey_hash(e->lidx[j].key, e->lidx[j].price) & m;
        if (((j - home) & m) >= ((j - i) & m)) {
            e->lidx[i] = e->lidx[j];
            i = j;
        }
    }
    memset(&e->lidx[i], 0, sizeof(e->lidx[i]));
}
