/*
 * eng_stop_list.c - waiting stop orders: each instrument's list in acceptance order, with the
 * bounds (lowest buy stop, highest sell stop) the trigger loop uses to skip a walk. A waiting
 * stop is in its instrument's list and in the order-id index, never in a level. A data
 * structure only: triggering is eng_stops.c's.
 */
#include "eng_internal.h"

/* Puts an accepted stop at the end of its instrument's list (acceptance order). */
void eng_stops_append(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    o->state = ENG_OST_STOP;
    if (ins->nstops == 0) {
        ins->stop_buy_min = INT64_MAX;
        ins->stop_sell_max = INT64_MIN;
    }
    const int64_t stop_price = eng_ext(e, o)->stop_price;
    if (o->side == ENG_SIDE_BUY) {
        if (stop_price < ins->stop_buy_min) ins->stop_buy_min = stop_price;
    } else if (stop_price > ins->stop_sell_max) {
        ins->stop_sell_max = stop_price;
    }
    o->level = ENG_NIL;
    o->next = ENG_NIL;
    o->prev = ins->stop_tail;
    if (ins->stop_tail != ENG_NIL) e->orders[ins->stop_tail].next = oi; else ins->stop_head = oi;
    ins->stop_tail = oi;
    ins->nstops++;
}

/* Takes a waiting stop out of the list; it becomes ACTIVE (the caller triggers or removes it). */
void eng_stops_unlink(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    if (o->prev != ENG_NIL) e->orders[o->prev].next = o->next; else ins->stop_head = o->next;
    if (o->next != ENG_NIL) e->orders[o->next].prev = o->prev; else ins->stop_tail = o->prev;
    /* ACTIVE again: its price and instrument go back into the union its links leave free */
    o->act_price = eng_ext(e, o)->price;
    o->act_instrument = eng_ext(e, o)->instrument_id;
    o->state = ENG_OST_ACTIVE;
    ins->nstops--;
}
