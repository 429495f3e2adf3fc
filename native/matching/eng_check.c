/*
 * eng_check.c - the engine's invariant checker (eng_check) and the names of its results.
 *
 * Walks every book, stop list, dark queue, pool free list and index, and compares each aggregate
 * (level qty/count, live counts, open quantities, index sizes, the GTD heap) with what it
 * recounts from the orders. Read-only and off the order path; tests run it after every step.
 */
#include <stdlib.h>
#include <string.h>

#include "eng_diag.h"
#include "eng_internal.h"

enum {
    CHK_LEVEL_LINKS = 1, CHK_LEVEL_ORDER, CHK_LEVEL_EMPTY, CHK_LEVEL_AGG, CHK_LEVEL_INDEX, CHK_ORDER_LINK,
    CHK_ORDER_STATE, CHK_ORDER_QTY, CHK_ICEBERG, CHK_ORDER_INDEX, CHK_STOP_LIST, CHK_LIVE_COUNT, CHK_LEVEL_COUNT,
    CHK_FREE_ORDERS, CHK_FREE_LEVELS, CHK_OPEN_QTY, CHK_GTD_HEAP, CHK_INDEX_SIZE, CHK_CROSSED, CHK_NOMEM,
    CHK_DARK_QUEUE, CHK_EXTENSION, CHK_VELOCITY
};



static int check_order_common(const eng_engine_t *e, const eng_instr_t *ins, uint32_t oi, __int128 *open)
{
    const eng_order_t *o = &e->orders[oi];
    const eng_order_ext_t *x = eng_ext(e, o);
    if (eng_order_instrument(e, o) != ins->id) return -CHK_ORDER_STATE;
    if (o->ext > e->ext_hw) return -CHK_EXTENSION;
    /* every order that uses an extension field, or waits in a list, has its extension */
    if (o->ext == ENG_NIL && ((o->flags & ENG_FLAG_ICEBERG) || o->tif == ENG_TIF_GTD || o->seq40 == 0 ||
                              o->state == ENG_OST_STOP || o->state == ENG_OST_DARK))
        return -CHK_EXTENSION;
    if (eng_oidx_find(e, o->order_id) != oi) return -CHK_ORDER_INDEX;
    if (o->account_id >= e->cfg.max_accounts) return -CHK_ORDER_STATE;
    if ((o->tif == ENG_TIF_GTD) != (x->heap_pos != 0)) return -CHK_GTD_HEAP;
    if (x->heap_pos && (x->heap_pos > e->heap_n || e->heap[x->heap_pos] != oi)) return -CHK_GTD_HEAP;
    open[(uint64_t)o->account_id * 2 + (o->side == ENG_SIDE_SELL)] += eng_leaves(e, o);
    return 0;
}

/* The order-id index holds exactly the live orders, each in the bucket its hash names, and its
 * bucket count is what linear hashing allows for them. */
static int check_order_index(const eng_engine_t *e, uint64_t live)
{
    uint64_t used = e->obkt_round + e->obkt_split, indexed = 0;
    if (e->obkt_split >= e->obkt_round || used > e->obkt_cap || e->oidx_count != live) return -CHK_INDEX_SIZE;
    for (uint64_t b = 0; b < used; b++)
        for (uint32_t oi = e->obkt[b]; oi != ENG_NIL; oi = e->orders[oi].hnext) {
            if (++indexed > live || oi > e->orders_hw) return -CHK_INDEX_SIZE;
            if (eng_obkt_of(e, eng_oid_hash(e->orders[oi].order_id)) != b) return -CHK_ORDER_INDEX;
        }
    return indexed == live ? 0 : -CHK_INDEX_SIZE;
}

/* A dark instrument's queues: links, count, and each order DARK, in no level, a MIDPOINT_PEG of
 * its side with all leaves in shown_qty and a MAQ >= 0 (it may exceed the leaves after a partial
 * fill); a lit instrument has no dark orders, and a dark one no levels or stops. */
static int check_dark_queues(const eng_engine_t *e, const eng_instr_t *ins, __int128 *open, uint64_t *live)
{
    uint32_t n = 0;
    if (!ins->dark && ins->ndark) return -CHK_DARK_QUEUE;
    if (ins->dark && (ins->best[1] || ins->best[2] || ins->nstops)) return -CHK_DARK_QUEUE;
    for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++) {
        uint32_t prev = ENG_NIL;
        for (uint32_t oi = ins->dark_head[side]; oi != ENG_NIL; prev = oi, oi = e->orders[oi].next) {
            const eng_order_t *o = &e->orders[oi];
            if (++n > ins->ndark || o->prev != prev || o->state != ENG_OST_DARK || o->level != ENG_NIL ||
                o->side != side || o->ord_type != ENG_ORD_MIDPOINT_PEG || o->shown_qty <= 0 ||
                eng_ext(e, o)->reserve_qty != 0 || eng_ext(e, o)->display_qty < 0)
                return -CHK_DARK_QUEUE;
            int rc = check_order_common(e, ins, oi, open);
            if (rc) return rc;
            (*live)++;
        }
        if (ins->dark_tail[side] != prev) return -CHK_DARK_QUEUE;
    }
    return n == ins->ndark ? 0 : -CHK_DARK_QUEUE;
}

/* One level's queue: links, each order RESTING on this level at its price, quantities and iceberg
 * peaks, and the level's aggregates. Adds the level's orders to *live. */
static int check_level_queue(const eng_engine_t *e, const eng_instr_t *ins, uint32_t li, __int128 *open,
                             uint64_t *live)
{
    const eng_level_t *l = &e->levels[li];
    int64_t qty = 0;
    uint32_t cnt = 0, oprev = ENG_NIL;
    for (uint32_t oi = l->head; oi != ENG_NIL; oprev = oi, oi = e->orders[oi].next) {
        const eng_order_t *o = &e->orders[oi];
        if (++cnt > l->count) return -CHK_LEVEL_AGG;
        if (o->prev != oprev || o->level != li) return -CHK_ORDER_LINK;
        const eng_order_ext_t *x = eng_ext(e, o);
        if (o->state != ENG_OST_RESTING || o->side != l->side) return -CHK_ORDER_STATE;
        if (o->shown_qty <= 0 || x->reserve_qty < 0) return -CHK_ORDER_QTY;
        if (o->flags & ENG_FLAG_ICEBERG ? o->shown_qty > x->display_qty : x->reserve_qty != 0) return -CHK_ICEBERG;
        int rc = check_order_common(e, ins, oi, open);
        if (rc) return rc;
        qty += o->shown_qty;
        (*live)++;
    }
    if (l->tail != oprev) return -CHK_ORDER_LINK;
    if (qty != l->qty || cnt != l->count) return -CHK_LEVEL_AGG;
    return 0;
}

/* One side of a lit book: the level list sorted best first, on tick, indexed, non-empty, each
 * queue sound. Adds to *levels and *live. */
static int check_side(const eng_engine_t *e, const eng_instr_t *ins, uint8_t side, __int128 *open,
                      uint64_t *levels, uint64_t *live)
{
    uint32_t prev = ENG_NIL;
    for (uint32_t li = ins->best[side]; li != ENG_NIL; prev = li, li = e->levels[li].worse) {
        const eng_level_t *l = &e->levels[li];
        if (++*levels > e->cfg.max_levels) return -CHK_LEVEL_LINKS;
        if (l->better != prev || l->side != side || l->instrument_id != ins->id) return -CHK_LEVEL_LINKS;
        if (prev != ENG_NIL &&
            (side == ENG_SIDE_BUY ? l->price >= e->levels[prev].price : l->price <= e->levels[prev].price))
            return -CHK_LEVEL_ORDER;
        if (l->count == 0 || l->head == ENG_NIL) return -CHK_LEVEL_EMPTY;
        if (l->price <= 0 || l->price % ins->tick) return -CHK_LEVEL_ORDER;
        if (eng_lidx_find(e, ins->id, side, l->price) != li) return -CHK_LEVEL_INDEX;
        int rc = check_level_queue(e, ins, li, open, live);
        if (rc) return rc;
    }
    return ins->worst[side] == prev ? 0 : -CHK_LEVEL_LINKS;
}

/* The instrument's waiting stops: links, count, each STOP in no level with its leaves shown and
 * its stop price inside the list's bounds. Adds them to *live. */
static int check_stop_list(const eng_engine_t *e, const eng_instr_t *ins, __int128 *open, uint64_t *live)
{
    uint32_t n = 0, sprev = ENG_NIL;
    for (uint32_t oi = ins->stop_head; oi != ENG_NIL; sprev = oi, oi = e->orders[oi].next) {
        const eng_order_t *o = &e->orders[oi];
        if (++n > ins->nstops || o->prev != sprev || o->state != ENG_OST_STOP || o->level != ENG_NIL ||
            eng_ext(e, o)->reserve_qty != 0 || o->shown_qty <= 0 ||
            (o->side == ENG_SIDE_BUY ? eng_ext(e, o)->stop_price < ins->stop_buy_min
                                     : eng_ext(e, o)->stop_price > ins->stop_sell_max))
            return -CHK_STOP_LIST;
        int rc = check_order_common(e, ins, oi, open);
        if (rc) return rc;
        (*live)++;
    }
    return n == ins->nstops && ins->stop_tail == sprev ? 0 : -CHK_STOP_LIST;
}

/* Everything one instrument holds: both sides, not crossed in CONTINUOUS, stops, dark queues, and
 * each account's open quantities equal to its orders' leaves (open is scratch, 2 per account). */
static int check_instrument(const eng_engine_t *e, const eng_instr_t *ins, __int128 *open, uint64_t *levels,
                            uint64_t *live)
{
    memset(open, 0, (size_t)e->cfg.max_accounts * 2 * sizeof(__int128));
    int rc;
    for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++)
        if ((rc = check_side(e, ins, side, open, levels, live))) return rc;
    if (ins->best[1] && ins->best[2] && ins->phase == ENG_PHASE_CONTINUOUS &&
        e->levels[ins->best[1]].price >= e->levels[ins->best[2]].price)
        return -CHK_CROSSED;
    if ((rc = check_stop_list(e, ins, open, live))) return rc;
    if ((rc = check_dark_queues(e, ins, open, live))) return rc;
    for (uint32_t a = 0; a < e->cfg.max_accounts; a++) {
        const eng_pos_t *p = eng_pos_get(e, a, ins->id);
        if (p->open_buy != open[a * 2] || p->open_sell != open[a * 2 + 1]) return -CHK_OPEN_QTY;
    }
    return 0;
}

/* The pools: every slot below each high-water mark is live or on its free list, and a free order
 * is FREE. */
static int check_pools(const eng_engine_t *e, uint64_t live, uint64_t levels)
{
    uint64_t nfree = 0;
    for (uint32_t oi = e->free_order; oi != ENG_NIL; oi = e->orders[oi].next) {
        if (++nfree > e->orders_hw || oi > e->orders_hw || e->orders[oi].state != ENG_OST_FREE)
            return -CHK_FREE_ORDERS;
    }
    if (nfree + live != e->orders_hw || e->orders_hw > e->cfg.max_orders) return -CHK_FREE_ORDERS;
    nfree = 0;
    for (uint32_t li = e->free_level; li != ENG_NIL; li = e->levels[li].worse)
        if (++nfree > e->levels_hw || li > e->levels_hw) return -CHK_FREE_LEVELS;
    if (nfree + levels != e->levels_hw || e->levels_hw > e->cfg.max_levels) return -CHK_FREE_LEVELS;
    return 0;
}

/* The extension pool: slot 0 still all zeros (orders without one read it), every slot below the
 * high-water mark either on the free list or owned by exactly one live order, free orders own none. */
static int check_extensions(const eng_engine_t *e)
{
    static const eng_order_ext_t zero;
    if (memcmp(&e->ext[0], &zero, sizeof zero) != 0) return -CHK_EXTENSION;
    uint64_t nfree = 0, owned = 0;
    for (uint32_t xi = e->free_ext; xi != ENG_NIL; xi = e->ext[xi].next_free)
        if (++nfree > e->ext_hw || xi > e->ext_hw) return -CHK_EXTENSION;
    for (uint32_t oi = 1; oi <= e->orders_hw; oi++) {
        const eng_order_t *o = &e->orders[oi];
        if (o->ext == ENG_NIL) continue;
        if (o->state == ENG_OST_FREE || o->ext > e->ext_hw) return -CHK_EXTENSION;
        owned++;
    }
    if (owned != e->ext_live || nfree + owned != e->ext_hw || e->ext_hw > e->cfg.max_orders) return -CHK_EXTENSION;
    return 0;
}

/* The GTD heap: min-heap order by (expire_ts_ns, accept_seq) and each member's position. */
static int check_gtd_heap(const eng_engine_t *e)
{
    for (uint32_t pos = 2; pos <= e->heap_n; pos++) {
        const eng_order_t *c = &e->orders[e->heap[pos]], *p = &e->orders[e->heap[pos / 2]];
        const int64_t tc = eng_ext(e, c)->expire_ts_ns, tp = eng_ext(e, p)->expire_ts_ns;
        if (tc < tp || (tc == tp && eng_order_accept_seq(e, c) < eng_order_accept_seq(e, p))) return -CHK_GTD_HEAP;
    }
    for (uint32_t pos = 1; pos <= e->heap_n; pos++)
        if (e->orders[e->heap[pos]].state == ENG_OST_FREE || eng_ext(e, &e->orders[e->heap[pos]])->heap_pos != pos)
            return -CHK_GTD_HEAP;
    return 0;
}

/* Each account's order-velocity bucket within its bounds (eng_velocity_t's invariants). */
static int check_velocity(const eng_engine_t *e)
{
    for (uint32_t a = 0; a < e->cfg.max_accounts; a++) {
        const eng_velocity_t *v = &e->velocity[a];
        if ((v->window_ns == 0) != (v->max_orders == 0) || v->window_ns < 0) return -CHK_VELOCITY;
        if (!v->window_ns ? v->credit != 0 || v->last_ts != 0
                          : v->credit < 0 || v->credit > (__int128)v->max_orders * v->window_ns || v->last_ts > e->now)
            return -CHK_VELOCITY;
    }
    return 0;
}

/* Verifies every internal invariant: 0, or the negated number of the first one broken. */
int eng_check(const eng_engine_t *e)
{
    uint64_t live = 0, levels = 0, indexed = 0;
    __int128 *open = calloc((size_t)e->cfg.max_accounts * 2, sizeof(__int128));
    if (!open) return -CHK_NOMEM;
    int rc = 0;
    for (uint32_t id = 1; id <= e->cfg.max_instruments && !rc; id++)
        if (e->instr[id].exists) rc = check_instrument(e, &e->instr[id], open, &levels, &live);
    free(open);
    if (rc) return rc;
    if (live != e->orders_live) return -CHK_LIVE_COUNT;
    if (levels != e->levels_live) return -CHK_LEVEL_COUNT;
    if ((rc = check_pools(e, live, levels))) return rc;
    if ((rc = check_extensions(e))) return rc;
    if ((rc = check_order_index(e, live))) return rc;
    for (uint64_t i = 0; i <= e->lidx_mask; i++) indexed += e->lidx[i].idx != ENG_NIL;
    if (indexed != levels) return -CHK_INDEX_SIZE;
    if ((rc = check_velocity(e))) return rc;
    return check_gtd_heap(e);
}

/* Name of an eng_check() result, for error messages. */
const char *eng_check_describe(int rc)
{
    static const char *const names[] = {
        [0] = "ok",
        [CHK_LEVEL_LINKS] = "level list links or best/worst pointers broken",
        [CHK_LEVEL_ORDER] = "levels not strictly sorted best first, or price off tick",
        [CHK_LEVEL_EMPTY] = "live level without orders",
        [CHK_LEVEL_AGG] = "level qty/order_count differ from its orders",
        [CHK_LEVEL_INDEX] = "level not found at its price in the level index",
        [CHK_ORDER_LINK] = "order queue links broken",
        [CHK_ORDER_STATE] = "order state/side/price/instrument inconsistent with its place",
        [CHK_ORDER_QTY] = "resting order with non-positive shown or negative reserve",
        [CHK_ICEBERG] = "iceberg shown above its peak, or reserve on a non-iceberg",
        [CHK_ORDER_INDEX] = "live order not found under its id in the order index",
        [CHK_STOP_LIST] = "stop list links, count, stop state or stop price bounds broken",
        [CHK_LIVE_COUNT] = "live order count differs from orders reachable in books",
        [CHK_LEVEL_COUNT] = "live level count differs from levels reachable in books",
        [CHK_FREE_ORDERS] = "order free list size or state wrong",
        [CHK_FREE_LEVELS] = "level free list size wrong",
        [CHK_OPEN_QTY] = "account open buy/sell qty differs from its live orders' leaves",
        [CHK_GTD_HEAP] = "GTD heap order or positions broken",
        [CHK_INDEX_SIZE] = "hash index holds entries for dead orders or levels",
        [CHK_CROSSED] = "book crossed in CONTINUOUS",
        [CHK_NOMEM] = "checker could not allocate scratch memory",
        [CHK_DARK_QUEUE] = "dark queue links, count or order state broken (or a lit/dark mix)",
        [CHK_EXTENSION] = "order extension missing, out of range, miscounted, or the zero record written",
        [CHK_VELOCITY] = "order-velocity bucket out of its bounds, or a half-set limit",
    };
    int i = rc < 0 ? -rc : rc;
    if (i >= (int)(sizeof(names) / sizeof(names[0])) || !names[i]) return "unknown invariant";
    return names[i];
}
