/*
 * gw_engine.c - the gateway's side of the engine: replies off its reply ring (the commands go on
 * through gw_submit.c), and the broadcast event log turned into ExecutionReports,
 * OrderCancelRejects and OrderMassCancelReports for the sessions that own the orders.
 * Invariant: an event is attributed to one of our commands only once that command's reply (which
 * carries its seq) has been read; the engine publishes a command's events before committing its
 * reply, so an event newer than every reply read is held back while any command of ours is
 * unanswered. Events about orders are matched by engine order id, which this gateway picked.
 */
#include <string.h>

#include "gw_internal.h"
#include "hdr_recorder.h"

int gw_mass_open(gw_t *g, int32_t session, uint64_t cl_ord_id, uint32_t instrument_id,
                 uint32_t account_id)
{
    for (uint32_t i = 0; i < GW_MASS_SLOTS; i++) {
        if (g->mass[i].transact_ns == 0) {      /* 0 marks a free slot */
            uint32_t ms = g->cfg->mass_cancel_timeout_ms ? g->cfg->mass_cancel_timeout_ms
                                                         : GW_MASS_TIMEOUT_MS_DEFAULT;
            g->mass[i] = (gw_mass_t){.session = session, .cl_ord_id = cl_ord_id,
                                     .instrument_id = instrument_id, .account_id = account_id,
                                     .transact_ns = gw_realtime_ns(),
                                     .deadline_ns = g->now_ns + (int64_t)ms * 1000000};
            gw_store_mass_put(g, i);
            return (int)i;
        }
    }
    return -1;
}

typedef struct gw_mass_report {
    const gw_mass_t *mass;
    uint16_t reason;
} gw_mass_report_t;

static int gw_encode_mass(uint8_t *buf, size_t cap, uint64_t seq, int64_t now, const void *p)
{
    const gw_mass_report_t *r = p;
    const gw_mass_t *x = r->mass;
    sbe_order_mass_cancel_report_t m = {
        .seq_num = seq, .sending_time_ns = (uint64_t)now, .transact_time_ns = (uint64_t)now,
        .cl_ord_id = x->cl_ord_id, .total_affected_orders = x->affected,
        .instrument_id = x->instrument_id, .account_id = x->account_id, .reason_code = r->reason,
        .mass_cancel_response = r->reason == ENG_OK ? SBE_MASS_CANCEL_RESPONSE_ACCEPTED
                                                    : SBE_MASS_CANCEL_RESPONSE_REJECTED};
    return sbe_encode_order_mass_cancel_report(buf, cap, &m);
}

static void gw_mass_finish(gw_t *g, uint32_t m, uint16_t reason)
{
    gw_mass_t x = g->mass[m];
    gw_store_mass_answering(g, m, g->sessions[x.session].flow->next_out_seq);
    memset(&g->mass[m], 0, sizeof g->mass[m]);
    gw_mass_report_t r = {&x, reason};
    gw_out_send(g, x.session, gw_encode_mass, &r);
    gw_store_mass_put(g, m);        /* free once its report is logged (gw_store.c S1) */
    /* gw_store.c P2 even when an event finished it: its total counts the marks, which no
     * journal holds, so the report is durable before it leaves. */
    gw_store_owe(g);
}

void gw_mass_marked(gw_t *g, uint32_t m, uint32_t count)
{
    g->mass[m].remaining = count;
    if (count == 0)
        gw_mass_finish(g, m, ENG_OK);
}

void gw_mass_expire_one(gw_t *g, uint32_t m)
{
    /* Its owed orders pass to the no-report owner before the slot is freed: a later mass
     * cancel reusing the slot must not count them. */
    gw_session_t *s = &g->sessions[g->mass[m].session];
    gw_order_t *o;
    for (uint64_t id = s->orders_head; (o = gw_orders_find(&g->orders, id)); id = o->sess_next)
        if (o->owed == m + 1)
            o->owed = GW_OWED_COD;
    gw_mass_finish(g, m, ENG_GW_MASS_CANCEL_UNFINISHED);
}

uint32_t gw_mass_expire(gw_t *g)
{
    uint32_t answered = 0;
    for (uint32_t m = 0; m < GW_MASS_SLOTS; m++) {
        if (g->mass[m].transact_ns == 0 || g->now_ns < g->mass[m].deadline_ns)
            continue;
        gw_mass_expire_one(g, m);
        answered++;
    }
    return answered;
}

/* Order o, owed a cancel, needs it no more (it left the table, or its cancel is done). */
static void gw_owed_release(gw_t *g, gw_order_t *o)
{
    uint32_t owner = o->owed;
    o->owed = 0;
    if (owner == GW_OWED_COD || owner == 0 || owner > GW_MASS_SLOTS)
        return;
    gw_mass_t *x = &g->mass[owner - 1];
    if (x->transact_ns && x->remaining && --x->remaining == 0)
        gw_mass_finish(g, owner - 1, ENG_OK);
}

static int gw_encode_er(uint8_t *buf, size_t cap, uint64_t seq, int64_t now, const void *p)
{
    sbe_execution_report_t m = *(const sbe_execution_report_t *)p;
    m.seq_num = seq;
    m.sending_time_ns = (uint64_t)now;
    return sbe_encode_execution_report(buf, cap, &m);
}

static uint8_t gw_cxl_reason(uint16_t reason)
{
    return reason == ENG_REJ_UNKNOWN_ORDER ? SBE_CXL_REJ_REASON_UNKNOWN_ORDER
           : reason == ENG_REJ_OFF_TICK    ? SBE_CXL_REJ_REASON_INVALID_PRICE_INCREMENT
                                           : SBE_CXL_REJ_REASON_OTHER;
}

static int64_t gw_opt(int64_t v, int present)
{
    return present ? v : SBE_OPTIONAL_PRICE_NULL;
}

/* The execID of a report: made from the key of the event it reports, (seq << 24) | index * 2
 * + trade leg, so a restart that makes the report again from the journal makes the same one
 * (gw_store.c P1); a report no event made (959 of a command the engine never sequenced) counts
 * on from cfg->first_exec_id with the top bit set, a space the event keys never reach. */
static uint64_t gw_exec_id(gw_t *g)
{
    if (g->cur_evt_seq)
        return (g->cur_evt_seq << 24) | (g->cur_evt_sub & 0xFFFFFFu);
    return (1ull << 63) | g->next_exec_id++;
}

/* An ExecutionReport skeleton from our copy of the order. */
static sbe_execution_report_t gw_er(gw_t *g, const gw_order_t *o, const eng_evt_t *e,
                                    uint8_t exec_type, uint8_t ord_status)
{
    sbe_execution_report_t m;
    memset(&m, 0, sizeof m);
    m.transact_time_ns = (uint64_t)e->hdr.ts_ns;
    m.order_id = o->order_id;
    m.cl_ord_id = o->cl_ord_id;
    m.exec_id = gw_exec_id(g);
    m.trade_id = SBE_TRADE_ID_NULL;
    m.price = gw_opt(o->price, o->ord_type == ENG_ORD_LIMIT || o->ord_type == ENG_ORD_STOP_LIMIT);
    m.stop_px = gw_opt(o->stop_px, o->ord_type == ENG_ORD_STOP || o->ord_type == ENG_ORD_STOP_LIMIT);
    m.order_qty = o->order_qty;
    m.display_qty = o->display_qty ? o->display_qty : SBE_OPTIONAL_QTY_NULL;
    m.last_px = SBE_OPTIONAL_PRICE_NULL;
    m.last_qty = SBE_OPTIONAL_QTY_NULL;
    m.leaves_qty = o->leaves_qty;
    m.cum_qty = o->cum_qty;
    m.instrument_id = o->instrument_id;
    m.account_id = o->account_id;
    m.reason_code = e->hdr.reason;
    m.exec_type = exec_type;
    m.ord_status = ord_status;
    m.side = o->side;
    m.ord_type = o->ord_type;
    m.time_in_force = o->tif;
    m.aggressor = SBE_BOOLEAN_FLAG_FALSE;
    return m;
}

static uint8_t gw_working_status(const gw_order_t *o)
{
    return o->cum_qty > 0 ? SBE_ORD_STATUS_PARTIALLY_FILLED : SBE_ORD_STATUS_NEW;
}

static void gw_order_gone(gw_t *g, gw_order_t *o)
{
    gw_session_t *s = &g->sessions[o->session];
    if (s->live_orders)
        s->live_orders--;
    if (s->sweep_at == o->order_id)
        s->sweep_at = o->sess_next;     /* the sweep's place stays in the chain */
    if (o->owed)
        gw_owed_release(g, o);
    gw_done_remember(g, o);
    gw_orders_chain_unlink(&g->orders, &s->orders_head, &s->orders_tail, o);
    gw_orders_remove(&g->orders, o);
}

static void gw_on_trade_side(gw_t *g, const eng_evt_t *e, uint64_t order_id, int64_t leaves,
                             uint8_t side)
{
    gw_order_t *o = gw_orders_find(&g->orders, order_id);
    if (!o)
        return;
    o->cum_qty += e->trade.qty;
    o->leaves_qty = leaves;
    sbe_execution_report_t m = gw_er(g, o, e, SBE_EXEC_TYPE_TRADE,
                                     leaves == 0 ? SBE_ORD_STATUS_FILLED
                                                 : SBE_ORD_STATUS_PARTIALLY_FILLED);
    m.trade_id = e->trade.trade_id;
    m.last_px = e->trade.price;
    m.last_qty = e->trade.qty;
    m.aggressor = e->trade.aggressor_side == side ? SBE_BOOLEAN_FLAG_TRUE : SBE_BOOLEAN_FLAG_FALSE;
    m.reason_code = ENG_OK;
    gw_out_send(g, o->session, gw_encode_er, &m);
    gw_sec_fill(g, o->session);
    if (leaves == 0)
        gw_order_gone(g, o);
}

static void gw_on_rejected(gw_t *g, const eng_evt_t *e, const gw_pending_t *p)
{
    gw_order_t *o;
    if (!p)
        return;
    if (p->kind == GW_P_NEW && (o = gw_orders_find(&g->orders, p->order_id))) {
        o->leaves_qty = 0;
        sbe_execution_report_t m = gw_er(g, o, e, SBE_EXEC_TYPE_REJECTED, SBE_ORD_STATUS_REJECTED);
        gw_out_send(g, o->session, gw_encode_er, &m);
        gw_sec_note(g, o->session, GW_SEC_RULE_REJECTS);
        gw_order_gone(g, o);
    } else if (p->kind == GW_P_CANCEL || p->kind == GW_P_REPLACE) {
        gw_ocr_t x = {p->order_id, p->cl_ord_id, (uint64_t)e->hdr.ts_ns, e->hdr.instrument_id,
                      e->hdr.reason,
                      p->kind == GW_P_CANCEL ? SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REQUEST
                                             : SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REPLACE_REQUEST,
                      gw_cxl_reason(e->hdr.reason)};
        gw_out_ocr(g, p->session, &x);
    }                               /* an owed cancel's refusal: nothing to tell (gone already) */
}

static void gw_on_cancelled(gw_t *g, const eng_evt_t *e, const gw_pending_t *p)
{
    gw_order_t *o = gw_orders_find(&g->orders, e->cancelled.order_id);
    if (!o)
        return;
    o->leaves_qty = e->cancelled.leaves_qty;
    if (p && p->kind == GW_P_CANCEL && p->order_id == o->order_id)
        o->cl_ord_id = p->cl_ord_id;    /* FIX: the cancel's ClOrdID names the result */
    if (p && p->kind == GW_P_MASS_PART && p->order_id == o->order_id && o->owed == p->mass + 1) {
        g->mass[p->mass].affected++;    /* still its mass cancel's (not expired, gw_mass_expire) */
        gw_store_mass_put(g, p->mass);
        /* gw_store.c P2: the count is the gateway's own (a restart counts the journal's owed
         * cancels as cancel-on-disconnect's), so it is durable before this report leaves. */
        gw_store_owe(g);
    }
    sbe_execution_report_t m = gw_er(g, o, e, SBE_EXEC_TYPE_CANCELED,
                                     o->leaves_qty == 0 ? SBE_ORD_STATUS_CANCELED
                                                        : gw_working_status(o));
    m.last_qty = e->cancelled.cancelled_qty;
    gw_out_send(g, o->session, gw_encode_er, &m);
    if (o->leaves_qty == 0)
        gw_order_gone(g, o);
}

static void gw_on_replaced(gw_t *g, const eng_evt_t *e, const gw_pending_t *p)
{
    gw_order_t *o = gw_orders_find(&g->orders, e->replaced.order_id);
    if (!o)
        return;
    if (p && p->kind == GW_P_REPLACE && p->order_id == o->order_id)
        o->cl_ord_id = p->cl_ord_id;
    o->price = e->replaced.price;
    o->leaves_qty = e->replaced.leaves_qty;
    o->order_qty = o->cum_qty + o->leaves_qty;
    sbe_execution_report_t m = gw_er(g, o, e, SBE_EXEC_TYPE_REPLACED, gw_working_status(o));
    if (o->display_qty)
        m.display_qty = e->replaced.display_qty;
    gw_out_send(g, o->session, gw_encode_er, &m);
}

static void gw_on_expired(gw_t *g, const eng_evt_t *e)
{
    gw_order_t *o = gw_orders_find(&g->orders, e->expired.order_id);
    if (!o)
        return;
    o->leaves_qty = 0;
    sbe_execution_report_t m = gw_er(g, o, e, SBE_EXEC_TYPE_EXPIRED, SBE_ORD_STATUS_EXPIRED);
    m.last_qty = e->expired.expired_qty;
    gw_out_send(g, o->session, gw_encode_er, &m);
    gw_order_gone(g, o);
}

static void gw_on_triggered(gw_t *g, const eng_evt_t *e)
{
    gw_order_t *o = gw_orders_find(&g->orders, e->triggered.order_id);
    if (!o)
        return;
    sbe_execution_report_t m = gw_er(g, o, e, SBE_EXEC_TYPE_TRIGGERED, gw_working_status(o));
    m.last_px = e->triggered.last_trade_price;
    m.reason_code = ENG_OK;
    gw_out_send(g, o->session, gw_encode_er, &m);
}

/* One event; p is our command that caused it, or NULL. */
static void gw_on_event(gw_t *g, const eng_evt_t *e, const gw_pending_t *p)
{
    gw_order_t *o;
    switch (e->hdr.type) {
    case ENG_EVT_ACCEPTED:
        if ((o = gw_orders_find(&g->orders, e->accepted.order_id))) {
            sbe_execution_report_t m = gw_er(g, o, e, SBE_EXEC_TYPE_NEW, SBE_ORD_STATUS_NEW);
            gw_out_send(g, o->session, gw_encode_er, &m);
        }
        return;
    case ENG_EVT_REJECTED:
        gw_on_rejected(g, e, p);
        return;
    case ENG_EVT_TRADE:
        gw_on_trade_side(g, e, e->trade.buy_order_id, e->trade.buy_leaves_qty, ENG_SIDE_BUY);
        g->cur_evt_sub |= 1;        /* the second leg's message has a key of its own */
        gw_on_trade_side(g, e, e->trade.sell_order_id, e->trade.sell_leaves_qty, ENG_SIDE_SELL);
        return;
    case ENG_EVT_CANCELLED:
        gw_on_cancelled(g, e, p);
        return;
    case ENG_EVT_REPLACED:
        gw_on_replaced(g, e, p);
        return;
    case ENG_EVT_EXPIRED:
        gw_on_expired(g, e);
        return;
    case ENG_EVT_TRIGGERED:
        gw_on_triggered(g, e);
        return;
    default:
        return;                     /* book levels, phases, auctions, acks: not order reports */
    }
}

void gw_engine_not_executed(gw_t *g, const gw_pending_t *p, int64_t ts_ns)
{
    eng_evt_t e;
    memset(&e, 0, sizeof e);
    e.hdr.ts_ns = ts_ns;
    e.hdr.reason = ENG_GW_ENGINE_GONE;
    gw_order_t *o;
    if (p->kind == GW_P_NEW && (o = gw_orders_find(&g->orders, p->order_id))) {
        o->leaves_qty = 0;
        e.hdr.instrument_id = o->instrument_id;
        sbe_execution_report_t m = gw_er(g, o, &e, SBE_EXEC_TYPE_REJECTED, SBE_ORD_STATUS_REJECTED);
        gw_out_send(g, o->session, gw_encode_er, &m);
        gw_order_gone(g, o);
    } else if (p->kind == GW_P_CANCEL || p->kind == GW_P_REPLACE) {
        o = gw_orders_find(&g->orders, p->order_id);
        gw_ocr_t x = {p->order_id, p->cl_ord_id, (uint64_t)ts_ns, o ? o->instrument_id : 0,
                      ENG_GW_ENGINE_GONE,
                      p->kind == GW_P_CANCEL ? SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REQUEST
                                             : SBE_CXL_REJ_RESPONSE_TO_ORDER_CANCEL_REPLACE_REQUEST,
                      SBE_CXL_REJ_REASON_OTHER};
        gw_out_ocr(g, p->session, &x);
    } else if ((p->kind == GW_P_MASS_PART || p->kind == GW_P_COD) &&
               (o = gw_orders_find(&g->orders, p->order_id)) && o->owed) {
        gw_sweep_resend(g, o);      /* still owed: the sweep writes it to the new engine */
    }
}

static void gw_pending_done(gw_t *g, gw_pending_t *p)
{
    if (p->done)
        return;
    p->done = 1;
    gw_order_t *o;
    /* An owed cancel that is done but left its order live (the engine refused it: it never knew
     * the order) owes nothing more: the count must reach 0 for the report to go out. */
    if ((p->kind == GW_P_MASS_PART || p->kind == GW_P_COD) &&
        (o = gw_orders_find(&g->orders, p->order_id)) && o->owed && o->cancel_sent)
        gw_owed_release(g, o);
}

static int gw_read_replies(gw_t *g)
{
    int n = 0;
    int32_t type;
    uint32_t length;
    int32_t off;
    while (g->p_answered != g->p_head && (off = ring_spsc_peek(g->cfg->reply, &type, &length)) >= 0) {
        ring_reply_t r;
        memcpy(&r, g->cfg->reply->data + off, sizeof r);
        ring_spsc_consume(g->cfg->reply);
        if (r.seq && r.seq <= g->stale_reply_seq) {
            n++;                    /* a dead previous owner's of this producer slot */
            continue;
        }
        gw_pending_t *p = &g->pending[g->p_answered & (GW_PENDING_CAP - 1)];
        p->seq = r.seq;
        p->event_count = r.event_count;
        p->lat_e2p_ns = r.enqueue_to_published_ns;
        if (r.seq)
            g->last_answered_seq = r.seq;
        g->p_answered++;
        n++;
        if (r.event_count == 0)
            gw_pending_done(g, p);
    }
    if (n)
        ring_spsc_release(g->cfg->reply);
    return n;
}

/* Latency: the first event of a stamped command was handled, its report queued; the transmit
 * stamp comes after the flush pass (gw_engine_lat_transmitted), or now if the list is full. */
static void gw_lat_reported(gw_t *g, gw_pending_t *p)
{
    if (g->lat_tx_count == GW_LAT_TX_CAP)
        gw_engine_lat_transmitted(g);
    g->lat_tx[g->lat_tx_count].rx = p->lat_rx;
    g->lat_tx[g->lat_tx_count].enqueue = p->lat_enqueue;
    g->lat_tx[g->lat_tx_count].e2p_ns = p->lat_e2p_ns;
    g->lat_tx_count++;
    p->lat_rx = 0;
}

void gw_engine_lat_transmitted(gw_t *g)
{
    if (g->lat_tx_count == 0)
        return;
    uint64_t now = hdr_now();
    const hdr_hist_t *pt = &g->lat[HDR_STAGE_PUBLISHED_TO_TRANSMIT];
    for (uint32_t i = 0; i < g->lat_tx_count; i++) {
        /* (transmit - enqueue) - (published - enqueue): the engine's stamps never come here,
         * only its interval, converted with the same calibration (one clock per venue). */
        uint64_t enq = g->lat_tx[i].enqueue;
        int64_t since_enqueue =
            now > enq ? (int64_t)hdr_ticks_to_ns_with(now - enq, pt->ns_mult, pt->ns_shift) : 0;
        hdr_hist_record(pt, since_enqueue - (int64_t)g->lat_tx[i].e2p_ns);
        hdr_hist_record_ticks(&g->lat[HDR_STAGE_END_TO_END], g->lat_tx[i].rx, now);
    }
    g->lat_tx_count = 0;
}

/* Our command that caused an event of seq `seq`, or NULL; retires older answered commands. */
static gw_pending_t *gw_attribute(gw_t *g, uint64_t seq)
{
    while (g->p_tail != g->p_answered) {
        gw_pending_t *p = &g->pending[g->p_tail & (GW_PENDING_CAP - 1)];
        if (p->seq == seq)
            return p;
        if (p->seq > seq)
            return NULL;
        gw_pending_done(g, p);      /* its events are all behind us (or were lapped away) */
        g->p_tail++;
    }
    return NULL;
}

int gw_engine_poll(gw_t *g)
{
    int work = gw_read_replies(g);
    for (int budget = 256; budget > 0; budget--) {
        eng_evt_t e;
        if (g->held) {
            e = g->held_evt;
        } else {
            int32_t type;
            uint32_t length;
            int rc = ring_bcast_receive(g->cfg->events, &e, sizeof e, &type, &length);
            if (rc == RING_LAPPED) {
                g->stats->lapped++;
                continue;
            }
            if (rc != 1)
                break;
            if (type != RING_MSG_ENG_EVT || length != sizeof e)
                continue;
            if (e.hdr.seq <= g->skip_through_seq)
                continue;           /* replayed from the journal by gw_restore already */
        }
        if (e.hdr.seq > g->last_answered_seq && gw_engine_in_flight(g)) {
            g->held = 1;
            g->held_evt = e;
            work += gw_read_replies(g);
            if (e.hdr.seq > g->last_answered_seq && gw_engine_in_flight(g))
                break;              /* its reply is about to be committed: try next pass */
        }
        g->held = 0;
        work++;
        gw_engine_apply(g, &e);
    }
    gw_engine_retire(g);
    return work;
}

void gw_engine_report(gw_t *g, const eng_evt_t *e, uint32_t index, const gw_pending_t *p)
{
    g->cur_evt_seq = e->hdr.seq;    /* its messages carry (seq, index * 2 + leg): gw_outbound.c */
    g->cur_evt_sub = index * 2;
    gw_on_event(g, e, p);
    g->cur_evt_seq = 0;
    g->cur_evt_sub = 0;
}

void gw_engine_apply(gw_t *g, const eng_evt_t *e)
{
    gw_pending_t *p = gw_attribute(g, e->hdr.seq);
    gw_engine_report(g, e, e->hdr.seq == g->evt_seq ? g->evt_index : 0, p);
    if (p && p->lat_rx)
        gw_lat_reported(g, p);
    if (p && ++p->events_seen >= p->event_count)
        gw_pending_done(g, p);
    if (e->hdr.seq == g->evt_seq) {
        g->evt_index++;
    } else {
        g->evt_seq = e->hdr.seq;
        g->evt_index = 1;
    }
}

void gw_engine_retire(gw_t *g)
{
    /* Commands whose events have all been seen leave the FIFO, so it never fills with them. */
    while (g->p_tail != g->p_answered && g->pending[g->p_tail & (GW_PENDING_CAP - 1)].done)
        g->p_tail++;
}

void gw_engine_retire_answered(gw_t *g)
{
    while (g->p_tail != g->p_answered) {
        gw_pending_done(g, &g->pending[g->p_tail & (GW_PENDING_CAP - 1)]);
        g->p_tail++;
    }
}
