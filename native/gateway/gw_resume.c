/*
 * gw_resume.c - a gateway outliving an engine crash: once a restarted engine has recovered from
 * its journal, the gateway learns from that journal what became of everything it had in flight,
 * so the sessions' outbound flows (and their retransmission logs) say exactly what the journal
 * says, and then goes on with the new engine.
 *
 * What the gateway knew when the engine died: the replies it had read (last_answered_seq), the
 * events it had handled (evt_seq, evt_index), its commands still unanswered, in the order it
 * wrote them to its ring (pending [p_answered, p_head)). The engine sequences a ring's records in
 * ring order and journals each command with its producer slot + 1 (jrnl_rec_hdr_t.index), so
 * this gateway's journaled commands after last_answered_seq are, in order, a prefix of its
 * unanswered ones; the rest the dead engine never sequenced (lost in its memory or its ring)
 * and the new engine, with new rings, never will.
 *
 * Invariant kept: every command gets exactly one answer. A journaled one gets the reports of its
 * journaled events (as if its reply had come); one never sequenced is answered with
 * ENG_GW_ENGINE_GONE (a NEW is rejected, a cancel or replace gets OrderCancelReject); the parts
 * of a mass cancel and cancel-on-disconnect are cancels the session is still owed, so the sweep
 * (gw_sweep.c) sends them again to the new engine for the orders the journal says are live.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_internal.h"
#include "jrnl_cursor.h"

static int gw_resume_fail(char *message, uint32_t cap, int rc, const char *what,
                          const jrnl_cursor_t *c)
{
    snprintf(message, cap, "%s%s%s", what, c && c->message[0] ? ": " : "",
             c && c->message[0] ? c->message : "");
    return rc < 0 ? rc : JRNL_MISMATCH;
}

/* Does journaled command cmd match the pending entry the ring order says it is? */
static int gw_resume_same(const gw_pending_t *p, const eng_cmd_t *cmd)
{
    switch (p->kind) {
    case GW_P_NEW:
        return cmd->hdr.type == ENG_CMD_NEW_ORDER && cmd->new_order.order_id == p->order_id;
    case GW_P_REPLACE:
        return cmd->hdr.type == ENG_CMD_REPLACE && cmd->replace.order_id == p->order_id;
    default:                        /* CANCEL, MASS_PART, COD: per-order cancels */
        return cmd->hdr.type == ENG_CMD_CANCEL && cmd->cancel.order_id == p->order_id;
    }
}

/* Step 1: gives our journaled commands after last_answered_seq their seqs, as their replies
 * would have. */
static int gw_resume_commands(gw_t *g, uint32_t source, uint64_t recovered_seq, const char *dir,
                              char *message, uint32_t cap)
{
    jrnl_cursor_t c;
    int rc = jrnl_cursor_open(&c, dir, JRNL_KIND_CMD);
    if (rc == 0)
        rc = jrnl_cursor_seek(&c, g->last_answered_seq + 1);
    const uint8_t *rec;
    while (rc >= 0 && (rc = jrnl_cursor_next(&c, recovered_seq, 1, &rec)) == 1) {
        const jrnl_cmd_rec_t *r = (const jrnl_cmd_rec_t *)rec;
        if (r->hdr.seq <= g->last_answered_seq || r->hdr.index != source)
            continue;
        if (g->p_answered == g->p_head) {
            rc = gw_resume_fail(message, cap, 0, "the journal holds more commands from this "
                                "gateway's producer slot than it had in flight: not its journal",
                                NULL);
            break;
        }
        gw_pending_t *p = &g->pending[g->p_answered & (GW_PENDING_CAP - 1)];
        if (!gw_resume_same(p, &r->cmd)) {
            char what[160];
            snprintf(what, sizeof what, "journaled command seq %llu (type %u) is not the "
                     "command this gateway wrote next: not its journal",
                     (unsigned long long)r->hdr.seq, r->cmd.hdr.type);
            rc = gw_resume_fail(message, cap, 0, what, NULL);
            break;
        }
        p->seq = r->hdr.seq;
        p->event_count = UINT32_MAX;        /* unknown: retired once the events are read */
        p->lat_rx = 0;
        g->last_answered_seq = r->hdr.seq;
        g->p_answered++;
    }
    if (rc < 0 && !message[0])
        gw_resume_fail(message, cap, rc, "reading the command journal", &c);
    jrnl_cursor_close(&c);
    return rc < 0 ? rc : 0;
}

/* Step 2: every event past the last one handled, up to recovered_seq, as if read off the log. */
static int gw_resume_events(gw_t *g, uint64_t recovered_seq, const char *dir, char *message,
                            uint32_t cap)
{
    jrnl_cursor_t c;
    int rc = jrnl_cursor_open(&c, dir, JRNL_KIND_EVT);
    if (rc == 0)
        rc = jrnl_cursor_seek(&c, g->evt_seq ? g->evt_seq : 1);
    const uint8_t *rec;
    while (rc >= 0 && (rc = jrnl_cursor_next(&c, recovered_seq, 1, &rec)) == 1) {
        const jrnl_evt_rec_t *r = (const jrnl_evt_rec_t *)rec;
        if (r->hdr.seq < g->evt_seq || (r->hdr.seq == g->evt_seq && r->hdr.index < g->evt_index))
            continue;               /* handled from the dead engine's log */
        eng_evt_t e;
        memcpy(&e, &r->evt, sizeof e);
        gw_engine_apply(g, &e);
    }
    if (rc < 0)
        gw_resume_fail(message, cap, rc, "reading the event journal", &c);
    jrnl_cursor_close(&c);
    return rc < 0 ? rc : 0;
}

int gw_resume_engine(gw_t *g, uint32_t old_source, uint64_t recovered_seq,
                     const char *journal_dir, char *message, uint32_t cap)
{
    message[0] = 0;
    if (!journal_dir || !journal_dir[0]) {
        snprintf(message, cap, "the restarted engine keeps no journal: what became of this "
                 "gateway's orders cannot be known");
        return JRNL_INVALID;
    }
    if (recovered_seq < g->last_answered_seq || recovered_seq < g->evt_seq) {
        snprintf(message, cap, "the restarted engine recovered up to seq %llu, before what this "
                 "gateway was told (reply seq %llu, event seq %llu): a journal lost its tail",
                 (unsigned long long)recovered_seq, (unsigned long long)g->last_answered_seq,
                 (unsigned long long)g->evt_seq);
        return JRNL_MISMATCH;
    }
    g->held = 0;                    /* a held event is in the journal: it is read again there */
    int rc = gw_resume_commands(g, old_source, recovered_seq, journal_dir, message, cap);
    if (rc == 0)
        rc = gw_resume_events(g, recovered_seq, journal_dir, message, cap);
    if (rc < 0)
        return rc;
    gw_engine_retire_answered(g);   /* every event up to recovered_seq is behind us */

    /* What is left the dead engine never sequenced. Taken out of the FIFO first: answering or
     * re-sending them writes to it again. */
    uint64_t n = g->p_head - g->p_answered;
    gw_pending_t *left = n ? malloc(n * sizeof *left) : NULL;
    if (n && !left) {
        snprintf(message, cap, "out of memory");
        return -12;
    }
    for (uint64_t i = 0; i < n; i++)
        left[i] = g->pending[(g->p_answered + i) & (GW_PENDING_CAP - 1)];
    g->p_tail = g->p_answered = g->p_head;
    g->evt_seq = recovered_seq;     /* the new engine's log starts after it */
    g->evt_index = 0;
    /* From the new log's first record, not its tail: events other producers caused (a control
     * plane's mass cancel, say) before this gateway attached concern our orders too. A log that
     * already lapped its capacity reports RING_LAPPED, as for any slow reader. */
    g->cfg->events->cursor = 0;
    g->engine_down = 0;
    g->cmds_unsignalled = 0;
    g->lat_tx_count = 0;
    int64_t now = gw_realtime_ns();
    /* Never sequenced: NEW, CANCEL and REPLACE are answered 959; an owed cancel (mass cancel
     * part, cancel-on-disconnect) is still owed and the sweep writes it to the new engine. */
    for (uint64_t i = 0; i < n; i++) {
        gw_engine_not_executed(g, &left[i], now);
        /* The flow's count is of request commands the journal holds (gw_restore.c counts them
         * there): these never will be, and they are the last ones written. */
        uint32_t k = left[i].kind;
        if (k == GW_P_NEW || k == GW_P_CANCEL || k == GW_P_REPLACE)
            g->sessions[left[i].session].flow->req_cmds--;
    }
    free(left);
    /* Cancel-on-disconnect: every session lost its connection when the engine died; orders of
     * those that have it are marked (those owed already keep their owner). */
    for (uint32_t i = 0; i < g->cfg->session_count; i++)
        if (g->sessions[i].conn < 0 && g->sessions[i].flow->established_once)
            fixp_session_unbound(g, (int32_t)i, 1);
    return 0;
}
