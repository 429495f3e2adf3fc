/*
 * eng_index.c - the engine's two hash indexes: order id -> order slot and (instrument, side,
 * price) -> level slot.
 *
 * Order ids: linear hashing (Litwin 1980) with chains threaded through the orders themselves
 * (eng_order_t.hnext), so the index costs one 4-byte bucket per indexed order at most plus the
 * link in the order. The bucket count follows the number of indexed orders: each insert that
 * leaves more orders than buckets splits one bucket (the one at obkt_split moves the entries whose
 * next hash bit is set into a new bucket at obkt_split + obkt_round), one bucket per insert, so
 * growth is a few pointer moves at a time and never a rehash of the table. It never shrinks:
 * buckets follow the live orders' high-water mark. For a given set of live orders the table is
 * therefore the same small, cache-resident array whatever the configured capacity, which is what
 * keeps a 10 M-order engine as fast as a 64 K one (bench/engine.py). The buckets sit in a
 * reservation for the capacity's worth (eng_pool.c), made resident ahead of use off the order
 * path. A chain's order is irrelevant: ids are unique, so a lookup has one answer.
 *
 * Levels: a power-of-two open-addressing table of 8-byte slots sized at eng_create to at least
 * twice the level pool, probed linearly and cleaned by backward-shift deletion, so there are no
 * tombstones and a probe sequence never outgrows the cluster it sits in. A slot keeps the low 32
 * bits of its key's hash (home slot and a filter) and the pool slot; idx 0 means empty. Keys are
 * compared in the level itself, so the table never holds a copy of a key.
 */
#include "eng_internal.h"
#include "eng_perf.h"

static inline uint32_t lkey_hash(uint32_t instrument_id, uint8_t side, int64_t price)
{
    uint64_t k = ((uint64_t)instrument_id << 1) | (uint64_t)(side - 1);
    return (uint32_t)eng_hash64((uint64_t)price * 0x9E3779B97F4A7C15ULL ^ (k << 40) ^ k);
}

/* Order slot of a live order id, or ENG_NIL. */
uint32_t eng_oidx_find(const eng_engine_t *e, uint64_t order_id)
{
    uint32_t oi = e->obkt[eng_obkt_of(e, eng_oid_hash(order_id))];
    while (oi != ENG_NIL && e->orders[oi].order_id != order_id) oi = e->orders[oi].hnext;
    return oi;
}

/* Splits bucket obkt_split: its entries whose hash has bit log2(obkt_round) set move to the new
 * bucket obkt_split + obkt_round; then the split pointer advances (a new round doubles it). */
static void oidx_split(eng_engine_t *e)
{
    const uint64_t from = e->obkt_split, to = from + e->obkt_round, wide = 2 * e->obkt_round - 1;
    uint32_t stay = ENG_NIL, move = ENG_NIL;
    for (uint32_t oi = e->obkt[from]; oi != ENG_NIL;) {
        eng_order_t *o = &e->orders[oi];
        uint32_t next = o->hnext;
        if ((eng_oid_hash(o->order_id) & wide) == to) { o->hnext = move; move = oi; }
        else { o->hnext = stay; stay = oi; }
        oi = next;
    }
    e->obkt[from] = stay;
    e->obkt[to] = move;
    if (++e->obkt_split == e->obkt_round) {
        e->obkt_round *= 2;
        e->obkt_split = 0;
    }
}

/* Inserts an id known to be absent, then splits one bucket if orders outnumber buckets. */
void eng_oidx_insert(eng_engine_t *e, uint64_t order_id, uint32_t idx)
{
    uint32_t *head = &e->obkt[eng_obkt_of(e, eng_oid_hash(order_id))];
    e->orders[idx].hnext = *head;
    *head = idx;
    e->oidx_count++;
    if (e->oidx_count > e->obkt_round + e->obkt_split && e->obkt_round + e->obkt_split < e->obkt_cap)
        oidx_split(e);
}

/* Removes an order id known to be present. */
void eng_oidx_erase(eng_engine_t *e, uint64_t order_id)
{
    uint32_t *link = &e->obkt[eng_obkt_of(e, eng_oid_hash(order_id))];
    while (e->orders[*link].order_id != order_id) link = &e->orders[*link].hnext;
    uint32_t oi = *link;
    *link = e->orders[oi].hnext;
    e->orders[oi].hnext = ENG_NIL;
    e->oidx_count--;
}

/* Empties slot i of a level-index table and shifts later members of its cluster back, so every
 * remaining key stays reachable from its home slot without tombstones. */
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

/* Batch hint (see eng_perf.h). Stage 0 prefetches the index bucket the command will probe first
 * (and its level-index slot); stage 1, issued later for the same command, reads that bucket (by
 * then in cache) and prefetches the order at the head of its chain; stage 2 reads that order and
 * prefetches its chain successor when it is not the one (a second probe), else its level and queue
 * neighbours, so the dependent misses of a cancel or replace all overlap with earlier commands.
 * Reads only; a stale bucket or chain merely wastes a prefetch. */
void eng_prefetch(const eng_engine_t *e, const eng_cmd_t *cmd, int stage)
{
    uint64_t order_id;
    switch (cmd->hdr.type) {
    case ENG_CMD_NEW_ORDER: order_id = cmd->new_order.order_id; break;
    case ENG_CMD_CANCEL: order_id = cmd->cancel.order_id; break;
    case ENG_CMD_REPLACE: order_id = cmd->replace.order_id; break;
    default: return;
    }
    const uint32_t *bucket = &e->obkt[eng_obkt_of(e, eng_oid_hash(order_id))];
    const int is_new = cmd->hdr.type == ENG_CMD_NEW_ORDER;
    const int sided = is_new && cmd->new_order.side >= ENG_SIDE_BUY && cmd->new_order.side <= ENG_SIDE_SELL;
    if (stage == 0) {
        __builtin_prefetch(bucket);
        if (sided)
            __builtin_prefetch(&e->lidx[lkey_hash(cmd->hdr.instrument_id, cmd->new_order.side, cmd->new_order.price) &
                                        e->lidx_mask]);
        return;
    }
    if (stage >= 2) {
        /* the chain head's line is in cache by now */
        uint32_t oi = *bucket;
        if (oi == ENG_NIL) return;
        const eng_order_t *o = &e->orders[oi];
        if (o->order_id != order_id) {
            /* a new order's id is (normally) absent: its check walks the whole chain */
            if (o->hnext != ENG_NIL) __builtin_prefetch(&e->orders[o->hnext]);
            return;
        }
        if (is_new || o->level == ENG_NIL) return;
        __builtin_prefetch(&e->levels[o->level], 1);
        if (o->prev != ENG_NIL) __builtin_prefetch(&e->orders[o->prev], 1);
        if (o->next != ENG_NIL) __builtin_prefetch(&e->orders[o->next], 1);
        return;
    }
    if (*bucket != ENG_NIL) __builtin_prefetch(&e->orders[*bucket]);
    if (sided) {
        uint32_t li = e->lidx[lkey_hash(cmd->hdr.instrument_id, cmd->new_order.side, cmd->new_order.price) &
                              e->lidx_mask].idx;
        if (li != ENG_NIL) __builtin_prefetch(&e->levels[li]);
    }
}

/* See eng_perf.h. */
void eng_prefetch_schedule(const eng_engine_t *e, const eng_cmd_t *far, const eng_cmd_t *mid, const eng_cmd_t *near)
{
    if (e->orders_hw < ENG_PREFETCH_MIN_ORDERS) return;
    if (far) eng_prefetch(e, far, 0);
    if (mid) eng_prefetch(e, mid, 1);
    if (near) eng_prefetch(e, near, 2);
}
