/*
 * rpl_orders.c - see rpl_orders.h. Each rule names the Context handler it mirrors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpl_orders.h"

int rpl_orders_add(rpl_orders_t *t, uint64_t id, uint8_t side, int64_t price)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        rpl_own_order_t *nb = realloc(t->o, cap * sizeof *nb);
        if (!nb) return -ENOMEM;
        t->o = nb;
        t->cap = cap;
    }
    rpl_own_order_t *o = &t->o[t->n++];
    memset(o, 0, sizeof *o);
    o->id = id;
    o->side = side;
    o->price = price;
    return 0;
}

/* The order's index, or n when it is not in the table. */
static size_t find(const rpl_orders_t *t, uint64_t id)
{
    size_t k = 0;
    while (k < t->n && t->o[k].id != id) k++;
    return k;
}

/* del Context.orders[id], when it is there (the last order takes its place). */
static void remove_order(rpl_orders_t *t, uint64_t id)
{
    size_t k = find(t, id);
    if (k < t->n) t->o[k] = t->o[--t->n];
}

static void mark_live(rpl_orders_t *t, uint64_t id)
{
    size_t k = find(t, id);
    if (k < t->n) t->o[k].live = 1;
}

int rpl_orders_traded(rpl_orders_t *t, uint64_t id, int64_t leaves)
{
    size_t k = find(t, id);
    if (k >= t->n) return 0;
    if (leaves == 0) t->o[k] = t->o[--t->n];
    else t->o[k].live = 1;
    return 1;
}

void rpl_orders_apply(rpl_orders_t *t, const eng_evt_t *ev)
{
    switch (ev->hdr.type) {
    case ENG_EVT_ACCEPTED:      /* Context._accepted: live */
        mark_live(t, ev->accepted.order_id);
        break;
    case ENG_EVT_REJECTED: {    /* Context._rejected: a refused NEW of a pending order never rested */
        size_t k = find(t, ev->rejected.order_id);
        if (k < t->n && !t->o[k].live && ev->rejected.cmd_type == ENG_CMD_NEW_ORDER) t->o[k] = t->o[--t->n];
        break;
    }
    case ENG_EVT_TRADE:         /* Context._traded / _own_fill: live, and gone when nothing is left */
        if (ev->trade.buy_account_id == t->account_id) rpl_orders_traded(t, ev->trade.buy_order_id, ev->trade.buy_leaves_qty);
        if (ev->trade.sell_account_id == t->account_id) rpl_orders_traded(t, ev->trade.sell_order_id, ev->trade.sell_leaves_qty);
        break;
    case ENG_EVT_CANCELLED:     /* Context._cancelled: a partial cancel leaves it */
        if (ev->cancelled.leaves_qty == 0) remove_order(t, ev->cancelled.order_id);
        break;
    case ENG_EVT_EXPIRED:       /* Context._expired */
        remove_order(t, ev->expired.order_id);
        break;
    case ENG_EVT_REPLACED: {    /* Context._replaced: its price moves */
        size_t k = find(t, ev->replaced.order_id);
        if (k < t->n) t->o[k].price = ev->replaced.price;
        break;
    }
    default:
        break;
    }
}

void rpl_orders_best(const rpl_orders_t *t, int64_t no_bid, int64_t no_ask, int64_t *bid, int64_t *ask)
{
    int64_t b = no_bid, a = no_ask;
    for (size_t k = 0; k < t->n; k++) {
        const rpl_own_order_t *o = &t->o[k];
        if (o->side == ENG_SIDE_BUY) {
            if (o->price > b) b = o->price;
        } else if (o->price < a) {
            a = o->price;
        }
    }
    *bid = b;
    *ask = a;
}

void rpl_orders_free(rpl_orders_t *t)
{
    free(t->o);
    memset(t, 0, sizeof *t);
}
