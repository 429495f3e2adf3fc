/*
 * eng_match.c - continuous matching: the aggressor walk, trades, iceberg refill, self-trade
 * prevention, the FOK fill check, and running an order that has just arrived (or triggered).
 *
 * An aggressor is an ACTIVE order: its slot is taken but it is in no index and no level, and all
 * of its leaves sit in shown_qty. It leaves this file either freed (filled, cancelled) or resting.
 * Trades always print at the passive price; positions and open quantities move per trade.
 */
#include "eng_internal.h"

static inline int64_t sat_add(int64_t a, __int128 b)
{
    __int128 r = (__int128)a + b;
    if (r > INT64_MAX) return INT64_MAX;
    if (r < INT64_MIN) return INT64_MIN;
    return (int64_t)r;
}

/* One TRADE between buy and sell (their leaves already reduced by qty), plus the position,
 * open-quantity and last-price bookkeeping it implies. */
void eng_trade(eng_engine_t *e, eng_instr_t *ins, eng_order_t *buy, eng_order_t *sell, int64_t price,
               int64_t qty, uint8_t aggressor_side)
{
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_TRADE, ENG_OK, ins->id);
    eng_evt_trade_t *t = &ev->trade;
    t->trade_id = ++e->trade_id;
    t->buy_order_id = buy->order_id;
    t->sell_order_id = sell->order_id;
    t->price = price;
    t->qty = qty;
    t->buy_leaves_qty = eng_leaves(e, buy);
    t->sell_leaves_qty = eng_leaves(e, sell);
    t->buy_account_id = buy->account_id;
    t->sell_account_id = sell->account_id;
    t->aggressor_side = aggressor_side;
    eng_pos_t *pb = eng_pos_get(e, buy->account_id, ins->id);
    pb->position += qty;
    pb->open_buy -= qty;
    eng_pos_t *ps = eng_pos_get(e, sell->account_id, ins->id);
    ps->position -= qty;
    ps->open_sell -= qty;
    ins->last_price = price;
    ins->has_last = 1;
    e->stats.trades++;
}

/* An order without an extension has no STP group: the common case reads nothing more. */
static inline int stp_applies(const eng_engine_t *e, const eng_order_t *a, const eng_order_t *p)
{
    if (a->ext == ENG_NIL || a->stp_mode == ENG_STP_NONE) return 0;
    const uint32_t g = eng_ext(e, a)->stp_group;
    return g != 0 && g == eng_ext(e, p)->stp_group;
}

/* CANCELLED(STP) for the aggressor: q taken off, `left` remaining. */
static void stp_aggressor_event(eng_engine_t *e, eng_order_t *o, int64_t q, int64_t left)
{
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_CANCELLED, ENG_CXL_STP, o->act_instrument);
    ev->cancelled.order_id = o->order_id;
    ev->cancelled.cancelled_qty = q;
    ev->cancelled.leaves_qty = left;
    ev->cancelled.account_id = o->account_id;
    eng_open_add(e, o, -q);
}

/* Self-trade prevention between aggressor oi (`*leaves` left) and the head pi of level li, by the
 * aggressor's mode. Returns 0 if the aggressor is gone (its slot is then free), else 1 with
 * *leaves updated; the walk then looks at the (possibly new) best level again. */
static __attribute__((noinline)) int stp_resolve(eng_engine_t *e, eng_instr_t *ins, uint32_t oi, uint32_t pi,
                                                 uint32_t li, int64_t *leaves)
{
    eng_order_t *o = &e->orders[oi], *p = &e->orders[pi];
    eng_level_t *l = &e->levels[li];
    const uint8_t mode = o->stp_mode, opp = (uint8_t)(3 - o->side);
    if (mode == ENG_STP_CANCEL_RESTING || mode == ENG_STP_CANCEL_BOTH)
        eng_order_remove(e, pi, ENG_EVT_CANCELLED, ENG_CXL_STP);
    if (mode == ENG_STP_CANCEL_AGGRESSING || mode == ENG_STP_CANCEL_BOTH) {
        o->shown_qty = *leaves;
        stp_aggressor_event(e, o, *leaves, 0);
        eng_order_free(e, oi);
        return 0;
    }
    if (mode != ENG_STP_DECREMENT) return 1;
    int64_t pl = eng_leaves(e, p);
    int64_t q = *leaves < pl ? *leaves : pl;
    if (q == pl) {
        eng_order_remove(e, pi, ENG_EVT_CANCELLED, ENG_CXL_STP);
    } else {
        /* q < pl: a reserve taken from is an iceberg's, which has its extension */
        int64_t reserve = pl - p->shown_qty;
        int64_t r = q < reserve ? q : reserve;
        if (r) eng_ext(e, p)->reserve_qty -= r;
        p->shown_qty -= q - r;
        l->qty -= q - r;
        eng_open_add(e, p, -q);
        eng_evt_t *ev = eng_evt_new(e, ENG_EVT_CANCELLED, ENG_CXL_STP, ins->id);
        ev->cancelled.order_id = p->order_id;
        ev->cancelled.cancelled_qty = q;
        ev->cancelled.leaves_qty = eng_leaves(e, p);
        ev->cancelled.account_id = p->account_id;
        eng_book_level_event(e, ins->id, opp, l->price, li);
    }
    *leaves -= q;
    o->shown_qty = *leaves;
    stp_aggressor_event(e, o, q, *leaves);
    if (*leaves == 0) {
        eng_order_free(e, oi);
        return 0;
    }
    return 1;
}

/* One fill of aggressor o (leaves before: `leaves`) against pi, the head of level li: the
 * trade, the iceberg refill, and the passive order's removal or the level's update. Returns the
 * aggressor's leaves after it. */
static inline int64_t fill_head(eng_engine_t *e, eng_instr_t *ins, eng_order_t *o, uint32_t pi, uint32_t li,
                                int64_t leaves)
{
    eng_order_t *p = &e->orders[pi];
    eng_level_t *l = &e->levels[li];
    const uint8_t side = o->side, opp = (uint8_t)(3 - side);
    int64_t q = leaves < p->shown_qty ? leaves : p->shown_qty;
    int64_t px = l->price;
    leaves -= q;
    o->shown_qty = leaves;
    p->shown_qty -= q;
    l->qty -= q;
    if (p->shown_qty == 0 && (p->flags & ENG_FLAG_ICEBERG) && eng_ext(e, p)->reserve_qty > 0) {
        /* iceberg refill: a new peak loses time priority (goes to the back) */
        eng_order_ext_t *x = eng_ext(e, p);
        int64_t r = x->reserve_qty < x->display_qty ? x->reserve_qty : x->display_qty;
        p->shown_qty = r;
        x->reserve_qty -= r;
        l->qty += r;
        eng_book_to_back(e, pi);
    }
    if (side == ENG_SIDE_BUY) eng_trade(e, ins, o, p, px, q, side);
    else eng_trade(e, ins, p, o, px, q, side);
    if (p->shown_qty == 0) {
        uint32_t left = eng_order_filled(e, ins, pi);
        eng_book_level_event(e, ins->id, opp, px, left);
    } else {
        eng_book_level_event(e, ins->id, opp, px, li);
    }
    return leaves;
}

/* Walks the opposite side while its best price is within bound (buy: <=, sell: >=). Returns 1
 * if the aggressor is still ACTIVE with leaves left, 0 if it is gone (filled or cancelled by
 * STP; its slot is then free). */
int eng_match(eng_engine_t *e, eng_instr_t *ins, uint32_t oi, int64_t bound)
{
    eng_order_t *o = &e->orders[oi];
    const uint8_t side = o->side, opp = (uint8_t)(3 - side);
    int64_t leaves = o->shown_qty;
    while (leaves > 0) {
        uint32_t li = ins->best[opp];
        if (li == ENG_NIL) break;
        const eng_level_t *l = &e->levels[li];
        if (side == ENG_SIDE_BUY ? l->price > bound : l->price < bound) break;
        uint32_t pi = l->head;
        if (__builtin_expect(stp_applies(e, o, &e->orders[pi]), 0)) {
            if (!stp_resolve(e, ins, oi, pi, li, &leaves)) return 0;
            continue;
        }
        leaves = fill_head(e, ins, o, pi, li, leaves);
    }
    o->shown_qty = leaves;
    if (leaves == 0) {
        eng_order_free(e, oi);
        return 0;
    }
    return 1;
}

/* FOK fill check: 1 if the acceptable opposite liquidity (reserves included) covers the whole
 * order, stopping at the first same-group order unless the mode cancels resting orders. */
int eng_fok_fillable(const eng_engine_t *e, const eng_instr_t *ins, const eng_order_t *o, int64_t bound)
{
    const uint8_t side = o->side, opp = (uint8_t)(3 - side);
    int64_t need = o->shown_qty, sum = 0;
    for (uint32_t li = ins->best[opp]; li != ENG_NIL; li = e->levels[li].worse) {
        const eng_level_t *l = &e->levels[li];
        if (side == ENG_SIDE_BUY ? l->price > bound : l->price < bound) break;
        for (uint32_t pi = l->head; pi != ENG_NIL; pi = e->orders[pi].next) {
            const eng_order_t *p = &e->orders[pi];
            if (stp_applies(e, o, p)) {
                if (o->stp_mode == ENG_STP_CANCEL_RESTING) continue;
                return sum >= need;
            }
            sum += eng_leaves(e, p);
            if (sum >= need) return 1;
        }
    }
    return sum >= need;
}

/* Runs an ACTIVE order in CONTINUOUS as a newly arrived one of its effective type (STOP behaves
 * as MARKET, STOP_LIMIT as LIMIT): FOK check, matching, then the remainder rests or is cancelled
 * as ENGINE.md says. Resting needs a level; callers checked that beforehand. */
void eng_run_order(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    const int is_market = o->ord_type == ENG_ORD_MARKET || o->ord_type == ENG_ORD_STOP;
    const uint8_t opp = (uint8_t)(3 - o->side);
    int64_t bound;
    if (is_market) {
        uint32_t b = ins->best[opp];
        if (b == ENG_NIL) {
            eng_active_cancel(e, oi, ENG_CXL_NO_LIQUIDITY);
            return;
        }
        __int128 off = (__int128)ins->mkt_collar_ticks * ins->tick;
        bound = sat_add(e->levels[b].price, o->side == ENG_SIDE_BUY ? off : -off);
    } else {
        bound = o->act_price;
    }
    /* Rule 611: a protected order never matches beyond the protected price (eng_protect.c) */
    const int64_t own_bound = bound;
    bound = eng_protect_bound(ins, o->side, o->flags, bound);
    if (o->tif == ENG_TIF_FOK && !eng_fok_fillable(e, ins, o, bound)) {
        eng_active_cancel(e, oi, ENG_CXL_FOK_NOT_FILLABLE);
        return;
    }
    if (!eng_match(e, ins, oi, bound)) return;
    const uint16_t protected_rest = eng_protect_rest(e, ins, o, own_bound);
    if (protected_rest) {
        eng_active_cancel(e, oi, protected_rest);
    } else if (is_market) {
        eng_active_cancel(e, oi, ins->best[opp] != ENG_NIL ? ENG_CXL_MARKET_COLLAR : ENG_CXL_NO_LIQUIDITY);
    } else if (o->tif == ENG_TIF_IOC) {
        eng_active_cancel(e, oi, ENG_CXL_IOC_REMAINDER);
    } else if (o->tif == ENG_TIF_FOK) {
        /* unreachable after a passing fill check; kept exact rather than resting a FOK */
        eng_active_cancel(e, oi, ENG_CXL_FOK_NOT_FILLABLE);
    } else if (!eng_book_can_rest(e, ins->id, o->side, o->act_price)) {
        /* only a triggered STOP_LIMIT gets here: orders entered as LIMIT (and replaces) passed a
         * conservative level check before matching (spec_questions Q8) */
        eng_active_cancel(e, oi, ENG_CXL_NO_LEVEL_CAPACITY);
    } else {
        eng_order_rest(e, ins, oi);
    }
}
