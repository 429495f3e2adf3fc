/*
 * gw_sweep.c - cancels a session is owed in bulk: a mass cancel's and cancel-on-disconnect's.
 * Marking is immediate and writes nothing: every matching live order of the session gets
 * owed = its owner (a mass slot + 1, or GW_OWED_COD). The sweep then walks the session's chain
 * and writes one engine cancel per owed order while the command ring has room, and resumes
 * where it stopped on the next loop pass, so any number of orders is cancelled however small
 * the ring. An owner's count of owed orders drops when the order leaves the table, whatever
 * took it (our cancel, a fill, an expiry), so a mass cancel's report waits for its last order.
 * Invariants: an order is owed to at most one owner; a session's sweep_at is a live order of
 * its chain or 0 (gw_order_gone moves it past an order that leaves); an owed order with
 * cancel_sent clear is at or after sweep_at while sweeping is set.
 */
#include <string.h>

#include "gw_internal.h"

static void gw_sweep_start(gw_t *g, gw_session_t *s)
{
    if (!s->sweeping)
        g->sweeps++;
    s->sweeping = 1;
    s->sweep_at = s->orders_head;
}

uint32_t gw_sweep_mark(gw_t *g, int32_t session, uint32_t instrument, uint32_t account,
                       uint32_t owner)
{
    gw_session_t *s = &g->sessions[session];
    uint32_t marked = 0;
    gw_order_t *o;
    for (uint64_t id = s->orders_head; (o = gw_orders_find(&g->orders, id)); id = o->sess_next) {
        if (o->owed || (instrument && o->instrument_id != instrument) ||
            (account != SBE_OPTIONAL_ACCOUNT_ID_NULL && o->account_id != account))
            continue;
        o->owed = owner;
        o->cancel_sent = 0;
        marked++;
    }
    if (marked)
        gw_sweep_start(g, s);
    return marked;
}

void gw_sweep_resend(gw_t *g, gw_order_t *o)
{
    o->cancel_sent = 0;
    gw_sweep_start(g, &g->sessions[o->session]);
}

/* One session's sweep: returns how many cancels it wrote; stops when the ring is full. */
static uint32_t gw_sweep_session(gw_t *g, gw_session_t *s)
{
    uint32_t written = 0;
    gw_order_t *o;
    while ((o = gw_orders_find(&g->orders, s->sweep_at))) {
        if (o->owed && !o->cancel_sent) {
            if (!gw_engine_has_room(g))
                return written;
            gw_engine_cancel(g, o, o->owed == GW_OWED_COD ? GW_P_COD : GW_P_MASS_PART,
                             o->owed == GW_OWED_COD ? 0 : o->owed - 1);
            o->cancel_sent = 1;
            written++;
        }
        s->sweep_at = o->sess_next;
    }
    s->sweeping = 0;
    g->sweeps--;
    return written;
}

uint32_t gw_sweep_run(gw_t *g)
{
    if (!g->sweeps || g->engine_down)
        return 0;
    uint32_t written = 0;
    for (uint32_t i = 0; i < g->cfg->session_count && g->sweeps; i++)
        if (g->sessions[i].sweeping)
            written += gw_sweep_session(g, &g->sessions[i]);
    return written;
}
