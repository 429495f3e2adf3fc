/*
 * gw_tls.h - TLS 1.3 on a gateway connection, over memory BIOs: the I/O backend (epoll or
 * io_uring, gw_io.h) moves ciphertext exactly as it moves plain bytes, and this layer turns it
 * into the plaintext the FIXP session layer reads and back. kTLS (the kernel encrypting after
 * the handshake) would let the backends write plaintext, but needs a kernel built with
 * CONFIG_TLS, which the machine this was measured on lacks; memory BIOs work everywhere.
 * Not seen by cffi (its exported part is in gw_server.h); gateway thread only. Calls nothing
 * of the gateway's: the callers (gw_conn.c, gw_io_events.c) own the buffers.
 */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct gw_tls_conn gw_tls_conn_t;

enum {
    GW_TLS_MORE = 0,                /* gw_tls_read: nothing decrypted now (needs more bytes) */
    GW_TLS_FAILED = -1,             /* refused: the reason is on stderr; flush, then close */
    GW_TLS_PEER_CLOSED = -2,        /* the client sent close_notify */
};

/* A server-side TLS connection on ctx (gw_tls_server_ctx_new), waiting for a ClientHello.
 * NULL: out of memory (or no TLS in this build). */
gw_tls_conn_t *gw_tls_conn_new(void *ctx);
void gw_tls_conn_free(gw_tls_conn_t *t);
/* Takes n ciphertext bytes the socket gave. 0, or GW_TLS_FAILED (out of memory). */
int gw_tls_absorb(gw_tls_conn_t *t, const uint8_t *src, uint32_t n);
/* Drives the handshake and decrypts into dst: > 0 plaintext bytes written, or GW_TLS_MORE,
 * GW_TLS_FAILED (logged with peer, and counted: *handshakes / *refused), GW_TLS_PEER_CLOSED. */
int gw_tls_read(gw_tls_conn_t *t, uint8_t *dst, uint32_t cap, const char *peer,
                uint64_t *handshakes, uint64_t *refused);
/* 1 once the handshake completed (application data may be written). */
int gw_tls_open(const gw_tls_conn_t *t);
/* Encrypts n plaintext bytes (they become pending ciphertext). n, or GW_TLS_FAILED. */
int gw_tls_write(gw_tls_conn_t *t, const uint8_t *src, uint32_t n);
/* Ciphertext waiting to go to the socket (handshake messages, alerts, records). */
size_t gw_tls_pending(const gw_tls_conn_t *t);
/* Moves up to cap bytes of that ciphertext into dst; returns how many. */
uint32_t gw_tls_take(gw_tls_conn_t *t, uint8_t *dst, uint32_t cap);

/* Largest ciphertext one gw_tls_write of n bytes makes (records of 16 KiB, each with its
 * header, content type and AEAD tag). */
#define GW_TLS_RECORD_PLAIN 16384u
#define GW_TLS_RECORD_OVERHEAD 64u

#endif /* GW_TLS_H */
