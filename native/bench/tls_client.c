/*
 * tls_client.c - TLS 1.3 client for the benches (tls_client.h), on OpenSSL with the socket as
 * its BIO. Partial writes are enabled and a retried write may come from a moved buffer, as the
 * load generator compacts its own buffer between tries.
 */
#define _GNU_SOURCE
#include "tls_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(GW_WITH_OPENSSL)
#include <openssl/err.h>
#include <openssl/ssl.h>

struct tls_client {
    SSL_CTX *ctx;
    SSL *ssl;
};

static void tls_client_why(char *why, uint32_t cap, const char *what)
{
    char err[256] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, err, sizeof err);
    if (why && cap)
        snprintf(why, cap, "%s: %s", what, err[0] ? err : "failed");
    ERR_clear_error();
}

static SSL_CTX *tls_client_ctx(const char *ca_file, const char *cert_file, const char *key_file,
                               char *why, uint32_t why_cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        tls_client_why(why, why_cap, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const char *what = NULL;
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
        what = "CA file";
    else if (cert_file && cert_file[0] && key_file && key_file[0] &&
             (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
              SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1))
        what = "client certificate or key";
    if (what) {
        tls_client_why(why, why_cap, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

tls_client_t *tls_client_open(int fd, const char *ca_file, const char *cert_file,
                              const char *key_file, char *why, uint32_t why_cap)
{
    tls_client_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ctx = tls_client_ctx(ca_file, cert_file, key_file, why, why_cap);
    t->ssl = t->ctx ? SSL_new(t->ctx) : NULL;
    if (t->ssl && SSL_set_fd(t->ssl, fd) == 1 && SSL_connect(t->ssl) == 1)
        return t;
    if (t->ctx)
        tls_client_why(why, why_cap, "TLS handshake");
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    free(t);
    return NULL;
}

int tls_client_send_some(tls_client_t *t, const uint8_t *buf, uint32_t len)
{
    int n = SSL_write(t->ssl, buf, (int)len);
    if (n > 0)
        return n;
    int err = SSL_get_error(t->ssl, n);
    ERR_clear_error();
    return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? -EAGAIN : -EIO;
}

int tls_client_send_all(tls_client_t *t, const uint8_t *buf, uint32_t len)
{
    for (uint32_t done = 0; done < len;) {
        int n = tls_client_send_some(t, buf + done, len - done);
        if (n < 0)
            return n == -EAGAIN ? -EIO : n;     /* a blocking socket never would-blocks */
        done += (uint32_t)n;
    }
    return 0;
}

int tls_client_recv(tls_client_t *t, uint8_t *buf, uint32_t cap)
{
    int n = SSL_read(t->ssl, buf, (int)cap);
    if (n > 0)
        return n;
    int err = SSL_get_error(t->ssl, n);
    ERR_clear_error();
    if (err == SSL_ERROR_ZERO_RETURN)
        return 0;
    return err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ? -EAGAIN : -EIO;
}

uint32_t tls_client_pending(const tls_client_t *t)
{
    return (uint32_t)SSL_pending(t->ssl);
}

const char *tls_client_version(const tls_client_t *t)
{
    return SSL_get_version(t->ssl);
}

void tls_client_free(tls_client_t *t)
{
    if (!t)
        return;
    SSL_shutdown(t->ssl);
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    free(t);
}

#else /* !GW_WITH_OPENSSL */

tls_client_t *tls_client_open(int fd, const char *ca_file, const char *cert_file,
                              const char *key_file, char *why, uint32_t why_cap)
{
    if (why && why_cap)
        snprintf(why, why_cap, "this build has no TLS (OpenSSL's headers were not found)");
    return NULL;
}

int tls_client_send_some(tls_client_t *t, const uint8_t *buf, uint32_t len)
{
    return -ENOTSUP;
}

int tls_client_send_all(tls_client_t *t, const uint8_t *buf, uint32_t len)
{
    return -ENOTSUP;
}

int tls_client_recv(tls_client_t *t, uint8_t *buf, uint32_t cap)
{
    return -ENOTSUP;
}

uint32_t tls_client_pending(const tls_client_t *t)
{
    return 0;
}

const char *tls_client_version(const tls_client_t *t)
{
    return "none";
}

void tls_client_free(tls_client_t *t)
{
    (void)t;
}

#endif /* GW_WITH_OPENSSL */
