/*
 * gw_io.h - the gateway loop's I/O backend interface (the pattern of Redis's ae: one table of
 * operations per backend, chosen once at gw_open; the loop in gw_server.c never branches on which
 * backend runs).
 *
 *   gw_io_epoll.c  readiness: epoll_wait, then recv/send/accept4 per ready socket (the default)
 *   gw_io_uring.c  completions: io_uring (raw syscalls, gw_uring.c) with multishot accept and
 *                  receive into a provided buffer ring, registered files and send buffers, sends
 *                  of a loop pass submitted together, optional SQPOLL
 *
 * A backend owns the system calls on the listening sockets (the plain one, and the TLS one
 * when cfg->tls is set) and the client sockets; everything a
 * byte means stays above it. It hands received bytes up through gw_io_received (appended to
 * c->rx), new sockets through gw_io_accepted, the engine doorbell's eventfd through gw_io_woken,
 * and a peer that is gone through gw_conn_close. Not seen by cffi; gateway thread only.
 */
#ifndef GW_IO_H
#define GW_IO_H

#include <stdint.h>
#include <sys/socket.h>

struct gw;
struct gw_conn;

typedef struct gw_io_ops {
    const char *name;
    /* Makes the backend's state (g->io_state) and puts cfg->listen_fd (and cfg->tls_listen_fd
     * when cfg->tls is set) into the loop. 0 or -errno. */
    int (*open)(struct gw *g);
    /* Frees it (connections were closed before). */
    void (*close)(struct gw *g);
    /* The engine doorbell's eventfd in / out of the loop (gw_waker.c). 0 or -errno. */
    int (*waker_add)(struct gw *g, int fd);
    void (*waker_del)(struct gw *g, int fd);
    /* An accepted socket (c->fd set) starts being read. 0 or -errno (the caller closes it). */
    int (*conn_add)(struct gw *g, struct gw_conn *c);
    /* Takes the socket out of the loop and closes it (c->fd is then set to -1 by the caller). */
    void (*conn_close)(struct gw *g, struct gw_conn *c);
    /* Moves c->tx[head..tail) towards the socket as far as it goes now. 0, or -1: the peer is
     * gone (the caller closes). What a backend took but has not yet written counts as not idle. */
    int (*conn_flush)(struct gw *g, struct gw_conn *c);
    /* 1 when nothing the connection queued is still on its way to the socket. */
    int (*conn_tx_idle)(struct gw *g, const struct gw_conn *c);
    /* Reading may go on: the connection was held back (c->blocked) and the engine made room. */
    void (*conn_resume)(struct gw *g, struct gw_conn *c);
    /* Hands the writes queued this pass to the kernel (a no-op where flush wrote already). */
    void (*submit)(struct gw *g);
    /* Waits up to timeout_ms (0: do not block) and dispatches what happened. Returns how many
     * events it handled, or -errno of the wait. */
    int (*wait)(struct gw *g, int timeout_ms);
    /* Stopping: lets writes in flight finish without taking new input or connections. */
    void (*settle)(struct gw *g);
} gw_io_ops_t;

extern const gw_io_ops_t gw_io_epoll_ops;
extern const gw_io_ops_t gw_io_uring_ops;

/* Up-calls of the backends (gw_server.c). */
/* A socket a listening socket gave (tls: the TLS listener's): gets a connection slot and is
 * added to the backend (conn_add), or is closed (no slot free, or conn_add failed). peer may
 * be NULL (looked up). */
void gw_io_accepted(struct gw *g, int fd, const struct sockaddr_storage *peer, socklen_t peer_len,
                    int tls);
/* n bytes were appended at c->rx + c->rx_len: frames them and handles whole ones (on a TLS
 * connection they are ciphertext: decrypted first, gw_tls.h). */
void gw_io_received(struct gw *g, struct gw_conn *c, uint32_t n);
/* A TLS connection: decrypts and handles what TLS holds already, as far as the connection
 * takes input (after it was held back by a full command ring). */
void gw_io_tls_drain(struct gw *g, struct gw_conn *c);
/* The doorbell's eventfd fired. */
void gw_io_woken(struct gw *g);

#endif /* GW_IO_H */
