/*
 * fixp_session.c - the FIXP-style session layer of the gateway and the inbound application
 * messages: Negotiate -> Establish -> application flow, Sequence heartbeats, Terminate,
 * RetransmitRequest from a per-session in-memory log, throttle, ownership, and the mapping of
 * NewOrderSingle / cancel / replace / mass cancel onto engine commands.
 * Invariants: before Establish only Negotiate and Establish are handled (anything else ends the
 * connection with ENG_GW_NOT_ESTABLISHED); each session's outbound seqNums are 1, 2, 3 ... with no
 * gap, and the last out_log_msgs of them can be retransmitted (in memory: they outlive an engine
 * crash, gw_resume.c, not a gateway restart); a session cancels or replaces only its firm's orders.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>

#include "gw_internal.h"
#include "hdr_recorder.h"

int64_t fixp_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void fixp_send_session(gw_t *g, gw_conn_t *c, const sbe_msg_t *m)
{
    uint8_t buf[SBE_MAX_FRAME_LENGTH];
    int n = sbe_encode(buf, sizeof buf, m);
    if (n > 0)
        gw_conn_send(g, c, buf, (uint32_t)n);
}

static void fixp_copy_text(uint8_t *dst, uint16_t *len, uint16_t reason)
{
    const char *t = sbe_error_text(reason);
    if (reason >= ENG_GW_NOT_ESTABLISHED || !strncmp(t, "not an", 6))
        t = "";
    size_t n = strlen(t);
    if (n > 128)
        n = 128;
    memcpy(dst, t, n);
    *len = (uint16_t)n;
}

void fixp_send_app(gw_t *g, int32_t session, fixp_encode_fn encode, const void *ctx)
{
    gw_session_t *s = &g->sessions[session];
    uint64_t seq = s->next_out_seq;
    uint8_t *slot = s->log + (seq & (g->cfg->out_log_msgs - 1)) * GW_LOG_SLOT_BYTES;
    int n = encode(slot + 2, GW_LOG_SLOT_BYTES - 2, seq, fixp_realtime_ns(), ctx);
    if (n <= 0)
        return;                     /* cannot happen for the gateway's own well-formed reports */
    uint16_t len = (uint16_t)n;
    memcpy(slot, &len, 2);
    s->next_out_seq++;
    g->stats->reports++;
    if (s->conn >= 0 && g->conns[s->conn].state == GW_CONN_ESTABLISHED)
        gw_conn_send(g, &g->conns[s->conn], slot + 2, len);
}

/* ---- Business rejects of inbound application messages -------------------------------------- */

typedef struct fixp_bmr_ctx {
    uint64_t ref_seq, ref_id;
    uint16_t ref_template, reason;
    uint8_t code;
} fixp_bmr_ctx_t;

static int fixp_encode_bmr(uint8_t *buf, size_t cap, uint64_t seq, int64_t now, const void *p)
{
    const fixp_bmr_ctx_t *x = p;
    sbe_business_message_reject_t m = {.seq_num = seq, .sending_time_ns = (uint64_t)now,
                                       .ref_seq_num = x->ref_seq,
                                       .business_reject_ref_id = x->ref_id,
                                       .ref_template_id = x->ref_template,
                                       .reason_code = x->reason,
                                       .business_reject_reason = x->code};
    fixp_copy_text(m.text, &m.text_length, x->reason);
    return sbe_encode_business_message_reject(buf, cap, &m);
}

static void fixp_bmr(gw_t *g, int32_t session, uint64_t ref_seq, uint64_t ref_id,
                     uint16_t ref_template, uint16_t reason, uint8_t code)
{
    fixp_bmr_ctx_t x = {ref_seq, ref_id, ref_template, reason, code};
    g->stats->business_rejects++;
    fixp_send_app(g, session, fixp_encode_bmr, &x);
}

typedef struct fixp_ocr_ctx {
    uint64_t order_id, cl_ord_id;
    uint32_t instrument_id;
    uint16_t reason;
    uint8_t response_to, cxl_reason;
} fixp_ocr_ctx_t;

static int fixp_encode_ocr(uint8_t *buf, size_t cap, uint64_t seq, int64_t now, const void *p)
{
    const fixp_ocr_ctx_t *x = p;
    sbe_order_cancel_reject_t m = {.seq_num = seq, .sending_time_ns = (uint64_t)now,
                                   .transact_time_ns = (uint64_t)now, .order_id = x->order_id,
                                   .cl_ord_id = x->cl_ord_id, .instrument_id = x->instrument_id,
                                   .reason_code = x->reason,
                                   .cxl_rej_response_to = x->response_to,
                                   .cxl_rej_reason = x->cxl_reason};
    return sbe_encode_order_cancel_reject(buf, cap, &m);
}

/* ---- Session messages ------------------------------------------------------------------------ */

static int fixp_key_ok(const gw_session_cfg_t *sc, const uint8_t *cred, uint16_t len)
{
    if (len != sc->key_len)
        return 0;
    uint8_t diff = 0;               /* constant time: the key never leaks through timing */
    for (uint16_t i = 0; i < len; i++)
        diff |= (uint8_t)(cred[i] ^ sc->key[i]);
    return diff == 0;
}

static int32_t fixp_find_session(gw_t *g, uint64_t session_id)
{
    for (uint32_t i = 0; i < g->cfg->session_count; i++)
        if (g->sessions[i].cfg->session_id == session_id)
            return (int32_t)i;
    return -1;
}

static void fixp_negotiation_reject(gw_t *g, gw_conn_t *c, const sbe_negotiate_t *n,
                                    uint16_t reason, uint8_t code)
{
    sbe_msg_t m = {.template_id = SBE_NEGOTIATION_REJECT_TEMPLATE_ID};
    m.body.negotiation_reject = (sbe_negotiation_reject_t){
        .session_id = n->session_id, .request_timestamp_ns = n->timestamp_ns,
        .reason_code = reason, .code = code};
    fixp_send_session(g, c, &m);
    c->closing = 1;
    c->close_deadline_ns = g->now_ns + GW_LINGER_NS;
}

static void fixp_on_negotiate(gw_t *g, gw_conn_t *c, const sbe_negotiate_t *n)
{
    if (c->state != GW_CONN_NEW) {
        gw_conn_terminate(g, c, SBE_TERMINATION_CODE_UNSPECIFIED_ERROR, ENG_GW_ALREADY_NEGOTIATED);
        return;
    }
    int32_t s = fixp_find_session(g, n->session_id);
    if (s < 0 || g->sessions[s].cfg->firm_id != n->firm_id ||
        !fixp_key_ok(g->sessions[s].cfg, n->credentials, n->credentials_length)) {
        fixp_negotiation_reject(g, c, n, ENG_GW_BAD_CREDENTIALS,
                                SBE_NEGOTIATION_REJECT_CODE_CREDENTIALS);
        return;
    }
    if (n->client_flow != SBE_FLOW_TYPE_IDEMPOTENT && n->client_flow != SBE_FLOW_TYPE_RECOVERABLE) {
        fixp_negotiation_reject(g, c, n, ENG_GW_FLOW_TYPE,
                                SBE_NEGOTIATION_REJECT_CODE_FLOW_TYPE_NOT_SUPPORTED);
        return;
    }
    if (g->sessions[s].conn >= 0) {
        fixp_negotiation_reject(g, c, n, ENG_GW_SESSION_IN_USE,
                                SBE_NEGOTIATION_REJECT_CODE_DUPLICATE_ID);
        return;
    }
    g->sessions[s].conn = (int32_t)(c - g->conns);
    c->session = s;
    c->state = GW_CONN_NEGOTIATED;
    sbe_msg_t m = {.template_id = SBE_NEGOTIATION_RESPONSE_TEMPLATE_ID};
    m.body.negotiation_response = (sbe_negotiation_response_t){
        .session_id = n->session_id, .request_timestamp_ns = n->timestamp_ns,
        .server_flow = SBE_FLOW_TYPE_RECOVERABLE};
    fixp_send_session(g, c, &m);
}

static void fixp_establishment_reject(gw_t *g, gw_conn_t *c, const sbe_establish_t *e,
                                      uint16_t reason, uint8_t code)
{
    sbe_msg_t m = {.template_id = SBE_ESTABLISHMENT_REJECT_TEMPLATE_ID};
    m.body.establishment_reject = (sbe_establishment_reject_t){
        .session_id = e->session_id, .request_timestamp_ns = e->timestamp_ns,
        .reason_code = reason, .code = code};
    fixp_send_session(g, c, &m);
}

static void fixp_on_establish(gw_t *g, gw_conn_t *c, const sbe_establish_t *e)
{
    if (c->state == GW_CONN_NEW) {
        fixp_establishment_reject(g, c, e, ENG_GW_NOT_ESTABLISHED,
                                  SBE_ESTABLISHMENT_REJECT_CODE_UNNEGOTIATED);
        return;
    }
    if (c->state == GW_CONN_ESTABLISHED) {
        fixp_establishment_reject(g, c, e, ENG_GW_ALREADY_NEGOTIATED,
                                  SBE_ESTABLISHMENT_REJECT_CODE_ALREADY_ESTABLISHED);
        return;
    }
    gw_session_t *s = &g->sessions[c->session];
    if (e->session_id != s->cfg->session_id) {
        fixp_establishment_reject(g, c, e, ENG_GW_SESSION_MISMATCH,
                                  SBE_ESTABLISHMENT_REJECT_CODE_UNNEGOTIATED);
        return;
    }
    if (!fixp_key_ok(s->cfg, e->credentials, e->credentials_length)) {
        fixp_establishment_reject(g, c, e, ENG_GW_BAD_CREDENTIALS,
                                  SBE_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
        return;
    }
    if (e->keepalive_interval_ms < g->cfg->keepalive_min_ms ||
        e->keepalive_interval_ms > g->cfg->keepalive_max_ms) {
        fixp_establishment_reject(g, c, e, ENG_GW_BAD_KEEPALIVE,
                                  SBE_ESTABLISHMENT_REJECT_CODE_KEEPALIVE_INTERVAL);
        return;
    }
    c->state = GW_CONN_ESTABLISHED;
    c->keepalive_ms = e->keepalive_interval_ms;
    if (e->next_seq_no != SBE_OPTIONAL_SEQ_NUM_NULL)
        s->next_in_seq = e->next_seq_no;
    if (!s->established_once) {
        s->established_once = 1;
        s->tokens = s->cfg->throttle_msgs_per_s;
        s->tokens_ns = g->now_ns;
    }
    sbe_msg_t m = {.template_id = SBE_ESTABLISHMENT_ACK_TEMPLATE_ID};
    m.body.establishment_ack = (sbe_establishment_ack_t){
        .session_id = e->session_id, .request_timestamp_ns = e->timestamp_ns,
        .next_seq_no = s->next_out_seq, .keepalive_interval_ms = e->keepalive_interval_ms};
    fixp_send_session(g, c, &m);
}

static void fixp_retransmit_reject(gw_t *g, gw_conn_t *c, const sbe_retransmit_request_t *r,
                                   uint16_t reason, uint8_t code)
{
    sbe_msg_t m = {.template_id = SBE_RETRANSMIT_REJECT_TEMPLATE_ID};
    m.body.retransmit_reject = (sbe_retransmit_reject_t){
        .session_id = r->session_id, .request_timestamp_ns = r->timestamp_ns,
        .reason_code = reason, .code = code};
    fixp_send_session(g, c, &m);
}

static void fixp_on_retransmit_request(gw_t *g, gw_conn_t *c, const sbe_retransmit_request_t *r)
{
    gw_session_t *s = &g->sessions[c->session];
    uint64_t kept = g->cfg->out_log_msgs;
    uint64_t oldest = s->next_out_seq > kept ? s->next_out_seq - kept : 1;
    if (r->session_id != s->cfg->session_id) {
        fixp_retransmit_reject(g, c, r, ENG_GW_SESSION_MISMATCH,
                               SBE_RETRANSMIT_REJECT_CODE_INVALID_SESSION);
        return;
    }
    if (r->count > g->cfg->retransmit_limit) {
        fixp_retransmit_reject(g, c, r, ENG_GW_RETRANSMIT_LIMIT,
                               SBE_RETRANSMIT_REJECT_CODE_REQUEST_LIMIT_EXCEEDED);
        return;
    }
    if (r->count == 0 || r->from_seq_no < oldest ||
        r->from_seq_no + r->count > s->next_out_seq) {
        fixp_retransmit_reject(g, c, r, ENG_GW_RETRANSMIT_RANGE,
                               SBE_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE);
        return;
    }
    sbe_msg_t m = {.template_id = SBE_RETRANSMISSION_TEMPLATE_ID};
    m.body.retransmission = (sbe_retransmission_t){
        .session_id = r->session_id, .request_timestamp_ns = r->timestamp_ns,
        .next_seq_no = r->from_seq_no, .count = r->count};
    fixp_send_session(g, c, &m);
    for (uint64_t q = r->from_seq_no; q < r->from_seq_no + r->count && !c->closing; q++) {
        const uint8_t *slot = s->log + (q & (kept - 1)) * GW_LOG_SLOT_BYTES;
        uint16_t len;
        memcpy(&len, slot, 2);
        gw_conn_send(g, c, slot + 2, len);
    }
}

/* ---- Application messages -------------------------------------------------------------------- */

static int fixp_account_ok(gw_t *g, uint32_t firm, uint32_t account)
{
    for (uint32_t i = 0; i < g->cfg->account_count; i++)
        if (g->cfg->accounts[i].account_id == account)
            return g->cfg->accounts[i].firm_id == firm;
    return 0;
}

/* 1 if the message may go on, 0 if the throttle refused it (and answered). */
static int fixp_throttle(gw_t *g, gw_conn_t *c, uint64_t seq, uint64_t ref_id, uint16_t tid)
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
        fixp_bmr(g, c->session, seq, ref_id, tid, ENG_GW_THROTTLED,
                 SBE_BUSINESS_REJECT_REASON_THROTTLE_LIMIT_EXCEEDED);
    return 0;
}

static void fixp_new_order(gw_t *g, gw_conn_t *c, const sbe_new_order_single_t *m)
{
    gw_session_t *s = &g->sessions[c->session];
    if (!fixp_account_ok(g, s->cfg->firm_id, m->account_id)) {
        fixp_bmr(g, c->session, m->seq_num, m->cl_ord_id, SBE_NEW_ORDER_SINGLE_TEMPLATE_ID,
                 ENG_GW_ACCOUNT_NOT_PERMITTED, SBE_BUSINESS_REJECT_REASON_NOT_AUTHORIZED);
        return;
    }
    gw_order_t o = {
        .order_id = ((uint64_t)g->cfg->order_id_prefix << 48) | g->next_order_counter,
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
        fixp_bmr(g, c->session, m->seq_num, m->cl_ord_id, SBE_NEW_ORDER_SINGLE_TEMPLATE_ID,
                 ENG_GW_ORDER_CAPACITY, SBE_BUSINESS_REJECT_REASON_APPLICATION_NOT_AVAILABLE);
        return;
    }
    gw_orders_chain_append(&g->orders, &s->orders_head, &s->orders_tail, stored);
    g->next_order_counter = (g->next_order_counter + 1) & ((1ull << 48) - 1);
    if (g->next_order_counter == 0)
        g->next_order_counter = 1;
    s->live_orders++;
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    eng_new_order_t *no = &cmd.new_order;
    no->hdr.type = ENG_CMD_NEW_ORDER;
    no->hdr.instrument_id = m->instrument_id;
    no->order_id = o.order_id;
    no->client_order_id = m->cl_ord_id;
    no->price = o.price;
    no->stop_price = o.stop_px;
    no->qty = m->order_qty;
    no->display_qty = o.display_qty;
    no->expire_ts_ns = m->expire_time_ns == SBE_OPTIONAL_TIME_NS_NULL ? 0 : m->expire_time_ns;
    no->account_id = m->account_id;
    no->stp_group = m->stp_group;
    no->side = m->side;
    no->ord_type = m->ord_type;
    no->tif = m->time_in_force;
    no->stp_mode = m->stp_mode;
    no->flags = m->flags;
    gw_pending_t p = {.kind = GW_P_NEW, .session = c->session, .cl_ord_id = m->cl_ord_id,
                      .order_id = o.order_id};
    gw_engine_submit(g, &cmd, &p);
}

/* The order a cancel or replace names, or NULL after answering with OrderCancelReject. */
static gw_order_t *fixp_owned_order(gw_t *g, gw_conn_t *c, uint64_t order_id, uint64_t cl_ord_id,
                                    uint32_t instrument_id, uint8_t response_to)
{
    gw_order_t *o = gw_orders_find(&g->orders, order_id);
    uint16_t reason = 0;
    if (!o)
        reason = ENG_GW_UNKNOWN_ORDER_ID;
    else if (o->firm_id != g->sessions[c->session].cfg->firm_id)
        reason = ENG_GW_NOT_OWNER;
    if (!reason)
        return o;
    fixp_ocr_ctx_t x = {order_id, cl_ord_id, instrument_id, reason, response_to,
                        reason == ENG_GW_UNKNOWN_ORDER_ID ? SBE_CXL_REJ_REASON_UNKNOWN_ORDER
                                                          : SBE_CXL_REJ_REASON_OTHER};
    fixp_send_app(g, c->session, fixp_encode_ocr, &x);
    return NULL;
}

static void fixp_cancel(gw_t *g, gw_conn_t *c, const sbe_order_cancel_request_t *m)
{
    if (!fixp_owned_order(g, c, m->order_id, m->cl_ord_id, m->instrument_id,
                          SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REQUEST))
        return;
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.cancel.hdr.type = ENG_CMD_CANCEL;
    cmd.cancel.hdr.instrument_id = m->instrument_id;
    cmd.cancel.order_id = m->order_id;
    gw_pending_t p = {.kind = GW_P_CANCEL, .session = c->session, .cl_ord_id = m->cl_ord_id,
                      .order_id = m->order_id};
    gw_engine_submit(g, &cmd, &p);
}

static void fixp_replace(gw_t *g, gw_conn_t *c, const sbe_order_cancel_replace_request_t *m)
{
    if (!fixp_owned_order(g, c, m->order_id, m->cl_ord_id, m->instrument_id,
                          SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REPLACE_REQUEST))
        return;
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.replace.hdr.type = ENG_CMD_REPLACE;
    cmd.replace.hdr.instrument_id = m->instrument_id;
    cmd.replace.order_id = m->order_id;
    cmd.replace.price = m->price;
    cmd.replace.qty = m->order_qty;
    gw_pending_t p = {.kind = GW_P_REPLACE, .session = c->session, .cl_ord_id = m->cl_ord_id,
                      .order_id = m->order_id};
    gw_engine_submit(g, &cmd, &p);
}

/* Writes one CANCEL per live order of the session matching the filters, oldest first, while the
 * command ring has room. Returns how many it wrote. Walks the session's own chain: a scan of the
 * whole order table (order_capacity slots, ~100 MB by default) would stall every session for
 * tens of milliseconds on each disconnect. Nothing leaves the table while this runs (events are
 * read only between passes), so the chain is stable under the walk. */
static uint32_t fixp_cancel_matching(gw_t *g, int32_t session, uint32_t instrument, uint32_t account,
                                 uint32_t kind, uint32_t mass)
{
    uint32_t written = 0;
    const gw_order_t *o;
    for (uint64_t id = g->sessions[session].orders_head; (o = gw_orders_find(&g->orders, id));
         id = o->sess_next) {
        if ((instrument && o->instrument_id != instrument) ||
            (account != SBE_OPTIONAL_ACCOUNT_ID_NULL && o->account_id != account))
            continue;
        if (!gw_engine_has_room(g))
            break;
        fixp_submit_cancel(g, session, o, kind, mass);
        written++;
    }
    return written;
}

void fixp_submit_cancel(gw_t *g, int32_t session, const gw_order_t *o, uint32_t kind,
                        uint32_t mass)
{
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.cancel.hdr.type = ENG_CMD_CANCEL;
    cmd.cancel.hdr.instrument_id = o->instrument_id;
    cmd.cancel.order_id = o->order_id;
    gw_pending_t p = {.kind = kind, .session = session, .cl_ord_id = o->cl_ord_id,
                      .order_id = o->order_id, .mass = mass};
    gw_engine_submit(g, &cmd, &p);
}

/* Per-order cancels, not ENG_CMD_MASS_CANCEL: the request's scope is this session's orders
 * (README, tests/gateway/test_gw_ownership.py), and the engine filters only by account and
 * instrument. Two sessions of a firm may share an account, other gateways and the control plane
 * enter orders on it too, and with no account given the engine command would cancel every firm's
 * orders; the engine knows no session or firm, so only the gateway can scope it. */
static void fixp_mass_cancel(gw_t *g, gw_conn_t *c, const sbe_order_mass_cancel_request_t *m)
{
    gw_session_t *s = &g->sessions[c->session];
    if (m->account_id != SBE_OPTIONAL_ACCOUNT_ID_NULL &&
        !fixp_account_ok(g, s->cfg->firm_id, m->account_id)) {
        fixp_bmr(g, c->session, m->seq_num, m->cl_ord_id, SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID,
                 ENG_GW_ACCOUNT_NOT_PERMITTED, SBE_BUSINESS_REJECT_REASON_NOT_AUTHORIZED);
        return;
    }
    int mi = gw_mass_open(g, c->session, m->cl_ord_id, m->instrument_id, m->account_id);
    if (mi < 0) {
        fixp_bmr(g, c->session, m->seq_num, m->cl_ord_id, SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID,
                 ENG_GW_THROTTLED, SBE_BUSINESS_REJECT_REASON_THROTTLE_LIMIT_EXCEEDED);
        return;
    }
    /* Events are read only after this returns, so remaining is set before any part completes.
     * Orders beyond the ring's room stay live: the report's count says how many went. */
    g->mass[mi].remaining = fixp_cancel_matching(g, c->session, m->instrument_id, m->account_id,
                                                 GW_P_MASS_PART, (uint32_t)mi);
    if (g->mass[mi].remaining == 0)
        gw_mass_finish(g, (uint32_t)mi);
}

void fixp_session_unbound(gw_t *g, int32_t session, int was_established)
{
    gw_session_t *s = &g->sessions[session];
    /* With the engine dead its rings are orphaned: gw_resume re-runs cancel-on-disconnect for
     * every unbound session once a recovered engine is attached. */
    if (was_established && s->cfg->cancel_on_disconnect && !g->engine_down)
        fixp_cancel_matching(g, session, 0, SBE_OPTIONAL_ACCOUNT_ID_NULL, GW_P_COD, 0);
}

/* Engine room a message needs before it can be handled: a mass cancel needs one slot per order. */
static int fixp_room_for(gw_t *g, gw_conn_t *c, const sbe_msg_t *m)
{
    switch (m->template_id) {
    case SBE_NEW_ORDER_SINGLE_TEMPLATE_ID:
    case SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID:
    case SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID:
        return gw_engine_has_room(g);
    case SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID:
        return !gw_engine_in_flight(g) && gw_engine_has_room(g);
    default:
        return 1;
    }
}

static void fixp_app_message(gw_t *g, gw_conn_t *c, const sbe_msg_t *m)
{
    gw_session_t *s = &g->sessions[c->session];
    /* Every application message starts with seqNum, sendingTimeNs, clOrdId. */
    uint64_t seq = m->body.new_order_single.seq_num;
    uint64_t cl = m->body.new_order_single.cl_ord_id;
    if (seq < s->next_in_seq) {
        fixp_bmr(g, c->session, seq, cl, m->template_id, ENG_GW_SEQ_TOO_LOW,
                 SBE_BUSINESS_REJECT_REASON_OTHER);
        return;
    }
    /* Idempotent flow: a gap means the client chose not to send those; nothing to recover. */
    s->next_in_seq = seq + 1;
    if (!fixp_throttle(g, c, seq, cl, m->template_id))
        return;
    switch (m->template_id) {
    case SBE_NEW_ORDER_SINGLE_TEMPLATE_ID:
        fixp_new_order(g, c, &m->body.new_order_single);
        break;
    case SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID:
        fixp_cancel(g, c, &m->body.order_cancel_request);
        break;
    case SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID:
        fixp_replace(g, c, &m->body.order_cancel_replace_request);
        break;
    case SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID:
        fixp_mass_cancel(g, c, &m->body.order_mass_cancel_request);
        break;
    }
}

static int fixp_is_app_inbound(uint16_t tid)
{
    return tid >= SBE_NEW_ORDER_SINGLE_TEMPLATE_ID && tid <= SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID;
}

/* One decoded (or refused) frame. Returns 0 when handled, 1 when it must wait for engine room. */
static int fixp_frame(gw_t *g, gw_conn_t *c, const uint8_t *buf, uint32_t len)
{
    sbe_msg_t m;
    int rc = sbe_decode(buf, len, &m);
    if (g->lat) {                   /* latency: DECODE of this frame, RECEIVE of its bytes */
        g->lat_rx = c->lat_rx;
        g->lat_decoded = rc == 0 && c->lat_rx ? hdr_now() : 0;  /* 0: not sampled */
    }
    if (rc != 0) {
        g->stats->decode_errors++;
        if (c->state == GW_CONN_ESTABLISHED && fixp_is_app_inbound(m.template_id)) {
            fixp_bmr(g, c->session, 0, 0, m.template_id, (uint16_t)rc,
                     rc == ENG_GW_UNKNOWN_TEMPLATE ? SBE_BUSINESS_REJECT_REASON_UNSUPPORTED_MESSAGE_TYPE
                                                   : SBE_BUSINESS_REJECT_REASON_OTHER);
            return 0;
        }
        gw_conn_terminate(g, c, SBE_TERMINATION_CODE_DECODING_ERROR, (uint16_t)rc);
        return 0;
    }
    if (c->state == GW_CONN_ESTABLISHED && fixp_is_app_inbound(m.template_id) &&
        !fixp_room_for(g, c, &m))
        return 1;
    switch (m.template_id) {
    case SBE_NEGOTIATE_TEMPLATE_ID:
        fixp_on_negotiate(g, c, &m.body.negotiate);
        return 0;
    case SBE_ESTABLISH_TEMPLATE_ID:
        fixp_on_establish(g, c, &m.body.establish);
        return 0;
    default:
        break;
    }
    if (c->state != GW_CONN_ESTABLISHED) {
        gw_conn_terminate(g, c, SBE_TERMINATION_CODE_UNSPECIFIED_ERROR, ENG_GW_NOT_ESTABLISHED);
        return 0;
    }
    switch (m.template_id) {
    case SBE_SEQUENCE_TEMPLATE_ID:
        return 0;                   /* a heartbeat: last_rx_ns was already updated */
    case SBE_TERMINATE_TEMPLATE_ID:
        gw_conn_terminate(g, c, SBE_TERMINATION_CODE_FINISHED, ENG_GW_PEER_TERMINATED);
        return 0;
    case SBE_RETRANSMIT_REQUEST_TEMPLATE_ID:
        fixp_on_retransmit_request(g, c, &m.body.retransmit_request);
        return 0;
    default:
        if (fixp_is_app_inbound(m.template_id))
            fixp_app_message(g, c, &m);
        else
            fixp_bmr(g, c->session, 0, 0, m.template_id, ENG_GW_UNKNOWN_TEMPLATE,
                     SBE_BUSINESS_REJECT_REASON_UNSUPPORTED_MESSAGE_TYPE);
        return 0;
    }
}

int fixp_conn_input(gw_t *g, gw_conn_t *c)
{
    uint32_t off = 0;
    while (!c->closing && c->fd >= 0) {
        uint32_t flen = 0;
        int rc = sbe_frame_peek(c->rx + off, c->rx_len - off, &flen);
        if (rc == SBE_NEED_MORE)
            break;
        if (rc != 0) {
            g->stats->decode_errors++;
            gw_conn_terminate(g, c, SBE_TERMINATION_CODE_DECODING_ERROR, (uint16_t)rc);
            break;
        }
        if (fixp_frame(g, c, c->rx + off, flen)) {
            c->blocked = 1;
            break;
        }
        g->stats->frames_in++;
        off += flen;
    }
    g->lat_decoded = 0;             /* latency: a frame's stamps never outlive its handling */
    if (c->fd < 0)
        return 0;
    if (off) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
    }
    return 0;
}

void fixp_timers(gw_t *g)
{
    for (uint32_t i = 0; i < g->cfg->max_connections; i++) {
        gw_conn_t *c = &g->conns[i];
        if (c->fd < 0 || c->closing)
            continue;
        if (c->state != GW_CONN_ESTABLISHED) {
            if (g->now_ns - c->accepted_ns > (int64_t)g->cfg->handshake_timeout_ms * 1000000)
                gw_conn_terminate(g, c, SBE_TERMINATION_CODE_UNSPECIFIED_ERROR,
                                  ENG_GW_HANDSHAKE_TIMEOUT);
            continue;
        }
        int64_t ka_ns = (int64_t)c->keepalive_ms * 1000000;
        if (g->now_ns - c->last_rx_ns > 2 * ka_ns) {
            g->stats->heartbeat_timeouts++;
            gw_conn_terminate(g, c, SBE_TERMINATION_CODE_KEEPALIVE_EXPIRED,
                              ENG_GW_HEARTBEAT_TIMEOUT);
            continue;
        }
        if (g->now_ns - c->last_tx_ns >= ka_ns) {
            sbe_msg_t m = {.template_id = SBE_SEQUENCE_TEMPLATE_ID};
            m.body.sequence.next_seq_no = g->sessions[c->session].next_out_seq;
            fixp_send_session(g, c, &m);
        }
    }
}
