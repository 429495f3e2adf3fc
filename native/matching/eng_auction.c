/*
 * eng_auction.c - trading phases: SET_PHASE transitions and the PRE_OPEN -> CONTINUOUS uncross.
 *
 * The uncross price maximises executable volume, then minimises the imbalance, then the
 * distance to the reference price, then takes the lower price; candidates are the resting
 * prices, scanned once in ascending order with running totals, so finding the price is linear
 * in resting orders and needs no scratch memory. Auction trades ignore STP and print at one price.
 */
#include "eng_internal.h"

static int transition_allowed(uint8_t from, uint8_t to)
{
    switch (from) {
    case ENG_PHASE_CLOSED: return to == ENG_PHASE_PRE_OPEN;
    case ENG_PHASE_PRE_OPEN: return to == ENG_PHASE_CONTINUOUS || to == ENG_PHASE_CLOSED;
    case ENG_PHASE_CONTINUOUS: return to == ENG_PHASE_HALTED || to == ENG_PHASE_CLOSED;
    case ENG_PHASE_HALTED: return to == ENG_PHASE_PRE_OPEN || to == ENG_PHASE_CLOSED;
    default: return 0;
    }
}

static __int128 level_leaves(const eng_engine_t *e, uint32_t li)
{
    __int128 s = 0;
    for (uint32_t oi = e->levels[li].head; oi != ENG_NIL; oi = e->orders[oi].next) s += eng_leaves(e, &e->orders[oi]);
    return s;
}

static __int128 abs128(__int128 x) { return x < 0 ? -x : x; }

/* Takes q off a crossing order, displayed first, then reserve; an iceberg left with no display
 * but some reserve refills and goes to the back of its level. */
static void auction_consume(eng_engine_t *e, uint32_t oi, int64_t q)
{
    eng_order_t *o = &e->orders[oi];
    eng_level_t *l = &e->levels[o->level];
    int64_t from_shown = q < o->shown_qty ? q : o->shown_qty;
    o->shown_qty -= from_shown;
    l->qty -= from_shown;
    if (!(o->flags & ENG_FLAG_ICEBERG)) return; /* no reserve: q <= shown */
    eng_order_ext_t *x = eng_ext(e, o);
    x->reserve_qty -= q - from_shown;
    if (o->shown_qty == 0 && x->reserve_qty > 0) {
        int64_t r = x->reserve_qty < x->display_qty ? x->reserve_qty : x->display_qty;
        o->shown_qty = r;
        x->reserve_qty -= r;
        l->qty += r;
        eng_book_to_back(e, oi);
    }
}

static void after_fill_level_event(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    uint8_t side = o->side;
    uint32_t li = o->level;
    int64_t price = e->levels[li].price;
    if (eng_leaves(e, o) == 0) li = eng_order_filled(e, ins, oi);
    eng_book_level_event(e, ins->id, side, price, li);
}

static void uncross(eng_engine_t *e, eng_instr_t *ins)
{
    const int64_t ref = ins->has_last ? ins->last_price : ins->ref_price;
    __int128 total_b = 0;
    for (uint32_t li = ins->best[ENG_SIDE_BUY]; li != ENG_NIL; li = e->levels[li].worse) total_b += level_leaves(e, li);

    /* ascending merge: bids from the worst (lowest) up, asks from the best (lowest) up */
    uint32_t bi = ins->worst[ENG_SIDE_BUY], ai = ins->best[ENG_SIDE_SELL];
    __int128 cum_s = 0, bids_below = 0, best_v = 0, best_imb = 0, best_dref = 0;
    __int128 best_b = 0, best_s = 0;
    int64_t best_p = 0;
    int found = 0;
    while (bi != ENG_NIL || ai != ENG_NIL) {
        int64_t p;
        if (bi == ENG_NIL) p = e->levels[ai].price;
        else if (ai == ENG_NIL) p = e->levels[bi].price;
        else p = e->levels[bi].price < e->levels[ai].price ? e->levels[bi].price : e->levels[ai].price;
        if (ai != ENG_NIL && e->levels[ai].price == p) {
            cum_s += level_leaves(e, ai);
            ai = e->levels[ai].worse;
        }
        __int128 b = total_b - bids_below, s = cum_s;
        __int128 v = b < s ? b : s, imb = abs128(b - s), dref = abs128((__int128)p - ref);
        if (!found || v > best_v || (v == best_v && (imb < best_imb || (imb == best_imb && dref < best_dref)))) {
            found = 1;
            best_v = v;
            best_imb = imb;
            best_dref = dref;
            best_p = p;
            best_b = b;
            best_s = s;
        }
        if (bi != ENG_NIL && e->levels[bi].price == p) {
            bids_below += level_leaves(e, bi);
            bi = e->levels[bi].better;
        }
    }

    if (best_v == 0) {
        eng_evt_new(e, ENG_EVT_AUCTION, ENG_OK, ins->id);
        return;
    }
    const int64_t p = best_p;
    for (;;) {
        uint32_t bl = ins->best[ENG_SIDE_BUY], sl = ins->best[ENG_SIDE_SELL];
        if (bl == ENG_NIL || sl == ENG_NIL) break;
        if (e->levels[bl].price < p || e->levels[sl].price > p) break;
        uint32_t bo = e->levels[bl].head, so = e->levels[sl].head;
        eng_order_t *b = &e->orders[bo], *s = &e->orders[so];
        int64_t bl_q = eng_leaves(e, b), sl_q = eng_leaves(e, s);
        int64_t q = bl_q < sl_q ? bl_q : sl_q;
        auction_consume(e, bo, q);
        auction_consume(e, so, q);
        eng_trade(e, ins, b, s, p, q, ENG_SIDE_NONE);
        after_fill_level_event(e, ins, bo);
        after_fill_level_event(e, ins, so);
    }
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_AUCTION, ENG_OK, ins->id);
    ev->auction.price = p;
    ev->auction.matched_qty = (int64_t)best_v;
    ev->auction.imbalance_qty = (int64_t)best_imb;
    ev->auction.imbalance_side = best_b > best_s ? ENG_SIDE_BUY : best_s > best_b ? ENG_SIDE_SELL : ENG_SIDE_NONE;
    ev->auction.crossed = 1;
}

/* SET_PHASE: checks the transition, uncrosses on PRE_OPEN -> CONTINUOUS, reports the change,
 * triggers stops when trading resumes, and acknowledges. */
void eng_cmd_set_phase(eng_engine_t *e, const eng_set_phase_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    eng_instr_t *ins = eng_instr_get(e, c->hdr.instrument_id);
    if (!ins) {
        eng_reject(e, cmd, ENG_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    uint8_t prev = ins->phase;
    if (!transition_allowed(prev, c->phase)) {
        eng_reject(e, cmd, ENG_REJ_BAD_PHASE_TRANSITION);
        return;
    }
    /* a dark instrument has no displayed book to auction: its queues cross at the midpoint below */
    if (prev == ENG_PHASE_PRE_OPEN && c->phase == ENG_PHASE_CONTINUOUS && !ins->dark) uncross(e, ins);
    ins->phase = c->phase;
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_PHASE, ENG_OK, ins->id);
    ev->phase.phase = c->phase;
    ev->phase.prev_phase = prev;
    if (c->phase == ENG_PHASE_CONTINUOUS && ins->nstops) eng_stops_trigger(e, ins);
    if (c->phase == ENG_PHASE_CONTINUOUS && ins->dark) eng_dark_cross(e, ins, ENG_NIL);
    eng_cmd_ack(e, ins->id, ENG_CMD_SET_PHASE, 0);
}
