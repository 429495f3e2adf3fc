/*
 * eng_index.c - the two open-addressing hash indexes of the engine: order id -> order slot and
 * (instrument, side, price) -> level slot.
 *
 * Both are power-of-two tables of 8-byte slots sized at eng_create to at least twice their pool,
 * probed linearly and cleaned by backward-shift deletion, so there are no tombstones and a probe
 * sequence never outgrows the cluster it sits in. A slot keeps the low 32 bits of its key's hash
 * (home slot and a filter) and the pool slot; idx 0 means empty (pool slot 0 is the NIL sentinel).
 * Keys are compared in the pool entry itself, so the tables never hold a copy of a key.
 */
#include "eng_internal.h"

static inline uint32_t lkey_hash(uint32_t instrument_id, uint8_t side, int64_t price)
{
    uint64_t k = ((uint64_t)instrument_id << 1) | (uint64_t)(side - 1);
    return (uint32_t)eng_hash64((uint64_t)price * 0x9E3779B97F4A7C15ULL ^ (k << 40) ^ k);
}

/* Order slot of a live order id, or ENG_NIL. */
uint32_t eng_oidx_find(const eng_engine_t *e, uint64_t order_id)
{
    uint32_t h = eng_oid_hash(order_id);
    uint64_t m = e->oidx_mask, i = h & m;
    for (;;) {
        const eng_idx_slot_t s = e->oidx[i];
        if (s.idx == ENG_NIL) return ENG_NIL;
        if (s.hash == h && e->orders[s.idx].order_id == order_id) return s.idx;
        i = (i + 1) & m;
    }
}

/* Inserts an id known to be absent; the table is never full (twice the order pool). */
void eng_oidx_insert(eng_engine_t *e, uint64_t order_id, uint32_t idx)
{
    uint32_t h = eng_oid_hash(order_id);
    uint64_t m = e->oidx_mask, i = h & m;
    while (e->oidx[i].idx != ENG_NIL) i = (i + 1) & m;
    e->oidx[i].hash = h;
    e->oidx[i].idx = idx;
}

/* Empties slot i and shifts later members of its cluster back, so every remaining key stays
 * reachable from its home slot without tombstones. */
static void backward_shift(eng_idx_slot_t *t, uint64_t m, uint64_t i)
{
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & m;
        if (t[j].idx == ENG_NIL) break;
        uint64_t home = t[j].hash & m;
        /* j's entry may fill hole i only if its home is not cyclically inside (i, j]. */
        if (((j - home) & m) >= ((j - i) & m)) {
            t[i] = t[j];
            i = j;
        }
    }
    t[i].idx = ENG_NIL;
    t[i].hash = 0;
}

/* Removes an order id known to be present. */
void eng_oidx_erase(eng_engine_t *e, uint64_t order_id)
{
    uint32_t h = eng_oid_hash(order_id);
    uint64_t m = e->oidx_mask, i = h & m;
    while (e->oidx[i].idx == ENG_NIL || e->oidx[i].hash != h || e->orders[e->oidx[i].idx].order_id != order_id)
        i = (i + 1) & m;
    backward_shift(e->oidx, m, i);
}

static inline int level_is(const eng_level_t *l, uint32_t instrument_id, uint8_t side, int64_t price)
{
    return l->price == price && l->instrument_id == instrument_id && l->side == side;
}

/* Level slot of (instrument, side, price), or ENG_NIL. */
uint32_t eng_lidx_find(const eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price)
{
    uint32_t h = lkey_hash(instrument_id, side, price);
    uint64_t m = e->lidx_mask, i = h & m;
    for (;;) {
        const eng_idx_slot_t s = e->lidx[i];
        if (s.idx == ENG_NIL) return ENG_NIL;
        if (s.hash == h && level_is(&e->levels[s.idx], instrument_id, side, price)) return s.idx;
        i = (i + 1) & m;
    }
}

/* Inserts a key known to be absent. */
void eng_lidx_insert(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price, uint32_t idx)
{
    uint32_t h = lkey_hash(instrument_id, side, price);
    uint64_t m = e->lidx_mask, i = h & m;
    while (e->lidx[i].idx != ENG_NIL) i = (i + 1) & m;
    e->lidx[i].hash = h;
    e->lidx[i].idx = idx;
}

/* Removes a key known to be present (its level entry must still hold the key). */
void eng_lidx_erase(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price)
{
    uint32_t h = lkey_hash(instrument_id, side, price);
    uint64_t m = e->lidx_mask, i = h & m;
    while (e->lidx[i].idx == ENG_NIL || e->lidx[i].hash != h ||
           !level_is(&e->levels[e->lidx[i].idx], instrument_id, side, price))
        i = (i + 1) & m;
    backward_shift(e->lidx, m, i);
}

/* Batch hint (see eng_perf.h). Stage 0 prefetches the index slot the command will probe first;
 * stage 1, issued later for the same command, reads that slot (by then in cache) and prefetches
 * the order entry it names; stage 2 reads that order and prefetches its level and queue
 * neighbours, so the dependent misses of a cancel or replace all overlap with earlier commands.
 * Reads only; a stale or colliding slot merely wastes a prefetch. */
void eng_prefetch(const eng_engine_t *e, const eng_cmd_t *cmd, int stage)
{
    uint64_t order_id;
    switch (cmd->hdr.type) {
    case ENG_CMD_NEW_ORDER: order_id = cmd->new_order.order_id; break;
    case ENG_CMD_CANCEL: order_id = cmd->cancel.order_id; break;
    case ENG_CMD_REPLACE: order_id = cmd->replace.order_id; break;
    default: return;
    }
    const eng_idx_slot_t *slot = &e->oidx[eng_oid_hash(order_id) & e->oidx_mask];
    const int is_new = cmd->hdr.type == ENG_CMD_NEW_ORDER;
    const int sided = is_new && cmd->new_order.side >= ENG_SIDE_BUY && cmd->new_order.side <= ENG_SIDE_SELL;
    if (stage == 0) {
        __builtin_prefetch(slot);
        if (sided)
            __builtin_prefetch(&e->lidx[lkey_hash(cmd->hdr.instrument_id, cmd->new_order.side, cmd->new_order.price) &
                                        e->lidx_mask]);
        return;
    }
    if (stage >= 2) {
        /* the order's own line is in cache by now: fetch what unlinking it will write */
        if (is_new || slot->idx == ENG_NIL) return;
        const eng_order_t *o = &e->orders[slot->idx];
        if (o->order_id != order_id || o->level == ENG_NIL) return;
        __builtin_prefetch(&e->levels[o->level], 1);
        if (o->prev != ENG_NIL) __builtin_prefetch(&e->orders[o->prev], 1);
        if (o->next != ENG_NIL) __builtin_prefetch(&e->orders[o->next], 1);
        return;
    }
    if (!is_new && slot->idx != ENG_NIL) __builtin_prefetch(&e->orders[slot->idx]);
    if (sided) {
        uint32_t li = e->lidx[lkey_hash(cmd->hdr.instrument_id, cmd->new_order.side, cmd->new_order.price) &
                              e->lidx_mask].idx;
        if (li != ENG_NIL) __builtin_prefetch(&e->levels[li]);
    }
}
