/*
 * gw_tls.c - TLS 1.3 for the gateway's TLS listener on OpenSSL, over memory BIOs (gw_tls.h).
 * Built with OpenSSL where its headers and libraries were found (native/build_ffi.py defines
 * GW_WITH_OPENSSL); without, every entry point says so and the gateway refuses a TLS listener
 * at start-up (gateway/orderentry/process.py) rather than serving it in the clear.
 * Policy: TLS 1.3 only (a TLS 1.2 client gets a protocol_version alert); client certificates
 * verified against the configured CA file, required or optional per the listener's config;
 * no session tickets (a ticket saves a full handshake on reconnect, but order-entry sessions
 * are long-lived, and tickets would be one more secret to rotate).
 * Every refusal is one line on stderr: the peer and OpenSSL's reason, with the certificate
 * verification error when that was the cause (the gateway has no audit log of its own; the
 * supervisor keeps its stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_server.h"
#include "gw_tls.h"

#if defined(GW_WITH_OPENSSL)
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct gw_tls_conn {
    SSL *ssl;
    BIO *rbio, *wbio;               /* ciphertext in (from the socket) / out (to the socket) */
    int open;                       /* the handshake completed */
};

int gw_tls_available(char *why, uint32_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    return 0;
}

static void gw_tls_why(char *why, uint32_t cap, const char *what, const char *file)
{
    char err[256] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, err, sizeof err);
    if (why && cap)
        snprintf(why, cap, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
                 err[0] ? err : "refused");
    ERR_clear_error();
}

static int gw_tls_ctx_verify(SSL_CTX *ctx, const char *client_ca, uint32_t require,
                             char *why, uint32_t why_cap)
{
    if (!client_ca || !client_ca[0]) {
        if (require && why && why_cap)
            snprintf(why, why_cap, "client certificates required but no client CA file given");
        return require ? -1 : 0;
    }
    if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
        gw_tls_why(why, why_cap, "client CA file", client_ca);
        return -1;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
    if (names)
        SSL_CTX_set_client_CA_list(ctx, names);     /* the CertificateRequest names them */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       NULL);
    return 0;
}

void *gw_tls_server_ctx_new(const char *cert_file, const char *key_file, const char *client_ca,
                            uint32_t require_client_cert, char *why, uint32_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    if (!cert_file || !key_file || !cert_file[0] || !key_file[0]) {
        if (why && why_cap)
            snprintf(why, why_cap, "a certificate file and a key file are both needed");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        gw_tls_why(why, why_cap, "SSL_CTX_new", NULL);
        return NULL;
    }
    int ok = SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1;
    if (!ok)
        gw_tls_why(why, why_cap, "TLS 1.3", NULL);
    if (ok && !(ok = SSL_CTX_use_certificate_chain_file(ctx, cert_file) == 1))
        gw_tls_why(why, why_cap, "certificate file", cert_file);
    if (ok && !(ok = SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) == 1))
        gw_tls_why(why, why_cap, "key file", key_file);
    if (ok && !(ok = SSL_CTX_check_private_key(ctx) == 1))
        gw_tls_why(why, why_cap, "key file does not match the certificate", key_file);
    if (ok)
        ok = gw_tls_ctx_verify(ctx, client_ca, require_client_cert, why, why_cap) == 0;
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    return ctx;
}

void gw_tls_ctx_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

gw_tls_conn_t *gw_tls_conn_new(void *ctx)
{
    gw_tls_conn_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        SSL_free(t->ssl);
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_bio(t->ssl, t->rbio, t->wbio);          /* the SSL owns both from here on */
    SSL_set_accept_state(t->ssl);
    return t;
}

void gw_tls_conn_free(gw_tls_conn_t *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

int gw_tls_absorb(gw_tls_conn_t *t, const uint8_t *src, uint32_t n)
{
    if (n == 0)
        return 0;
    return BIO_write(t->rbio, src, (int)n) == (int)n ? 0 : GW_TLS_FAILED;
}

/* The refusal's line: the peer, OpenSSL's reason, and the certificate check's verdict. */
static void gw_tls_log_refusal(gw_tls_conn_t *t, const char *peer, int ssl_err)
{
    char reason[256] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    else if (ssl_err == SSL_ERROR_SYSCALL)
        snprintf(reason, sizeof reason, "the peer's bytes ended mid-record");
    long v = SSL_get_verify_result(t->ssl);
    fprintf(stderr, "gateway: TLS refused %s (%s): %s%s%s\n", peer && peer[0] ? peer : "a peer",
            t->open ? "after the handshake" : "in the handshake", reason[0] ? reason : "error",
            v != X509_V_OK ? "; client certificate: " : "",
            v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
    fflush(stderr);
    ERR_clear_error();
}

int gw_tls_read(gw_tls_conn_t *t, uint8_t *dst, uint32_t cap, const char *peer,
                uint64_t *handshakes, uint64_t *refused)
{
    if (cap == 0)
        return GW_TLS_MORE;
    int n = SSL_read(t->ssl, dst, (int)cap);
    if (!t->open && SSL_is_init_finished(t->ssl)) {
        t->open = 1;
        (*handshakes)++;
    }
    if (n > 0)
        return n;
    int err = SSL_get_error(t->ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return GW_TLS_MORE;
    if (err == SSL_ERROR_ZERO_RETURN)
        return GW_TLS_PEER_CLOSED;
    (*refused)++;
    gw_tls_log_refusal(t, peer, err);
    return GW_TLS_FAILED;
}

int gw_tls_open(const gw_tls_conn_t *t)
{
    return t->open;
}

int gw_tls_write(gw_tls_conn_t *t, const uint8_t *src, uint32_t n)
{
    if (n == 0)
        return 0;
    int w = SSL_write(t->ssl, src, (int)n);   /* into a memory BIO: all of it, or an error */
    if (w != (int)n) {
        ERR_clear_error();
        return GW_TLS_FAILED;
    }
    return w;
}

size_t gw_tls_pending(const gw_tls_conn_t *t)
{
    return BIO_ctrl_pending(t->wbio);
}

uint32_t gw_tls_take(gw_tls_conn_t *t, uint8_t *dst, uint32_t cap)
{
    if (cap == 0 || BIO_ctrl_pending(t->wbio) == 0)
        return 0;
    int n = BIO_read(t->wbio, dst, (int)cap);
    return n > 0 ? (uint32_t)n : 0;
}

#else /* !GW_WITH_OPENSSL */

int gw_tls_available(char *why, uint32_t why_cap)
{
    if (why && why_cap)
        snprintf(why, why_cap, "this build has no TLS: OpenSSL's headers (libssl-dev) were not "
                               "found when the extension was built (or VENUE_NO_OPENSSL=1)");
    return -ENOTSUP;
}

void *gw_tls_server_ctx_new(const char *cert_file, const char *key_file, const char *client_ca,
                            uint32_t require_client_cert, char *why, uint32_t why_cap)
{
    gw_tls_available(why, why_cap);
    return NULL;
}

void gw_tls_ctx_free(void *ctx)
{
    (void)ctx;
}

gw_tls_conn_t *gw_tls_conn_new(void *ctx)
{
    (void)ctx;
    return NULL;
}

void gw_tls_conn_free(gw_tls_conn_t *t)
{
    (void)t;
}

int gw_tls_absorb(gw_tls_conn_t *t, const uint8_t *src, uint32_t n)
{
    return GW_TLS_FAILED;
}

int gw_tls_read(gw_tls_conn_t *t, uint8_t *dst, uint32_t cap, const char *peer,
                uint64_t *handshakes, uint64_t *refused)
{
    return GW_TLS_FAILED;
}

int gw_tls_open(const gw_tls_conn_t *t)
{
    return 0;
}

int gw_tls_write(gw_tls_conn_t *t, const uint8_t *src, uint32_t n)
{
    return GW_TLS_FAILED;
}

size_t gw_tls_pending(const gw_tls_conn_t *t)
{
    return 0;
}

uint32_t gw_tls_take(gw_tls_conn_t *t, uint8_t *dst, uint32_t cap)
{
    return 0;
}

#endif /* GW_WITH_OPENSSL */
