/*
 * gw_entry.c - application entry: the inbound application messages the session layer accepted
 * (fixp_session.c checked their seqNum) become engine commands, or are answered with a reject:
 * the session's throttle, its firm's accounts, ownership of the order a cancel or replace
 * names, and the gateway's capacities (order table, mass-cancel slots).
 * Invariants: every message handled here gets exactly one answer (reports of its command, or
 * one reject); a session cancels or replaces only its firm's orders; a mass cancel only ever
 * touches its own session's orders.
 */
#include <string.h>

#include "gw_internal.h"

static int gw_entry_account_ok(gw_t *g, uint32_t firm, uint32_t account)
{
    for (uint32_t i = 0; i < g->cfg->account_count; i++)
        if (g->cfg->accounts[i].account_id == account)
            return g->cfg->accounts[i].firm_id == firm;
    return 0;
}

/* 1 if the message may go on, 0 if the throttle refused it (and answered). */
static int gw_entry_throttle(gw_t *g, gw_conn_t *c, uint64_t seq, uint64_t ref_id, uint16_t tid)
{
    gw_session_t *s = &g->sessions[c->session];
    uint32_t rate = s->cfg->throttle_msgs_per_s;
    if (rate == 0)
        return 1;
    /* Token bucket: refills at `rate` per second up to one second's worth. */
    s->tokens += (double)(g->now_ns - s->tokens_ns) * rate / 1e9;
    if (s->tokens > rate)
        s->tokens = rate;
    s->tokens_ns = g->now_ns;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return 1;
    }
    g->stats->throttled++;
    if (s->cfg->throttle_action == GW_THROTTLE_DISCONNECT)
        gw_conn_terminate(g, c, SBE_TERMINATION_CODE_UNSPECIFIED_ERROR, ENG_GW_THROTTLED);
    else
        gw_out_bmr(g, c->session, seq, ref_id, tid, ENG_GW_THROTTLED,
                   SBE_BUSINESS_REJECT_REASON_THROTTLE_LIMIT_EXCEEDED);
    return 0;
}

static void gw_entry_new_order_cmd(eng_cmd_t *cmd, const sbe_new_order_single_t *m,
                                   const gw_order_t *o)
{
    memset(cmd, 0, sizeof *cmd);
    eng_new_order_t *no = &cmd->new_order;
    no->hdr.type = ENG_CMD_NEW_ORDER;
    no->hdr.instrument_id = m->instrument_id;
    no->order_id = o->order_id;
    no->client_order_id = m->cl_ord_id;
    no->price = o->price;
    no->stop_price = o->stop_px;
    no->qty = m->order_qty;
    no->display_qty = o->display_qty;
    no->expire_ts_ns = m->expire_time_ns == SBE_OPTIONAL_TIME_NS_NULL ? 0 : m->expire_time_ns;
    no->account_id = m->account_id;
    no->stp_group = m->stp_group;
    no->side = m->side;
    no->ord_type = m->ord_type;
    no->tif = m->time_in_force;
    no->stp_mode = m->stp_mode;
    no->flags = m->flags;
}

static void gw_entry_next_order_id(gw_t *g)
{
    g->next_order_counter = (g->next_order_counter + 1) & ((1ull << 48) - 1);
    if (g->next_order_counter == 0)
        g->next_order_counter = 1;
}

static void gw_entry_new_order(gw_t *g, gw_conn_t *c, const sbe_new_order_single_t *m)
{
    gw_session_t *s = &g->sessions[c->session];
    if (!gw_entry_account_ok(g, s->cfg->firm_id, m->account_id)) {
        gw_out_bmr(g, c->session, m->seq_num, m->cl_ord_id, SBE_NEW_ORDER_SINGLE_TEMPLATE_ID,
                   ENG_GW_ACCOUNT_NOT_PERMITTED, SBE_BUSINESS_REJECT_REASON_NOT_AUTHORIZED);
        return;
    }
    gw_order_t o = {
        .order_id = ((uint64_t)g->order_id_prefix << 48) | g->next_order_counter,
        .cl_ord_id = m->cl_ord_id,
        .price = m->price == SBE_OPTIONAL_PRICE_NULL ? 0 : m->price,
        .stop_px = m->stop_px == SBE_OPTIONAL_PRICE_NULL ? 0 : m->stop_px,
        .order_qty = m->order_qty,
        .display_qty = m->display_qty == SBE_OPTIONAL_QTY_NULL ? 0 : m->display_qty,
        .leaves_qty = m->order_qty,
        .instrument_id = m->instrument_id, .account_id = m->account_id,
        .firm_id = s->cfg->firm_id, .session = c->session,
        .side = m->side, .ord_type = m->ord_type, .tif = m->time_in_force};
    gw_order_t *stored = gw_orders_insert(&g->orders, &o);
    if (!stored) {
        gw_out_bmr(g, c->session, m->seq_num, m->cl_ord_id, SBE_NEW_ORDER_SINGLE_TEMPLATE_ID,
                   ENG_GW_ORDER_CAPACITY, SBE_BUSINESS_REJECT_REASON_APPLICATION_NOT_AVAILABLE);
        return;
    }
    gw_orders_chain_append(&g->orders, &s->orders_head, &s->orders_tail, stored);
    gw_entry_next_order_id(g);
    s->live_orders++;
    eng_cmd_t cmd;
    gw_entry_new_order_cmd(&cmd, m, &o);
    gw_pending_t p = {.kind = GW_P_NEW, .session = c->session, .cl_ord_id = m->cl_ord_id,
                      .order_id = o.order_id};
    gw_engine_submit(g, &cmd, &p);
}

/* The order a cancel or replace names, or NULL after answering with OrderCancelReject: not
 * this firm's (NOT_OWNER), gone already (ORDER_DONE: too late to cancel), never ours. */
static gw_order_t *gw_entry_owned_order(gw_t *g, gw_conn_t *c, uint64_t order_id,
                                        uint64_t cl_ord_id, uint32_t instrument_id,
                                        uint8_t response_to)
{
    uint32_t firm = g->sessions[c->session].cfg->firm_id;
    gw_order_t *o = gw_orders_find(&g->orders, order_id);
    const gw_order_t *done = o ? NULL : gw_done_find(g, order_id);
    gw_ocr_t x = {.order_id = order_id, .cl_ord_id = cl_ord_id, .instrument_id = instrument_id,
                  .response_to = response_to, .reason = ENG_GW_UNKNOWN_ORDER_ID,
                  .cxl_reason = SBE_CXL_REJ_REASON_UNKNOWN_ORDER};
    if (o && o->firm_id == firm)
        return o;
    if ((o && o->firm_id != firm) || (done && done->firm_id != firm)) {
        x.reason = ENG_GW_NOT_OWNER;
        x.cxl_reason = SBE_CXL_REJ_REASON_OTHER;
    } else if (done) {
        x.reason = ENG_GW_ORDER_DONE;
        x.cxl_reason = SBE_CXL_REJ_REASON_TOO_LATE_TO_CANCEL;
    }
    gw_out_ocr(g, c->session, &x);
    return NULL;
}

static void gw_entry_cancel(gw_t *g, gw_conn_t *c, const sbe_order_cancel_request_t *m)
{
    if (!gw_entry_owned_order(g, c, m->order_id, m->cl_ord_id, m->instrument_id,
                              SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REQUEST))
        return;
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.cancel.hdr.type = ENG_CMD_CANCEL;
    cmd.cancel.hdr.instrument_id = m->instrument_id;
    cmd.cancel.order_id = m->order_id;
    cmd.cancel.client_order_id = m->cl_ord_id;     /* journaled: gw_restore.c reports it */
    gw_pending_t p = {.kind = GW_P_CANCEL, .session = c->session, .cl_ord_id = m->cl_ord_id,
                      .order_id = m->order_id};
    gw_engine_submit(g, &cmd, &p);
}

static void gw_entry_replace(gw_t *g, gw_conn_t *c, const sbe_order_cancel_replace_request_t *m)
{
    if (!gw_entry_owned_order(g, c, m->order_id, m->cl_ord_id, m->instrument_id,
                              SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REPLACE_REQUEST))
        return;
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.replace.hdr.type = ENG_CMD_REPLACE;
    cmd.replace.hdr.instrument_id = m->instrument_id;
    cmd.replace.order_id = m->order_id;
    cmd.replace.price = m->price;
    cmd.replace.qty = m->order_qty;
    cmd.replace.client_order_id = m->cl_ord_id;
    gw_pending_t p = {.kind = GW_P_REPLACE, .session = c->session, .cl_ord_id = m->cl_ord_id,
                      .order_id = m->order_id};
    gw_engine_submit(g, &cmd, &p);
}

/* Per-order cancels, not ENG_CMD_MASS_CANCEL: the request's scope is this session's orders
 * (README, tests/gateway/test_gw_ownership.py), and the engine filters only by account and
 * instrument. Two sessions of a firm may share an account, other gateways and the control plane
 * enter orders on it too, and with no account given the engine command would cancel every firm's
 * orders; the engine knows no session or firm, so only the gateway can scope it. The orders are
 * marked here, all of them, and the cancels go out as the ring has room (gw_sweep.c); the report
 * follows the last one's events, with the true total. */
static void gw_entry_mass_cancel(gw_t *g, gw_conn_t *c, const sbe_order_mass_cancel_request_t *m)
{
    gw_session_t *s = &g->sessions[c->session];
    if (m->account_id != SBE_OPTIONAL_ACCOUNT_ID_NULL &&
        !gw_entry_account_ok(g, s->cfg->firm_id, m->account_id)) {
        gw_out_bmr(g, c->session, m->seq_num, m->cl_ord_id,
                   SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID, ENG_GW_ACCOUNT_NOT_PERMITTED,
                   SBE_BUSINESS_REJECT_REASON_NOT_AUTHORIZED);
        return;
    }
    int mi = gw_mass_open(g, c->session, m->cl_ord_id, m->instrument_id, m->account_id);
    if (mi < 0) {
        gw_out_bmr(g, c->session, m->seq_num, m->cl_ord_id,
                   SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID, ENG_GW_MASS_CANCEL_BUSY,
                   SBE_BUSINESS_REJECT_REASON_APPLICATION_NOT_AVAILABLE);
        return;
    }
    uint32_t n = gw_sweep_mark(g, c->session, m->instrument_id, m->account_id, (uint32_t)mi + 1);
    gw_mass_marked(g, (uint32_t)mi, n);
    /* gw_store.c P2: the open mass cancel is durable before its first cancel reaches the
     * engine (the sweep writes them later in the pass), so a restart after a power loss that
     * finds its cancels journaled knows them for this request's and answers it. */
    gw_store_owe(g);
    gw_store_settle(g);
}

int gw_entry_room(gw_t *g, uint16_t template_id)
{
    switch (template_id) {
    case SBE_NEW_ORDER_SINGLE_TEMPLATE_ID:
    case SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID:
    case SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID:
        return gw_engine_has_room(g);
    default:
        return 1;                   /* a mass cancel only marks orders: the sweep writes */
    }
}

void gw_entry_message(gw_t *g, gw_conn_t *c, const sbe_msg_t *m)
{
    /* Every application message starts with seqNum, sendingTimeNs, clOrdId. */
    uint16_t refused = gw_sec_entry(g, c->session, m->template_id);
    if (refused != ENG_OK) {        /* an intrusion detector throttles or is ending the session */
        gw_out_bmr(g, c->session, m->body.new_order_single.seq_num,
                   m->body.new_order_single.cl_ord_id, m->template_id, refused,
                   SBE_BUSINESS_REJECT_REASON_THROTTLE_LIMIT_EXCEEDED);
        return;
    }
    if (!gw_entry_throttle(g, c, m->body.new_order_single.seq_num,
                           m->body.new_order_single.cl_ord_id, m->template_id))
        return;
    switch (m->template_id) {
    case SBE_NEW_ORDER_SINGLE_TEMPLATE_ID:
        gw_entry_new_order(g, c, &m->body.new_order_single);
        break;
    case SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID:
        gw_entry_cancel(g, c, &m->body.order_cancel_request);
        break;
    case SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID:
        gw_entry_replace(g, c, &m->body.order_cancel_replace_request);
        break;
    case SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID:
        gw_entry_mass_cancel(g, c, &m->body.order_mass_cancel_request);
        break;
    }
}
