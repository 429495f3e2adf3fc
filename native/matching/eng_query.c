/*
 * eng_query.c - read-only views of the engine: depth, orders in book order, single orders,
 * positions, instruments, the logical state hash and the invariant checker.
 *
 * Nothing here is on the order path. The state hash walks books in book order and never looks
 * at slot numbers, so two engines with equal logical state hash equal whatever their history.
 */
#include <errno.h>
#include <stdlib.h>

#include "eng_diag.h"
#include "eng_internal.h"

static const eng_instr_t *instr_c(const eng_engine_t *e, uint32_t id)
{
    if (id == 0 || id > e->cfg.max_instruments || !e->instr[id].exists) return NULL;
    return &e->instr[id];
}

/* Depth of one side, best first, at most max levels: count written, -ENOENT, -EINVAL. */
int eng_book_depth(const eng_engine_t *e, uint32_t instrument_id, uint8_t side, eng_level_info_t *out, uint32_t max)
{
    const eng_instr_t *ins = instr_c(e, instrument_id);
    if (!ins) return -ENOENT;
    if (side != ENG_SIDE_BUY && side != ENG_SIDE_SELL) return -EINVAL;
    uint32_t n = 0;
    for (uint32_t li = ins->best[side]; li != ENG_NIL && n < max && n < INT32_MAX; li = e->levels[li].worse, n++) {
        out[n].price = e->levels[li].price;
        out[n].qty = e->levels[li].qty;
        out[n].order_count = e->levels[li].count;
        out[n]._pad0 = 0;
    }
    return (int)n;
}

static void fill_info(const eng_order_t *o, eng_order_info_t *x)
{
    memset(x, 0, sizeof(*x));
    x->order_id = o->order_id;
    x->client_order_id = o->client_order_id;
    x->accept_seq = o->accept_seq;
    x->price = o->price;
    x->stop_price = o->stop_price;
    x->display_qty = o->display_qty;
    x->waiting_stop = o->state == ENG_OST_STOP;
    const int unshown = x->waiting_stop || o->state == ENG_OST_DARK; /* dark orders are never displayed */
    x->shown_qty = unshown ? 0 : o->shown_qty;
    x->reserve_qty = unshown ? 0 : o->reserve_qty;
    x->leaves_qty = eng_leaves(o);
    x->expire_ts_ns = o->expire_ts_ns;
    x->instrument_id = o->instrument_id;
    x->account_id = o->account_id;
    x->stp_group = o->stp_group;
    x->side = o->side;
    x->ord_type = o->ord_type;
    x->tif = o->tif;
    x->stp_mode = o->stp_mode;
    x->flags = o->flags;
}

/* Orders of one side in book order (side NONE: waiting stops in acceptance order), at most max:
 * count written, -ENOENT, -EINVAL. */
int eng_book_orders(const eng_engine_t *e, uint32_t instrument_id, uint8_t side, eng_order_info_t *out, uint32_t max)
{
    const eng_instr_t *ins = instr_c(e, instrument_id);
    if (!ins) return -ENOENT;
    if (side > ENG_SIDE_SELL) return -EINVAL;
    uint32_t n = 0;
    if (side == ENG_SIDE_NONE) {
        for (uint32_t oi = ins->stop_head; oi != ENG_NIL && n < max && n < INT32_MAX; oi = e->orders[oi].next)
            fill_info(&e->orders[oi], &out[n++]);
        return (int)n;
    }
    for (uint32_t li = ins->best[side]; li != ENG_NIL; li = e->levels[li].worse)
        for (uint32_t oi = e->levels[li].head; oi != ENG_NIL; oi = e->orders[oi].next) {
            if (n >= max || n >= INT32_MAX) return (int)n;
            fill_info(&e->orders[oi], &out[n++]);
        }
    /* a dark instrument has no levels: its side is the dark queue, in priority order */
    for (uint32_t oi = ins->dark_head[side]; oi != ENG_NIL; oi = e->orders[oi].next) {
        if (n >= max || n >= INT32_MAX) return (int)n;
        fill_info(&e->orders[oi], &out[n++]);
    }
    return (int)n;
}

/* One live order by id: 0 or -ENOENT. */
int eng_order_info(const eng_engine_t *e, uint64_t order_id, eng_order_info_t *out)
{
    uint32_t oi = order_id ? eng_oidx_find(e, order_id) : ENG_NIL;
    if (oi == ENG_NIL) return -ENOENT;
    fill_info(&e->orders[oi], out);
    return 0;
}

/* 0, -ENOENT (unknown instrument), -EINVAL (account out of range). */
int eng_position(const eng_engine_t *e, uint32_t account_id, uint32_t instrument_id, eng_position_info_t *out)
{
    if (!instr_c(e, instrument_id)) return -ENOENT;
    if (account_id >= e->cfg.max_accounts) return -EINVAL;
    const eng_pos_t *p = eng_pos_get(e, account_id, instrument_id);
    out->position = p->position;
    out->open_buy_qty = p->open_buy;
    out->open_sell_qty = p->open_sell;
    out->max_position = p->max_position;
    return 0;
}

/* 0 or -ENOENT. */
int eng_instrument_info(const eng_engine_t *e, uint32_t instrument_id, eng_instrument_info_t *out)
{
    const eng_instr_t *ins = instr_c(e, instrument_id);
    if (!ins) return -ENOENT;
    memset(out, 0, sizeof(*out));
    out->tick_size = ins->tick;
    out->lot_size = ins->lot;
    out->reference_price = ins->ref_price;
    out->market_collar_ticks = ins->mkt_collar_ticks;
    out->max_order_qty = ins->max_qty;
    out->max_order_notional = ins->max_notional;
    out->price_collar_ticks = ins->collar_ticks;
    out->last_trade_price = ins->last_price;
    out->has_last_trade = ins->has_last;
    out->phase = ins->phase;
    out->venue_mode = ins->dark ? ENG_MODE_DARK_MIDPOINT : ENG_MODE_LIT;
    out->nbbo_max_age_ns = ins->nbbo_max_age;
    out->has_nbbo = ins->has_nbbo;
    out->nbbo_bid_price = ins->nbbo_bid;
    out->nbbo_ask_price = ins->nbbo_ask;
    out->nbbo_bid_qty = ins->nbbo_bid_qty;
    out->nbbo_ask_qty = ins->nbbo_ask_qty;
    out->nbbo_quote_ts_ns = ins->nbbo_ts;
    return 0;
}

/* ---- state hash ------------------------------------------------------------------------------ */

typedef struct { uint64_t h; } hstate_t;

static inline void mix(hstate_t *s, uint64_t v)
{
    s->h = (s->h ^ eng_hash64(v + 0x9E3779B97F4A7C15ULL)) * 0x100000001b3ULL;
    s->h ^= s->h >> 29;
}

static void mix_order(hstate_t *s, const eng_order_t *o)
{
    eng_order_info_t x;
    fill_info(o, &x);
    mix(s, x.order_id);
    mix(s, x.client_order_id);
    mix(s, x.accept_seq);
    mix(s, (uint64_t)x.price);
    mix(s, (uint64_t)x.stop_price);
    mix(s, (uint64_t)x.display_qty);
    mix(s, (uint64_t)x.shown_qty);
    mix(s, (uint64_t)x.reserve_qty);
    mix(s, (uint64_t)x.leaves_qty);
    mix(s, (uint64_t)x.expire_ts_ns);
    mix(s, x.account_id);
    mix(s, x.stp_group);
    mix(s, (uint64_t)x.side | (uint64_t)x.ord_type << 8 | (uint64_t)x.tif << 16 | (uint64_t)x.stp_mode << 24 |
               (uint64_t)x.flags << 32 | (uint64_t)x.waiting_stop << 40);
}

/* 64-bit hash of the logical state; equal states hash equal whatever the pool-slot history. */
uint64_t eng_state_hash(const eng_engine_t *e)
{
    hstate_t s = {0xcbf29ce484222325ULL};
    mix(&s, (uint64_t)e->now);
    mix(&s, e->last_seq);
    mix(&s, e->trade_id);
    for (uint32_t id = 1; id <= e->cfg.max_instruments; id++) {
        const eng_instr_t *ins = &e->instr[id];
        if (!ins->exists) continue;
        mix(&s, id);
        mix(&s, ins->phase);
        mix(&s, (uint64_t)ins->tick);
        mix(&s, (uint64_t)ins->lot);
        mix(&s, (uint64_t)ins->ref_price);
        mix(&s, (uint64_t)ins->mkt_collar_ticks);
        mix(&s, (uint64_t)ins->max_qty);
        mix(&s, (uint64_t)ins->max_notional);
        mix(&s, (uint64_t)ins->collar_ticks);
        mix(&s, ins->has_last);
        mix(&s, (uint64_t)(ins->has_last ? ins->last_price : 0));
        for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++) {
            mix(&s, 0x5eed0000u + side);
            for (uint32_t li = ins->best[side]; li != ENG_NIL; li = e->levels[li].worse)
                for (uint32_t oi = e->levels[li].head; oi != ENG_NIL; oi = e->orders[oi].next)
                    mix_order(&s, &e->orders[oi]);
        }
        mix(&s, 0x5109u);
        for (uint32_t oi = ins->stop_head; oi != ENG_NIL; oi = e->orders[oi].next) mix_order(&s, &e->orders[oi]);
        if (ins->dark || ins->has_nbbo) { /* lit instruments without an NBBO hash as before */
            mix(&s, 0xda2c0000u + ins->dark);
            mix(&s, (uint64_t)ins->nbbo_max_age);
            mix(&s, ins->has_nbbo);
            mix(&s, (uint64_t)ins->nbbo_bid);
            mix(&s, (uint64_t)ins->nbbo_ask);
            mix(&s, (uint64_t)ins->nbbo_bid_qty);
            mix(&s, (uint64_t)ins->nbbo_ask_qty);
            mix(&s, (uint64_t)ins->nbbo_ts);
            for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++)
                for (uint32_t oi = ins->dark_head[side]; oi != ENG_NIL; oi = e->orders[oi].next)
                    mix_order(&s, &e->orders[oi]);
        }
        for (uint32_t a = 0; a < e->cfg.max_accounts; a++) {
            const eng_pos_t *p = eng_pos_get(e, a, id);
            if (!p->position && !p->open_buy && !p->open_sell && p->max_position == INT64_MAX) continue;
            mix(&s, a);
            mix(&s, (uint64_t)p->position);
            mix(&s, (uint64_t)p->open_buy);
            mix(&s, (uint64_t)p->open_sell);
            mix(&s, (uint64_t)p->max_position);
        }
    }
    for (uint32_t a = 0; a < e->cfg.max_accounts; a++)
        if (e->killed[a]) mix(&s, 0x4b000000000ULL + a);
    return s.h;
}

/* ---- invariants ------------------------------------------------------------------------------ */

enum {
    CHK_LEVEL_LINKS = 1, CHK_LEVEL_ORDER, CHK_LEVEL_EMPTY, CHK_LEVEL_AGG, CHK_LEVEL_INDEX, CHK_ORDER_LINK,
    CHK_ORDER_STATE, CHK_ORDER_QTY, CHK_ICEBERG, CHK_ORDER_INDEX, CHK_STOP_LIST, CHK_LIVE_COUNT, CHK_LEVEL_COUNT,
    CHK_FREE_ORDERS, CHK_FREE_LEVELS, CHK_OPEN_QTY, CHK_GTD_HEAP, CHK_INDEX_SIZE, CHK_CROSSED, CHK_NOMEM,
    CHK_DARK_QUEUE
};

static int check_order_common(const eng_engine_t *e, const eng_instr_t *ins, uint32_t oi, __int128 *open)
{
    const eng_order_t *o = &e->orders[oi];
    if (o->instrument_id != ins->id) return -CHK_ORDER_STATE;
    if (eng_oidx_find(e, o->order_id) != oi) return -CHK_ORDER_INDEX;
    if (o->account_id >= e->cfg.max_accounts) return -CHK_ORDER_STATE;
    if ((o->tif == ENG_TIF_GTD) != (o->heap_pos != 0)) return -CHK_GTD_HEAP;
    if (o->heap_pos && (o->heap_pos > e->heap_n || e->heap[o->heap_pos] != oi)) return -CHK_GTD_HEAP;
    open[(uint64_t)o->account_id * 2 + (o->side == ENG_SIDE_SELL)] += eng_leaves(o);
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
                o->reserve_qty != 0 || o->display_qty < 0)
                return -CHK_DARK_QUEUE;
            int rc = check_order_common(e, ins, oi, open);
            if (rc) return rc;
            (*live)++;
        }
        if (ins->dark_tail[side] != prev) return -CHK_DARK_QUEUE;
    }
    return n == ins->ndark ? 0 : -CHK_DARK_QUEUE;
}

/* Verifies every internal invariant: 0, or the negated number of the first one broken. */
int eng_check(const eng_engine_t *e)
{
    uint64_t live = 0, levels = 0, indexed = 0;
    __int128 *open = calloc((size_t)e->cfg.max_accounts * 2, sizeof(__int128));
    if (!open) return -CHK_NOMEM;
    int rc = 0;
    for (uint32_t id = 1; id <= e->cfg.max_instruments && !rc; id++) {
        const eng_instr_t *ins = &e->instr[id];
        if (!ins->exists) continue;
        memset(open, 0, (size_t)e->cfg.max_accounts * 2 * sizeof(__int128));
        for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL && !rc; side++) {
            uint32_t prev = ENG_NIL;
            for (uint32_t li = ins->best[side]; li != ENG_NIL && !rc; prev = li, li = e->levels[li].worse) {
                const eng_level_t *l = &e->levels[li];
                levels++;
                if (levels > e->cfg.max_levels) { rc = -CHK_LEVEL_LINKS; break; }
                if (l->better != prev || l->side != side || l->instrument_id != id) { rc = -CHK_LEVEL_LINKS; break; }
                if (prev != ENG_NIL && (side == ENG_SIDE_BUY ? l->price >= e->levels[prev].price
                                                             : l->price <= e->levels[prev].price)) {
                    rc = -CHK_LEVEL_ORDER;
                    break;
                }
                if (l->count == 0 || l->head == ENG_NIL) { rc = -CHK_LEVEL_EMPTY; break; }
                if (l->price <= 0 || l->price % ins->tick) { rc = -CHK_LEVEL_ORDER; break; }
                if (eng_lidx_find(e, id, side, l->price) != li) { rc = -CHK_LEVEL_INDEX; break; }
                int64_t qty = 0;
                uint32_t cnt = 0, oprev = ENG_NIL;
                for (uint32_t oi = l->head; oi != ENG_NIL; oprev = oi, oi = e->orders[oi].next) {
                    const eng_order_t *o = &e->orders[oi];
                    if (++cnt > l->count) { rc = -CHK_LEVEL_AGG; break; }
                    if (o->prev != oprev || o->level != li) { rc = -CHK_ORDER_LINK; break; }
                    if (o->state != ENG_OST_RESTING || o->side != side || o->price != l->price) {
                        rc = -CHK_ORDER_STATE;
                        break;
                    }
                    if (o->shown_qty <= 0 || o->reserve_qty < 0) { rc = -CHK_ORDER_QTY; break; }
                    if (o->flags & ENG_FLAG_ICEBERG) {
                        if (o->shown_qty > o->display_qty) { rc = -CHK_ICEBERG; break; }
                    } else if (o->reserve_qty) {
                        rc = -CHK_ICEBERG;
                        break;
                    }
                    if ((rc = check_order_common(e, ins, oi, open))) break;
                    qty += o->shown_qty;
                    live++;
                }
                if (rc) break;
                if (l->tail != oprev) { rc = -CHK_ORDER_LINK; break; }
                if (qty != l->qty || cnt != l->count) { rc = -CHK_LEVEL_AGG; break; }
            }
            if (!rc && ins->worst[side] != prev) rc = -CHK_LEVEL_LINKS;
        }
        if (rc) break;
        if (ins->best[1] && ins->best[2] && ins->phase == ENG_PHASE_CONTINUOUS &&
            e->levels[ins->best[1]].price >= e->levels[ins->best[2]].price) {
            rc = -CHK_CROSSED;
            break;
        }
        uint32_t n = 0, sprev = ENG_NIL;
        for (uint32_t oi = ins->stop_head; oi != ENG_NIL; sprev = oi, oi = e->orders[oi].next) {
            const eng_order_t *o = &e->orders[oi];
            if (++n > ins->nstops || o->prev != sprev || o->state != ENG_OST_STOP || o->level != ENG_NIL ||
                o->reserve_qty != 0 || o->shown_qty <= 0 ||
                (o->side == ENG_SIDE_BUY ? o->stop_price < ins->stop_buy_min
                                         : o->stop_price > ins->stop_sell_max)) {
                rc = -CHK_STOP_LIST;
                break;
            }
            if ((rc = check_order_common(e, ins, oi, open))) break;
            live++;
        }
        if (rc) break;
        if (n != ins->nstops || ins->stop_tail != sprev) { rc = -CHK_STOP_LIST; break; }
        if ((rc = check_dark_queues(e, ins, open, &live))) break;
        for (uint32_t a = 0; a < e->cfg.max_accounts; a++) {
            const eng_pos_t *p = eng_pos_get(e, a, id);
            if (p->open_buy != open[a * 2] || p->open_sell != open[a * 2 + 1]) { rc = -CHK_OPEN_QTY; break; }
        }
    }
    free(open);
    if (rc) return rc;
    if (live != e->orders_live) return -CHK_LIVE_COUNT;
    if (levels != e->levels_live) return -CHK_LEVEL_COUNT;
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
    if ((rc = check_order_index(e, live))) return rc;
    indexed = 0;
    for (uint64_t i = 0; i <= e->lidx_mask; i++) indexed += e->lidx[i].idx != ENG_NIL;
    if (indexed != levels) return -CHK_INDEX_SIZE;
    for (uint32_t pos = 2; pos <= e->heap_n; pos++) {
        const eng_order_t *c = &e->orders[e->heap[pos]], *p = &e->orders[e->heap[pos / 2]];
        if (c->expire_ts_ns < p->expire_ts_ns || (c->expire_ts_ns == p->expire_ts_ns && c->accept_seq < p->accept_seq))
            return -CHK_GTD_HEAP;
    }
    for (uint32_t pos = 1; pos <= e->heap_n; pos++)
        if (e->orders[e->heap[pos]].state == ENG_OST_FREE || e->orders[e->heap[pos]].heap_pos != pos) return -CHK_GTD_HEAP;
    return 0;
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
    };
    int i = rc < 0 ? -rc : rc;
    if (i >= (int)(sizeof(names) / sizeof(names[0])) || !names[i]) return "unknown invariant";
    return names[i];
}
