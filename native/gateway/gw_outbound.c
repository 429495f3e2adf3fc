/*
 * gw_outbound.c - each session's outbound application flow: every report, reject and mass-cancel
 * report gets the session's next seqNum, is kept in its retransmission log and is sent when a
 * connection is established on the session; with none, it waits in the log for a reconnect and a
 * RetransmitRequest.
 * Invariant: a session's outbound seqNums are 1, 2, 3 ... with no gap; the log keeps the last
 * out_log_msgs of them (in the flow store when the gateway has one, gw_store.c, so they
 * outlive a gateway restart too; else in memory, outliving an engine crash only).
 * A message made from an engine event (g->cur_evt_seq set) is a pure function of the event and
 * the flow before it, but for its sendingTime (its execID comes from the event: gw_store.c P1),
 * so the store need not be durable before it leaves; any other marks the store owed a sync (P2).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <time.h>

#include "gw_internal.h"

int64_t gw_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* 1 if the engine event being reported already gave this session its message: a restart
 * replaying the journal (gw_restore.c) passes again over events the dead run reported. */
static int gw_out_logged_already(const gw_t *g, const gw_flow_t *f)
{
    return g->restoring && (g->cur_evt_seq < f->last_evt_seq ||
                            (g->cur_evt_seq == f->last_evt_seq && g->cur_evt_sub <= f->last_evt_sub));
}

void gw_out_send(gw_t *g, int32_t session, gw_encode_fn encode, const void *ctx)
{
    gw_session_t *s = &g->sessions[session];
    gw_flow_t *f = s->flow;
    if (g->cur_evt_seq && gw_out_logged_already(g, f))
        return;
    uint64_t seq = f->next_out_seq;
    uint8_t *slot = s->log + (seq & (g->cfg->out_log_msgs - 1)) * GW_LOG_SLOT_BYTES;
    const uint32_t at = sizeof(gw_log_slot_hdr_t);
    int n = encode(slot + at, GW_LOG_SLOT_BYTES - at, seq, gw_realtime_ns(), ctx);
    if (n <= 0)
        return;                     /* cannot happen for the gateway's own well-formed reports */
    gw_log_slot_hdr_t h = {.len = (uint16_t)n, .evt_sub = g->cur_evt_sub,
                           .evt_seq = g->cur_evt_seq};
    memcpy(slot, &h, sizeof h);
    /* gw_store.c S1: the slot, then the commit, then the event it reports. */
    gw_store_order(g);
    f->next_out_seq = seq + 1;
    gw_store_order(g);
    if (g->cur_evt_seq) {
        /* Test hook for the window between the commit and the note, which a restart closes
         * from the slot's header (gw_restore.c). Off (0) unless a test sets it. */
        if (g->die_before_event_note && --g->die_before_event_note == 0)
            raise(SIGKILL);
        f->last_evt_seq = g->cur_evt_seq;
        f->last_evt_sub = g->cur_evt_sub;
    } else {
        gw_store_owe(g);            /* gw_store.c P2: no journal can make this one again */
    }
    g->stats->reports++;
    if (s->conn >= 0 && g->conns[s->conn].state == GW_CONN_ESTABLISHED)
        gw_conn_send(g, &g->conns[s->conn], slot + at, h.len);
}

/* The reason's one-line text for a reject: the codec's own errors only (the gateway's session
 * codes >= 940 say enough by their number). */
static void gw_out_copy_text(uint8_t *dst, uint16_t *len, uint16_t reason)
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

typedef struct gw_bmr_ctx {
    uint64_t ref_seq, ref_id;
    uint16_t ref_template, reason;
    uint8_t code;
} gw_bmr_ctx_t;

static int gw_encode_bmr(uint8_t *buf, size_t cap, uint64_t seq, int64_t now, const void *p)
{
    const gw_bmr_ctx_t *x = p;
    sbe_business_message_reject_t m = {.seq_num = seq, .sending_time_ns = (uint64_t)now,
                                       .ref_seq_num = x->ref_seq,
                                       .business_reject_ref_id = x->ref_id,
                                       .ref_template_id = x->ref_template,
                                       .reason_code = x->reason,
                                       .business_reject_reason = x->code};
    gw_out_copy_text(m.text, &m.text_length, x->reason);
    return sbe_encode_business_message_reject(buf, cap, &m);
}

void gw_out_bmr(gw_t *g, int32_t session, uint64_t ref_seq, uint64_t ref_id,
                uint16_t ref_template, uint16_t reason, uint8_t code)
{
    gw_bmr_ctx_t x = {ref_seq, ref_id, ref_template, reason, code};
    g->stats->business_rejects++;
    gw_out_send(g, session, gw_encode_bmr, &x);
    if (reason != ENG_GW_SECURITY_THROTTLED && reason != ENG_GW_SECURITY_DISCONNECT)
        gw_sec_note(g, session, GW_SEC_RULE_REJECTS);   /* not its own: no feedback loop */
}

static int gw_encode_ocr(uint8_t *buf, size_t cap, uint64_t seq, int64_t now, const void *p)
{
    const gw_ocr_t *x = p;
    sbe_order_cancel_reject_t m = {.seq_num = seq, .sending_time_ns = (uint64_t)now,
                                   .transact_time_ns = x->transact_ns ? x->transact_ns
                                                                      : (uint64_t)now,
                                   .order_id = x->order_id, .cl_ord_id = x->cl_ord_id,
                                   .instrument_id = x->instrument_id, .reason_code = x->reason,
                                   .cxl_rej_response_to = x->response_to,
                                   .cxl_rej_reason = x->cxl_reason};
    return sbe_encode_order_cancel_reject(buf, cap, &m);
}

void gw_out_ocr(gw_t *g, int32_t session, const gw_ocr_t *x)
{
    gw_out_send(g, session, gw_encode_ocr, x);
    gw_sec_note(g, session, GW_SEC_RULE_REJECTS);
}
