/*
 * rpl_orders.h - the strategy's own orders as its context knows them (trading/strategy/context.py
 * Context.orders: placed and not gone yet), kept by the replay's C loop (rpl_loop.h) so that it
 * knows the strategy's best own bid and ask, by which history slices are cut and executions
 * rewritten, without asking Python at every wake-up.
 *
 * It is fed what the context is fed, by the context's rules: each NEW of the strategy when it is
 * pushed for arrival (the context adds the order when it is placed, and a wake-up's orders are
 * pushed before the loop runs again), and each own event when Python takes it (the context applies
 * every event taken at the wake-up), or a silent one when the loop notes it (rpl_loop.h): a REJECTED of a NEW removes the order while it is pending (not
 * accepted, never traded), a TRADE that leaves the
 * strategy's side with nothing removes it, a CANCELLED with nothing left or an EXPIRED removes it,
 * a REPLACED moves its price. So at every rpl_loop_advance the table holds the orders
 * Context.orders holds (a test compares the C loop with the reference loop, which reads them).
 *
 * Memory: one malloc'd array grown by doubling; rpl_orders_free releases it. Lookups are linear:
 * a strategy keeps a few orders (the context's own dict is scanned per wake-up too).
 */
#ifndef RPL_ORDERS_H
#define RPL_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include "eng_engine.h"

/* CFFI-BEGIN */
typedef struct rpl_own_order {
    uint64_t id;
    int64_t price;
    uint8_t side;             /* ENG_SIDE_BUY / ENG_SIDE_SELL */
    uint8_t live;             /* accepted or traded (Context's status past "pending") */
    uint8_t _pad[6];
} rpl_own_order_t;

typedef struct rpl_orders {
    rpl_own_order_t *o;       /* n live or pending orders, in no order */
    size_t n, cap;
    uint32_t account_id;      /* the strategy's account: which side of a TRADE is its own */
    uint32_t _pad;
} rpl_orders_t;

/* Adds the order the strategy placed (its NEW_ORDER command). 0 or -ENOMEM (nothing added). */
int rpl_orders_add(rpl_orders_t *t, uint64_t id, uint8_t side, int64_t price);

/* Applies one of the strategy's own events as Context.apply_event does to its orders (see the
 * file comment); events about orders not in the table change nothing. */
void rpl_orders_apply(rpl_orders_t *t, const eng_evt_t *ev);

/* One side of a TRADE on the strategy's order id with `leaves` left, as rpl_orders_apply applies
 * it (live, gone when nothing is left). 1 when the order was in the table (Context._traded's
 * `order_id in self.orders`: the fill is the strategy's), 0 when not (nothing changed). */
int rpl_orders_traded(rpl_orders_t *t, uint64_t id, int64_t leaves);

/* The highest bid and lowest ask of the table into *bid / *ask (no_bid / no_ask for an empty side). */
void rpl_orders_best(const rpl_orders_t *t, int64_t no_bid, int64_t no_ask, int64_t *bid, int64_t *ask);

/* Releases the table's array and empties it (the struct is the caller's). */
void rpl_orders_free(rpl_orders_t *t);
/* CFFI-END */

#endif
