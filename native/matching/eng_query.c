/*
 * eng_query.c - read-only views of the engine: depth, orders in book order, single orders,
 * positions, instruments and the logical state hash (the invariant checker is eng_check.c).
 *
 * Nothing here is on the order path. The state hash walks books in book order and never looks
 * at slot numbers, so two engines with equal logical state hash equal whatever their history.
 */
#include <errno.h>
#include <stdlib.h>

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

static void fill_info(const eng_engine_t *e, const eng_order_t *o, eng_order_info_t *x)
{
    const eng_order_ext_t *ext = eng_ext(e, o); /* the zero record when it has none */
    memset(x, 0, sizeof(*x));
    x->order_id = o->order_id;
    x->client_order_id = o->client_order_id;
    x->accept_seq = eng_order_accept_seq(e, o);
    x->price = eng_order_price(e, o);
    x->stop_price = ext->stop_price;
    x->display_qty = ext->display_qty;
    x->waiting_stop = o->state == ENG_OST_STOP;
    const int unshown = x->waiting_stop || o->state == ENG_OST_DARK; /* dark orders are never displayed */
    x->shown_qty = unshown ? 0 : o->shown_qty;
    x->reserve_qty = unshown ? 0 : ext->reserve_qty;
    x->leaves_qty = eng_leaves(e, o);
    x->expire_ts_ns = ext->expire_ts_ns;
    x->instrument_id = eng_order_instrument(e, o);
    x->account_id = o->account_id;
    x->stp_group = ext->stp_group;
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
            fill_info(e, &e->orders[oi], &out[n++]);
        return (int)n;
    }
    for (uint32_t li = ins->best[side]; li != ENG_NIL; li = e->levels[li].worse)
        for (uint32_t oi = e->levels[li].head; oi != ENG_NIL; oi = e->orders[oi].next) {
            if (n >= max || n >= INT32_MAX) return (int)n;
            fill_info(e, &e->orders[oi], &out[n++]);
        }
    /* a dark instrument has no levels: its side is the dark queue, in priority order */
    for (uint32_t oi = ins->dark_head[side]; oi != ENG_NIL; oi = e->orders[oi].next) {
        if (n >= max || n >= INT32_MAX) return (int)n;
        fill_info(e, &e->orders[oi], &out[n++]);
    }
    return (int)n;
}

/* One live order by id: 0 or -ENOENT. */
int eng_order_info(const eng_engine_t *e, uint64_t order_id, eng_order_info_t *out)
{
    uint32_t oi = order_id ? eng_oidx_find(e, order_id) : ENG_NIL;
    if (oi == ENG_NIL) return -ENOENT;
    fill_info(e, &e->orders[oi], out);
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

static void mix_order(const eng_engine_t *e, hstate_t *s, const eng_order_t *o)
{
    eng_order_info_t x;
    fill_info(e, o, &x);
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

/* The accounts with an order-velocity limit (engines without any hash as before). */
static void mix_velocity(const eng_engine_t *e, hstate_t *s)
{
    for (uint32_t a = 0; a < e->cfg.max_accounts; a++) {
        const eng_velocity_t *v = &e->velocity[a];
        if (!v->window_ns) continue;
        mix(s, 0x7e10c000000ULL + a);
        mix(s, v->max_orders);
        mix(s, (uint64_t)v->window_ns);
        mix(s, (uint64_t)v->credit);
        mix(s, (uint64_t)(v->credit >> 64));
        mix(s, (uint64_t)v->last_ts);
    }
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
                    mix_order(e, &s, &e->orders[oi]);
        }
        mix(&s, 0x5109u);
        for (uint32_t oi = ins->stop_head; oi != ENG_NIL; oi = e->orders[oi].next) mix_order(e, &s, &e->orders[oi]);
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
                    mix_order(e, &s, &e->orders[oi]);
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
    mix_velocity(e, &s);
    return s.h;
}
