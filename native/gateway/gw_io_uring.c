/*
 * gw_io_uring.c - the io_uring backend of the gateway loop (gw_io.h), on our own raw ring
 * (gw_uring.c):
 *   - one multishot ACCEPT on the listening socket; each accepted socket goes into a registered
 *     file table at its connection's slot (IOSQE_FIXED_FILE: no fd lookup per operation);
 *   - one multishot RECV per connection into a provided buffer ring (the kernel picks a free
 *     buffer per completion; no receive is re-armed per message);
 *   - sends from a per-connection send queue: a byte ring inside one registered buffer
 *     (IORING_RECVSEND_FIXED_BUF where the kernel takes it; plain SEND otherwise). Several sends
 *     of a connection may be in flight at once, as one chain linked with IOSQE_IO_LINK and sent
 *     with MSG_WAITALL, so the kernel runs them in order and a short send is retried, not
 *     reported. Bytes queued while a chain is in the kernel wait in the ring (flush makes no
 *     system call for them) and the chain's last completion sends them all, as one new chain:
 *     io_uring keeps no order between sends submitted apart, so there is never more than one
 *     chain per connection. Every send prepared in a loop pass is submitted by one
 *     io_uring_enter (gw_io.h submit);
 *   - the engine doorbell's eventfd as a multishot POLL_ADD;
 *   - optional SQPOLL (cfg->io_uring_sqpoll_ms): a kernel thread takes submissions, so a busy
 *     loop makes no system call at all to send or to poll for completions.
 * A loop pass that has nothing to submit and must not block reads the completion queue in user
 * space: no system call (epoll needs an epoll_wait per pass).
 * Copies in user space, counted in stats->io_copies_bytes: a received buffer into the
 * connection's frame buffer (frames may straddle buffers; the codec wants them whole) and the
 * outbound bytes into the registered send buffer (the outbound buffer may be compacted while a
 * send is in flight). epoll has neither copy: recv/send work on those buffers directly.
 * Back-pressure: a connection held back by a full command ring (c->blocked) keeps its received
 * buffers queued in order; past GW_UR_HOLD_MAX of them its receive is cancelled and re-armed
 * once it drained half (a receive that ran out of buffers, -ENOBUFS, is re-armed the same way).
 * Stale completions (a connection slot closed and reused) are told apart by a generation in
 * user_data; their buffers go back to the ring. Closing a connection cancels its operations
 * synchronously (IORING_REGISTER_SYNC_CANCEL) before the fd is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "gw_internal.h"
#include "gw_uring.h"

#if GW_HAVE_URING

#define GW_UR_ENTRIES 256           /* SQEs (the CQ has four times as many) */
#define GW_UR_BUFS 512              /* provided receive buffers, a power of two */
#define GW_UR_BUF_BYTES 4096
#define GW_UR_BGID 1                /* the buffer group of the provided ring */
#define GW_UR_STAGE_BYTES 32768     /* registered send ring per connection, a power of two */
#define GW_UR_CHAIN_MAX 8           /* sends of one connection in flight at once (one chain) */
#define GW_UR_HOLD_MAX 64           /* received buffers a held-back connection may keep */
#define GW_UR_BACKLOG 4096          /* completions reaped inside a flush, handled by the next wait */

enum { GW_UR_ACCEPT = 1, GW_UR_RECV, GW_UR_SEND, GW_UR_WAKER };

typedef struct gw_uconn {
    uint32_t gen;                   /* bumped at each close: tells stale completions apart */
    uint8_t recv_armed;             /* a multishot receive is live */
    uint8_t eof;                    /* the peer closed (or the socket failed): close when drained */
    uint8_t starved;                /* a receive or send waits for buffers or SQ room */
    uint8_t send_owed;              /* queued bytes found the SQ full: retried with the starved */
    uint8_t resend;                 /* a send of the chain fell short: [head, sub) goes again */
    uint8_t chain_len;              /* sends in flight: one chain, completed oldest first */
    uint8_t chain_first;            /* index of the oldest in seg_len */
    uint8_t _pad;
    /* The send ring, free-running byte counts (ring offset = count % GW_UR_STAGE_BYTES):
     * [head, sub) is in flight, [sub, tail) queued; head <= sub <= tail <= head + ring size. */
    uint32_t s_head, s_sub, s_tail;
    uint32_t last_sqe;              /* SQ position of the chain's newest send */
    uint32_t seg_len[GW_UR_CHAIN_MAX];  /* bytes of each send in flight, oldest at chain_first */
    int32_t q_head, q_tail;         /* received buffers not yet framed, oldest first (-1: none) */
    uint32_t q_count;
} gw_uconn_t;

typedef struct gw_uio {
    gw_uring_t r;
    struct io_uring_buf_ring *br;   /* provided buffer ring (shared with the kernel) */
    size_t br_len;
    uint16_t br_tail;
    uint8_t *bufs;                  /* GW_UR_BUFS x GW_UR_BUF_BYTES */
    uint16_t buf_off[GW_UR_BUFS], buf_len[GW_UR_BUFS];
    int32_t buf_next[GW_UR_BUFS];
    uint8_t *stage;                 /* max_connections x GW_UR_STAGE_BYTES, registered */
    gw_uconn_t *uc;
    int fixed_send;                 /* 1: sends name the registered buffer */
    uint32_t listen_armed;          /* bit 0: the plain listener's accept is live; bit 1: TLS's */
    int stopping;                   /* settle(): accepted sockets are closed at once */
    int waker_fd;                   /* -1: none */
    uint32_t waker_gen;
    uint32_t starved;               /* connections whose receive waits for buffers */
    struct io_uring_cqe backlog[GW_UR_BACKLOG];  /* FIFO: [bl_head, bl_head + bl_count) */
    uint32_t bl_head, bl_count;
} gw_uio_t;

static uint64_t gw_ur_tag(uint32_t op, uint32_t slot, uint32_t gen)
{
    return ((uint64_t)gen << 32) | ((uint64_t)slot << 8) | op;
}

static gw_uio_t *gw_ur(gw_t *g)
{
    return g->io_state;
}

static void gw_ur_buf_give(gw_uio_t *u, uint32_t bid)
{
    struct io_uring_buf *b = &u->br->bufs[u->br_tail & (GW_UR_BUFS - 1)];
    b->addr = (uint64_t)(uintptr_t)(u->bufs + (size_t)bid * GW_UR_BUF_BYTES);
    b->len = GW_UR_BUF_BYTES;
    b->bid = (uint16_t)bid;
    u->br_tail++;
    /* release: the buffer's entry above is written before the kernel sees the new tail; pairs
     * with the kernel's acquire load of the buffer ring's tail (io_uring provided buffers). */
    __atomic_store_n(&u->br->tail, u->br_tail, __ATOMIC_RELEASE);
}

/* The multishot accept of the plain listener (tls 0) or of the TLS one (tls 1: its slot in
 * user_data says which listener a new socket came from). */
static void gw_ur_arm_accept(gw_t *g, uint32_t tls)
{
    gw_uio_t *u = gw_ur(g);
    struct io_uring_sqe *s = gw_uring_get_sqe(&u->r);
    if (!s)
        return;                     /* the next pass tries again */
    s->opcode = IORING_OP_ACCEPT;
    s->fd = tls ? g->cfg->tls_listen_fd : g->cfg->listen_fd;
    s->ioprio = IORING_ACCEPT_MULTISHOT;
    s->accept_flags = SOCK_CLOEXEC;
    s->user_data = gw_ur_tag(GW_UR_ACCEPT, tls, 0);
    u->listen_armed |= 1u << tls;
}

static void gw_ur_arm_accepts(gw_t *g)
{
    gw_uio_t *u = gw_ur(g);
    if (!(u->listen_armed & 1))
        gw_ur_arm_accept(g, 0);
    if (g->cfg->tls && !(u->listen_armed & 2))
        gw_ur_arm_accept(g, 1);
}

static void gw_ur_arm_recv(gw_t *g, uint32_t slot)
{
    gw_uio_t *u = gw_ur(g);
    struct io_uring_sqe *s = gw_uring_get_sqe(&u->r);
    if (!s) {
        if (!u->uc[slot].starved++)
            u->starved++;           /* retried with the starved ones */
        return;
    }
    s->opcode = IORING_OP_RECV;
    s->fd = (int32_t)slot;
    s->flags = IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    s->buf_group = GW_UR_BGID;
    s->ioprio = IORING_RECV_MULTISHOT;
    s->user_data = gw_ur_tag(GW_UR_RECV, slot, u->uc[slot].gen);
    u->uc[slot].recv_armed = 1;
}

static uint64_t gw_ur_stage_addr(gw_uio_t *u, uint32_t slot, uint32_t at)
{
    return (uint64_t)(uintptr_t)(u->stage + (size_t)slot * GW_UR_STAGE_BYTES +
                                 (at & (GW_UR_STAGE_BYTES - 1)));
}

/* A new send of len bytes from the ring at x->s_sub (no wrap inside), linked behind the chain's
 * newest send when the kernel has not been shown that one yet. 0, or -1: no SQE now. */
static int gw_ur_send_prep(gw_t *g, uint32_t slot, uint32_t len)
{
    gw_store_sync(g);               /* what the client may see is durable or made again from
                                       the durable journal first (gw_store.c P1/P2) */
    gw_uio_t *u = gw_ur(g);
    gw_uconn_t *x = &u->uc[slot];
    struct io_uring_sqe *prev = x->chain_len ? gw_uring_unpublished(&u->r, x->last_sqe) : NULL;
    if (prev && !gw_uring_sq_has_room(&u->r))
        return -1;                  /* getting one would publish prev: it could not be linked */
    struct io_uring_sqe *s = gw_uring_get_sqe(&u->r);
    if (!s)
        return -1;
    if (prev) {
        prev->flags |= IOSQE_IO_LINK;   /* the kernel starts s only once prev sent it all */
        g->stats->io_sends_linked++;
    }
    g->stats->io_sends++;
    s->opcode = IORING_OP_SEND;
    s->fd = (int32_t)slot;
    s->flags = IOSQE_FIXED_FILE;
    s->addr = gw_ur_stage_addr(u, slot, x->s_sub);
    s->len = len;
    /* MSG_WAITALL: a short send is retried by the kernel, so a chain breaks on errors only */
    s->msg_flags = MSG_NOSIGNAL | MSG_WAITALL;
    if (u->fixed_send) {
        s->ioprio = IORING_RECVSEND_FIXED_BUF;
        s->buf_index = 0;
    }
    s->user_data = gw_ur_tag(GW_UR_SEND, slot, x->gen);
    x->seg_len[(x->chain_first + x->chain_len) % GW_UR_CHAIN_MAX] = len;
    x->chain_len++;
    x->last_sqe = u->r.sqe_tail - 1;
    x->s_sub += len;
    return 0;
}

/* Hands the ring's queued bytes [s_sub, s_tail) to sends: grows the chain's newest send or links
 * new ones to it while the kernel has not been shown the chain; with a chain in the kernel they
 * wait for its last completion (gw_ur_on_send), which sends them as the next chain. */
static void gw_ur_send_queued(gw_t *g, uint32_t slot)
{
    gw_uio_t *u = gw_ur(g);
    gw_uconn_t *x = &u->uc[slot];
    while (x->s_sub != x->s_tail) {
        uint32_t len = x->s_tail - x->s_sub;
        uint32_t to_end = GW_UR_STAGE_BYTES - (x->s_sub & (GW_UR_STAGE_BYTES - 1));
        if (len > to_end)
            len = to_end;
        struct io_uring_sqe *prev = x->chain_len ? gw_uring_unpublished(&u->r, x->last_sqe) : NULL;
        if (x->chain_len && !prev) {
            g->stats->io_sends_waited++;
            return;                 /* a chain in the kernel: sends submitted apart may reorder */
        }
        if (prev && prev->addr + prev->len == gw_ur_stage_addr(u, slot, x->s_sub)) {
            prev->len += len;       /* contiguous: one send carries both */
            x->seg_len[(x->chain_first + x->chain_len - 1) % GW_UR_CHAIN_MAX] += len;
            x->s_sub += len;
            continue;
        }
        if (x->chain_len == GW_UR_CHAIN_MAX)
            return;
        if (gw_ur_send_prep(g, slot, len) < 0) {
            x->send_owed = 1;       /* the SQ is full: retried with the starved */
            if (!x->starved++)
                u->starved++;
            return;
        }
    }
    x->send_owed = 0;
}

/* Books the completion of the chain's oldest send. 0, or -1: the peer is gone. */
static int gw_ur_send_done(gw_uio_t *u, gw_uconn_t *x, int32_t res)
{
    uint32_t want = x->seg_len[x->chain_first];
    x->chain_first = (uint8_t)((x->chain_first + 1) % GW_UR_CHAIN_MAX);
    x->chain_len--;
    if (res > 0)
        x->s_head += (uint32_t)res;
    if (res != (int32_t)want) {
        if (res == -EINVAL && u->fixed_send)
            u->fixed_send = 0;      /* this kernel sends from registered buffers only with
                                       SEND_ZC: plain sends from the same memory from now on */
        else if (res < 0 && res != -ECANCELED && res != -EINTR && res != -EAGAIN)
            return -1;
        x->resend = 1;              /* short, or cancelled behind a short one: the links after it
                                       did not run */
    }
    if (!x->chain_len && x->resend) {
        x->s_sub = x->s_head;       /* the chain is done: what it did not send goes again, in
                                       order, before anything queued after it */
        x->resend = 0;
    }
    return 0;
}

static int gw_ur_files_set(gw_t *g, uint32_t slot, int fd)
{
    struct io_uring_files_update up = {.offset = slot, .fds = (uint64_t)(uintptr_t)&fd};
    return gw_uring_register(&gw_ur(g)->r, IORING_REGISTER_FILES_UPDATE, &up, 1);
}

/* Cancels every operation on the slot's registered file, or the one with that user_data. */
static void gw_ur_cancel(gw_t *g, uint32_t slot, uint64_t user_data)
{
    struct io_uring_sync_cancel_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.timeout.tv_sec = -1;
    reg.timeout.tv_nsec = -1;
    if (user_data) {
        reg.addr = user_data;
    } else {
        reg.fd = (int32_t)slot;
        reg.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_FD_FIXED | IORING_ASYNC_CANCEL_ALL;
    }
    gw_uring_register(&gw_ur(g)->r, IORING_REGISTER_SYNC_CANCEL, &reg, 1);
}

static void gw_ur_queue_drop(gw_uio_t *u, gw_uconn_t *x)
{
    while (x->q_head >= 0) {
        int32_t bid = x->q_head;
        x->q_head = u->buf_next[bid];
        gw_ur_buf_give(u, (uint32_t)bid);
    }
    x->q_tail = -1;
    x->q_count = 0;
}

static void gw_ur_queue_push(gw_t *g, uint32_t slot, uint32_t bid, uint32_t len)
{
    gw_uio_t *u = gw_ur(g);
    gw_uconn_t *x = &u->uc[slot];
    u->buf_off[bid] = 0;
    u->buf_len[bid] = (uint16_t)len;
    u->buf_next[bid] = -1;
    if (x->q_tail >= 0)
        u->buf_next[x->q_tail] = (int32_t)bid;
    else
        x->q_head = (int32_t)bid;
    x->q_tail = (int32_t)bid;
    if (++x->q_count >= GW_UR_HOLD_MAX && x->recv_armed)  /* held back: stop taking buffers */
        gw_ur_cancel(g, slot, gw_ur_tag(GW_UR_RECV, slot, x->gen));
}

/* Hands queued bytes to the frame buffer while the connection takes them; closes it once the
 * peer's end was reached; re-arms a receive that stopped while it had too much queued. */
static void gw_ur_feed(gw_t *g, gw_conn_t *c)
{
    gw_uio_t *u = gw_ur(g);
    uint32_t slot = (uint32_t)(c - g->conns);
    gw_uconn_t *x = &u->uc[slot];
    const uint32_t gen = x->gen;
    while (x->q_head >= 0 && c->fd >= 0 && x->gen == gen) {
        if (c->closing) {           /* lingering to flush a Terminate: input is discarded */
            gw_ur_queue_drop(u, x);
            break;
        }
        if (c->blocked || c->rx_len == GW_RX_BYTES)
            return;
        uint32_t bid = (uint32_t)x->q_head;
        uint32_t n = GW_RX_BYTES - c->rx_len;
        if (n > u->buf_len[bid])
            n = u->buf_len[bid];
        memcpy(c->rx + c->rx_len, u->bufs + (size_t)bid * GW_UR_BUF_BYTES + u->buf_off[bid], n);
        g->stats->io_copies_bytes += n;
        u->buf_off[bid] = (uint16_t)(u->buf_off[bid] + n);
        u->buf_len[bid] = (uint16_t)(u->buf_len[bid] - n);
        if (u->buf_len[bid] == 0) {
            x->q_head = u->buf_next[bid];
            if (x->q_head < 0)
                x->q_tail = -1;
            x->q_count--;
            gw_ur_buf_give(u, bid);
        }
        gw_io_received(g, c, n);    /* may close c (then gen moves on) */
    }
    if (c->fd < 0 || x->gen != gen)
        return;
    if (x->eof && x->q_head < 0) {
        gw_conn_close(g, c);
        return;
    }
    if (!x->recv_armed && !x->eof && !x->starved && x->q_count < GW_UR_HOLD_MAX / 2)
        gw_ur_arm_recv(g, slot);
}

static void gw_ur_on_recv(gw_t *g, const struct io_uring_cqe *e, uint32_t slot, uint32_t gen)
{
    gw_uio_t *u = gw_ur(g);
    gw_uconn_t *x = &u->uc[slot];
    gw_conn_t *c = &g->conns[slot];
    int live = x->gen == gen && c->fd >= 0;
    if (e->flags & IORING_CQE_F_BUFFER) {
        uint32_t bid = e->flags >> IORING_CQE_BUFFER_SHIFT;
        if (live && e->res > 0)
            gw_ur_queue_push(g, slot, bid, (uint32_t)e->res);
        else
            gw_ur_buf_give(u, bid);
    }
    if (!live)
        return;
    if (!(e->flags & IORING_CQE_F_MORE)) {
        x->recv_armed = 0;
        if (e->res == -ENOBUFS) {
            if (!x->starved++)
                u->starved++;
        } else if (e->res == 0 || (e->res < 0 && e->res != -ECANCELED)) {
            x->eof = 1;             /* the peer closed, or the socket failed */
        }
    }
    gw_ur_feed(g, c);
}

static void gw_ur_on_send(gw_t *g, const struct io_uring_cqe *e, uint32_t slot, uint32_t gen)
{
    gw_uio_t *u = gw_ur(g);
    gw_uconn_t *x = &u->uc[slot];
    gw_conn_t *c = &g->conns[slot];
    if (x->gen != gen || c->fd < 0)
        return;                     /* a closed connection's: its close waited for it to end */
    if (gw_ur_send_done(u, x, e->res) < 0) {
        gw_conn_close(g, c);        /* the peer is gone */
        return;
    }
    if (x->chain_len)
        return;                     /* the chain's last completion goes on */
    if (gw_conn_out_pending(c)) {
        if (gw_conn_flush(g, c) < 0)
            gw_conn_close(g, c);
        return;
    }
    gw_ur_send_queued(g, slot);
}

static void gw_ur_dispatch(gw_t *g, const struct io_uring_cqe *e)
{
    gw_uio_t *u = gw_ur(g);
    uint32_t op = (uint32_t)(e->user_data & 0xff);
    uint32_t slot = (uint32_t)((e->user_data >> 8) & 0xffffff);
    uint32_t gen = (uint32_t)(e->user_data >> 32);
    switch (op) {
    case GW_UR_ACCEPT:
        if (!(e->flags & IORING_CQE_F_MORE))
            u->listen_armed &= ~(1u << (slot & 1));     /* re-armed by the next wait */
        if (e->res >= 0) {
            if (u->stopping)
                close(e->res);
            else
                gw_io_accepted(g, e->res, NULL, 0, (int)(slot & 1));
        }
        break;
    case GW_UR_WAKER:
        if (gen != u->waker_gen || u->waker_fd < 0)
            break;
        if (e->res > 0)
            gw_io_woken(g);
        if (!(e->flags & IORING_CQE_F_MORE))
            g->io->waker_add(g, u->waker_fd);
        break;
    case GW_UR_RECV:
        if (slot < g->cfg->max_connections)
            gw_ur_on_recv(g, e, slot, gen);
        break;
    case GW_UR_SEND:
        if (slot < g->cfg->max_connections)
            gw_ur_on_send(g, e, slot, gen);
        break;
    default:
        break;
    }
}

/* Receives that ran out of buffers, or submissions that found the SQ full, go again. */
static void gw_ur_retry_starved(gw_t *g)
{
    gw_uio_t *u = gw_ur(g);
    for (uint32_t i = 0; i < g->cfg->max_connections && u->starved; i++) {
        gw_uconn_t *x = &u->uc[i];
        if (!x->starved)
            continue;
        x->starved = 0;
        u->starved--;
        if (g->conns[i].fd < 0)
            continue;
        if (x->send_owed)
            gw_ur_send_queued(g, i);
        gw_ur_feed(g, &g->conns[i]);
    }
}

/* Handles the backlog, then the completion queue. Returns how many completions it handled. */
static int gw_ur_drain(gw_t *g)
{
    gw_uio_t *u = gw_ur(g);
    int n = 0;
    struct io_uring_cqe e;
    for (;;) {
        if (u->bl_count) {          /* older than anything still in the ring (a flush inside a
                                       dispatch may have stashed more) */
            e = u->backlog[u->bl_head];
            u->bl_head = (u->bl_head + 1) % GW_UR_BACKLOG;
            u->bl_count--;
        } else if (!gw_uring_next_cqe(&u->r, &e)) {
            return n;
        }
        gw_ur_dispatch(g, &e);
        n++;
    }
}

static int gw_ur_wait(gw_t *g, int timeout_ms)
{
    gw_uio_t *u = gw_ur(g);
    u->stopping = 0;
    gw_ur_arm_accepts(g);
    if (u->starved)
        gw_ur_retry_starved(g);
    int rc = gw_uring_submit(&u->r, u->bl_count ? 0 : timeout_ms);
    if (rc < 0)
        return rc;
    return gw_ur_drain(g);
}

static void gw_ur_submit(gw_t *g)
{
    gw_uring_submit(&gw_ur(g)->r, 0);
}

static void gw_ur_settle(gw_t *g)
{
    gw_uio_t *u = gw_ur(g);
    u->stopping = 1;
    gw_uring_submit(&u->r, 0);
    gw_ur_drain(g);
}

static int gw_ur_conn_add(gw_t *g, gw_conn_t *c)
{
    gw_uio_t *u = gw_ur(g);
    uint32_t slot = (uint32_t)(c - g->conns);
    gw_uconn_t *x = &u->uc[slot];
    int rc = gw_ur_files_set(g, slot, c->fd);
    if (rc < 0)
        return rc;
    x->recv_armed = x->eof = 0;
    if (x->starved) {               /* the slot's previous connection's */
        x->starved = 0;
        u->starved--;
    }
    x->q_head = x->q_tail = -1;
    x->q_count = 0;
    gw_ur_arm_recv(g, slot);
    return 0;
}

static void gw_ur_conn_close(gw_t *g, gw_conn_t *c)
{
    gw_uio_t *u = gw_ur(g);
    uint32_t slot = (uint32_t)(c - g->conns);
    gw_uconn_t *x = &u->uc[slot];
    x->gen++;                       /* completions still to come are stale from here on */
    if (x->recv_armed || x->chain_len) {
        gw_uring_submit(&u->r, 0);  /* what is prepared must be in the kernel to be found */
        gw_ur_cancel(g, slot, 0);   /* synchronous: the send ring is the kernel's no more */
    }
    x->chain_len = x->chain_first = x->resend = x->send_owed = 0;
    x->s_head = x->s_sub = x->s_tail = 0;
    x->recv_armed = 0;
    x->eof = 0;
    gw_ur_queue_drop(u, x);
    gw_ur_files_set(g, slot, -1);
    close(c->fd);
}

/* Inside a flush (the session layer is mid-frame, maybe mid-retransmission): submits, then takes
 * the completions already there. A send's success is booked at once, so its buffer is free again
 * as soon as the kernel wrote it, as a send() call would be; everything else (receives, accepts,
 * a failed send, which closes its connection) waits in the backlog for the next wait, in order. */
static void gw_ur_reap_in_flush(gw_t *g)
{
    gw_uio_t *u = gw_ur(g);
    gw_uring_submit(&u->r, 0);
    struct io_uring_cqe e;
    while (u->bl_count < GW_UR_BACKLOG && gw_uring_next_cqe(&u->r, &e)) {
        uint32_t slot = (uint32_t)((e.user_data >> 8) & 0xffffff);
        gw_uconn_t *x = slot < g->cfg->max_connections ? &u->uc[slot] : NULL;
        /* A chain completes oldest first and a failure cancels the sends after it, so booking
         * only whole sends here (the rest in the backlog, in order) keeps the chain's order. */
        if ((e.user_data & 0xff) == GW_UR_SEND && x && x->chain_len && !x->resend &&
            x->gen == (uint32_t)(e.user_data >> 32) && e.res == (int32_t)x->seg_len[x->chain_first]) {
            gw_ur_send_done(u, x, e.res);
            if (!x->chain_len)
                gw_ur_send_queued(g, slot);     /* what waited behind the chain */
            continue;
        }
        u->backlog[(u->bl_head + u->bl_count++) % GW_UR_BACKLOG] = e;
    }
}

/* Copies as much of c->tx into the slot's send ring as it has room for (its only copy). */
static void gw_ur_stage_in(gw_t *g, gw_conn_t *c, uint32_t slot)
{
    gw_uio_t *u = gw_ur(g);
    gw_uconn_t *x = &u->uc[slot];
    uint32_t n = c->tx_tail - c->tx_head;
    uint32_t room = GW_UR_STAGE_BYTES - (x->s_tail - x->s_head);
    if (n > room)
        n = room;
    for (uint32_t done = 0; done < n;) {
        uint32_t at = x->s_tail & (GW_UR_STAGE_BYTES - 1);
        uint32_t k = n - done;
        if (k > GW_UR_STAGE_BYTES - at)
            k = GW_UR_STAGE_BYTES - at;
        memcpy(u->stage + (size_t)slot * GW_UR_STAGE_BYTES + at, c->tx + c->tx_head + done, k);
        x->s_tail += k;
        done += k;
    }
    g->stats->io_copies_bytes += n;
    c->tx_head += n;
}

static int gw_ur_conn_flush(gw_t *g, gw_conn_t *c)
{
    gw_uio_t *u = gw_ur(g);
    uint32_t slot = (uint32_t)(c - g->conns);
    gw_uconn_t *x = &u->uc[slot];
    for (;;) {
        gw_ur_stage_in(g, c, slot);
        gw_ur_send_queued(g, slot);
        if (c->tx_head == c->tx_tail || !x->chain_len)
            break;
        /* The ring is full: book what the kernel has sent since, as a send() call would. */
        uint32_t head = x->s_head;
        gw_ur_reap_in_flush(g);
        if (x->s_head == head)
            break;                  /* the socket is full: the chain's completion flushes again */
    }
    if (c->tx_head == c->tx_tail)
        c->tx_head = c->tx_tail = 0;
    return 0;
}

static int gw_ur_conn_tx_idle(gw_t *g, const gw_conn_t *c)
{
    const gw_uconn_t *x = &gw_ur(g)->uc[c - g->conns];
    return !x->chain_len && x->s_head == x->s_tail;
}

static int gw_ur_waker_add(gw_t *g, int fd)
{
    gw_uio_t *u = gw_ur(g);
    struct io_uring_sqe *s = gw_uring_get_sqe(&u->r);
    if (!s)
        return -EBUSY;
    s->opcode = IORING_OP_POLL_ADD;
    s->fd = fd;
    s->poll32_events = POLLIN;
    s->len = IORING_POLL_ADD_MULTI;
    s->user_data = gw_ur_tag(GW_UR_WAKER, 0, u->waker_gen);
    u->waker_fd = fd;
    return 0;
}

static void gw_ur_waker_del(gw_t *g, int fd)
{
    gw_uio_t *u = gw_ur(g);
    (void)fd;
    gw_uring_submit(&u->r, 0);      /* the poll must be in the kernel to be found */
    gw_ur_cancel(g, 0, gw_ur_tag(GW_UR_WAKER, 0, u->waker_gen));
    u->waker_gen++;
    u->waker_fd = -1;
}

static int gw_ur_setup_buffers(gw_t *g)
{
    gw_uio_t *u = gw_ur(g);
    u->br_len = GW_UR_BUFS * sizeof(struct io_uring_buf);
    u->br = mmap(NULL, u->br_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (u->br == MAP_FAILED) {
        u->br = NULL;
        return -errno;
    }
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)u->br,
                                   .ring_entries = GW_UR_BUFS, .bgid = GW_UR_BGID};
    int rc = gw_uring_register(&u->r, IORING_REGISTER_PBUF_RING, &reg, 1);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < GW_UR_BUFS; i++)
        gw_ur_buf_give(u, i);
    /* The send buffers, registered: pinned once instead of per send. Refused (RLIMIT_MEMLOCK):
     * plain sends from the same memory. */
    struct iovec iov = {.iov_base = u->stage,
                        .iov_len = (size_t)g->cfg->max_connections * GW_UR_STAGE_BYTES};
    u->fixed_send = gw_uring_register(&u->r, IORING_REGISTER_BUFFERS, &iov, 1) == 0;
    int32_t *fds = malloc(sizeof(int32_t) * g->cfg->max_connections);
    if (!fds)
        return -ENOMEM;
    for (uint32_t i = 0; i < g->cfg->max_connections; i++)
        fds[i] = -1;
    rc = gw_uring_register(&u->r, IORING_REGISTER_FILES, fds, g->cfg->max_connections);
    free(fds);
    return rc;
}

static void gw_ur_close(gw_t *g)
{
    gw_uio_t *u = gw_ur(g);
    if (!u)
        return;
    gw_uring_exit(&u->r);           /* cancels whatever is in flight */
    if (u->br)
        munmap(u->br, u->br_len);
    free(u->bufs);
    free(u->stage);
    free(u->uc);
    free(u);
    g->io_state = NULL;
}

static int gw_ur_open(gw_t *g)
{
    gw_uio_t *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    g->io_state = u;
    u->waker_fd = -1;
    uint32_t n = g->cfg->max_connections;
    if (n > 0xffffff)
        return -EINVAL;             /* the slot must fit user_data's 24 bits */
    u->uc = calloc(n, sizeof *u->uc);
    u->bufs = aligned_alloc(4096, (size_t)GW_UR_BUFS * GW_UR_BUF_BYTES);
    u->stage = aligned_alloc(4096, (size_t)n * GW_UR_STAGE_BYTES);
    if (!u->uc || !u->bufs || !u->stage)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        u->uc[i].q_head = u->uc[i].q_tail = -1;
    int rc = gw_uring_init(&u->r, GW_UR_ENTRIES, g->cfg->io_uring_sqpoll_ms);
    if (rc < 0)
        return rc;
    u->r.syscalls = &g->stats->io_syscalls;
    rc = gw_ur_setup_buffers(g);
    if (rc < 0)
        return rc;
    gw_ur_arm_accepts(g);
    return 0;
}

/* A socket pair through the features the backend uses: a multishot receive on a registered
 * file into a provided buffer, and a fixed-file send. */
static int gw_ur_probe_run(gw_uring_t *r, char *why, uint32_t cap)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    static uint8_t buf[64] __attribute__((aligned(64)));
    struct io_uring_buf_ring *br = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int rc = br == MAP_FAILED ? -errno : 0;
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)br, .ring_entries = 1,
                                   .bgid = GW_UR_BGID};
    if (rc == 0 && (rc = gw_uring_register(r, IORING_REGISTER_PBUF_RING, &reg, 1)) < 0)
        snprintf(why, cap, "provided buffer rings refused (%s; Linux >= 5.19)", strerror(-rc));
    if (rc == 0 && (rc = gw_uring_register(r, IORING_REGISTER_FILES, sv, 2)) < 0)
        snprintf(why, cap, "registered files refused (%s)", strerror(-rc));
    struct io_uring_sqe *s = rc == 0 ? gw_uring_get_sqe(r) : NULL;
    if (s) {
        br->bufs[0] = (struct io_uring_buf){.addr = (uint64_t)(uintptr_t)buf, .len = 64, .bid = 0};
        /* release: pairs with the kernel's acquire load of the buffer ring's tail */
        __atomic_store_n(&br->tail, 1, __ATOMIC_RELEASE);
        s->opcode = IORING_OP_RECV;
        s->fd = 1;
        s->flags = IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
        s->buf_group = GW_UR_BGID;
        s->ioprio = IORING_RECV_MULTISHOT;
        s->user_data = 1;
        s = gw_uring_get_sqe(r);
        s->opcode = IORING_OP_SEND;
        s->fd = 0;
        s->flags = IOSQE_FIXED_FILE;
        s->addr = (uint64_t)(uintptr_t)"ping";
        s->len = 4;
        s->user_data = 2;
        struct io_uring_cqe e;
        int got_recv = 0, got_send = 0;
        for (int tries = 0; rc == 0 && tries < 4 && !(got_recv && got_send); tries++) {
            rc = gw_uring_submit(r, 200);
            while (rc == 0 && gw_uring_next_cqe(r, &e)) {
                if (e.user_data == 2 && e.res != 4)
                    rc = e.res < 0 ? e.res : -EIO;
                if (e.user_data == 1 && (e.res != 4 || !(e.flags & IORING_CQE_F_MORE)))
                    rc = e.res < 0 ? e.res : -EIO;
                got_send |= e.user_data == 2;
                got_recv |= e.user_data == 1;
            }
        }
        if (rc == 0 && !(got_recv && got_send))
            rc = -ETIMEDOUT;
        if (rc < 0)
            snprintf(why, cap, "multishot receive into a provided buffer failed (%s; Linux >= 6.0)",
                     strerror(-rc));
    }
    if (br != MAP_FAILED)
        munmap(br, 4096);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

int gw_io_uring_probe(char *why, uint32_t why_cap)
{
    if (!why || why_cap == 0)
        return -EINVAL;
    why[0] = '\0';
    gw_uring_t r;
    int rc = gw_uring_init(&r, 8, 0);
    if (rc < 0) {
        snprintf(why, why_cap, "io_uring_setup: %s%s", strerror(-rc),
                 rc == -EPERM ? " (kernel.io_uring_disabled, or a seccomp filter)" :
                 rc == -ENOSYS ? " (a kernel without io_uring, or a seccomp filter)" :
                 rc == -ENOTSUP ? " (Linux >= 5.11 needed)" : "");
        return rc;
    }
    rc = gw_ur_probe_run(&r, why, why_cap);
    gw_uring_exit(&r);
    return rc;
}

#else /* !GW_HAVE_URING */

static int gw_ur_open(gw_t *g)
{
    (void)g;
    return -ENOSYS;
}

static void gw_ur_close(gw_t *g)
{
    (void)g;
}

int gw_io_uring_probe(char *why, uint32_t why_cap)
{
    if (why && why_cap)
        snprintf(why, why_cap, "built without <linux/io_uring.h> of Linux >= 6.0");
    return -ENOSYS;
}

#define gw_ur_waker_add NULL
#define gw_ur_waker_del NULL
#define gw_ur_conn_add NULL
#define gw_ur_conn_close NULL
#define gw_ur_conn_flush NULL
#define gw_ur_conn_tx_idle NULL
#define gw_ur_feed NULL
#define gw_ur_submit NULL
#define gw_ur_wait NULL
#define gw_ur_settle NULL

#endif /* GW_HAVE_URING */

const gw_io_ops_t gw_io_uring_ops = {
    .name = "io_uring",
    .open = gw_ur_open,
    .close = gw_ur_close,
    .waker_add = gw_ur_waker_add,
    .waker_del = gw_ur_waker_del,
    .conn_add = gw_ur_conn_add,
    .conn_close = gw_ur_conn_close,
    .conn_flush = gw_ur_conn_flush,
    .conn_tx_idle = gw_ur_conn_tx_idle,
    .conn_resume = gw_ur_feed,
    .submit = gw_ur_submit,
    .wait = gw_ur_wait,
    .settle = gw_ur_settle,
};
