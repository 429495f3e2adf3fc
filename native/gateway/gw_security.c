/*
 * gw_security.c - logon checks (hashed keys, replay, lockout) and the per-session detectors of
 * abnormal order behaviour (gw_security.h). A leaf: it keeps counters and events and says what to
 * do; its callers answer and terminate (fixp_session.c, gw_entry.c), so no call cycle forms.
 *
 * Counting: each detector counts in a fixed window of window_ms that restarts at the first count
 * after it ended; it fires once per window, at the count that passes its limit. Cost per
 * application message with every detector on: a handful of compares and adds, no syscall, no
 * allocation (bench/sec.py measures it).
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "gw_internal.h"

#define GW_SEC_PROBES 8             /* source table: slots looked at per address */
static const char gw_auth_label[] = "FIXP-AUTH";

static int64_t gw_sec_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t gw_sec_host_hash(const char *peer)
{
    const char *end = strrchr(peer, ':');   /* "host:port": the host decides, not the port */
    size_t n = end ? (size_t)(end - peer) : strlen(peer);
    uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)peer[i]) * 1099511628211ULL;
    return h ? h : 1;
}

static void gw_sec_event(gw_security_t *sec, uint64_t session_id, const char *peer, uint32_t kind,
                         uint32_t action, uint32_t count, uint32_t limit)
{
    gw_sec_event_t *ev = &sec->events[sec->event_head % GW_SEC_EVENT_CAP];
    ev->session_id = session_id;
    ev->realtime_ns = gw_sec_realtime_ns();
    ev->kind = kind;
    ev->action = action;
    ev->count = count;
    ev->limit = limit;
    size_t n = peer ? strnlen(peer, sizeof ev->peer - 1) : 0;
    memcpy(ev->peer, peer ? peer : "", n);
    ev->peer[n] = '\0';
    sec->event_head++;
}

/* The source's slot: its own, else a free one, else the least recently locked of the probed. */
static gw_sec_source_t *gw_sec_source(gw_security_t *sec, uint64_t hash)
{
    gw_sec_source_t *victim = NULL;
    for (uint32_t i = 0; i < GW_SEC_PROBES; i++) {
        gw_sec_source_t *s = &sec->sources[(hash + i) & (GW_SEC_SOURCES - 1)];
        if (s->hash == hash)
            return s;
        if (!victim || (victim->hash && (!s->hash || s->fail_window_ns < victim->fail_window_ns)))
            victim = s;
    }
    memset(victim, 0, sizeof *victim);
    victim->hash = hash;
    return victim;
}

/* Counts one failure in a window; 1 when it reaches max (the lock starts now). */
static int gw_sec_count_failure(uint32_t *failures, int64_t *window_ns, int64_t *locked_until,
                                uint32_t max, int64_t now, const gw_security_t *sec)
{
    if (max == 0)
        return 0;
    if (*failures == 0 || now - *window_ns >= (int64_t)sec->logon_window_ms * 1000000) {
        *failures = 0;
        *window_ns = now;
    }
    if (++*failures < max)
        return 0;
    *failures = 0;
    *locked_until = now + (int64_t)sec->lockout_ms * 1000000;
    return 1;
}

static int gw_sec_plain_ok(const gw_session_cfg_t *sc, const uint8_t *cred, uint16_t len)
{
    if (len != sc->key_len)
        return 0;
    uint8_t diff = 0;               /* constant time: the key never leaks through timing */
    for (uint16_t i = 0; i < len; i++)
        diff |= (uint8_t)(cred[i] ^ sc->key[i]);
    return diff == 0;
}

/* 1 when proof is ClientKey XOR HMAC(StoredKey, AuthMessage) for this stored key. */
static int gw_sec_proof_ok(const uint8_t stored[32], uint16_t tid, uint64_t session_id,
                           uint64_t ts_ns, const uint8_t *proof, uint16_t len)
{
    if (len != GW_SEC_STORED_KEY_BYTES)
        return 0;
    uint8_t msg[sizeof gw_auth_label - 1 + 2 + 8 + 8];
    memcpy(msg, gw_auth_label, sizeof gw_auth_label - 1);
    memcpy(msg + 9, &tid, 2);       /* little-endian host (x86-64, aarch64) */
    memcpy(msg + 11, &session_id, 8);
    memcpy(msg + 19, &ts_ns, 8);
    uint8_t sig[EVP_MAX_MD_SIZE], client_key[32], digest[32];
    unsigned int sig_len = 0;
    if (!HMAC(EVP_sha256(), stored, 32, msg, sizeof msg, sig, &sig_len) || sig_len != 32)
        return 0;
    for (int i = 0; i < 32; i++)
        client_key[i] = (uint8_t)(proof[i] ^ sig[i]);
    SHA256(client_key, sizeof client_key, digest);
    return CRYPTO_memcmp(digest, stored, 32) == 0;
}

/* ENG_OK, or why the credentials are refused (replay and staleness say so). */
static uint16_t gw_sec_credentials(gw_t *g, int32_t session, uint16_t tid, uint64_t ts_ns,
                                   const uint8_t *cred, uint16_t len)
{
    const gw_session_cfg_t *sc = g->sessions[session].cfg;
    gw_security_t *sec = g->cfg->security;
    if (!sec || sec->sessions[session].key_kind == GW_KEY_PLAIN)
        return gw_sec_plain_ok(sc, cred, len) ? ENG_OK : ENG_GW_BAD_CREDENTIALS;
    gw_sec_session_t *ss = &sec->sessions[session];
    if (!gw_sec_proof_ok(ss->stored_key, tid, sc->session_id, ts_ns, cred, len))
        return ENG_GW_BAD_CREDENTIALS;
    int64_t skew = (int64_t)ts_ns - gw_sec_realtime_ns();
    if (ts_ns <= ss->last_proof_ts_ns || skew > (int64_t)sec->proof_window_ms * 1000000 ||
        -skew > (int64_t)sec->proof_window_ms * 1000000)
        return ENG_GW_CREDENTIALS_REPLAYED;
    ss->last_proof_ts_ns = ts_ns;
    return ENG_OK;
}

static void gw_sec_logon_failed(gw_t *g, gw_conn_t *c, int32_t session, gw_sec_source_t *src,
                                uint16_t why)
{
    gw_security_t *sec = g->cfg->security;
    uint64_t sid = session >= 0 ? g->sessions[session].cfg->session_id : 0;
    sec->logons_failed++;
    if (why == ENG_GW_CREDENTIALS_REPLAYED)
        gw_sec_event(sec, sid, c->peer, GW_SEC_EVT_REPLAYED, GW_SEC_ACT_ALERT, 1, 1);
    if (gw_sec_count_failure(&src->failures, &src->fail_window_ns, &src->locked_until_ns,
                             sec->logon_max_failures_source, g->now_ns, sec))
        gw_sec_event(sec, sid, c->peer, GW_SEC_EVT_SOURCE_LOCKED, GW_SEC_ACT_ALERT,
                     sec->logon_max_failures_source, sec->logon_max_failures_source);
    if (session < 0)
        return;
    gw_sec_session_t *ss = &sec->sessions[session];
    if (gw_sec_count_failure(&ss->failures, &ss->fail_window_ns, &ss->locked_until_ns,
                             sec->logon_max_failures_session, g->now_ns, sec))
        gw_sec_event(sec, sid, c->peer, GW_SEC_EVT_SESSION_LOCKED, GW_SEC_ACT_ALERT,
                     sec->logon_max_failures_session, sec->logon_max_failures_session);
}

uint16_t gw_sec_logon(gw_t *g, gw_conn_t *c, int32_t session, uint16_t tid, uint64_t ts_ns,
                      const uint8_t *cred, uint16_t len)
{
    gw_security_t *sec = g->cfg->security;
    if (!sec)
        return session >= 0 && gw_sec_credentials(g, session, tid, ts_ns, cred, len) == ENG_OK
                   ? ENG_OK : ENG_GW_BAD_CREDENTIALS;
    gw_sec_source_t *src = gw_sec_source(sec, gw_sec_host_hash(c->peer));
    if (src->locked_until_ns > g->now_ns ||
        (session >= 0 && sec->sessions[session].locked_until_ns > g->now_ns)) {
        sec->logons_locked_out++;   /* not checked at all: guessing goes on costing nothing */
        return ENG_GW_LOGON_LOCKED_OUT;
    }
    uint16_t why = session >= 0 ? gw_sec_credentials(g, session, tid, ts_ns, cred, len)
                                : ENG_GW_BAD_CREDENTIALS;
    if (why != ENG_OK)
        gw_sec_logon_failed(g, c, session, src, why);
    return why;
}

/* Counts one for rule on session; fires (event and action) when it passes the limit. */
static void gw_sec_count(gw_t *g, int32_t session, uint32_t rule, uint32_t add)
{
    gw_security_t *sec = g->cfg->security;
    const gw_sec_rule_t *r = &sec->rules[rule];
    gw_sec_session_t *ss = &sec->sessions[session];
    if (g->now_ns - ss->window_ns[rule] >= (int64_t)r->window_ms * 1000000) {
        ss->window_ns[rule] = g->now_ns;
        ss->counts[rule] = 0;
        ss->fired &= ~(1u << rule);
        if (rule == GW_SEC_RULE_MESSAGE_TO_TRADE)
            ss->fills = 0;
    }
    ss->counts[rule] += add;
    uint32_t n = ss->counts[rule];
    int over = rule == GW_SEC_RULE_MESSAGE_TO_TRADE
                   ? n >= r->min_count && (uint64_t)n > (uint64_t)r->limit * (ss->fills + 1)
                   : n > r->limit;
    if (!over || (ss->fired & (1u << rule)))
        return;
    ss->fired |= 1u << rule;
    sec->detections++;
    const gw_session_t *s = &g->sessions[session];
    gw_sec_event(sec, s->cfg->session_id, s->conn >= 0 ? g->conns[s->conn].peer : "", rule + 1,
                 r->action, n, r->limit);
    if (r->action == GW_SEC_ACT_THROTTLE)
        ss->throttled_until_ns = g->now_ns + (int64_t)r->throttle_ms * 1000000;
    else if (r->action == GW_SEC_ACT_DISCONNECT || r->action == GW_SEC_ACT_KILL)
        ss->disconnect_due = 1;
}

void gw_sec_note(gw_t *g, int32_t session, uint32_t rule)
{
    gw_security_t *sec = g->cfg->security;
    if (sec && session >= 0 && rule < GW_SEC_RULES && sec->rules[rule].limit)
        gw_sec_count(g, session, rule, 1);
}

void gw_sec_fill(gw_t *g, int32_t session)
{
    gw_security_t *sec = g->cfg->security;
    if (sec && session >= 0)
        sec->sessions[session].fills++;
}

uint16_t gw_sec_entry(gw_t *g, int32_t session, uint16_t template_id)
{
    gw_security_t *sec = g->cfg->security;
    if (!sec)
        return ENG_OK;
    gw_sec_session_t *ss = &sec->sessions[session];
    if (ss->disconnect_due)
        return ENG_GW_SECURITY_DISCONNECT;
    if (ss->throttled_until_ns > g->now_ns)
        return ENG_GW_SECURITY_THROTTLED;
    gw_sec_note(g, session, GW_SEC_RULE_MESSAGE_TO_TRADE);
    if (template_id == SBE_NEW_ORDER_SINGLE_TEMPLATE_ID)
        gw_sec_note(g, session, GW_SEC_RULE_ORDER_VELOCITY);
    else if (template_id == SBE_ORDER_CANCEL_REQUEST_TEMPLATE_ID)
        gw_sec_note(g, session, GW_SEC_RULE_CANCEL_BURST);
    if (ss->disconnect_due)
        return ENG_GW_SECURITY_DISCONNECT;
    return ss->throttled_until_ns > g->now_ns ? ENG_GW_SECURITY_THROTTLED : ENG_OK;
}

int gw_sec_disconnect_due(gw_t *g, int32_t session)
{
    gw_security_t *sec = g->cfg->security;
    if (!sec || session < 0 || !sec->sessions[session].disconnect_due)
        return 0;
    sec->sessions[session].disconnect_due = 0;
    return 1;
}

int gw_sec_set_key(gw_t *g, uint64_t session_id, const uint8_t *stored_key, uint32_t len)
{
    gw_security_t *sec = g->cfg->security;
    if (!sec || len != GW_SEC_STORED_KEY_BYTES)
        return -1;
    for (uint32_t i = 0; i < g->cfg->session_count; i++) {
        if (g->sessions[i].cfg->session_id != session_id)
            continue;
        memcpy(sec->sessions[i].stored_key, stored_key, GW_SEC_STORED_KEY_BYTES);
        sec->sessions[i].key_kind = GW_KEY_HASHED;
        return 0;
    }
    return -1;
}

uint32_t gw_sec_copy_events(gw_t *g, uint64_t *cursor, gw_sec_event_t *out, uint32_t cap)
{
    gw_security_t *sec = g->cfg->security;
    if (!sec)
        return 0;
    uint64_t from = *cursor;
    if (from > sec->event_head)
        from = sec->event_head;
    if (sec->event_head - from > GW_SEC_EVENT_CAP)
        from = sec->event_head - GW_SEC_EVENT_CAP;  /* the older ones were overwritten */
    uint32_t n = 0;
    for (; from < sec->event_head && n < cap; from++)
        out[n++] = sec->events[from % GW_SEC_EVENT_CAP];
    *cursor = from;
    return n;
}
