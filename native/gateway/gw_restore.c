/*
 * gw_restore.c - a gateway whose process died (SIGKILL, crash; the engine alive, or restarted
 * from its journal as well) starts again from its flow store (gw_store.c) and the engine's
 * journal, so that every client reconnecting with Establish goes on where it was.
 *
 * What each source holds:
 *   the store: per session the sequence numbers (next_in_seq never goes back, so a resent
 *     message is refused 950, never executed twice), the outbound log (every message sent:
 *     retransmission), the key of the last engine event reported, the request being handled,
 *     the requests behind its last commands, the open mass cancels; and the first seq at which
 *     this gateway's commands can be journaled, its order id prefix, its last producer slot.
 *   the journal: every command this gateway wrote that the engine sequenced, each tagged with
 *     its session (eng_cmd_hdr_t.session; ours: tag != 0 and an order id of our prefix), and
 *     every event.
 * The restart replays the journal from the store's first seq to limit_seq through the same
 * reporting code as the live loop (gw_engine_report): our NEW commands put the orders in the
 * table, owner session included, and the events move them, so the table ends exactly as the
 * engine's book has them (an order acknowledged before the crash is its owner's to cancel).
 * The messages this replay makes are logged only past the session's last reported event key
 * (gw_outbound.c), so a fill the dead run reported is not sent twice and one it never saw (the
 * engine went on while the gateway was down) is logged for retransmission.
 *
 * Invariants after a restore: (1) every request the dead run took (seqNum below next_in_seq)
 * has exactly one answer: its command's reports if the command is journaled; else a
 * BusinessMessageReject 959 (never written, or written and lost with an engine that died too);
 * a request whose effect was a logged reject has it already; (2) every open mass cancel is
 * answered 965 with the orders it cancelled (its marks died with the process; the orders it
 * had not cancelled stay live and their owner's); (3) cancel-on-disconnect applies to every
 * session that had been established (its connection died with the process); (4) events up to
 * limit_seq are not read again from the log. The caller (gateway/orderentry/process.py) picks
 * limit_seq once the dead run's command ring is drained and the journal released what the
 * engine sequenced, so every command of the dead run is at or before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_internal.h"
#include "jrnl_cursor.h"

typedef struct gw_replay {
    jrnl_cursor_t cmds;
    jrnl_cmd_rec_t next;            /* the command record read ahead (valid while have_next) */
    int have_next;
    uint64_t limit;
    gw_pending_t cur;               /* our command of seq cur.seq (0: none) */
    uint64_t *req_seen;             /* per session: its request commands in the journal */
} gw_replay_t;

static uint64_t gw_restore_order_id(const eng_cmd_t *c)
{
    switch (c->hdr.type) {
    case ENG_CMD_NEW_ORDER:
        return c->new_order.order_id;
    case ENG_CMD_CANCEL:
        return c->cancel.order_id;
    case ENG_CMD_REPLACE:
        return c->replace.order_id;
    default:
        return 0;
    }
}

static int gw_restore_read_cmd(gw_replay_t *r)
{
    const uint8_t *rec;
    int rc = jrnl_cursor_next(&r->cmds, r->limit, 1, &rec);
    r->have_next = rc == 1;
    if (rc == 1)
        memcpy(&r->next, rec, sizeof r->next);
    return rc < 0 ? rc : 0;
}

/* Our NEW: the order goes into the table as gw_entry_new_order put it there. */
static int gw_restore_new(gw_t *g, const eng_new_order_t *c, int32_t session)
{
    gw_session_t *s = &g->sessions[session];
    gw_order_t o = {
        .order_id = c->order_id, .cl_ord_id = c->client_order_id, .price = c->price,
        .stop_px = c->stop_price, .order_qty = c->qty, .display_qty = c->display_qty,
        .leaves_qty = c->qty, .instrument_id = c->hdr.instrument_id, .account_id = c->account_id,
        .firm_id = s->cfg->firm_id, .session = session, .side = c->side,
        .ord_type = c->ord_type, .tif = c->tif};
    gw_order_t *stored = gw_orders_insert(&g->orders, &o);
    if (!stored)
        return -1;
    gw_orders_chain_append(&g->orders, &s->orders_head, &s->orders_tail, stored);
    s->live_orders++;
    return 0;
}

/* A request command of the session, the k-th in the journal: its note in the flow (when
 * still kept) gives the request's clOrdID, which a cancel or replace command does not carry. */
static void gw_restore_note(gw_t *g, gw_replay_t *r, int32_t session)
{
    const gw_flow_t *f = g->sessions[session].flow;
    uint64_t k = r->req_seen[session]++;
    if (k >= f->req_cmds || k + GW_REQ_NOTES <= f->req_cmds)
        return;                     /* not noted (or lost with a power loss), or written over */
    const uint32_t tid = f->reqs[k & (GW_REQ_NOTES - 1)].template_id;
    int same = r->cur.kind == GW_P_NEW ? tid == SBE_NEW_ORDER_SINGLE_TEMPLATE_ID
               : r->cur.kind == GW_P_CANCEL ? tid == SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID
                                            : tid == SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID;
    if (same)
        r->cur.cl_ord_id = f->reqs[k & (GW_REQ_NOTES - 1)].cl_ord_id;
}

/* One journaled command: ours becomes the pending context of its seq's events. */
static int gw_restore_command(gw_t *g, gw_replay_t *r, char *msg, uint32_t cap)
{
    const eng_cmd_t *c = &r->next.cmd;
    uint64_t order_id = gw_restore_order_id(c);
    uint32_t tag = c->hdr.session;
    if (tag == 0 || order_id >> 48 != g->order_id_prefix)
        return 0;                   /* another producer's */
    int32_t session = (int32_t)(tag & ENG_SESSION_TAG_INDEX_MASK) - 1;
    if (session < 0 || (uint32_t)session >= g->cfg->session_count) {
        snprintf(msg, cap, "journaled command seq %llu names session %d of %u: not this "
                 "gateway's journal", (unsigned long long)r->next.hdr.seq, session,
                 g->cfg->session_count);
        return -1;
    }
    int owed = (tag & ENG_SESSION_TAG_OWED) != 0;
    const gw_order_t *o = gw_orders_find(&g->orders, order_id);
    r->cur = (gw_pending_t){.seq = r->next.hdr.seq, .session = session, .order_id = order_id,
                            .cl_ord_id = o ? o->cl_ord_id : 0};
    if (c->hdr.type == ENG_CMD_NEW_ORDER) {
        r->cur.kind = GW_P_NEW;
        r->cur.cl_ord_id = c->new_order.client_order_id;
        if (gw_restore_new(g, &c->new_order, session) < 0) {
            snprintf(msg, cap, "the journal holds more live orders of this gateway than "
                     "--order-capacity allows");
            return -1;
        }
    } else {
        r->cur.kind = owed ? GW_P_COD : c->hdr.type == ENG_CMD_CANCEL ? GW_P_CANCEL
                                                                      : GW_P_REPLACE;
        /* The request's clOrdID, journaled with the command (0 from an older build: the
         * order's own, or the note below). */
        uint64_t cl = c->hdr.type == ENG_CMD_CANCEL ? c->cancel.client_order_id
                                                    : c->replace.client_order_id;
        if (!owed && cl)
            r->cur.cl_ord_id = cl;
    }
    if (!owed)
        gw_restore_note(g, r, session);
    return 0;
}

/* The journal from the store's first seq to the limit, commands and events merged by seq. */
static int gw_restore_replay(gw_t *g, gw_replay_t *r, const char *dir, char *msg, uint32_t cap)
{
    jrnl_cursor_t evts;
    uint64_t from = g->store->from_seq ? g->store->from_seq : 1;
    int rc = jrnl_cursor_open(&r->cmds, dir, JRNL_KIND_CMD);
    int erc = jrnl_cursor_open(&evts, dir, JRNL_KIND_EVT);
    if (rc == 0 && erc == 0 && (rc = jrnl_cursor_seek(&r->cmds, from)) >= 0 &&
        (rc = jrnl_cursor_seek(&evts, from)) >= 0)
        rc = gw_restore_read_cmd(r);
    const uint8_t *rec;
    while (rc >= 0 && erc == 0 && (rc = jrnl_cursor_next(&evts, r->limit, 1, &rec)) == 1) {
        const jrnl_evt_rec_t *ev = (const jrnl_evt_rec_t *)rec;
        while (rc >= 0 && r->have_next && r->next.hdr.seq <= ev->hdr.seq) {
            if (gw_restore_command(g, r, msg, cap) < 0)
                rc = -1;
            else
                rc = gw_restore_read_cmd(r);
        }
        if (rc < 0)
            break;
        eng_evt_t e;
        memcpy(&e, &ev->evt, sizeof e);
        gw_engine_report(g, &e, ev->hdr.index, r->cur.seq == e.hdr.seq ? &r->cur : NULL);
    }
    while (rc >= 0 && erc == 0 && r->have_next) {   /* commands without events: counted */
        rc = gw_restore_command(g, r, msg, cap) < 0 ? -1 : gw_restore_read_cmd(r);
    }
    if ((rc < 0 || erc < 0) && !msg[0])
        snprintf(msg, cap, "reading the journal in %s: %s%s", dir, r->cmds.message,
                 evts.message);
    jrnl_cursor_close(&evts);
    jrnl_cursor_close(&r->cmds);
    return rc < 0 || erc < 0 ? -1 : 0;
}

static void gw_restore_not_executed(gw_t *g, int32_t session, uint64_t in_seq, uint64_t cl_ord_id,
                                    uint32_t template_id)
{
    gw_out_bmr(g, session, in_seq, cl_ord_id, (uint16_t)template_id, ENG_GW_ENGINE_GONE,
               SBE_BUSINESS_REJECT_REASON_APPLICATION_NOT_AVAILABLE);
}

static int gw_restore_mass_recorded(const gw_t *g, int32_t session, uint64_t cl_ord_id)
{
    for (uint32_t m = 0; m < GW_MASS_SLOTS; m++)
        if (g->store->mass[m].session_plus1 == (uint32_t)session + 1 &&
            g->store->mass[m].cl_ord_id == cl_ord_id)
            return 1;
    return 0;
}

/* Invariant (1): the requests the dead run took and nothing answered. */
static void gw_restore_requests(gw_t *g, int32_t session, uint64_t req_seen)
{
    gw_flow_t *f = g->sessions[session].flow;
    /* The request commands next_in_seq counts already: req_cmds, and the one of a request in
     * doubt (next_in_seq moved past it before its command was written and counted, S2). */
    int doubt_request = f->doubt_in_seq &&
                        (f->doubt_template == SBE_NEW_ORDER_SINGLE_TEMPLATE_ID ||
                         f->doubt_template == SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID ||
                         f->doubt_template == SBE_ORDER_CANCEL_REPLACE_REQUEST_TEMPLATE_ID);
    const uint64_t counted = f->req_cmds + (doubt_request && f->doubt_req_cmds == f->req_cmds);
    uint64_t written = f->req_cmds > req_seen ? f->req_cmds : req_seen;
    uint64_t lost_from = written - req_seen > GW_REQ_NOTES ? written - GW_REQ_NOTES : req_seen;
    for (uint64_t k = lost_from; k < written; k++) {        /* written, never journaled */
        uint64_t i = k & (GW_REQ_NOTES - 1);
        gw_restore_not_executed(g, session, f->reqs[i].in_seq, f->reqs[i].cl_ord_id,
                                f->reqs[i].template_id);
    }
    if (f->doubt_in_seq) {
        int took_effect = f->next_out_seq > f->doubt_out_seq ||
                          (doubt_request && written > f->doubt_req_cmds) ||
                          (f->doubt_template == SBE_ORDER_MASS_CANCEL_REQUEST_TEMPLATE_ID &&
                           gw_restore_mass_recorded(g, session, f->doubt_cl_ord_id));
        if (!took_effect)
            gw_restore_not_executed(g, session, f->doubt_in_seq, f->doubt_cl_ord_id,
                                    f->doubt_template);
        f->doubt_in_seq = 0;
    }
    /* gw_store.c P3: after a power loss the journal may hold request commands the durable
     * store never counted; each is one request taken after its next_in_seq, in order, so a
     * resend of an answered one is refused 950. */
    if (req_seen > counted) {
        uint64_t more = req_seen - counted;
        f->next_in_seq = more < UINT64_MAX - f->next_in_seq ? f->next_in_seq + more : UINT64_MAX;
    }
    f->req_cmds = req_seen;         /* this run counts on from what the journal holds */
}

/* Invariant (2): open mass cancels are answered 965, once. */
static void gw_restore_mass(gw_t *g)
{
    for (uint32_t m = 0; m < GW_MASS_SLOTS; m++) {
        gw_store_mass_t *p = &g->store->mass[m];
        if (!p->session_plus1 || p->session_plus1 > g->cfg->session_count)
            continue;
        int32_t session = (int32_t)p->session_plus1 - 1;
        if (!p->report_seq || g->sessions[session].flow->next_out_seq <= p->report_seq) {
            g->mass[m] = (gw_mass_t){.session = session, .cl_ord_id = p->cl_ord_id,
                                     .instrument_id = p->instrument_id,
                                     .account_id = p->account_id, .affected = p->affected,
                                     .transact_ns = gw_realtime_ns(), .deadline_ns = 0};
            gw_mass_expire_one(g, m);
        }
        p->session_plus1 = 0;
    }
}

/* S1 (gw_store.c) writes a message's slot, then commits it (next_out_seq + 1), then notes the
 * event it reports (last_evt_*). A process killed between the last two left a committed, sent
 * message whose event the note does not name, and the replay would log that event's report a
 * second time. The newest committed slot's header names its event (written before the commit),
 * so the note is taken from it when it is newer. Only the newest slot can be ahead of the note:
 * every earlier one was followed by its own note before the next message was written. */
/* The seqNum in the frame of the slot that holds seq q (every application message starts with
 * it) and the slot's header. */
static uint64_t gw_restore_slot(const gw_t *g, const gw_session_t *s, uint64_t q,
                                gw_log_slot_hdr_t *h)
{
    const uint8_t *slot = s->log + (q & (g->cfg->out_log_msgs - 1)) * GW_LOG_SLOT_BYTES;
    uint64_t in_frame;
    memcpy(h, slot, sizeof *h);
    memcpy(&in_frame, slot + sizeof *h + SBE_SOFH_LENGTH + SBE_HEADER_LENGTH, 8);
    return in_frame;
}

/* After a power loss the flow's page may have reached the disk ahead of its log's pages
 * (gw_store.c, "Not covered"): the flow is cut back to the first slot that does not hold its
 * own seqNum, and the event note to the newest event-made message before it, so the replay
 * makes the lost ones again. A store a kill left passes unchanged. */
static void gw_restore_cut_log(gw_t *g, int32_t session)
{
    gw_session_t *s = &g->sessions[session];
    gw_flow_t *f = s->flow;
    const uint64_t kept = g->cfg->out_log_msgs;
    uint64_t q = f->next_out_seq > kept ? f->next_out_seq - kept : 1;
    gw_log_slot_hdr_t h;
    while (q < f->next_out_seq && gw_restore_slot(g, s, q, &h) == q && h.len)
        q++;
    if (q == f->next_out_seq)
        return;
    f->next_out_seq = q;
    for (uint64_t p = q - 1; p >= 1 && p + kept >= q; p--) {
        if (gw_restore_slot(g, s, p, &h) == p && h.evt_seq) {
            f->last_evt_seq = h.evt_seq;
            f->last_evt_sub = h.evt_sub;
            break;
        }
    }
}

static void gw_restore_event_note(gw_t *g, int32_t session)
{
    gw_session_t *s = &g->sessions[session];
    gw_flow_t *f = s->flow;
    gw_restore_cut_log(g, session);
    if (f->next_out_seq <= 1)
        return;                     /* nothing sent yet: seqNums start at 1 */
    gw_log_slot_hdr_t h;
    const uint64_t last = f->next_out_seq - 1;
    memcpy(&h, s->log + (last & (g->cfg->out_log_msgs - 1)) * GW_LOG_SLOT_BYTES, sizeof h);
    if (h.evt_seq > f->last_evt_seq ||
        (h.evt_seq == f->last_evt_seq && h.evt_seq && h.evt_sub > f->last_evt_sub)) {
        f->last_evt_seq = h.evt_seq;
        f->last_evt_sub = h.evt_sub;
    }
}

/* 0 if the journal reaches every engine event the store's flows reported; else -1 with why.
 * A report's execID is its event's key (gw_engine.c) and its replay starts after the event
 * noted, so a journal that ends before it (another venue's, a fresh one, one that lost its
 * tail) would give the next events keys this flow already sent, and their reports would be
 * taken for sent ones: the store belongs to that journal only. */
static int gw_restore_journal_reaches(const gw_t *g, uint64_t limit_seq, char *msg, uint32_t cap)
{
    for (uint32_t i = 0; i < g->cfg->session_count; i++) {
        uint64_t noted = g->sessions[i].flow->last_evt_seq;
        if (noted > limit_seq) {
            snprintf(msg, cap, "session %llu reported engine event seq %llu, the journal ends at "
                     "seq %llu: the store is another journal's (or the journal lost its tail); "
                     "start with a new store (its sessions start afresh)",
                     (unsigned long long)g->cfg->sessions[i].session_id,
                     (unsigned long long)noted, (unsigned long long)limit_seq);
            return -1;
        }
    }
    return 0;
}

int gw_restore_run(gw_t *g, uint32_t source, uint64_t first_seq, const char *journal_dir,
                   uint64_t limit_seq, char *msg, uint32_t cap)
{
    gw_store_hdr_t *h = g->store;
    if (h->runs == 0) {             /* fresh: nothing of ours can be journaled before first_seq */
        h->from_seq = first_seq;
        h->source = source;
        h->runs = 1;
        return 0;
    }
    if (!journal_dir || !journal_dir[0]) {
        snprintf(msg, cap, "the engine keeps no journal: the orders of this gateway's previous "
                 "run cannot be found");
        return -1;
    }
    gw_replay_t *r = calloc(1, sizeof *r);
    uint64_t *seen = calloc(g->cfg->session_count, sizeof *seen);
    if (!r || !seen) {
        free(r);
        free(seen);
        snprintf(msg, cap, "out of memory");
        return -12;
    }
    r->limit = limit_seq;
    r->req_seen = seen;
    for (uint32_t i = 0; i < g->cfg->session_count; i++)
        gw_restore_event_note(g, (int32_t)i);
    if (gw_restore_journal_reaches(g, limit_seq, msg, cap) < 0) {
        free(seen);
        free(r);
        return JRNL_MISMATCH;
    }
    g->restoring = 1;
    int rc = gw_restore_replay(g, r, journal_dir, msg, cap);
    g->restoring = 0;
    for (uint32_t i = 0; rc == 0 && i < g->cfg->session_count; i++)
        gw_restore_requests(g, (int32_t)i, seen[i]);
    free(seen);
    free(r);
    if (rc < 0)
        return rc;
    gw_restore_mass(g);
    for (uint32_t i = 0; i < g->cfg->session_count; i++)     /* invariant (3) */
        if (g->sessions[i].flow->established_once)
            fixp_session_unbound(g, (int32_t)i, 1);
    g->skip_through_seq = limit_seq;                         /* invariant (4) */
    if (limit_seq > g->stale_reply_seq)
        g->stale_reply_seq = limit_seq;     /* the dead run's replies, if it had our slot */
    g->last_answered_seq = limit_seq;
    g->evt_seq = limit_seq;
    g->evt_index = 0;
    h->source = source;
    h->runs++;
    return 0;
}
