/*
 * eng_expiry.c - GTD expiry, step 2 of every command: the orders of the GTD heap (eng_gtd.c)
 * whose time has come are removed through the order lifecycle, earliest key first.
 */
#include "eng_internal.h"

/* Step 2 of every command: expire every order with expire_ts_ns <= now, earliest key first. */
void eng_gtd_expire(eng_engine_t *e)
{
    while (e->heap_n && eng_ext(e, &e->orders[e->heap[1]])->expire_ts_ns <= e->now)
        eng_order_remove(e, e->heap[1], ENG_EVT_EXPIRED, ENG_EXP_GTD);
}
