/*
 * tls_client.h - the client end of TLS 1.3 for the benches (bench/wire.py's TLS rows): a blocking
 * handshake on a connected socket, then reads and writes through OpenSSL on that socket, so the
 * C load generator (gw_loadgen.c) can drive a session on the gateway's TLS listener exactly as
 * it drives a plain one. Without OpenSSL at build time every call fails with -ENOTSUP.
 */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H

#include <stdint.h>

/* CFFI-BEGIN */
typedef struct tls_client tls_client_t;

/* Makes a TLS 1.3 client on the connected, blocking socket fd and completes the handshake:
 * verifies the server's certificate against ca_file, presents cert_file/key_file when both
 * are non-empty. The socket stays the caller's (closed by the caller after tls_client_free).
 * NULL on failure with the reason in why. */
tls_client_t *tls_client_open(int fd, const char *ca_file, const char *cert_file,
                              const char *key_file, char *why, uint32_t why_cap);
/* Writes all len bytes (the socket must be blocking). 0, or -EIO / -EPIPE. */
int tls_client_send_all(tls_client_t *t, const uint8_t *buf, uint32_t len);
/* Reads what is there, blocking for the first byte on a blocking socket: > 0 bytes, 0 the
 * server closed, -EAGAIN (a non-blocking socket with nothing yet), -EIO on a TLS error. */
int tls_client_recv(tls_client_t *t, uint8_t *buf, uint32_t cap);
/* Decrypted bytes OpenSSL holds that a poll(2) on the socket would not show. */
uint32_t tls_client_pending(const tls_client_t *t);
/* The protocol version negotiated ("TLSv1.3"). */
const char *tls_client_version(const tls_client_t *t);
/* Frees it (sends close_notify first where the socket takes it). NULL: nothing. */
void tls_client_free(tls_client_t *t);
/* CFFI-END */

/* Non-blocking send for the load generator: bytes written (> 0), -EAGAIN, or -EIO. */
int tls_client_send_some(tls_client_t *t, const uint8_t *buf, uint32_t len);

#endif /* TLS_CLIENT_H */
