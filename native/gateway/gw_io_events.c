/*
 * gw_io_events.c - what an I/O backend (gw_io.h: epoll or io_uring) reports, applied to the
 * gateway's connections: a new socket takes a free connection slot (or is refused and closed),
 * received bytes go to the FIXP session layer, a doorbell wake-up is consumed. The backends call
 * these; the loop (gw_server.c) calls the backends: keeping these here, apart from the loop, is
 * what keeps the loop and its backends from calling each other in a cycle.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_internal.h"
#include "hdr_recorder.h"

#ifndef SO_BUSY_POLL
#define SO_BUSY_POLL 46
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif

/* "host:port" ("[host]:port" for IPv6) for the admin table; "" for other families. */
static void gw_format_peer(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "";
    out[0] = '\0';
    if (sa->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof host))
            snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host))
            snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    }
}

void gw_io_accepted(gw_t *g, int fd, const struct sockaddr_storage *peer, socklen_t peer_len,
                    int tls)
{
    struct sockaddr_storage looked_up;
    if (!peer) {
        peer_len = sizeof looked_up;
        if (getpeername(fd, (struct sockaddr *)&looked_up, &peer_len) < 0)
            peer_len = 0;
        peer = &looked_up;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g->cfg->so_busy_poll_us) {  /* refused without CAP_NET_ADMIN: checked at start-up */
        int us = (int)g->cfg->so_busy_poll_us;
        setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us);
        if (g->cfg->so_prefer_busy_poll)
            setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof one);
    }
    uint32_t i;
    for (i = 0; i < g->cfg->max_connections; i++)
        if (g->conns[i].state == GW_CONN_FREE && g->conns[i].fd < 0)
            break;
    if (i == g->cfg->max_connections) {
        g->stats->refused_connections++;
        close(fd);
        return;
    }
    gw_conn_t *c = &g->conns[i];
    c->fd = fd;
    c->state = GW_CONN_NEW;
    c->session = -1;
    c->closing = c->blocked = c->want_out = 0;
    c->rx_len = c->tx_head = c->tx_tail = 0;
    c->keepalive_ms = 0;
    c->ptx_head = c->ptx_tail = 0;
    c->tls = NULL;
    if (tls && !(c->tls = gw_tls_conn_new(g->cfg->tls))) {
        g->stats->refused_connections++;    /* out of memory for its TLS state */
        close(fd);
        return;
    }
    gw_format_peer(peer, peer_len, c->peer, sizeof c->peer);
    c->accepted_ns = c->last_rx_ns = c->last_tx_ns = g->now_ns;
    if (g->io->conn_add(g, c) < 0) {
        close(fd);
        gw_tls_conn_free(c->tls);
        c->tls = NULL;
        c->fd = -1;
        c->state = GW_CONN_FREE;
        return;
    }
    g->stats->accepted++;
}

/* Plaintext n bytes at c->rx + c->rx_len: frames them and handles whole ones. */
static void gw_io_plain(gw_t *g, gw_conn_t *c, uint32_t n)
{
    c->rx_len += n;
    c->last_rx_ns = g->now_ns;
    if (g->lat)                     /* latency: SOCKET_RECEIVE of the frames this completes, in 1
                                       read in (sample mask + 1); 0: not sampled, no stamps */
        c->lat_rx = (++g->lat_recvs & g->cfg->latency_sample_mask) == 0 ? hdr_now() : 0;
    fixp_conn_input(g, c);
}

void gw_io_tls_drain(gw_t *g, gw_conn_t *c)
{
    while (c->fd >= 0 && !c->closing && !c->blocked && c->rx_len < GW_RX_BYTES) {
        int n = gw_tls_read(c->tls, c->rx + c->rx_len, GW_RX_BYTES - c->rx_len, c->peer,
                            &g->stats->tls_handshakes, &g->stats->tls_refused);
        if (n > 0) {
            gw_io_plain(g, c, (uint32_t)n);
            continue;
        }
        if (n == GW_TLS_FAILED) {
            gw_conn_tls_refused(g, c);
            return;
        }
        if (n == GW_TLS_PEER_CLOSED) {
            gw_conn_close(g, c);
            return;
        }
        break;
    }
    /* The handshake's answers (and a KeyUpdate's) go out now, not with the next report. */
    if (c->fd >= 0 && gw_tls_pending(c->tls) && gw_conn_flush(g, c) < 0)
        gw_conn_close(g, c);
}

void gw_io_received(gw_t *g, gw_conn_t *c, uint32_t n)
{
    if (!c->tls) {
        gw_io_plain(g, c, n);
        return;
    }
    /* Ciphertext: it moves into TLS's buffer; c->rx keeps only plaintext. */
    if (gw_tls_absorb(c->tls, c->rx + c->rx_len, n) < 0) {
        gw_conn_close(g, c);
        return;
    }
    gw_io_tls_drain(g, c);
}

void gw_io_woken(gw_t *g)
{
    gw_waker_consume(g->waker);     /* the log is polled at the top of the loop */
    g->stats->doorbell_wakes++;
}
