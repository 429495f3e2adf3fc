/*
 * gw_io_epoll.c - the epoll backend of the gateway loop (gw_io.h): level-triggered readiness for
 * the listening socket, every client socket and the doorbell's eventfd; recv() straight into the
 * connection's frame buffer, send() straight from its outbound buffer, EPOLLOUT registered only
 * while a write is partial. One system call per recv/send/accept, one per wait (also when the
 * loop only polls: epoll_wait with timeout 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_internal.h"

#define GW_EP_LISTEN_TAG UINT64_MAX
#define GW_EP_WAKER_TAG (UINT64_MAX - 1)
#define GW_EP_TLS_LISTEN_TAG (UINT64_MAX - 2)
#define GW_EP_EVENTS_MAX 64

typedef struct gw_epoll {
    int epfd;
} gw_epoll_t;

static int gw_ep_fd(const gw_t *g)
{
    return ((const gw_epoll_t *)g->io_state)->epfd;
}

static int gw_ep_ctl(gw_t *g, int op, int fd, uint32_t events, uint64_t tag)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    g->stats->io_syscalls++;
    return epoll_ctl(gw_ep_fd(g), op, fd, &ev) < 0 ? -errno : 0;
}

static int gw_ep_open(gw_t *g)
{
    gw_epoll_t *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0) {
        int rc = -errno;
        free(e);
        return rc;
    }
    g->io_state = e;
    int rc = gw_ep_ctl(g, EPOLL_CTL_ADD, g->cfg->listen_fd, EPOLLIN, GW_EP_LISTEN_TAG);
    if (rc == 0 && g->cfg->tls)
        rc = gw_ep_ctl(g, EPOLL_CTL_ADD, g->cfg->tls_listen_fd, EPOLLIN, GW_EP_TLS_LISTEN_TAG);
    return rc;
}

static void gw_ep_close(gw_t *g)
{
    gw_epoll_t *e = g->io_state;
    if (!e)
        return;
    close(e->epfd);
    free(e);
    g->io_state = NULL;
}

static int gw_ep_waker_add(gw_t *g, int fd)
{
    return gw_ep_ctl(g, EPOLL_CTL_ADD, fd, EPOLLIN, GW_EP_WAKER_TAG);
}

static void gw_ep_waker_del(gw_t *g, int fd)
{
    gw_ep_ctl(g, EPOLL_CTL_DEL, fd, 0, 0);
}

static int gw_ep_conn_add(gw_t *g, gw_conn_t *c)
{
    c->want_out = 0;
    return gw_ep_ctl(g, EPOLL_CTL_ADD, c->fd, EPOLLIN, (uint64_t)(c - g->conns));
}

static void gw_ep_conn_close(gw_t *g, gw_conn_t *c)
{
    gw_ep_ctl(g, EPOLL_CTL_DEL, c->fd, 0, 0);
    close(c->fd);
}

static void gw_ep_want_out(gw_t *g, gw_conn_t *c, uint32_t on)
{
    if (c->want_out == on)
        return;
    gw_ep_ctl(g, EPOLL_CTL_MOD, c->fd, EPOLLIN | (on ? EPOLLOUT : 0), (uint64_t)(c - g->conns));
    c->want_out = on;
}

static int gw_ep_conn_flush(gw_t *g, gw_conn_t *c)
{
    while (c->tx_head < c->tx_tail) {
        g->stats->io_syscalls++;
        g->stats->io_sends++;
        ssize_t n = send(c->fd, c->tx + c->tx_head, c->tx_tail - c->tx_head,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->tx_head += (uint32_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            gw_ep_want_out(g, c, 1);
            return 0;
        }
        return -1;
    }
    c->tx_head = c->tx_tail = 0;
    gw_ep_want_out(g, c, 0);
    return 0;
}

static int gw_ep_conn_tx_idle(gw_t *g, const gw_conn_t *c)
{
    (void)g;
    (void)c;
    return 1;                       /* send() either wrote or left the bytes in c->tx */
}

/* Reads what the socket holds (as much as the frame buffer takes) and handles whole frames. */
static void gw_ep_readable(gw_t *g, gw_conn_t *c)
{
    while (!c->closing && !c->blocked && c->fd >= 0) {
        if (c->rx_len == GW_RX_BYTES)
            return;                 /* cannot happen: input() always consumes a whole frame */
        g->stats->io_syscalls++;
        ssize_t n = recv(c->fd, c->rx + c->rx_len, GW_RX_BYTES - c->rx_len, MSG_DONTWAIT);
        if (n == 0) {
            gw_conn_close(g, c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                gw_conn_close(g, c);
            return;
        }
        gw_io_received(g, c, (uint32_t)n);
        if ((size_t)n < GW_RX_BYTES / 2)
            return;                 /* probably drained; level-triggered epoll says if not */
    }
}

static void gw_ep_accept(gw_t *g, int tls)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        g->stats->io_syscalls++;
        int fd = accept4(tls ? g->cfg->tls_listen_fd : g->cfg->listen_fd, (struct sockaddr *)&peer,
                         &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;                 /* EAGAIN, or a connection that died in the backlog */
        gw_io_accepted(g, fd, &peer, peer_len, tls);
    }
}

/* The sockets epoll reported ready: accepts, the doorbell, flushes and reads. */
static void gw_ep_dispatch(gw_t *g, const struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == GW_EP_LISTEN_TAG || evs[i].data.u64 == GW_EP_TLS_LISTEN_TAG) {
            gw_ep_accept(g, evs[i].data.u64 == GW_EP_TLS_LISTEN_TAG);
            continue;
        }
        if (evs[i].data.u64 == GW_EP_WAKER_TAG) {
            gw_io_woken(g);
            continue;
        }
        gw_conn_t *c = &g->conns[evs[i].data.u64];
        if (c->fd < 0)
            continue;
        if ((evs[i].events & EPOLLOUT) && gw_conn_flush(g, c) < 0) {
            gw_conn_close(g, c);
            continue;
        }
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            if (c->closing) {
                char sink[4096];
                g->stats->io_syscalls++;
                if (recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
                    gw_conn_close(g, c);
            } else {
                gw_ep_readable(g, c);
            }
        }
    }
}

static int gw_ep_wait(gw_t *g, int timeout_ms)
{
    struct epoll_event evs[GW_EP_EVENTS_MAX];
    g->stats->io_syscalls++;
    int n = epoll_wait(gw_ep_fd(g), evs, GW_EP_EVENTS_MAX, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    gw_ep_dispatch(g, evs, n);
    return n;
}

static void gw_ep_nothing(gw_t *g)
{
    (void)g;                        /* flush wrote already: nothing is in flight */
}

const gw_io_ops_t gw_io_epoll_ops = {
    .name = "epoll",
    .open = gw_ep_open,
    .close = gw_ep_close,
    .waker_add = gw_ep_waker_add,
    .waker_del = gw_ep_waker_del,
    .conn_add = gw_ep_conn_add,
    .conn_close = gw_ep_conn_close,
    .conn_flush = gw_ep_conn_flush,
    .conn_tx_idle = gw_ep_conn_tx_idle,
    .conn_resume = gw_ep_readable,
    .submit = gw_ep_nothing,
    .wait = gw_ep_wait,
    .settle = gw_ep_nothing,
};
