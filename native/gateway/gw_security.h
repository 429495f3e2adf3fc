/*
 * gw_security.h - the gateway's logon checks and intrusion detection (gw_security.c): hashed
 * session keys checked by a per-logon proof, failed-logon lockout per source address and per
 * session, and per-session detectors of abnormal order behaviour, each detection kept as an event
 * the admin thread collects (gw_admin.h GW_ADMIN_OP_SECURITY_EVENTS) for the control plane to
 * audit and alert on.
 *
 * Hashed keys (gateway/security/session_keys.py has the client's half and the formulas): the
 * config holds StoredKey = SHA-256(ClientKey), ClientKey = HMAC-SHA256(scrypt(key, salt),
 * "Client Key"), never the key. Negotiate and Establish carry, as credentials, the 32 bytes
 * Proof = ClientKey XOR HMAC-SHA256(StoredKey, AuthMessage), AuthMessage = "FIXP-AUTH" |
 * templateId (u16 LE) | sessionId (u64 LE) | timestamp (u64 LE). The gateway recovers ClientKey
 * and checks its SHA-256 against StoredKey: two hashes per logon, no key at rest. A captured
 * proof is refused again: its timestamp must be within proof_window_ms of this host's clock and
 * above the last one accepted for the session.
 *
 * Memory: all of it (gw_security_t and its arrays) is the caller's (Python, before gw_open);
 * the loop writes it, no other thread touches it while the loop runs (rotation and event
 * collection go through the admin mailbox), so nothing here is atomic.
 */
#ifndef GW_SECURITY_H
#define GW_SECURITY_H

#include <stdint.h>

/* CFFI-BEGIN */
#define GW_KEY_PLAIN 0              /* gw_sec_session_t.key_kind: the config's key compared as is */
#define GW_KEY_HASHED 1             /* stored_key, checked by a proof (top comment) */
#define GW_SEC_STORED_KEY_BYTES 32
#define GW_SEC_SOURCES 1024         /* source addresses remembered for lockout (power of two) */
#define GW_SEC_EVENT_CAP 256        /* events kept until collected (older ones are overwritten) */

/* Detectors (gw_security_t.rules index) */
#define GW_SEC_RULE_ORDER_VELOCITY 0    /* new orders per window */
#define GW_SEC_RULE_MESSAGE_TO_TRADE 1  /* application messages per fill (limit), once min_count */
#define GW_SEC_RULE_CANCEL_BURST 2      /* cancel requests per window */
#define GW_SEC_RULE_REJECTS 3           /* rejects sent to the session per window */
#define GW_SEC_RULE_SEQUENCE 4          /* seqNum gaps, duplicates and retransmit requests per window */
#define GW_SEC_RULES 5

/* What a detector does when it fires (gw_sec_rule_t.action) */
#define GW_SEC_ACT_ALERT 0          /* an event only */
#define GW_SEC_ACT_THROTTLE 1       /* and the session's application messages are refused
                                       (ENG_GW_SECURITY_THROTTLED) for throttle_ms */
#define GW_SEC_ACT_DISCONNECT 2     /* and the session is terminated (ENG_GW_SECURITY_DISCONNECT;
                                       cancel-on-disconnect applies) */
#define GW_SEC_ACT_KILL 3           /* as DISCONNECT; the control plane also engages the kill
                                       switch of the session's firm's accounts */

/* Event kinds (gw_sec_event_t.kind): a detector fired (GW_SEC_RULE_* + 1), or: */
#define GW_SEC_EVT_SOURCE_LOCKED 16     /* a source address reached its failed-logon limit */
#define GW_SEC_EVT_SESSION_LOCKED 17    /* a session reached its failed-logon limit */
#define GW_SEC_EVT_REPLAYED 18          /* a logon proof was presented again (or is too old) */

typedef struct gw_sec_rule {
    uint32_t limit;                 /* count that fires it (MESSAGE_TO_TRADE: messages per fill);
                                       0: the detector is off */
    uint32_t window_ms;             /* counts restart every window */
    uint32_t action;                /* GW_SEC_ACT_* */
    uint32_t throttle_ms;           /* GW_SEC_ACT_THROTTLE: how long */
    uint32_t min_count;             /* MESSAGE_TO_TRADE: messages in the window before it judges */
    uint32_t _pad0;
} gw_sec_rule_t;

/* Per configured session (same index as the gateway's sessions). */
typedef struct gw_sec_session {
    uint32_t key_kind;              /* GW_KEY_PLAIN or GW_KEY_HASHED */
    uint32_t failures;              /* failed logons in the current window */
    uint8_t stored_key[32];         /* GW_KEY_HASHED: SHA-256(ClientKey) */
    uint64_t last_proof_ts_ns;      /* timestamp of the last proof accepted */
    int64_t fail_window_ns;         /* start of the failed-logon window */
    int64_t locked_until_ns;        /* CLOCK_MONOTONIC; logons refused before it */
    int64_t throttled_until_ns;     /* application messages refused before it */
    uint32_t disconnect_due;        /* 1: terminate on the next timer pass */
    uint32_t fills;                 /* fills in the MESSAGE_TO_TRADE window */
    uint32_t counts[5];             /* per rule, in its window */
    uint32_t fired;                 /* bit per rule: fired in its current window */
    int64_t window_ns[5];           /* per rule: start of its window */
} gw_sec_session_t;

/* A source address (the host part of the peer) seen failing a logon. */
typedef struct gw_sec_source {
    uint64_t hash;                  /* of the host text; 0: free */
    uint32_t failures;
    uint32_t _pad0;
    int64_t fail_window_ns;
    int64_t locked_until_ns;
} gw_sec_source_t;

typedef struct gw_sec_event {
    uint64_t session_id;            /* 0: none (an unknown session, or a source lockout) */
    int64_t realtime_ns;
    uint32_t kind;                  /* GW_SEC_RULE_* + 1, or GW_SEC_EVT_* */
    uint32_t action;                /* GW_SEC_ACT_* taken */
    uint32_t count;                 /* what was counted */
    uint32_t limit;                 /* the limit it reached */
    char peer[64];                  /* "host:port" of the connection, "" when none */
} gw_sec_event_t;

typedef struct gw_security {
    /* Configuration (the caller's, before gw_open). */
    uint32_t logon_max_failures_source;     /* 0: no lockout by source */
    uint32_t logon_max_failures_session;    /* 0: no lockout by session */
    uint32_t logon_window_ms;
    uint32_t lockout_ms;
    uint32_t proof_window_ms;               /* a proof's timestamp within this of our clock */
    uint32_t _pad0;
    gw_sec_rule_t rules[5];                 /* GW_SEC_RULES */
    gw_sec_session_t *sessions;             /* [session_count] */
    gw_sec_source_t *sources;               /* [GW_SEC_SOURCES] */
    /* Written by the loop. */
    uint64_t event_head;                    /* events ever recorded; slot = head % CAP */
    uint64_t logons_failed;
    uint64_t logons_locked_out;             /* logons refused while locked */
    uint64_t detections;
    gw_sec_event_t events[256];             /* GW_SEC_EVENT_CAP */
} gw_security_t;
/* CFFI-END */

#endif /* GW_SECURITY_H */
