/*
 * eng_admin.c - the commands that configure the engine rather than trade: instruments,
 * per-instrument order limits, per-account position limits, order-velocity limits and the
 * account kill switch (which sweeps the account's orders), and the post-trade limits, which the engine only validates and
 * acknowledges (the control plane evaluates them). The checks these limits drive are
 * eng_risk.c's; each command here answers with a CMD_ACK or a REJECTED (eng_orders.c).
 */
#include "eng_internal.h"

/* ADD_INSTRUMENT: starts CLOSED, empty, with no risk limits. */
void eng_cmd_add_instrument(eng_engine_t *e, const eng_add_instrument_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    uint32_t id = c->hdr.instrument_id;
    uint16_t r = ENG_OK;
    if (id == 0 || id > e->cfg.max_instruments) r = ENG_REJ_INSTRUMENT_CAPACITY;
    else if (e->instr[id].exists) r = ENG_REJ_DUPLICATE_INSTRUMENT;
    else if (c->tick_size <= 0 || c->lot_size <= 0 || c->reference_price <= 0 ||
             c->reference_price % c->tick_size || c->market_collar_ticks < 0 || c->nbbo_max_age_ns < 0 ||
             c->venue_mode > ENG_MODE_DARK_MIDPOINT)
        r = ENG_REJ_BAD_CONFIG;
    else if (c->venue_mode == ENG_MODE_DARK_MIDPOINT && (c->tick_size % 2 || c->nbbo_max_age_ns == 0))
        r = ENG_REJ_BAD_CONFIG; /* an odd tick would put midpoints between price units */
    if (r) {
        eng_reject(e, cmd, r);
        return;
    }
    eng_instr_t *ins = &e->instr[id];
    memset(ins, 0, sizeof(*ins));
    ins->exists = 1;
    ins->id = id;
    ins->phase = ENG_PHASE_CLOSED;
    ins->tick = c->tick_size;
    ins->lot = c->lot_size;
    ins->ref_price = c->reference_price;
    ins->mkt_collar_ticks = c->market_collar_ticks;
    ins->dark = c->venue_mode == ENG_MODE_DARK_MIDPOINT;
    ins->nbbo_max_age = c->nbbo_max_age_ns;
    ins->max_qty = INT64_MAX;
    ins->max_notional = INT64_MAX;
    ins->collar_ticks = INT64_MAX;
    eng_cmd_ack(e, id, ENG_CMD_ADD_INSTRUMENT, 0);
}

/* SET_INSTRUMENT_RISK: replaces all three limits; any negative value is BAD_CONFIG. */
void eng_cmd_set_instrument_risk(eng_engine_t *e, const eng_set_instrument_risk_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    eng_instr_t *ins = eng_instr_get(e, c->hdr.instrument_id);
    if (!ins) {
        eng_reject(e, cmd, ENG_REJ_UNKNOWN_INSTRUMENT);
        return;
    }
    if (c->max_order_qty < 0 || c->max_order_notional < 0 || c->price_collar_ticks < 0) {
        eng_reject(e, cmd, ENG_REJ_BAD_CONFIG);
        return;
    }
    ins->max_qty = c->max_order_qty;
    ins->max_notional = c->max_order_notional;
    ins->collar_ticks = c->price_collar_ticks;
    eng_cmd_ack(e, ins->id, ENG_CMD_SET_INSTRUMENT_RISK, 0);
}

/* SET_ACCOUNT_LIMIT: max |position + open orders on one side| for one account and instrument. */
void eng_cmd_set_account_limit(eng_engine_t *e, const eng_set_account_limit_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    uint16_t r = ENG_OK;
    if (!eng_instr_get(e, c->hdr.instrument_id)) r = ENG_REJ_UNKNOWN_INSTRUMENT;
    else if (c->account_id >= e->cfg.max_accounts) r = ENG_REJ_BAD_ACCOUNT;
    else if (c->max_position < 0) r = ENG_REJ_BAD_CONFIG;
    if (r) {
        eng_reject(e, cmd, r);
        return;
    }
    eng_pos_get(e, c->account_id, c->hdr.instrument_id)->max_position = c->max_position;
    eng_cmd_ack(e, c->hdr.instrument_id, ENG_CMD_SET_ACCOUNT_LIMIT, 0);
}

/* SET_KILL_SWITCH: engaging cancels the account's orders everywhere, in book order. */
void eng_cmd_set_kill_switch(eng_engine_t *e, const eng_set_kill_switch_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    if (c->account_id >= e->cfg.max_accounts) {
        eng_reject(e, cmd, ENG_REJ_BAD_ACCOUNT);
        return;
    }
    uint32_t n = 0;
    e->killed[c->account_id] = c->engaged ? 1 : 0;
    if (c->engaged) n = eng_sweep(e, 0, 1, c->account_id, 0, ENG_EVT_CANCELLED, ENG_CXL_KILL_SWITCH);
    eng_cmd_ack(e, c->hdr.instrument_id, ENG_CMD_SET_KILL_SWITCH, n);
}

/* SET_ORDER_VELOCITY: replaces the account's limit and starts it with a full bucket (max_orders
 * commands at once); 0 and 0 remove it. BAD_CONFIG: a negative window, or one of the two 0. */
void eng_cmd_set_order_velocity(eng_engine_t *e, const eng_set_order_velocity_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    uint16_t r = ENG_OK;
    if (c->account_id >= e->cfg.max_accounts) r = ENG_REJ_BAD_ACCOUNT;
    else if (c->window_ns < 0 || (c->window_ns == 0) != (c->max_orders == 0)) r = ENG_REJ_BAD_CONFIG;
    if (r) {
        eng_reject(e, cmd, r);
        return;
    }
    eng_velocity_t *v = &e->velocity[c->account_id];
    memset(v, 0, sizeof(*v));
    if (c->window_ns) {
        v->max_orders = c->max_orders;
        v->window_ns = c->window_ns;
        v->credit = (__int128)c->max_orders * c->window_ns;
        v->last_ts = e->now;
    }
    eng_cmd_ack(e, c->hdr.instrument_id, ENG_CMD_SET_ORDER_VELOCITY, 0);
}

/* SET_POST_TRADE_LIMIT: validated, sequenced, journaled and acknowledged; no engine state changes
 * (the control plane evaluates post-trade risk and re-derives these limits from the journal). */
void eng_cmd_set_post_trade_limit(eng_engine_t *e, const eng_set_post_trade_limit_t *c)
{
    const eng_cmd_t *cmd = (const eng_cmd_t *)c;
    uint16_t r = ENG_OK;
    if (c->account_id >= e->cfg.max_accounts) r = ENG_REJ_BAD_ACCOUNT;
    else if (c->limit < ENG_PTL_VAR || c->limit > ENG_PTL_AUTO_KILL || c->value_e6 < 0)
        r = ENG_REJ_BAD_CONFIG;
    if (r) {
        eng_reject(e, cmd, r);
        return;
    }
    eng_cmd_ack(e, c->hdr.instrument_id, ENG_CMD_SET_POST_TRADE_LIMIT, 0);
}
