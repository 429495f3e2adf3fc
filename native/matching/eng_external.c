/*
 * eng_external.c - order flow that happened outside this engine, applied to its book: EXECUTE (an
 * execution against a named resting order), REDUCE (a partial cancel by a quantity) and
 * SEED_LEVEL (liquidity at a level that belongs to no known order).
 *
 * These exist so that a historical day (LOBSTER, market-by-order feeds) can be replayed through
 * the real book with the venue's own TRADE events, positions and last price, while a strategy's
 * live orders sit in the same queues. All three clamp to what is there (the events say how much
 * was applied), because a replayed message may name quantity that orders of this engine already
 * took; ENGINE.md "Outside order flow" is the contract.
 */
#include "eng_internal.h"

#define ENG_SEED_ID_BIT (1ull << 63)

/* A live order on the command's instrument, or ENG_NIL. */
static uint32_t live_order(const eng_engine_t *e, uint64_t order_id, uint32_t instrument_id)
{
    uint32_t oi = eng_oidx_find(e, order_id);
    if (oi != ENG_NIL && eng_order_instrument(e, &e->orders[oi]) != instrument_id) return ENG_NIL;
    return oi;
}

static inline int off_grid(int64_t x, int64_t m) { return m != 1 && x % m != 0; }

/* Takes q (0 < q < leaves) off a resting order in place, reserve first, keeping its priority:
 * REPLACED(priority_kept=1), then BOOK_LEVEL if the displayed quantity changed. */
static void reduce_in_place(eng_engine_t *e, uint32_t oi, int64_t q)
{
    eng_order_t *o = &e->orders[oi];
    const eng_level_t *l = &e->levels[o->level];
    int64_t reserve = eng_leaves(e, o) - o->shown_qty;
    int64_t from_reserve = q < reserve ? q : reserve;
    int64_t from_shown = q - from_reserve;
    if (from_reserve) eng_ext(e, o)->reserve_qty -= from_reserve; /* an iceberg's: it has one */
    o->shown_qty -= from_shown;
    e->levels[o->level].qty -= from_shown;
    eng_open_add(e, o, -q);
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_REPLACED, ENG_OK, l->instrument_id);
    ev->replaced.order_id = o->order_id;
    ev->replaced.price = l->price;
    ev->replaced.leaves_qty = eng_leaves(e, o);
    ev->replaced.display_qty = o->shown_qty;
    ev->replaced.account_id = o->account_id;
    ev->replaced.priority_kept = 1;
    if (from_shown) eng_book_level_event(e, l->instrument_id, o->side, l->price, o->level);
}

/* Takes min(q, leaves) off a resting order: the whole order is a CANCELLED(USER), less is a
 * reduce in place. Returns 1 if the order is gone. */
static int take_off(eng_engine_t *e, uint32_t oi, int64_t q)
{
    if (q >= eng_leaves(e, &e->orders[oi])) {
        eng_order_remove(e, oi, ENG_EVT_CANCELLED, ENG_CXL_USER);
        return 1;
    }
    reduce_in_place(e, oi, q);
    return 0;
}

/* EXECUTE: the named resting order trades min(qty, leaves) at its price with an order-less
 * aggressor booked to contra_account_id. Rejections: UNKNOWN_ORDER, NOT_RESTING, BAD_QTY,
 * OFF_LOT, BAD_ACCOUNT (contra), PHASE (not CONTINUOUS). Events: TRADE, BOOK_LEVEL, then stops
 * triggered by the new last price, then CMD_ACK. */
void eng_cmd_execute(eng_engine_t *e, const eng_execute_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    uint32_t oi = live_order(e, c->order_id, c->hdr.instrument_id);
    uint16_t r = ENG_OK;
    eng_instr_t *ins = oi == ENG_NIL ? NULL : &e->instr[c->hdr.instrument_id];
    if (oi == ENG_NIL) r = ENG_REJ_UNKNOWN_ORDER;
    else if (e->orders[oi].state == ENG_OST_DARK) r = ENG_REJ_DARK_UNSUPPORTED;
    else if (e->orders[oi].state == ENG_OST_STOP) r = ENG_REJ_NOT_RESTING;
    else if (c->qty <= 0) r = ENG_REJ_BAD_QTY;
    else if (off_grid(c->qty, ins->lot)) r = ENG_REJ_OFF_LOT;
    else if (c->contra_account_id >= e->cfg.max_accounts) r = ENG_REJ_BAD_ACCOUNT;
    else if (ins->phase != ENG_PHASE_CONTINUOUS) r = ENG_REJ_PHASE;
    if (r) {
        eng_reject(e, cmd, r);
        return;
    }
    eng_order_t *o = &e->orders[oi];
    const int64_t leaves = eng_leaves(e, o), q = c->qty < leaves ? c->qty : leaves;
    const uint8_t side = o->side;
    uint32_t li = o->level;
    const int64_t price = e->levels[li].price;
    /* displayed quantity first, then reserve (as an auction fill consumes it) */
    int64_t from_shown = q < o->shown_qty ? q : o->shown_qty;
    eng_order_ext_t *x = eng_ext(e, o); /* written only for an iceberg, which has one */
    o->shown_qty -= from_shown;
    if (q != from_shown) x->reserve_qty -= q - from_shown;
    e->levels[li].qty -= from_shown;
    eng_open_add(e, o, -q);
    eng_pos_get(e, o->account_id, ins->id)->position += side == ENG_SIDE_BUY ? q : -q;
    eng_pos_get(e, c->contra_account_id, ins->id)->position += side == ENG_SIDE_BUY ? -q : q;
    ins->last_price = price;
    ins->has_last = 1;
    e->stats.trades++;
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_TRADE, ENG_OK, ins->id);
    eng_evt_trade_t *t = &ev->trade;
    t->trade_id = ++e->trade_id;
    t->price = price;
    t->qty = q;
    t->aggressor_side = (uint8_t)(3 - side);
    if (side == ENG_SIDE_BUY) {
        t->buy_order_id = o->order_id;
        t->buy_leaves_qty = eng_leaves(e, o);
        t->buy_account_id = o->account_id;
        t->sell_account_id = c->contra_account_id;
    } else {
        t->sell_order_id = o->order_id;
        t->sell_leaves_qty = eng_leaves(e, o);
        t->sell_account_id = o->account_id;
        t->buy_account_id = c->contra_account_id;
    }
    if (eng_leaves(e, o) == 0) {
        li = eng_order_filled(e, ins, oi);
    } else if (o->shown_qty == 0) {
        /* iceberg refill: a new peak goes to the back of its level */
        int64_t peak = x->reserve_qty < x->display_qty ? x->reserve_qty : x->display_qty;
        o->shown_qty = peak;
        x->reserve_qty -= peak;
        e->levels[li].qty += peak;
        eng_book_to_back(e, oi);
    }
    eng_book_level_event(e, ins->id, side, price, li);
    if (ins->nstops) eng_stops_trigger(e, ins);
    eng_cmd_ack(e, c->hdr.instrument_id, ENG_CMD_EXECUTE, 0);
}

/* REDUCE: min(qty, leaves) off a resting order, any phase. Rejections: UNKNOWN_ORDER,
 * NOT_RESTING, BAD_QTY, OFF_LOT. All of its leaves: CANCELLED(USER) + BOOK_LEVEL and
 * CMD_ACK(affected 1); less: REPLACED(priority_kept 1) (+ BOOK_LEVEL) and CMD_ACK(affected 0). */
void eng_cmd_reduce(eng_engine_t *e, const eng_reduce_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    uint32_t oi = live_order(e, c->order_id, c->hdr.instrument_id);
    uint16_t r = ENG_OK;
    if (oi == ENG_NIL) r = ENG_REJ_UNKNOWN_ORDER;
    else if (e->orders[oi].state == ENG_OST_DARK) r = ENG_REJ_DARK_UNSUPPORTED;
    else if (e->orders[oi].state == ENG_OST_STOP) r = ENG_REJ_NOT_RESTING;
    else if (c->qty <= 0) r = ENG_REJ_BAD_QTY;
    else if (off_grid(c->qty, e->instr[c->hdr.instrument_id].lot)) r = ENG_REJ_OFF_LOT;
    if (r) {
        eng_reject(e, cmd, r);
        return;
    }
    eng_cmd_ack(e, c->hdr.instrument_id, ENG_CMD_REDUCE, (uint32_t)take_off(e, oi, c->qty));
}

static inline int crosses(const eng_engine_t *e, const eng_instr_t *ins, uint8_t side, int64_t price)
{
    uint32_t b = ins->best[3 - side];
    if (b == ENG_NIL) return 0;
    return side == ENG_SIDE_BUY ? price >= e->levels[b].price : price <= e->levels[b].price;
}

/* A seeded order (qty > 0, validated): ACCEPTED, then it rests as a GTC limit at the back of its
 * level under the synthetic id. */
static void seed_add(eng_engine_t *e, eng_instr_t *ins, const eng_seed_level_t *c, uint64_t id)
{
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_ACCEPTED, ENG_OK, ins->id);
    eng_evt_accepted_t *a = &ev->accepted;
    a->order_id = id;
    a->price = c->price;
    a->qty = c->qty;
    a->account_id = c->account_id;
    a->stp_group = c->stp_group;
    a->side = c->side;
    a->ord_type = ENG_ORD_LIMIT;
    a->tif = ENG_TIF_GTC;
    uint32_t oi = eng_order_alloc(e);
    eng_order_t *o = &e->orders[oi];
    memset(o, 0, sizeof(*o));
    o->account_id = c->account_id;
    o->shown_qty = c->qty;
    o->act_price = c->price;
    o->act_instrument = ins->id;
    o->order_id = id;
    o->side = c->side;
    o->ord_type = ENG_ORD_LIMIT;
    o->tif = ENG_TIF_GTC;
    o->state = ENG_OST_ACTIVE;
    o->seq40 = c->hdr.seq < ENG_SEQ40_LIMIT ? c->hdr.seq : 0;
    if (c->stp_group != 0 || !o->seq40) {
        eng_order_ext_t *x = eng_ext_attach(e, o);
        x->price = c->price;
        x->instrument_id = ins->id;
        x->stp_group = c->stp_group;
        if (!o->seq40) x->accept_seq = c->hdr.seq;
    }
    eng_open_add(e, o, c->qty);
    eng_order_rest(e, ins, oi);
}

/* SEED_LEVEL, any phase, no risk checks. Rejections: UNKNOWN_INSTRUMENT, BAD_ACCOUNT, BAD_SIDE,
 * BAD_QTY (0), OFF_LOT (|qty|), BAD_PRICE, OFF_TICK; for qty > 0 also DUPLICATE_ORDER_ID (the
 * seed id is live), ORDER_CAPACITY, LEVEL_CAPACITY, WOULD_CROSS (CONTINUOUS only).
 * qty > 0: ACCEPTED of a LIMIT GTC order (id (1<<63)|seq), BOOK_LEVEL, CMD_ACK(0).
 * qty < 0: the level's seeded orders lose up to -qty, back to front, each by take_off();
 * CMD_ACK(number removed whole). */
void eng_cmd_seed_level(eng_engine_t *e, const eng_seed_level_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    eng_instr_t *ins = eng_instr_get(e, c->hdr.instrument_id);
    const uint64_t id = ENG_SEED_ID_BIT | c->hdr.seq;
    uint16_t r = ENG_OK;
    if (!ins) r = ENG_REJ_UNKNOWN_INSTRUMENT;
    else if (ins->dark) r = ENG_REJ_DARK_UNSUPPORTED;
    else if (c->account_id >= e->cfg.max_accounts) r = ENG_REJ_BAD_ACCOUNT;
    else if (c->side != ENG_SIDE_BUY && c->side != ENG_SIDE_SELL) r = ENG_REJ_BAD_SIDE;
    else if (c->qty == 0 || c->qty == INT64_MIN) r = ENG_REJ_BAD_QTY;
    else if (off_grid(c->qty, ins->lot)) r = ENG_REJ_OFF_LOT;
    else if (c->price <= 0) r = ENG_REJ_BAD_PRICE;
    else if (off_grid(c->price, ins->tick)) r = ENG_REJ_OFF_TICK;
    else if (c->qty > 0) {
        if (eng_oidx_find(e, id) != ENG_NIL) r = ENG_REJ_DUPLICATE_ORDER_ID;
        else if (!eng_order_available(e)) r = ENG_REJ_ORDER_CAPACITY;
        else if (!eng_book_can_rest(e, ins->id, c->side, c->price)) r = ENG_REJ_LEVEL_CAPACITY;
        else if (ins->phase == ENG_PHASE_CONTINUOUS && crosses(e, ins, c->side, c->price)) r = ENG_REJ_WOULD_CROSS;
    }
    if (r) {
        eng_reject(e, cmd, r);
        return;
    }
    uint32_t removed = 0;
    if (c->qty > 0) {
        seed_add(e, ins, c, id);
    } else {
        int64_t want = -c->qty;
        uint32_t li = eng_lidx_find(e, ins->id, c->side, c->price);
        uint32_t oi = li == ENG_NIL ? ENG_NIL : e->levels[li].tail;
        while (oi != ENG_NIL && want > 0) {
            uint32_t prev = e->orders[oi].prev; /* read first: oi may be freed below */
            if (e->orders[oi].order_id & ENG_SEED_ID_BIT) {
                int64_t leaves = eng_leaves(e, &e->orders[oi]);
                int64_t q = want < leaves ? want : leaves;
                removed += (uint32_t)take_off(e, oi, q);
                want -= q;
            }
            oi = prev;
        }
    }
    eng_cmd_ack(e, c->hdr.instrument_id, ENG_CMD_SEED_LEVEL, removed);
}
