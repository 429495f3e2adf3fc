/*
 * eng_orders.c - order entry commands: NEW_ORDER, CANCEL, REPLACE validation and handling, and
 * the book-order sweeps behind MASS_CANCEL and END_OF_DAY (and the kill switch in eng_risk.c).
 *
 * Validation follows ENGINE.md's numbered lists exactly: first failure wins, a rejected command
 * emits one REJECTED and changes nothing. Resting-capacity checks are conservative and made
 * before any matching, so an accepted order that must rest always finds its level.
 */
#include "eng_internal.h"

/* The instrument a command's ACK/REJECTED reports: the header's id verbatim, also for commands
 * that otherwise ignore it (spec_questions Q2). */
uint32_t eng_cmd_instrument(const eng_cmd_t *c) { return c->hdr.instrument_id; }

/* REJECTED(reason) echoing the ids the command carries (0 where it has none). */
void eng_reject(eng_engine_t *e, const eng_cmd_t *c, uint16_t reason)
{
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_REJECTED, reason, eng_cmd_instrument(c));
    eng_evt_rejected_t *r = &ev->rejected;
    r->cmd_type = c->hdr.type;
    switch (c->hdr.type) {
    case ENG_CMD_NEW_ORDER:
        r->order_id = c->new_order.order_id;
        r->client_order_id = c->new_order.client_order_id;
        r->account_id = c->new_order.account_id;
        break;
    case ENG_CMD_CANCEL: r->order_id = c->cancel.order_id; break;
    case ENG_CMD_REPLACE: r->order_id = c->replace.order_id; break;
    case ENG_CMD_MASS_CANCEL: r->account_id = c->mass_cancel.account_id; break;
    case ENG_CMD_SET_ACCOUNT_LIMIT: r->account_id = c->set_account_limit.account_id; break;
    case ENG_CMD_SET_KILL_SWITCH: r->account_id = c->set_kill_switch.account_id; break;
    case ENG_CMD_SET_POST_TRADE_LIMIT: r->account_id = c->set_post_trade_limit.account_id; break;
    case ENG_CMD_SET_ORDER_VELOCITY: r->account_id = c->set_order_velocity.account_id; break;
    case ENG_CMD_EXECUTE: r->order_id = c->execute.order_id; break;
    case ENG_CMD_REDUCE: r->order_id = c->reduce.order_id; break;
    case ENG_CMD_SEED_LEVEL: r->account_id = c->seed_level.account_id; break;
    default: break;
    }
}

/* The closing CMD_ACK of a non-order command (ENGINE.md step 5). */
void eng_cmd_ack(eng_engine_t *e, uint32_t instrument_id, uint16_t cmd_type, uint32_t affected)
{
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_CMD_ACK, ENG_OK, instrument_id);
    ev->cmd_ack.cmd_type = cmd_type;
    ev->cmd_ack.affected = affected;
}

static inline int resting_tif(uint8_t tif)
{
    return tif == ENG_TIF_DAY || tif == ENG_TIF_GTC || tif == ENG_TIF_GTD;
}

/* 1 if a post-only order at price would take liquidity now. */
static inline int would_take(const eng_engine_t *e, const eng_instr_t *ins, uint8_t side, int64_t price)
{
    uint32_t b = ins->best[3 - side];
    if (b == ENG_NIL) return 0;
    return side == ENG_SIDE_BUY ? price >= e->levels[b].price : price <= e->levels[b].price;
}

/* x % m != 0, skipping the 64-bit division for the common m == 1 (lot size 1, tick 1) */
static inline int off_grid(int64_t x, int64_t m) { return m != 1 && x % m != 0; }

static uint16_t validate_new(const eng_engine_t *e, const eng_instr_t *ins, const eng_new_order_t *c)
{
    if (!ins) return ENG_REJ_UNKNOWN_INSTRUMENT;
    if (c->account_id >= e->cfg.max_accounts) return ENG_REJ_BAD_ACCOUNT;
    if (c->side != ENG_SIDE_BUY && c->side != ENG_SIDE_SELL) return ENG_REJ_BAD_SIDE;
    if (c->ord_type < ENG_ORD_LIMIT || c->ord_type > ENG_ORD_MIDPOINT_PEG) return ENG_REJ_BAD_ORDER_TYPE;
    const int peg = c->ord_type == ENG_ORD_MIDPOINT_PEG;
    if (peg != (ins->dark != 0)) return ENG_REJ_DARK_ORDER_TYPE;
    if (c->tif < ENG_TIF_DAY || c->tif > ENG_TIF_FOK) return ENG_REJ_BAD_TIF;
    if (c->ord_type == ENG_ORD_MARKET && c->tif != ENG_TIF_IOC && c->tif != ENG_TIF_FOK) return ENG_REJ_BAD_TIF;
    if (peg && c->tif == ENG_TIF_FOK) return ENG_REJ_BAD_TIF;
    const int rests = resting_tif(c->tif);
    if (c->flags & ~(ENG_FLAG_POST_ONLY | ENG_FLAG_ICEBERG | ENG_FLAG_ISO)) return ENG_REJ_BAD_FLAGS;
    if ((c->flags & ENG_FLAG_ISO) &&
        !(c->ord_type == ENG_ORD_LIMIT && (c->tif == ENG_TIF_IOC || c->tif == ENG_TIF_FOK)))
        return ENG_REJ_REGNMS_BAD_ISO;
    if ((c->flags & ENG_FLAG_POST_ONLY) && !(c->ord_type == ENG_ORD_LIMIT && rests)) return ENG_REJ_BAD_FLAGS;
    if ((c->flags & ENG_FLAG_ICEBERG) &&
        !((c->ord_type == ENG_ORD_LIMIT || c->ord_type == ENG_ORD_STOP_LIMIT) && rests))
        return ENG_REJ_BAD_FLAGS;
    if (c->qty <= 0) return ENG_REJ_BAD_QTY;
    if (off_grid(c->qty, ins->lot)) return ENG_REJ_OFF_LOT;
    const int has_price = c->ord_type == ENG_ORD_LIMIT || c->ord_type == ENG_ORD_STOP_LIMIT;
    if (peg ? c->price < 0 : has_price ? c->price <= 0 : c->price != 0) return ENG_REJ_BAD_PRICE;
    if ((has_price || peg) && eng_sub_penny(ins, c->price)) return ENG_REJ_REGNMS_SUB_PENNY;
    if ((has_price || peg) && off_grid(c->price, ins->tick)) return ENG_REJ_OFF_TICK;
    const int is_stop = c->ord_type == ENG_ORD_STOP || c->ord_type == ENG_ORD_STOP_LIMIT;
    if (is_stop ? c->stop_price <= 0 : c->stop_price != 0) return ENG_REJ_BAD_STOP_PRICE;
    if (is_stop && eng_sub_penny(ins, c->stop_price)) return ENG_REJ_REGNMS_SUB_PENNY;
    if (is_stop && off_grid(c->stop_price, ins->tick)) return ENG_REJ_OFF_TICK;
    const int iceberg = (c->flags & ENG_FLAG_ICEBERG) != 0;
    if (peg) {
        /* a midpoint peg's display_qty is its minimum acceptable quantity */
        if (c->display_qty < 0 || c->display_qty > c->qty) return ENG_REJ_BAD_MIN_QTY;
    } else if (iceberg ? (c->display_qty <= 0 || c->display_qty >= c->qty) : c->display_qty != 0) {
        return ENG_REJ_BAD_DISPLAY_QTY;
    }
    if ((iceberg || peg) && off_grid(c->display_qty, ins->lot)) return ENG_REJ_OFF_LOT;
    if (c->tif == ENG_TIF_GTD ? c->expire_ts_ns <= e->now : c->expire_ts_ns != 0) return ENG_REJ_BAD_EXPIRY;
    /* dark orders of one STP group never trade with each other: no mode to choose */
    if (c->stp_mode > ENG_STP_DECREMENT || (peg && c->stp_mode != ENG_STP_NONE)) return ENG_REJ_BAD_STP_MODE;
    if (c->order_id == 0 || eng_oidx_find(e, c->order_id) != ENG_NIL) return ENG_REJ_DUPLICATE_ORDER_ID;
    if (ins->phase == ENG_PHASE_CLOSED || ins->phase == ENG_PHASE_HALTED) return ENG_REJ_PHASE;
    if (ins->phase == ENG_PHASE_PRE_OPEN &&
        (c->ord_type == ENG_ORD_MARKET || c->tif == ENG_TIF_IOC || c->tif == ENG_TIF_FOK))
        return ENG_REJ_PHASE;
    uint16_t r = eng_risk_check(e, ins, c->account_id, c->side, c->ord_type, c->price, c->qty, 0);
    if (r) return r;
    if (!eng_order_available(e)) return ENG_REJ_ORDER_CAPACITY;
    if (c->ord_type == ENG_ORD_LIMIT && rests && !eng_book_can_rest(e, ins->id, c->side, c->price))
        return ENG_REJ_LEVEL_CAPACITY;
    if ((c->flags & ENG_FLAG_POST_ONLY) && ins->phase == ENG_PHASE_CONTINUOUS &&
        would_take(e, ins, c->side, c->price))
        return ENG_REJ_POST_ONLY_WOULD_TAKE;
    return eng_protect_entry(e, ins, c);
}

/* 1 if an accepted NEW_ORDER needs an extension record: it uses one of the rarely-used fields, or
 * it will wait in a list (stop, dark queue) while its links are in use, or its seq is too large
 * for the order's 40 bits. */
static inline int needs_ext(const eng_new_order_t *c)
{
    return c->display_qty != 0 || c->stop_price != 0 || c->tif == ENG_TIF_GTD || c->stp_group != 0 ||
           c->ord_type == ENG_ORD_STOP || c->ord_type == ENG_ORD_STOP_LIMIT || c->ord_type == ENG_ORD_MIDPOINT_PEG ||
           c->hdr.seq >= ENG_SEQ40_LIMIT;
}

/* An accepted NEW_ORDER's record: ACTIVE, all of its quantity shown, its extension (if it needs
 * one) holding the price and instrument as well, for the lists where its links are in use. */
static void eng_order_init(eng_engine_t *e, eng_order_t *o, const eng_new_order_t *c, uint32_t instrument_id)
{
    o->act_price = c->price;
    o->act_instrument = instrument_id;
    o->hnext = ENG_NIL;
    o->account_id = c->account_id;
    o->ext = ENG_NIL;
    o->order_id = c->order_id;
    o->client_order_id = c->client_order_id;
    o->shown_qty = c->qty;
    o->seq40 = c->hdr.seq < ENG_SEQ40_LIMIT ? c->hdr.seq : 0;
    o->side = c->side;
    o->ord_type = c->ord_type;
    o->tif = c->tif;
    o->stp_mode = c->stp_mode;
    o->flags = c->flags;
    o->state = ENG_OST_ACTIVE;
    if (!needs_ext(c)) return;
    eng_order_ext_t *x = eng_ext_attach(e, o);
    x->price = c->price;
    x->instrument_id = instrument_id;
    x->display_qty = c->display_qty;
    x->stop_price = c->stop_price;
    x->expire_ts_ns = c->expire_ts_ns;
    x->stp_group = c->stp_group;
    if (!o->seq40) x->accept_seq = c->hdr.seq;
}

/* NEW_ORDER: validate, ACCEPTED, then rest / match / wait as a stop, then stop triggering. */
void eng_cmd_new_order(eng_engine_t *e, const eng_new_order_t *c)
{
    eng_instr_t *ins = eng_instr_get(e, c->hdr.instrument_id);
    uint16_t r = validate_new(e, ins, c);
    if (r) {
        eng_reject(e, (const eng_cmd_t *)c, r);
        return;
    }
    eng_velocity_count(e, c->account_id);
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_ACCEPTED, ENG_OK, ins->id);
    eng_evt_accepted_t *a = &ev->accepted;
    a->order_id = c->order_id;
    a->client_order_id = c->client_order_id;
    a->price = c->price;
    a->stop_price = c->stop_price;
    a->qty = c->qty;
    a->display_qty = c->display_qty;
    a->expire_ts_ns = c->expire_ts_ns;
    a->account_id = c->account_id;
    a->stp_group = c->stp_group;
    a->side = c->side;
    a->ord_type = c->ord_type;
    a->tif = c->tif;
    a->stp_mode = c->stp_mode;
    a->flags = c->flags;

    uint32_t oi = eng_order_alloc(e);
    eng_order_init(e, &e->orders[oi], c, ins->id);
    eng_open_add(e, &e->orders[oi], c->qty);

    if (c->ord_type == ENG_ORD_MIDPOINT_PEG) {
        eng_dark_run_order(e, ins, oi);
    } else if (c->ord_type == ENG_ORD_STOP || c->ord_type == ENG_ORD_STOP_LIMIT) {
        eng_oidx_insert(e, c->order_id, oi);
        eng_stops_append(e, ins, oi);
        if (c->tif == ENG_TIF_GTD) eng_gtd_push(e, oi);
    } else if (ins->phase == ENG_PHASE_PRE_OPEN) {
        eng_order_rest(e, ins, oi);
    } else {
        eng_run_order(e, ins, oi);
    }
    if (ins->nstops) eng_stops_trigger(e, ins);
}

static uint32_t live_on(const eng_engine_t *e, uint64_t order_id, uint32_t instrument_id)
{
    uint32_t oi = eng_oidx_find(e, order_id);
    if (oi != ENG_NIL && eng_order_instrument(e, &e->orders[oi]) != instrument_id) return ENG_NIL;
    return oi;
}

/* CANCEL: allowed in every phase; the whole leaves go. */
void eng_cmd_cancel(eng_engine_t *e, const eng_cancel_t *c)
{
    uint32_t oi = live_on(e, c->order_id, c->hdr.instrument_id);
    if (oi == ENG_NIL) {
        eng_reject(e, (const eng_cmd_t *)c, ENG_REJ_UNKNOWN_ORDER);
        return;
    }
    eng_order_remove(e, oi, ENG_EVT_CANCELLED, ENG_CXL_USER);
}

static uint16_t validate_replace(const eng_engine_t *e, const eng_replace_t *c, uint32_t oi)
{
    if (oi == ENG_NIL) return ENG_REJ_UNKNOWN_ORDER;
    const eng_order_t *o = &e->orders[oi];
    const eng_instr_t *ins = &e->instr[eng_order_instrument(e, o)];
    const int dark = o->state == ENG_OST_DARK; /* a midpoint peg: price is its limit, 0 for none */
    if (o->state == ENG_OST_STOP) return ENG_REJ_BAD_REPLACE;
    if (c->qty <= 0) return ENG_REJ_BAD_QTY;
    if (off_grid(c->qty, ins->lot)) return ENG_REJ_OFF_LOT;
    if (dark ? c->price < 0 : c->price <= 0) return ENG_REJ_BAD_PRICE;
    if (eng_sub_penny(ins, c->price)) return ENG_REJ_REGNMS_SUB_PENNY;
    if (off_grid(c->price, ins->tick)) return ENG_REJ_OFF_TICK;
    if (ins->phase != ENG_PHASE_PRE_OPEN && ins->phase != ENG_PHASE_CONTINUOUS) return ENG_REJ_PHASE;
    uint16_t r = eng_risk_check(e, ins, o->account_id, o->side, dark ? ENG_ORD_MIDPOINT_PEG : ENG_ORD_LIMIT,
                                c->price, c->qty, eng_leaves(e, o));
    if (r) return r;
    if (dark) return ENG_OK;
    if (c->price != eng_order_price(e, o) && !eng_book_can_rest(e, ins->id, o->side, c->price)) return ENG_REJ_LEVEL_CAPACITY;
    if ((o->flags & ENG_FLAG_POST_ONLY) && ins->phase == ENG_PHASE_CONTINUOUS && would_take(e, ins, o->side, c->price))
        return ENG_REJ_POST_ONLY_WOULD_TAKE;
    return ENG_OK;
}

static void replaced_event(eng_engine_t *e, uint32_t instrument_id, const eng_order_t *o, int64_t price,
                           int64_t leaves, int64_t shown, uint8_t kept)
{
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_REPLACED, ENG_OK, instrument_id);
    ev->replaced.order_id = o->order_id;
    ev->replaced.price = price;
    ev->replaced.leaves_qty = leaves;
    ev->replaced.display_qty = shown;
    ev->replaced.account_id = o->account_id;
    ev->replaced.priority_kept = kept;
}

/* REPLACE: priority kept only for same price and no size-up; a price change re-enters the
 * order as an aggressor at the new price (CONTINUOUS) with its id, TIF and accept_seq. */
void eng_cmd_replace(eng_engine_t *e, const eng_replace_t *c)
{
    uint32_t oi = live_on(e, c->order_id, c->hdr.instrument_id);
    uint16_t r = validate_replace(e, c, oi);
    if (r) {
        eng_reject(e, (const eng_cmd_t *)c, r);
        return;
    }
    eng_order_t *o = &e->orders[oi];
    eng_instr_t *ins = &e->instr[c->hdr.instrument_id];
    eng_velocity_count(e, o->account_id);
    if (o->state == ENG_OST_DARK) {
        eng_dark_replace(e, ins, oi, c->price, c->qty);
        return;
    }
    eng_level_t *l = &e->levels[o->level];
    eng_order_ext_t *x = eng_ext(e, o); /* written only for an iceberg, which has one */
    const int64_t old_leaves = eng_leaves(e, o), new_leaves = c->qty, old_price = l->price;
    const int iceberg = (o->flags & ENG_FLAG_ICEBERG) != 0;
    eng_open_add(e, o, new_leaves - old_leaves);
    if (c->price == old_price && new_leaves <= old_leaves) {
        int64_t d = old_leaves - new_leaves, reserve = old_leaves - o->shown_qty;
        int64_t from_reserve = d < reserve ? d : reserve;
        int64_t from_shown = d - from_reserve;
        if (from_reserve) x->reserve_qty -= from_reserve;
        o->shown_qty -= from_shown;
        l->qty -= from_shown;
        replaced_event(e, ins->id, o, old_price, new_leaves, o->shown_qty, 1);
        if (from_shown) eng_book_level_event(e, ins->id, o->side, old_price, o->level);
    } else if (c->price == old_price) {
        int64_t shown = iceberg && x->display_qty < new_leaves ? x->display_qty : new_leaves;
        l->qty += shown - o->shown_qty;
        o->shown_qty = shown;
        if (iceberg) x->reserve_qty = new_leaves - shown;
        eng_book_to_back(e, oi);
        replaced_event(e, ins->id, o, old_price, new_leaves, shown, 0);
        eng_book_level_event(e, ins->id, o->side, old_price, o->level);
    } else {
        replaced_event(e, ins->id, o, c->price, new_leaves,
                       iceberg && x->display_qty < new_leaves ? x->display_qty : new_leaves, 0);
        eng_oidx_erase(e, o->order_id);
        if (o->tif == ENG_TIF_GTD) eng_gtd_erase(e, oi);
        uint32_t li = eng_book_unlink(e, ins, oi);
        eng_book_level_event(e, ins->id, o->side, old_price, li);
        o->act_price = c->price;  /* ACTIVE now: the price lives in the order again */
        o->shown_qty = new_leaves;
        if (iceberg) x->reserve_qty = 0;
        if (ins->phase == ENG_PHASE_CONTINUOUS) eng_run_order(e, ins, oi);
        else eng_order_rest(e, ins, oi);
        if (ins->nstops) eng_stops_trigger(e, ins);
    }
}

/* Removes every order of one queue (linked through next, front to back) that matches the filter;
 * returns how many. */
static uint32_t sweep_queue(eng_engine_t *e, uint32_t oi, int by_account, uint32_t account, int day_only,
                            uint16_t evt_type, uint16_t reason)
{
    uint32_t n = 0;
    while (oi != ENG_NIL) {
        uint32_t next = e->orders[oi].next; /* read first: oi is freed below */
        const eng_order_t *o = &e->orders[oi];
        if ((!by_account || o->account_id == account) && (!day_only || o->tif == ENG_TIF_DAY)) {
            eng_order_remove(e, oi, evt_type, reason);
            n++;
        }
        oi = next;
    }
    return n;
}

/* Removes, in book order (bids best first, asks best first, each level front to back, then the
 * waiting stops, then the dark queues: buys, sells, each in priority order), every live order of
 * one instrument that matches the filter; returns how many. */
static uint32_t sweep_instrument(eng_engine_t *e, eng_instr_t *ins, int by_account, uint32_t account,
                                 int day_only, uint16_t evt_type, uint16_t reason)
{
    uint32_t n = 0;
    for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++) {
        uint32_t li = ins->best[side];
        while (li != ENG_NIL) {
            uint32_t next_level = e->levels[li].worse; /* read first: li may be freed below */
            n += sweep_queue(e, e->levels[li].head, by_account, account, day_only, evt_type, reason);
            li = next_level;
        }
    }
    n += sweep_queue(e, ins->stop_head, by_account, account, day_only, evt_type, reason);
    for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++)
        n += sweep_queue(e, ins->dark_head[side], by_account, account, day_only, evt_type, reason);
    return n;
}

/* Sweeps one instrument (instrument_id != 0) or all of them in ascending id order. */
uint32_t eng_sweep(eng_engine_t *e, uint32_t instrument_id, int by_account, uint32_t account, int day_only,
                   uint16_t evt_type, uint16_t reason)
{
    uint32_t n = 0;
    for (uint32_t id = 1; id <= e->cfg.max_instruments; id++) {
        if (instrument_id && id != instrument_id) continue;
        eng_instr_t *ins = &e->instr[id];
        if (!ins->exists) continue;
        n += sweep_instrument(e, ins, by_account, account, day_only, evt_type, reason);
    }
    return n;
}

/* MASS_CANCEL: filters checked (unknown instrument before bad account, Q16), then every match
 * is cancelled in book order, instruments ascending; CMD_ACK with the count. */
void eng_cmd_mass_cancel(eng_engine_t *e, const eng_mass_cancel_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    if (c->by_instrument && !eng_instr_get(e, c->hdr.instrument_id)) {
        eng_reject(e, cmd, ENG_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    if (c->by_account && c->account_id >= e->cfg.max_accounts) {
        eng_reject(e, cmd, ENG_REJ_BAD_ACCOUNT);
        return;
    }
    uint32_t n = eng_sweep(e, c->by_instrument ? c->hdr.instrument_id : 0, c->by_account, c->account_id, 0,
                           ENG_EVT_CANCELLED, ENG_CXL_MASS);
    eng_cmd_ack(e, eng_cmd_instrument(cmd), ENG_CMD_MASS_CANCEL, n);
}

/* END_OF_DAY: expires the DAY orders (resting and waiting stops) in book order; CMD_ACK. */
void eng_cmd_end_of_day(eng_engine_t *e, const eng_end_of_day_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    if (!c->all_instruments && !eng_instr_get(e, c->hdr.instrument_id)) {
        eng_reject(e, cmd, ENG_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    uint32_t n = eng_sweep(e, c->all_instruments ? 0 : c->hdr.instrument_id, 0, 0, 1, ENG_EVT_EXPIRED, ENG_EXP_DAY);
    eng_cmd_ack(e, eng_cmd_instrument(cmd), ENG_CMD_END_OF_DAY, n);
}
