/*
 * gw_admin.c - both ends of the session-admin mailbox (protocol: gw_admin.h). The loop side,
 * gw_admin_service(), runs on the gateway thread between I/O passes: it costs one relaxed load per
 * pass while no request is outstanding, and answering walks the session table once.
 */
#include <stdatomic.h>
#include <string.h>

#include "gw_internal.h"

uint64_t gw_admin_submit(gw_admin_t *a)
{
    /* Acquire: pairs with the release store of done in gw_admin_service(), so the previous
     * answer is complete before this caller overwrites the request fields. */
    uint64_t id = atomic_load_explicit((_Atomic uint64_t *)&a->done, memory_order_acquire) + 1;
    /* Release: the loop that sees this id also sees op, session_id and reason; pairs with the
     * acquire fence in gw_admin_service(). */
    atomic_store_explicit((_Atomic uint64_t *)&a->request, id, memory_order_release);
    return id;
}

int gw_admin_done(gw_admin_t *a, uint64_t id)
{
    /* Acquire: pairs with the release store of done in gw_admin_service(): seeing done >= id,
     * the caller also sees the answer (result, the session rows) written before it. */
    return atomic_load_explicit((_Atomic uint64_t *)&a->done, memory_order_acquire) >= id;
}

static void gw_admin_publish(gw_t *g, gw_admin_t *a)
{
    uint32_t n = g->cfg->session_count < a->capacity ? g->cfg->session_count : a->capacity;
    for (uint32_t i = 0; i < n; i++) {
        const gw_session_t *s = &g->sessions[i];
        gw_admin_session_t *row = &a->sessions[i];
        const gw_conn_t *c = s->conn >= 0 ? &g->conns[s->conn] : NULL;
        row->session_id = s->cfg->session_id;
        row->firm_id = s->cfg->firm_id;
        row->in_seq = s->flow->next_in_seq ? s->flow->next_in_seq - 1 : 0;
        row->out_seq = s->flow->next_out_seq ? s->flow->next_out_seq - 1 : 0;
        row->orders_live = s->live_orders;
        row->cancel_on_disconnect = s->cfg->cancel_on_disconnect;
        row->state = !c                                 ? GW_ADMIN_SESSION_DISCONNECTED
                     : c->state == GW_CONN_ESTABLISHED ? GW_ADMIN_SESSION_ESTABLISHED
                                                        : GW_ADMIN_SESSION_NEGOTIATED;
        if (c)                      /* both are GW_ADMIN_PEER_MAX bytes */
            memcpy(row->peer, c->peer, sizeof row->peer);
        row->peer[c ? sizeof row->peer - 1 : 0] = '\0';
    }
    a->session_count = n;
}

static void gw_admin_disconnect(gw_t *g, gw_admin_t *a)
{
    int32_t idx = -1;
    for (uint32_t i = 0; i < g->cfg->session_count; i++)
        if (g->sessions[i].cfg->session_id == a->session_id)
            idx = (int32_t)i;
    if (idx < 0) {
        a->result = GW_ADMIN_UNKNOWN_SESSION;
        return;
    }
    gw_session_t *s = &g->sessions[idx];
    a->result = GW_ADMIN_OK;
    a->was_connected = s->conn >= 0;
    a->orders_cancelling = 0;
    if (s->conn < 0)
        return;
    gw_conn_t *c = &g->conns[s->conn];
    if (c->state == GW_CONN_ESTABLISHED && s->cfg->cancel_on_disconnect)
        a->orders_cancelling = s->live_orders;
    uint32_t len = a->reason_len < GW_ADMIN_REASON_MAX ? a->reason_len : GW_ADMIN_REASON_MAX;
    /* Unbinds the session now (cancel-on-disconnect runs) and flushes the Terminate. */
    gw_conn_terminate_text(g, c, SBE_TERMINATION_CODE_FINISHED, ENG_GW_ADMIN_DISCONNECT,
                           a->reason, (uint16_t)len);
}

void gw_admin_service(gw_t *g)
{
    gw_admin_t *a = g->cfg->admin;
    uint64_t req = atomic_load_explicit((_Atomic uint64_t *)&a->request, memory_order_relaxed);
    if (req == atomic_load_explicit((_Atomic uint64_t *)&a->done, memory_order_relaxed))
        return;                     /* done is written only by this thread */
    atomic_thread_fence(memory_order_acquire);  /* pairs with the release in gw_admin_submit */
    a->result = GW_ADMIN_OK;
    a->was_connected = 0;
    a->orders_cancelling = 0;
    if (a->op == GW_ADMIN_OP_DISCONNECT)
        gw_admin_disconnect(g, a);
    else if (a->op == GW_ADMIN_OP_SET_KEY)
        a->result = gw_sec_set_key(g, a->session_id, a->reason, a->reason_len) == 0
                        ? GW_ADMIN_OK : GW_ADMIN_UNKNOWN_SESSION;
    else if (a->op == GW_ADMIN_OP_SECURITY_EVENTS)
        a->event_count = gw_sec_copy_events(g, &a->event_cursor, a->events, a->event_capacity);
    else if (a->op != GW_ADMIN_OP_SNAPSHOT)
        a->result = GW_ADMIN_BAD_OP;
    gw_admin_publish(g, a);
    /* Release: the answer above happens-before the caller's reads; pairs with the acquire loads
     * of done in gw_admin_done() and gw_admin_submit(). */
    atomic_store_explicit((_Atomic uint64_t *)&a->done, req, memory_order_release);
}
