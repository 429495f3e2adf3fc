/*
 * eng_dark_queue.c - each dark instrument's two queues of midpoint-peg orders, in time priority
 * (front = oldest), linked through the orders' next/prev like the stop list. Links only: the
 * index, GTD heap, events and trades are the callers' (eng_midpoint.c, eng_book.c).
 */
#include "eng_internal.h"

/* Puts a dark order at the back of its side's queue (it becomes DARK, in no level). */
void eng_dark_append(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    const uint8_t side = o->side;
    o->level = ENG_NIL;
    o->next = ENG_NIL;
    o->prev = ins->dark_tail[side];
    if (o->prev != ENG_NIL) e->orders[o->prev].next = oi; else ins->dark_head[side] = oi;
    ins->dark_tail[side] = oi;
    ins->ndark++;
    o->state = ENG_OST_DARK;
}

/* Takes a dark order out of its queue; it becomes ACTIVE (the caller frees or cancels it). */
void eng_dark_unlink(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    const uint8_t side = o->side;
    if (o->prev != ENG_NIL) e->orders[o->prev].next = o->next; else ins->dark_head[side] = o->next;
    if (o->next != ENG_NIL) e->orders[o->next].prev = o->prev; else ins->dark_tail[side] = o->prev;
    o->act_price = eng_ext(e, o)->price;    /* ACTIVE again (see eng_order_t) */
    o->act_instrument = eng_ext(e, o)->instrument_id;
    ins->ndark--;
    o->state = ENG_OST_ACTIVE;
}
