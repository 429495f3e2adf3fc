/*
 * gw_submit.c - the gateway's commands onto its producer slot's SPSC command ring, each with the
 * pending-table entry it opens (answered later by gw_engine.c from the reply ring), and the
 * session tag the engine journals with it. Apart from gw_engine.c so that the bulk-cancel sweep
 * (gw_sweep.c), which writes cancels, and the event handling, which asks the sweep to resend,
 * do not call each other in a cycle.
 * Invariant: a caller checks gw_engine_has_room first; then a submit cannot fail.
 */
#include <string.h>

#include "gw_internal.h"
#include "hdr_recorder.h"

int gw_engine_in_flight(const gw_t *g)
{
    return g->p_answered != g->p_head;
}

int gw_engine_has_room(gw_t *g)
{
    /* room for the larger, stamped record, so a submit never fails whichever it writes */
    return g->p_head - g->p_tail < GW_PENDING_CAP &&
           ring_spsc_has_room(g->cfg->cmd, sizeof(hdr_stamped_cmd_t));
}

/* Latency: a single-command request from the frame being handled goes on the ring stamped
 * (venue_layout.h Section 5); returns its enqueue stamp. Records the gateway's inbound stages. */
static uint64_t gw_submit_stamped(gw_t *g, const eng_cmd_t *cmd)
{
    int32_t off = ring_spsc_claim(g->cfg->cmd, RING_MSG_ENG_CMD_STAMPED, sizeof(hdr_stamped_cmd_t));
    hdr_stamped_cmd_t *rec = (hdr_stamped_cmd_t *)(g->cfg->cmd->data + off);
    memcpy(&rec->cmd, cmd, sizeof *cmd);
    uint64_t enqueue = hdr_now();
    rec->enqueue_ticks = enqueue;
    ring_spsc_commit(g->cfg->cmd, off);
    hdr_hist_record_ticks(&g->lat[HDR_STAGE_RECEIVE_TO_DECODE], g->lat_rx, g->lat_decoded);
    hdr_hist_record_ticks(&g->lat[HDR_STAGE_DECODE_TO_ENQUEUE], g->lat_decoded, enqueue);
    g->lat_decoded = 0;             /* one stamped command per frame */
    return enqueue;
}

void gw_engine_submit(gw_t *g, eng_cmd_t *cmd, const gw_pending_t *ctx)
{
    uint64_t enqueue = 0;
    int request = ctx->kind == GW_P_NEW || ctx->kind == GW_P_CANCEL || ctx->kind == GW_P_REPLACE;
    gw_flow_t *f = g->sessions[ctx->session].flow;
    if (request) {                  /* written within the request's handling: doubt_* is it */
        uint64_t k = f->req_cmds & (GW_REQ_NOTES - 1);
        f->reqs[k].in_seq = f->doubt_in_seq;
        f->reqs[k].cl_ord_id = f->doubt_cl_ord_id;
        f->reqs[k].template_id = f->doubt_template;
        gw_store_order(g);
    }
    /* The session it serves goes into the journal with it (venue_layout.h ENG_SESSION_TAG_*). */
    cmd->hdr.session = (uint16_t)((uint32_t)(ctx->session + 1) & ENG_SESSION_TAG_INDEX_MASK);
    if (ctx->kind == GW_P_MASS_PART || ctx->kind == GW_P_COD)
        cmd->hdr.session |= ENG_SESSION_TAG_OWED;
    /* Cannot fail: the caller checked gw_engine_has_room and the record sizes are fixed. */
    if (g->lat && g->lat_decoded &&
        (ctx->kind == GW_P_NEW || ctx->kind == GW_P_CANCEL || ctx->kind == GW_P_REPLACE))
        enqueue = gw_submit_stamped(g, cmd);
    else
        ring_spsc_write(g->cfg->cmd, RING_MSG_ENG_CMD, cmd, sizeof *cmd);
    gw_pending_t *p = &g->pending[g->p_head & (GW_PENDING_CAP - 1)];
    *p = *ctx;
    p->seq = 0;
    p->event_count = p->events_seen = p->done = 0;
    p->lat_rx = enqueue ? g->lat_rx : 0;
    p->lat_enqueue = enqueue;
    p->lat_e2p_ns = 0;
    g->p_head++;
    g->cmds_unsignalled++;
    g->stats->commands++;
    if (request) {
        gw_store_order(g);           /* gw_store.c S2: the command, then the count */
        f->req_cmds++;
    }
}

void gw_engine_cancel(gw_t *g, const gw_order_t *o, uint32_t kind, uint32_t mass)
{
    eng_cmd_t cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.cancel.hdr.type = ENG_CMD_CANCEL;
    cmd.cancel.hdr.instrument_id = o->instrument_id;
    cmd.cancel.order_id = o->order_id;
    gw_pending_t p = {.kind = kind, .session = o->session, .cl_ord_id = o->cl_ord_id,
                      .order_id = o->order_id, .mass = mass};
    gw_engine_submit(g, &cmd, &p);
}
