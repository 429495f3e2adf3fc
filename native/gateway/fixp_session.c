/*
 * fixp_session.c - the FIXP session state machine of the gateway: Negotiate -> Establish ->
 * application flow, Sequence heartbeats, Terminate, RetransmitRequest from the session's log
 * (gw_outbound.c), keepalive and handshake timers, and the inbound sequencing of the Idempotent
 * flow. Application messages whose seqNum is accepted go down to gw_entry.c.
 * Invariants: before Establish only Negotiate and Establish are handled (anything else ends the
 * connection with ENG_GW_NOT_ESTABLISHED); a session's next expected inbound seqNum never goes
 * down (not on Establish either), so an application message is executed at most once: one
 * with a lower seqNum is a duplicate, answered ENG_GW_SEQ_TOO_LOW and not executed; seqNum and
 * count arithmetic never wraps (a seqNum with no successor is refused, a retransmission range is
 * checked by subtraction).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>

#include "gw_internal.h"
#include "hdr_recorder.h"

static void fixp_send_session(gw_t *g, gw_conn_t *c, const sbe_msg_t *m)
{
    uint8_t buf[SBE_MAX_FRAME_LENGTH];
    int n = sbe_encode(buf, sizeof buf, m);
    if (n > 0)
        gw_conn_send(g, c, buf, (uint32_t)n);
}

/* ---- Session messages ------------------------------------------------------------------------ */

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
    if (s >= 0 && g->sessions[s].cfg->firm_id != n->firm_id)
        s = -1;                     /* wrong firm: refused like an unknown session */
    uint16_t why = gw_sec_logon(g, c, s, SBE_NEGOTIATE_TEMPLATE_ID, n->timestamp_ns,
                                n->credentials, n->credentials_length);
    if (why != ENG_OK) {
        fixp_negotiation_reject(g, c, n, why, SBE_NEGOTIATION_REJECT_CODE_CREDENTIALS);
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
    uint16_t why = gw_sec_logon(g, c, c->session, SBE_ESTABLISH_TEMPLATE_ID, e->timestamp_ns,
                                e->credentials, e->credentials_length);
    if (why != ENG_OK) {
        fixp_establishment_reject(g, c, e, why, SBE_ESTABLISHMENT_REJECT_CODE_CREDENTIALS);
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
    /* FIXP Idempotent flow: the client's nextSeqNo may skip ahead (messages it chose not to
     * send), never back: lowering the expected number would execute a resent message twice. */
    if (e->next_seq_no != SBE_OPTIONAL_SEQ_NUM_NULL && e->next_seq_no > s->flow->next_in_seq) {
        s->flow->next_in_seq = e->next_seq_no;
        gw_store_owe(g);            /* synced before the EstablishmentAck leaves (gw_store.c P2) */
    }
    if (!s->flow->established_once) {
        s->flow->established_once = 1;
        gw_store_owe(g);
        s->tokens = s->cfg->throttle_msgs_per_s;
        s->tokens_ns = g->now_ns;
    }
    sbe_msg_t m = {.template_id = SBE_ESTABLISHMENT_ACK_TEMPLATE_ID};
    m.body.establishment_ack = (sbe_establishment_ack_t){
        .session_id = e->session_id, .request_timestamp_ns = e->timestamp_ns,
        .next_seq_no = s->flow->next_out_seq, .keepalive_interval_ms = e->keepalive_interval_ms};
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
    gw_sec_note(g, c->session, GW_SEC_RULE_SEQUENCE);     /* a retransmit flood is abuse too */
    uint64_t oldest = s->flow->next_out_seq > kept ? s->flow->next_out_seq - kept : 1;
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
    /* By subtraction: from + count can wrap past 2^64 - 1 and look in range. */
    if (r->count == 0 || r->from_seq_no < oldest || r->from_seq_no >= s->flow->next_out_seq ||
        r->count > s->flow->next_out_seq - r->from_seq_no) {
        fixp_retransmit_reject(g, c, r, ENG_GW_RETRANSMIT_RANGE,
                               SBE_RETRANSMIT_REJECT_CODE_OUT_OF_RANGE);
        return;
    }
    sbe_msg_t m = {.template_id = SBE_RETRANSMISSION_TEMPLATE_ID};
    m.body.retransmission = (sbe_retransmission_t){
        .session_id = r->session_id, .request_timestamp_ns = r->timestamp_ns,
        .next_seq_no = r->from_seq_no, .count = r->count};
    fixp_send_session(g, c, &m);
    for (uint64_t i = 0; i < r->count && !c->closing; i++) {
        uint64_t q = r->from_seq_no + i;
        const uint8_t *slot = s->log + (q & (kept - 1)) * GW_LOG_SLOT_BYTES;
        gw_log_slot_hdr_t h;
        memcpy(&h, slot, sizeof h);
        gw_conn_send(g, c, slot + sizeof h, h.len);
    }
}

void fixp_session_unbound(gw_t *g, int32_t session, int was_established)
{
    gw_session_t *s = &g->sessions[session];
    /* The cancels are marked now and written as the ring has room (gw_sweep.c); with the engine
     * dead they wait, and gw_resume sends them to its successor. */
    if (was_established && s->cfg->cancel_on_disconnect)
        gw_sweep_mark(g, session, 0, SBE_OPTIONAL_ACCOUNT_ID_NULL, GW_OWED_COD);
}

/* Inbound sequencing of an application message, then application entry. */
static void fixp_app_message(gw_t *g, gw_conn_t *c, const sbe_msg_t *m)
{
    gw_session_t *s = &g->sessions[c->session];
    /* Every application message starts with seqNum, sendingTimeNs, clOrdId. */
    uint64_t seq = m->body.new_order_single.seq_num;
    uint64_t cl = m->body.new_order_single.cl_ord_id;
    if (seq != s->flow->next_in_seq)    /* a gap or a duplicate: sequence abuse when repeated */
        gw_sec_note(g, c->session, GW_SEC_RULE_SEQUENCE);
    if (seq < s->flow->next_in_seq) {
        gw_out_bmr(g, c->session, seq, cl, m->template_id, ENG_GW_SEQ_TOO_LOW,
                   SBE_BUSINESS_REJECT_REASON_OTHER);
        return;
    }
    if (seq == UINT64_MAX) {        /* no successor: the expected number would wrap to 0 */
        gw_out_bmr(g, c->session, seq, cl, m->template_id, ENG_GW_VALUE_RANGE,
                   SBE_BUSINESS_REJECT_REASON_OTHER);
        return;
    }
    /* Idempotent flow: a gap means the client chose not to send those; nothing to recover.
     * gw_store.c P3: a restart after a power loss counts the journaled requests past the
     * durable store, so the gap is raised and made durable before this one is taken, as is
     * whatever a request taken since the last sync did other than write one request command. */
    gw_flow_t *f = s->flow;
    if (seq > f->next_in_seq) {
        f->next_in_seq = seq;
        gw_store_owe(g);
    }
    gw_store_settle(g);
    /* gw_store.c S2: the message is in doubt from before it is taken until its effect is
     * complete, so a gateway restarted in between can tell whether it took effect. */
    const uint64_t cmds_before = f->req_cmds;
    f->doubt_out_seq = f->next_out_seq;
    f->doubt_req_cmds = f->req_cmds;
    f->doubt_cl_ord_id = cl;
    f->doubt_template = m->template_id;
    gw_store_order(g);
    f->doubt_in_seq = seq;
    gw_store_order(g);
    f->next_in_seq = seq + 1;
    gw_store_order(g);
    gw_entry_message(g, c, m);
    gw_store_order(g);
    f->doubt_in_seq = 0;
    gw_store_order(g);
    if (f->req_cmds != cmds_before + 1)
        gw_store_owe(g);            /* P3: not one request command (a reject, a mass cancel) */
}

static int fixp_is_app_inbound(uint16_t tid)
{
    return tid >= SBE_NEW_ORDER_SINGLE_TEMPLATE_ID && tid <= SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID;
}

/* The seqNum and clOrdId of an inbound application frame the decoder refused, when its header
 * was readable and its root block holds them (every application message starts with seqNum,
 * sendingTimeNs, clOrdId): a reject then names the message it refuses. */
static void fixp_readable_ids(const uint8_t *buf, uint32_t len, uint64_t *seq, uint64_t *id)
{
    const uint32_t body = SBE_SOFH_LENGTH + SBE_HEADER_LENGTH;
    uint16_t block;
    memcpy(&block, buf + SBE_SOFH_LENGTH, 2);   /* SBE header: blockLength first */
    if (len < body + 24 || block < 24)
        return;
    memcpy(seq, buf + body, 8);
    memcpy(id, buf + body + 16, 8);
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
            uint64_t ref_seq = 0, ref_id = 0;
            fixp_readable_ids(buf, len, &ref_seq, &ref_id);
            gw_out_bmr(g, c->session, ref_seq, ref_id, m.template_id, (uint16_t)rc,
                     rc == ENG_GW_UNKNOWN_TEMPLATE ? SBE_BUSINESS_REJECT_REASON_UNSUPPORTED_MESSAGE_TYPE
                                                   : SBE_BUSINESS_REJECT_REASON_OTHER);
            return 0;
        }
        gw_conn_terminate(g, c, SBE_TERMINATION_CODE_DECODING_ERROR, (uint16_t)rc);
        return 0;
    }
    if (c->state == GW_CONN_ESTABLISHED && fixp_is_app_inbound(m.template_id) &&
        !gw_entry_room(g, m.template_id))
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
            gw_out_bmr(g, c->session, 0, 0, m.template_id, ENG_GW_UNKNOWN_TEMPLATE,
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
        if (c->state == GW_CONN_ESTABLISHED && gw_sec_disconnect_due(g, c->session)) {
            gw_conn_terminate(g, c, SBE_TERMINATION_CODE_UNSPECIFIED_ERROR,
                              ENG_GW_SECURITY_DISCONNECT);
            continue;
        }
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
            m.body.sequence.next_seq_no = g->sessions[c->session].flow->next_out_seq;
            fixp_send_session(g, c, &m);
        }
    }
}
