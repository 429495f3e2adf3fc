/*
 * rpl_ledger.c - see rpl_ledger.h. rpl_ledger_fill is trading/strategy/ledger.py Ledger.fill line
 * for line; the booking mirrors Context._own_fill, _accepted, _cancelled, _replaced, _rejected and
 * Replay._sample_marked (named beside each step).
 */
#include <errno.h>
#include <stdlib.h>

#include "rpl_ledger.h"

#define RPL_EXACT_LIMIT (INT64_C(1) << 52)    /* |x| below it: x, and a sum of two, convert exactly */

static int small(int64_t x)
{
    return x > -RPL_EXACT_LIMIT && x < RPL_EXACT_LIMIT;
}

int rpl_ledger_exact(const rpl_ledger_t *led, int64_t price_scale, int64_t price, int64_t qty)
{
    int64_t notional;
    if (!small(price) || !small(qty) || !small(price_scale) || price_scale == 0) return 0;
    if (__builtin_mul_overflow(price, qty, &notional) || !small(notional)) return 0;
    return small(led->position) && small(led->position + qty) && small(led->position - qty);
}

double rpl_ledger_fill(rpl_ledger_t *led, double maker_per_share, double taker_per_share, int64_t price_scale,
                       uint8_t side, int64_t price, int64_t qty, int maker)
{
    int64_t signed_qty = side == ENG_SIDE_BUY ? qty : -qty;
    double fee = (double)qty * (maker ? maker_per_share : taker_per_share);
    led->fees += fee;
    led->cash -= (double)(signed_qty * price) / (double)price_scale;    /* int / int: exact operands */
    led->volume += qty;
    if (maker) led->maker_volume += qty;
    int64_t pos = led->position;
    int64_t now = pos + signed_qty;
    led->position = now;
    if (pos == 0 || (pos > 0) == (signed_qty > 0)) {     /* opens or adds: the weighted mean entry */
        led->avg_price = (led->avg_price * (double)(pos >= 0 ? pos : -pos) + (double)(price * qty)) /
                         (double)(now >= 0 ? now : -now);
        return fee;
    }
    int64_t held = pos > 0 ? pos : -pos;
    int64_t closed = held < qty ? held : qty;
    if (pos > 0)
        led->realized += ((double)price - led->avg_price) * (double)closed / (double)price_scale;
    else
        led->realized += -1.0 * ((double)price - led->avg_price) * (double)closed / (double)price_scale;
    if (now == 0) led->avg_price = 0.0;
    else if ((now > 0) != (pos > 0)) led->avg_price = (double)price;    /* crossed zero */
    return fee;
}

static int add_change(rpl_booked_t *b, int64_t kind, uint64_t order_id, int64_t a, int64_t c)
{
    if (b->n_changes >= b->changes_cap) return -ENOMEM;
    rpl_change_t *ch = &b->changes[b->n_changes++];
    ch->kind = kind;
    ch->order_id = order_id;
    ch->a = a;
    ch->b = c;
    return 0;
}

#define RPL_MERGE_WINDOW 8     /* entries searched back for the same order's state change */

/* A state change of one order (RPL_CHANGE_* bits), merged into the order's entry among the last
 * RPL_MERGE_WINDOW when no REPLACED or REJECTED stands between. 0 or -ENOMEM. */
static int change_state(rpl_booked_t *b, uint64_t order_id, int64_t bits, int64_t leaves, int64_t filled)
{
    size_t lo = b->n_changes > RPL_MERGE_WINDOW ? b->n_changes - RPL_MERGE_WINDOW : 0;
    for (size_t k = b->n_changes; k-- > lo;) {
        rpl_change_t *ch = &b->changes[k];
        if (!(ch->kind & RPL_CHANGE_STATE)) break;
        if (ch->order_id != order_id) continue;
        ch->kind |= bits;
        if (bits & RPL_CHANGE_LEAVES) ch->a = leaves;
        ch->b += filled;
        return 0;
    }
    return add_change(b, RPL_CHANGE_STATE | bits, order_id, leaves, filled);
}

/* Makes *buf hold at least `need` elements of `size` bytes (doubling from 256). 0 or -ENOMEM. */
static int grow_array(void **buf, size_t cap, size_t need, size_t size)
{
    size_t nc = cap ? cap : 256;
    while (nc < need) nc *= 2;
    void *nb = realloc(*buf, nc * size);
    if (!nb) return -ENOMEM;
    *buf = nb;
    return 0;
}

/* Room for two more fills and samples (both sides of a TRADE). 0 or -ENOMEM. */
static int fill_room(rpl_booked_t *b)
{
    size_t need = b->n_fills + 2;
    if (need <= b->fills_cap) return 0;
    if (grow_array((void **)&b->fills, b->fills_cap, need, sizeof(rpl_fill_rec_t)) ||
        grow_array((void **)&b->samples, b->fills_cap, need, sizeof(rpl_sample_rec_t)))
        return -ENOMEM;
    size_t nc = b->fills_cap ? b->fills_cap : 256;
    while (nc < need) nc *= 2;
    b->fills_cap = nc;
    return 0;
}

/* Replay._sample_marked at the fill's delivery: the ledger after it, the mark's mid, the orders' best. */
static void sample_fill(rpl_booked_t *b, const rpl_orders_t *orders, int64_t deliver_ns, int64_t bid, int64_t ask,
                        int64_t inf_price)
{
    rpl_sample_rec_t *s = &b->samples[b->n_fills - 1];
    const rpl_ledger_t *led = &b->led;
    s->ts_ns = deliver_ns;
    b->last_sample_ns = deliver_ns;
    s->position = led->position;
    s->has_mid = bid != -inf_price && ask != inf_price;
    s->mid = s->has_mid ? (double)(bid + ask) / 2.0 : 0.0;
    s->realized = led->realized;
    s->fees = led->fees;
    s->unrealized = led->position == 0 || !s->has_mid ? 0.0 :
                    (s->mid - led->avg_price) * (double)led->position / (double)b->price_scale;
    s->total = s->realized + s->unrealized - s->fees;
    rpl_orders_best(orders, -inf_price, inf_price, &s->own_bid, &s->own_ask);
}

/* Context._own_fill for one side of a TRADE that is the strategy's (the order was in the table). */
static void book_fill(rpl_booked_t *b, const eng_evt_trade_t *tr, uint8_t side, uint64_t id, int64_t leaves)
{
    int maker = tr->aggressor_side != side;
    rpl_fill_rec_t *f = &b->fills[b->n_fills++];
    f->fee = rpl_ledger_fill(&b->led, b->maker_per_share, b->taker_per_share, b->price_scale, side, tr->price,
                             tr->qty, maker);
    f->ts_ns = tr->hdr.ts_ns;
    f->order_id = id;
    f->side = side;
    f->price = tr->price;
    f->qty = tr->qty;
    f->leaves = leaves;
    f->maker = maker;
}

/* Context._own_fill's order change: the leaves, and live, or done and gone when none are left. */
static int64_t filled_bits(int64_t leaves)
{
    return RPL_CHANGE_LEAVES | (leaves ? RPL_CHANGE_LIVE : RPL_CHANGE_REMOVED);
}

/* A TRADE booked: each side of the strategy's in turn (Context._traded: buy first), the order
 * changed before the fill's sample reads the orders' best. */
static int book_trade(rpl_booked_t *b, rpl_orders_t *orders, const eng_evt_trade_t *tr, int64_t deliver_ns,
                      int64_t bid, int64_t ask, int64_t inf_price)
{
    int buy = tr->buy_account_id == orders->account_id, sell = tr->sell_account_id == orders->account_id;
    if ((buy || sell) && !rpl_ledger_exact(&b->led, b->price_scale, tr->price, 2 * tr->qty)) return 0;
    if ((!small(bid) && bid != -inf_price) || (!small(ask) && ask != inf_price)) return 0;
    if (fill_room(b) || b->n_changes + 2 > b->changes_cap) return 0;     /* full: nothing can fail below */
    if (buy && rpl_orders_traded(orders, tr->buy_order_id, tr->buy_leaves_qty)) {
        book_fill(b, tr, ENG_SIDE_BUY, tr->buy_order_id, tr->buy_leaves_qty);
        change_state(b, tr->buy_order_id, filled_bits(tr->buy_leaves_qty), tr->buy_leaves_qty, tr->qty);
        sample_fill(b, orders, deliver_ns, bid, ask, inf_price);
    }
    if (sell && rpl_orders_traded(orders, tr->sell_order_id, tr->sell_leaves_qty)) {
        book_fill(b, tr, ENG_SIDE_SELL, tr->sell_order_id, tr->sell_leaves_qty);
        change_state(b, tr->sell_order_id, filled_bits(tr->sell_leaves_qty), tr->sell_leaves_qty, tr->qty);
        sample_fill(b, orders, deliver_ns, bid, ask, inf_price);
    }
    return 1;
}

/* The change Python applies for an own event other than a TRADE (0 or -ENOMEM). */
static int other_change(rpl_booked_t *b, const eng_evt_t *ev)
{
    switch (ev->hdr.type) {
    case ENG_EVT_ACCEPTED:
        return change_state(b, ev->accepted.order_id, RPL_CHANGE_LIVE, 0, 0);     /* Context._accepted */
    case ENG_EVT_CANCELLED:     /* Context._cancelled: a partial cancel sets the leaves */
        return ev->cancelled.leaves_qty ?
               change_state(b, ev->cancelled.order_id, RPL_CHANGE_LEAVES, ev->cancelled.leaves_qty, 0) :
               change_state(b, ev->cancelled.order_id, RPL_CHANGE_REMOVED, 0, 0);
    case ENG_EVT_EXPIRED:
        return change_state(b, ev->expired.order_id, RPL_CHANGE_REMOVED, 0, 0);
    case ENG_EVT_REPLACED:
        return add_change(b, ENG_EVT_REPLACED, ev->replaced.order_id, ev->replaced.price, ev->replaced.leaves_qty);
    case ENG_EVT_REJECTED:
        return add_change(b, ENG_EVT_REJECTED, ev->rejected.order_id, ev->hdr.reason, ev->rejected.cmd_type);
    default:
        return 0;
    }
}

int rpl_booked_event(rpl_booked_t *b, rpl_orders_t *orders, const eng_evt_t *ev, int64_t deliver_ns, int64_t bid,
                     int64_t ask, int64_t inf_price)
{
    if (!b->on) return 0;
    if (ev->hdr.type == ENG_EVT_TRADE) {
        if (book_trade(b, orders, &ev->trade, deliver_ns, bid, ask, inf_price)) return 1;
    } else if (other_change(b, ev) == 0) {
        rpl_orders_apply(orders, ev);
        return 1;
    }
    b->on = 0;      /* not exact, or the arrays full: Python books this event and the later ones until it turns booking on again */
    return 0;
}


void rpl_booked_free(rpl_booked_t *b)
{
    free(b->fills);
    free(b->samples);
    b->fills = NULL;
    b->samples = NULL;
    b->fills_cap = b->n_fills = 0;
}
