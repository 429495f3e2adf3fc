/*
 * eng_stops.c - the stop trigger loop, driven by the last trade price, over the waiting stops of
 * an instrument (eng_stop_list.c).
 *
 * The loop runs only while the instrument is CONTINUOUS and always restarts from the earliest
 * accepted stop, because each triggered order can print trades that move the last price.
 */
#include "eng_internal.h"

static inline int stop_holds(const eng_engine_t *e, const eng_order_t *o, int64_t last)
{
    const int64_t stop_price = eng_ext(e, o)->stop_price;
    return o->side == ENG_SIDE_BUY ? last >= stop_price : last <= stop_price;
}

/* Triggers, one at a time and earliest accepted first, every waiting stop whose condition holds,
 * until none does. A triggered order runs as a new arrival without ACCEPTED or risk checks (the
 * level-capacity cancel of a STOP_LIMIT remainder is in eng_run_order). */
void eng_stops_trigger(eng_engine_t *e, eng_instr_t *ins)
{
    while (ins->phase == ENG_PHASE_CONTINUOUS && ins->has_last && ins->nstops) {
        int64_t last = ins->last_price;
        if (last < ins->stop_buy_min && last > ins->stop_sell_max)
            return; /* the bounds rule out every waiting stop */
        int64_t buy_min = INT64_MAX, sell_max = INT64_MIN;
        uint32_t oi = ins->stop_head;
        for (; oi != ENG_NIL && !stop_holds(e, &e->orders[oi], last); oi = e->orders[oi].next) {
            const eng_order_t *w = &e->orders[oi];
            const int64_t stop_price = eng_ext(e, w)->stop_price;
            if (w->side == ENG_SIDE_BUY) { if (stop_price < buy_min) buy_min = stop_price; }
            else if (stop_price > sell_max) sell_max = stop_price;
        }
        if (oi == ENG_NIL) {
            /* The whole list was walked without a match: the bounds just seen are exact. */
            ins->stop_buy_min = buy_min;
            ins->stop_sell_max = sell_max;
            return;
        }
        eng_order_t *o = &e->orders[oi];
        eng_evt_t *ev = eng_evt_new(e, ENG_EVT_TRIGGERED, ENG_OK, ins->id);
        ev->triggered.order_id = o->order_id;
        ev->triggered.stop_price = eng_ext(e, o)->stop_price;
        ev->triggered.last_trade_price = ins->last_price;
        eng_stops_unlink(e, ins, oi);
        eng_oidx_erase(e, o->order_id);
        if (o->tif == ENG_TIF_GTD) eng_gtd_erase(e, oi);
        eng_run_order(e, ins, oi);
    }
}
