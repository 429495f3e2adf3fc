/*
 * gw_orders.c - the gateway's table of live orders it entered, keyed by the engine order id.
 * Open addressing with linear probing and backward-shift deletion (no tombstones), so a lookup
 * never walks past the first empty slot. The table refuses inserts at 7/8 load: the caller
 * rejects the order (ENG_GW_ORDER_CAPACITY) instead of degrading every lookup. A second, small
 * table remembers the last GW_DONE_CAP / 2 orders that left, so that a cancel arriving after a
 * fill is told it is too late (ENG_GW_ORDER_DONE) rather than that the order is unknown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_internal.h"

static uint64_t gw_orders_hash(uint64_t id)
{
    /* Order ids are a prefix plus a counter: multiply-shift spreads the low bits (Knuth). */
    id *= 0x9E3779B97F4A7C15ull;
    return id ^ (id >> 29);
}

int gw_orders_init(gw_orders_t *t, uint64_t capacity)
{
    if (capacity < 8 || (capacity & (capacity - 1)))
        return -EINVAL;
    t->slots = calloc(capacity, sizeof(gw_order_t));
    if (!t->slots)
        return -ENOMEM;
    t->mask = capacity - 1;
    t->count = 0;
    return 0;
}

void gw_orders_free(gw_orders_t *t)
{
    free(t->slots);
    t->slots = NULL;
}

gw_order_t *gw_orders_find(gw_orders_t *t, uint64_t order_id)
{
    if (order_id == 0)
        return NULL;
    for (uint64_t i = gw_orders_hash(order_id) & t->mask;; i = (i + 1) & t->mask) {
        gw_order_t *o = &t->slots[i];
        if (o->order_id == order_id)
            return o;
        if (o->order_id == 0)
            return NULL;
    }
}

gw_order_t *gw_orders_insert(gw_orders_t *t, const gw_order_t *src)
{
    if ((t->count + 1) * 8 > (t->mask + 1) * 7)
        return NULL;
    for (uint64_t i = gw_orders_hash(src->order_id) & t->mask;; i = (i + 1) & t->mask) {
        gw_order_t *o = &t->slots[i];
        if (o->order_id == 0 || o->order_id == src->order_id) {
            if (o->order_id == 0)
                t->count++;
            *o = *src;
            return o;
        }
    }
}

void gw_orders_remove(gw_orders_t *t, gw_order_t *o)
{
    uint64_t hole = (uint64_t)(o - t->slots);
    memset(o, 0, sizeof *o);
    t->count--;
    /* Backward shift: move each later member of the probe run into the hole when its home slot
     * does not lie cyclically in (hole, j]; otherwise a lookup for it would stop at the hole. */
    for (uint64_t j = (hole + 1) & t->mask; t->slots[j].order_id; j = (j + 1) & t->mask) {
        uint64_t home = gw_orders_hash(t->slots[j].order_id) & t->mask;
        int home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (home_in_range)
            continue;
        t->slots[hole] = t->slots[j];
        memset(&t->slots[j], 0, sizeof t->slots[j]);
        hole = j;
    }
}

void gw_orders_chain_append(gw_orders_t *t, uint64_t *head, uint64_t *tail, gw_order_t *o)
{
    o->sess_prev = *tail;
    o->sess_next = 0;
    gw_order_t *last = gw_orders_find(t, *tail);
    if (last)
        last->sess_next = o->order_id;
    else
        *head = o->order_id;
    *tail = o->order_id;
}

void gw_orders_chain_unlink(gw_orders_t *t, uint64_t *head, uint64_t *tail, gw_order_t *o)
{
    gw_order_t *prev = gw_orders_find(t, o->sess_prev);
    gw_order_t *next = gw_orders_find(t, o->sess_next);
    if (prev)
        prev->sess_next = o->sess_next;
    else
        *head = o->sess_next;
    if (next)
        next->sess_prev = o->sess_prev;
    else
        *tail = o->sess_prev;
    o->sess_prev = o->sess_next = 0;
}

/* ---- Orders that left: a bounded memory, oldest forgotten first ---------------------------- */

void gw_done_remember(gw_t *g, const gw_order_t *o)
{
    const uint64_t keep = GW_DONE_CAP / 2;      /* the table stays at most half full */
    if (!g->done_ring)
        return;
    if (g->done_count == keep) {
        gw_order_t *old = gw_orders_find(&g->done, g->done_ring[g->done_head & (keep - 1)]);
        if (old)
            gw_orders_remove(&g->done, old);
        g->done_head++;
        g->done_count--;
    }
    gw_order_t copy = *o;
    copy.sess_prev = copy.sess_next = 0;
    copy.owed = 0;
    if (!gw_orders_insert(&g->done, &copy))
        return;                     /* cannot happen: at most half full */
    g->done_ring[(g->done_head + g->done_count) & (keep - 1)] = o->order_id;
    g->done_count++;
}

const gw_order_t *gw_done_find(gw_t *g, uint64_t order_id)
{
    return g->done_ring ? gw_orders_find(&g->done, order_id) : NULL;
}
