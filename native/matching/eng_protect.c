/*
 * eng_protect.c - Rule 611 order protection and Rule 610(d) locked/crossed markets on lit
 * instruments (ENGINE.md "Order protection").
 *
 * Where the check lives, and why here: in the engine, on sequenced input only. The consolidator
 * (gateway/sip) sends each lit venue the best protected quotes of the OTHER venues as the
 * instrument's NBBO (ENG_CMD_NBBO) and the venue's protection mode (ENG_CMD_SET_ORDER_PROTECTION);
 * both are journaled commands, so whether an order traded through is decided by the engine's input
 * alone and a replay reproduces every protected execution, reject and cancel byte for byte. A check
 * before sequencing (in the gateway) would have to read the engine's own book from outside, always
 * a little late, and could not see how far an order walks the book.
 *
 * The protected price P of an order: a buy's is the NBBO ask, a sell's the NBBO bid (no protection
 * when that side is 0, when the mode is OFF, when no NBBO came, and for an intermarket sweep order,
 * ENG_FLAG_ISO, whose sender took the better quotes itself). Invariant: no execution of a protected
 * order on this instrument is at a price worse than P (buy: above, sell: below). eng_run_order
 * holds it by never matching beyond P; what is left is cancelled with ENG_CXL_REGNMS_TRADE_THROUGH
 * when this book still had liquidity beyond P within the order's own bound (its sender routes it to
 * the better venue), or with ENG_CXL_REGNMS_LOCK_CROSS when it would rest at a price locking or
 * crossing P. In mode REJECT a new order that would do either is refused whole before acceptance
 * (ENG_REJ_REGNMS_TRADE_THROUGH, ENG_REJ_REGNMS_LOCK_CROSS), judged on the book's liquidity
 * (reserves included, STP not anticipated: the cancel above stays the backstop). Auctions are a
 * single-price transaction, exempt (Rule 611(b)(3)); dark instruments trade inside the NBBO anyway.
 */
#include "eng_internal.h"

/* Pure functions of the book and the instrument's protection state: they call nothing in the
 * other engine files (SET_ORDER_PROTECTION itself is in eng_protect_cmd.c), so the files that
 * run orders can call them without a cycle. */

/* 1 with the protected price in *p when an order of this side and these flags is protected. */
int eng_protect_price(const eng_instr_t *ins, uint8_t side, uint8_t flags, int64_t *p)
{
    if (ins->protect_mode == ENG_PROTECT_OFF || !ins->has_nbbo || (flags & ENG_FLAG_ISO)) return 0;
    *p = side == ENG_SIDE_BUY ? ins->nbbo_ask : ins->nbbo_bid;
    return *p != 0;
}

static inline int beyond(uint8_t side, int64_t price, int64_t p)
{
    return side == ENG_SIDE_BUY ? price > p : price < p;
}

/* The bound an order of this side matches within, tightened to P when protected. */
int64_t eng_protect_bound(const eng_instr_t *ins, uint8_t side, uint8_t flags, int64_t bound)
{
    int64_t p;
    if (!eng_protect_price(ins, side, flags, &p)) return bound;
    return beyond(side, bound, p) ? p : bound;
}

/* After matching within the protected bound: the reason the active order's rest is cancelled
 * (ENG_OK: none, it goes on as usual). `bound` is the order's own, before protection. */
uint16_t eng_protect_rest(const eng_engine_t *e, const eng_instr_t *ins, const eng_order_t *o, int64_t bound)
{
    int64_t p;
    if (!eng_protect_price(ins, o->side, o->flags, &p)) return ENG_OK;
    uint32_t b = ins->best[3 - o->side];
    if (b != ENG_NIL && beyond(o->side, e->levels[b].price, p) && !beyond(o->side, e->levels[b].price, bound))
        return ENG_CXL_REGNMS_TRADE_THROUGH;
    const int rests = o->tif == ENG_TIF_DAY || o->tif == ENG_TIF_GTC || o->tif == ENG_TIF_GTD;
    if (o->ord_type != ENG_ORD_MARKET && o->ord_type != ENG_ORD_STOP && rests &&
        (o->act_price == p || beyond(o->side, o->act_price, p)))
        return ENG_CXL_REGNMS_LOCK_CROSS;
    return ENG_OK;
}

/* Mode REJECT, a new LIMIT or MARKET order about to run in CONTINUOUS: the reject reason when it
 * would trade through (liquidity beyond P within its bound, and not enough at P or better to fill
 * it) or rest locking/crossing P; ENG_OK otherwise. */
uint16_t eng_protect_entry(const eng_engine_t *e, const eng_instr_t *ins, const eng_new_order_t *c)
{
    int64_t p;
    if (ins->protect_mode != ENG_PROTECT_REJECT || ins->phase != ENG_PHASE_CONTINUOUS ||
        (c->ord_type != ENG_ORD_LIMIT && c->ord_type != ENG_ORD_MARKET) ||
        !eng_protect_price(ins, c->side, c->flags, &p))
        return ENG_OK;
    const uint8_t side = c->side;
    uint32_t li = ins->best[3 - side];
    int64_t bound = c->price;
    if (c->ord_type == ENG_ORD_MARKET) {
        if (li == ENG_NIL) return ENG_OK;
        int64_t off = ins->mkt_collar_ticks * ins->tick;
        bound = side == ENG_SIDE_BUY ? e->levels[li].price + off : e->levels[li].price - off;
    }
    int64_t within = 0;
    for (; li != ENG_NIL; li = e->levels[li].worse) {
        const eng_level_t *l = &e->levels[li];
        if (beyond(side, l->price, bound)) break;
        if (beyond(side, l->price, p)) {
            if (within < c->qty) return ENG_REJ_REGNMS_TRADE_THROUGH;
            break;
        }
        for (uint32_t oi = l->head; oi != ENG_NIL; oi = e->orders[oi].next) within += eng_leaves(e, &e->orders[oi]);
    }
    const int rests = c->tif == ENG_TIF_DAY || c->tif == ENG_TIF_GTC || c->tif == ENG_TIF_GTD;
    if (c->ord_type == ENG_ORD_LIMIT && rests && within < c->qty && (c->price == p || beyond(side, c->price, p)))
        return ENG_REJ_REGNMS_LOCK_CROSS;
    return ENG_OK;
}
