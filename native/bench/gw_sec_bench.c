/*
 * gw_sec_bench.c - gw_sec_bench (gw_sec_bench.h): one session, one connection, a zeroed gateway
 * state holding only what gw_security.c reads; the loop's own functions timed n times.
 */
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "gw_internal.h"
#include "gw_sec_bench.h"

typedef struct gw_sec_bench_state {
    gw_t g;
    gw_config_t cfg;
    gw_session_cfg_t scfg;
    gw_session_t session;
    gw_conn_t conn;
    gw_security_t sec;
    gw_sec_session_t ssec;
    gw_sec_source_t sources[GW_SEC_SOURCES];
} gw_sec_bench_state_t;

static gw_sec_bench_state_t gw_sec_bench_st;   /* static: the bench allocates nothing */

static int64_t gw_sec_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void gw_sec_bench_setup(gw_sec_bench_state_t *st, int secured)
{
    memset(st, 0, sizeof *st);
    st->scfg.session_id = 101;
    st->scfg.firm_id = 1;
    st->scfg.key_len = 16;
    memcpy(st->scfg.key, "bench-plain-key!", 16);
    st->session.cfg = &st->scfg;
    st->session.conn = 0;
    strcpy(st->conn.peer, "127.0.0.1:40000");
    st->sec.sessions = &st->ssec;
    st->sec.sources = st->sources;
    st->sec.logon_window_ms = 60000;
    st->sec.lockout_ms = 60000;
    st->sec.proof_window_ms = 30000;
    for (int r = 0; r < GW_SEC_RULES; r++) {
        st->sec.rules[r].limit = UINT32_MAX;       /* on, never reached */
        st->sec.rules[r].window_ms = 1000;
    }
    st->cfg.session_count = 1;
    st->cfg.security = secured ? &st->sec : NULL;
    st->g.cfg = &st->cfg;
    st->g.sessions = &st->session;
    st->g.conns = &st->conn;
    st->g.now_ns = gw_sec_bench_now();
}

static int64_t gw_sec_bench_entry(gw_sec_bench_state_t *st, uint32_t n)
{
    uint32_t refused = 0;
    int64_t t0 = gw_sec_bench_now();
    for (uint32_t i = 0; i < n; i++) {
        st->g.now_ns += 1000;      /* 1 us apart: windows roll as in a live session */
        refused += gw_sec_entry(&st->g, 0, (i & 1) ? SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID
                                                   : SBE_NEW_ORDER_SINGLE_TEMPLATE_ID) != ENG_OK;
    }
    int64_t dt = gw_sec_bench_now() - t0;
    return refused ? -1 : dt;
}

/* The proof a client with ClientKey 0x42.. sends for (tid, session 101, ts); stored := its key. */
static void gw_sec_bench_proof(gw_sec_bench_state_t *st, uint64_t ts, uint8_t proof[32])
{
    uint8_t client_key[32], sig[EVP_MAX_MD_SIZE], msg[27];
    unsigned int sig_len = 0;
    uint16_t tid = SBE_NEGOTIATE_TEMPLATE_ID;
    uint64_t sid = 101;
    memset(client_key, 0x42, sizeof client_key);
    SHA256(client_key, sizeof client_key, st->ssec.stored_key);
    memcpy(msg, "FIXP-AUTH", 9);
    memcpy(msg + 9, &tid, 2);
    memcpy(msg + 11, &sid, 8);
    memcpy(msg + 19, &ts, 8);
    HMAC(EVP_sha256(), st->ssec.stored_key, 32, msg, sizeof msg, sig, &sig_len);
    for (int i = 0; i < 32; i++)
        proof[i] = (uint8_t)(client_key[i] ^ sig[i]);
}

static int64_t gw_sec_bench_logon(gw_sec_bench_state_t *st, uint32_t n, int hashed)
{
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    uint64_t ts = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
    uint8_t proof[32];
    gw_sec_bench_proof(st, ts, proof);
    st->ssec.key_kind = hashed ? GW_KEY_HASHED : GW_KEY_PLAIN;
    const uint8_t *cred = hashed ? proof : st->scfg.key;
    uint16_t len = hashed ? 32 : (uint16_t)st->scfg.key_len;
    uint32_t refused = 0;
    int64_t t0 = gw_sec_bench_now();
    for (uint32_t i = 0; i < n; i++) {
        st->ssec.last_proof_ts_ns = 0;     /* the same proof again, not a replay here */
        refused += gw_sec_logon(&st->g, &st->conn, 0, SBE_NEGOTIATE_TEMPLATE_ID, ts, cred, len) != ENG_OK;
    }
    int64_t dt = gw_sec_bench_now() - t0;
    return refused ? -1 : dt;
}

int64_t gw_sec_bench(uint32_t mode, uint32_t n)
{
    gw_sec_bench_state_t *st = &gw_sec_bench_st;
    gw_sec_bench_setup(st, mode != GW_SEC_BENCH_ENTRY_OFF);
    switch (mode) {
    case GW_SEC_BENCH_ENTRY_OFF:
    case GW_SEC_BENCH_ENTRY_ON:
        return gw_sec_bench_entry(st, n);
    case GW_SEC_BENCH_LOGON_PLAIN:
        return gw_sec_bench_logon(st, n, 0);
    case GW_SEC_BENCH_LOGON_HASHED:
        return gw_sec_bench_logon(st, n, 1);
    default:
        return -1;
    }
}
