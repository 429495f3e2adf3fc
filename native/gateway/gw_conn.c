/*
 * gw_conn.c - one client connection's bytes: a bounded outbound buffer written in batches, the
 * Terminate that ends a connection, and its close. The lowest layer of the gateway: it calls
 * nothing above it but the flow store's sync before a flush (gw_store.c, which calls nothing of
 * the gateway); an unbound session is announced through g->on_unbound.
 * Invariants: a connection's outbound buffer never grows past tx_buffer_bytes (a client that
 * stops reading is terminated with ENG_GW_SLOW_CONSUMER; GW_TX_RESERVE bytes stay free for that
 * Terminate); a partial write keeps the unsent tail for the backend's next flush (gw_io.h).
 * A TLS connection (gw_tls.h) queues the session layer's plaintext in ptx under the same bounds
 * and encrypts it into tx as room allows at each flush: the backend only ever sees tx.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "gw_internal.h"

/* Moves buf[head..tail) to the front when what comes needs the room behind it. */
static void gw_buf_compact(uint8_t *buf, uint32_t *head, uint32_t *tail)
{
    if (*head == 0)
        return;
    memmove(buf, buf + *head, *tail - *head);
    *tail -= *head;
    *head = 0;
}

/* Encrypts the plaintext queued on a TLS connection into tx while tx has room for a whole
 * record's ciphertext, and moves what TLS has to send (records, handshake messages, alerts)
 * into tx. 0, or -1: TLS failed (out of memory). */
static int gw_conn_encrypt(gw_t *g, gw_conn_t *c)
{
    uint32_t cap = g->cfg->tx_buffer_bytes;
    for (;;) {
        if (gw_tls_pending(c->tls)) {
            if (cap - c->tx_tail < 4096)
                gw_buf_compact(c->tx, &c->tx_head, &c->tx_tail);
            uint32_t n = gw_tls_take(c->tls, c->tx + c->tx_tail, cap - c->tx_tail);
            c->tx_tail += n;
            if (gw_tls_pending(c->tls))
                return 0;           /* tx is full: the socket takes some first */
        }
        uint32_t plain = c->ptx_tail - c->ptx_head;
        if (plain == 0 || !gw_tls_open(c->tls))
            return 0;
        uint32_t room = cap - (c->tx_tail - c->tx_head);
        if (room < GW_TLS_RECORD_OVERHEAD + 256)
            return 0;
        uint32_t n = room - GW_TLS_RECORD_OVERHEAD;
        if (n > GW_TLS_RECORD_PLAIN)
            n = GW_TLS_RECORD_PLAIN;
        if (n > plain)
            n = plain;
        if (gw_tls_write(c->tls, c->ptx + c->ptx_head, n) < 0)
            return -1;
        c->ptx_head += n;
        if (c->ptx_head == c->ptx_tail)
            c->ptx_head = c->ptx_tail = 0;
    }
}

int gw_conn_flush(gw_t *g, gw_conn_t *c)
{
    gw_store_sync(g);               /* what the client may see is durable or made again from
                                       the durable journal first (gw_store.c P1/P2) */
    if (c->tls && gw_conn_encrypt(g, c) < 0)
        return -1;
    return g->io->conn_flush(g, c);     /* the backend writes (gw_io.h) */
}

int gw_conn_out_pending(const gw_conn_t *c)
{
    return c->tx_tail > c->tx_head ||
           (c->tls && (c->ptx_tail > c->ptx_head || gw_tls_pending(c->tls)));
}

void gw_conn_tls_refused(gw_t *g, gw_conn_t *c)
{
    c->closing = 1;                 /* reads stop: the backends discard what still comes */
    c->close_deadline_ns = g->now_ns + GW_LINGER_NS;
    c->ptx_head = c->ptx_tail = 0;
    if (gw_conn_flush(g, c) < 0)    /* the alert, if TLS made one */
        gw_conn_close(g, c);
}

static int gw_tx_append(gw_t *g, gw_conn_t *c, const uint8_t *frame, uint32_t len,
                        uint32_t limit)
{
    uint8_t *buf = c->tls ? c->ptx : c->tx;
    uint32_t *head = c->tls ? &c->ptx_head : &c->tx_head;
    uint32_t *tail = c->tls ? &c->ptx_tail : &c->tx_tail;
    if (*tail + len > limit)
        gw_buf_compact(buf, head, tail);
    if (*tail + len > limit)
        return -ENOBUFS;
    memcpy(buf + *tail, frame, len);
    *tail += len;
    c->last_tx_ns = g->now_ns;
    g->stats->frames_out++;
    return 0;
}

int gw_conn_send(gw_t *g, gw_conn_t *c, const uint8_t *frame, uint32_t len)
{
    if (c->fd < 0 || c->closing)
        return -ENOBUFS;
    if (gw_tx_append(g, c, frame, len, g->cfg->tx_buffer_bytes - GW_TX_RESERVE) == 0)
        return 0;
    /* Try the socket once before calling the client slow: the buffer may just be unflushed. */
    if (gw_conn_flush(g, c) == 0 &&
        gw_tx_append(g, c, frame, len, g->cfg->tx_buffer_bytes - GW_TX_RESERVE) == 0)
        return 0;
    g->stats->slow_consumers++;
    gw_conn_terminate(g, c, SBE_TERMINATION_CODE_UNSPECIFIED_ERROR, ENG_GW_SLOW_CONSUMER);
    return -ENOBUFS;
}

void gw_conn_terminate(gw_t *g, gw_conn_t *c, uint8_t code, uint16_t reason)
{
    gw_conn_terminate_text(g, c, code, reason, NULL, 0);
}

void gw_conn_terminate_text(gw_t *g, gw_conn_t *c, uint8_t code, uint16_t reason,
                            const uint8_t *text, uint16_t text_len)
{
    if (c->fd < 0 || c->closing)
        return;
    sbe_terminate_t t = {.session_id = c->session >= 0 ? g->sessions[c->session].cfg->session_id : 0,
                         .reason_code = reason, .code = code};
    if (text && text_len) {
        t.reason_length = text_len < sizeof t.reason ? text_len : (uint16_t)sizeof t.reason;
        memcpy(t.reason, text, t.reason_length);
    }
    uint8_t buf[SBE_MAX_FRAME_LENGTH];
    int n = sbe_encode_terminate(buf, sizeof buf, &t);
    /* The reserve keeps room for this frame even when a slow consumer filled the rest. */
    if (n > 0)
        gw_tx_append(g, c, buf, (uint32_t)n, g->cfg->tx_buffer_bytes);
    g->stats->terminates++;
    c->closing = 1;
    c->close_deadline_ns = g->now_ns + GW_LINGER_NS;
    if (c->session >= 0) {
        /* The session is unbound now, not at close: orders are cancelled (cancel-on-disconnect)
         * and a reconnect may bind it while this connection lingers to flush. */
        int32_t s = c->session;
        int was_established = c->state == GW_CONN_ESTABLISHED;
        g->sessions[s].conn = -1;
        c->session = -1;
        g->on_unbound(g, s, was_established);
    }
    c->state = GW_CONN_NEW;
}

void gw_conn_close(gw_t *g, gw_conn_t *c)
{
    if (c->fd < 0)
        return;
    if (c->session >= 0) {
        int32_t s = c->session;
        int was_established = c->state == GW_CONN_ESTABLISHED;
        g->sessions[s].conn = -1;
        c->session = -1;
        g->on_unbound(g, s, was_established);
    }
    g->io->conn_close(g, c);
    gw_tls_conn_free(c->tls);
    c->tls = NULL;
    c->ptx_head = c->ptx_tail = 0;
    c->fd = -1;
    c->state = GW_CONN_FREE;
    g->stats->closed++;
}
