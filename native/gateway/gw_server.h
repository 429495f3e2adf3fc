/*
 * gw_server.h - the order-entry gateway's C I/O loop: TCP sessions in, engine commands out,
 * engine events back as ExecutionReports.
 *
 * Owns the sockets, the FIXP sessions and the order-id mapping of one gateway thread; Python
 * (gateway/gw_process.py) parses configuration, binds the listening socket, attaches the engine's
 * segments, pins the thread and then calls gw_open() and gw_serve(), which returns only after
 * gw_request_stop() (or SIGTERM/SIGINT with gw_install_stop_signals()) or when the engine stops
 * (gw_resume() goes on after an engine restart; gw_close() frees the gateway). One gateway per
 * producer slot: the command ring has exactly one producer.
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <stdint.h>

#include "gw_admin.h"
#include "venue_layout.h"

/* Headers reach cffi in name order, before ring_*.h: the ring handles are named by struct tag. */

/* CFFI-BEGIN */
#define GW_KEY_MAX 64
#define GW_THROTTLE_REJECT 0
#define GW_THROTTLE_DISCONNECT 1
#define GW_MASS_TIMEOUT_MS_DEFAULT 30000 /* mass_cancel_timeout_ms 0: longer than an engine's restart */
#define GW_LIVENESS_CHECK_MS 5      /* period of the engine liveness check (kill(), /proc) */
/* gw_serve's results besides 0 and -errno: the engine went away without closing its segments (a
 * crash or SIGKILL). Every session was terminated with ENG_GW_ENGINE_GONE first. */
#define GW_RUN_ENGINE_DEAD 1        /* the control segment's creator process is gone */
#define GW_RUN_ENGINE_STALE 2       /* its heartbeat is older than engine_stale_ms (hung, or a
                                       zombie not yet reaped by its parent) */
/* gw_config_t.io_backend: how the loop talks to the sockets (gw_io.h) */
#define GW_IO_EPOLL 0               /* epoll_wait, then recv/send per ready socket */
#define GW_IO_URING 1               /* io_uring: multishot accept/recv, batched sends */

/* One logical FIXP session a client may negotiate (config: gateway/gw_config.py). */
typedef struct gw_session_cfg {
    uint64_t session_id;
    uint32_t firm_id;
    uint32_t key_len;               /* 1..GW_KEY_MAX; 0 for a hashed key (gw_security.h) */
    uint8_t key[64];                /* the credentials Negotiate and Establish must carry (a
                                       plain key; a hashed one is security->sessions[i]) */
    uint32_t cancel_on_disconnect;  /* 1: the session's live orders are cancelled when it drops */
    uint32_t throttle_msgs_per_s;   /* application messages per second; 0: unlimited */
    uint32_t throttle_action;       /* GW_THROTTLE_REJECT or GW_THROTTLE_DISCONNECT */
    uint32_t _pad0;
} gw_session_cfg_t;

/* An engine account and the firm it belongs to: a session may trade only its firm's accounts. */
typedef struct gw_account_cfg {
    uint32_t account_id;
    uint32_t firm_id;
} gw_account_cfg_t;

typedef struct gw_config {
    int32_t listen_fd;              /* bound, listening socket (Python made it) */
    uint32_t busy_poll;             /* 1: never block in epoll_wait (an isolated core) */
    uint32_t so_busy_poll_us;       /* SO_BUSY_POLL on accepted sockets; 0: not set */
    uint32_t idle_sleep_ms;         /* backoff: longest epoll_wait when nothing is in flight */
    const gw_session_cfg_t *sessions;
    uint32_t session_count;
    uint32_t account_count;
    const gw_account_cfg_t *accounts;
    uint32_t max_connections;
    uint32_t tx_buffer_bytes;       /* per connection; a client that lets it fill is dropped */
    uint32_t out_log_msgs;          /* per session, power of two: messages kept for retransmit */
    uint32_t retransmit_limit;      /* most messages one RetransmitRequest may ask for */
    uint32_t keepalive_min_ms;
    uint32_t keepalive_max_ms;
    uint32_t handshake_timeout_ms;
    uint32_t order_capacity;        /* live orders this gateway tracks, power of two */
    uint32_t order_id_prefix;       /* high 16 bits of every engine order id this gateway picks */
    uint64_t first_order_counter;   /* low 48 bits of the first order id (0: 1). A gateway that
                                       restarts in front of an engine recovered from its journal
                                       reuses its producer slot, so its prefix: the caller picks a
                                       counter past every id the previous run used
                                       (gateway/gw_process.py: microseconds since 2026) */
    uint64_t first_exec_id;         /* the first ExecutionReport execID (0: 1); same reason: a
                                       client's execIDs must not repeat across gateway restarts */
    uint32_t idle_spin_us;          /* backoff: keep polling this long after the last work, then
                                     * block in epoll_wait (0: block at once when idle) */
    uint32_t inflight_spin_us;      /* backoff with the waker: while a command of this gateway
                                     * is in flight, keep polling this long after the last work
                                     * (if longer than idle_spin_us) before blocking on the waker:
                                     * an engine that answers within it costs no thread hops
                                     * (engine -> waker thread -> eventfd -> epoll), a durable
                                     * ack's disk sync is slept through after it (0: as idle) */
    struct ring_spsc *cmd;          /* producer handle of this gateway's command ring */
    struct ring_spsc *reply;        /* consumer handle of its reply ring */
    struct ring_bcast_rx *events;   /* reader of the engine's event log */
    ring_doorbell_t *engine_bell;   /* NULL when the engine spins */
    struct ring_seg *control_seg;   /* engine liveness: the loop ends when it leaves READY, when
                                       its creator process is gone, or when its heartbeat is
                                       older than engine_stale_ms (checked every
                                       GW_LIVENESS_CHECK_MS, never per message) */
    uint32_t engine_stale_ms;       /* 0: creator pid check only (a zombie engine, SIGKILLed but
                                       not yet reaped, is then not detected) */
    gw_admin_t *admin;              /* session-admin mailbox (gw_admin.h); NULL: none */
    const struct hdr_hist *latency; /* [HDR_STAGE_COUNT] writer handles into this gateway's latency
                                       region (venue_layout.h Section 5; the engine must stamp
                                       too): receive_to_decode, decode_to_enqueue,
                                       published_to_transmit, end_to_end; NULL: stamps off */
    uint32_t latency_sample_mask;   /* with latency: stamp the frames completed by the recv()
                                       calls whose count & mask is 0, so 1 recv() in (mask + 1)
                                       with all its frames (a cluster sample: no stamp at all for
                                       the others); a power of two minus 1, 0: every frame */
    uint32_t event_doorbell;        /* 1: while blocked in epoll_wait, be woken by the engine's
                                       event-log doorbell (a waker thread, gw_waker.c), so events
                                       this gateway did not cause are reported at once; 0: they
                                       wait for the next idle_sleep_ms timeout */
    uint64_t first_seq;             /* the engine's last seq + 1 when this gateway attached: none
                                       of its commands is sequenced before it, so a reply with a
                                       lower seq on a reused producer slot is a dead previous
                                       owner's, not ours (0: none can be) */
    uint32_t io_backend;            /* GW_IO_EPOLL or GW_IO_URING (gw_io_uring_probe says if it
                                       can run here) */
    uint32_t io_uring_sqpoll_ms;    /* GW_IO_URING: 0, or a kernel thread polls the submission
                                       queue and sleeps after this many idle ms (a spare core) */
    uint32_t so_prefer_busy_poll;   /* with so_busy_poll_us: SO_PREFER_BUSY_POLL on client sockets */
    gw_security_t *security;        /* logon checks and intrusion detection (gw_security.h);
                                       NULL: plain keys, no lockout, no detectors */
    uint32_t mass_cancel_timeout_ms; /* a mass cancel not finished this long after its request
                                       (the engine dead or stuck) is answered at once with
                                       ENG_GW_MASS_CANCEL_UNFINISHED; 0: GW_MASS_TIMEOUT_MS_DEFAULT */
    void *tls;                      /* NULL: plain TCP only; else a TLS 1.3 server context
                                       (gw_tls_server_ctx_new) for the connections accepted on
                                       tls_listen_fd, a second listening socket */
    int32_t tls_listen_fd;
    uint32_t events_durable;        /* the engine's ring_control_t.journal_durable (the caller
                                       sets it before gw_serve, again on each engine restart):
                                       1: every event this gateway reads is in the durable journal
                                       already, so the flow store is synced before sending only
                                       what the journal cannot rebuild (gw_store.c); 0: before
                                       sending anything */
} gw_config_t;

/* Counters an operator reads after (or, via a debugger, during) the run. */
typedef struct gw_stats {
    uint64_t accepted;              /* connections accepted */
    uint64_t closed;
    uint64_t frames_in;
    uint64_t frames_out;
    uint64_t commands;              /* engine commands written */
    uint64_t reports;               /* application messages sent (ER, OCR, BMR, mass report) */
    uint64_t business_rejects;
    uint64_t terminates;            /* Terminate messages sent */
    uint64_t decode_errors;
    uint64_t throttled;
    uint64_t slow_consumers;
    uint64_t heartbeat_timeouts;
    uint64_t lapped;                /* the event log lapped this reader: reports were lost */
    uint64_t refused_connections;   /* accepted past max_connections and closed at once */
    uint64_t doorbell_wakes;        /* epoll_wait ended by the event-log doorbell (gw_waker.c) */
    uint64_t io_syscalls;           /* system calls of the I/O backend on sockets and its wait:
                                       epoll_wait, recv, send, accept4, epoll_ctl / io_uring_enter,
                                       io_uring_register (for calls per message) */
    uint64_t io_copies_bytes;       /* bytes the backend copied in user space besides the codec's
                                       (io_uring: provided buffer -> frame buffer, tx -> registered
                                       send buffer; epoll: 0, the kernel copies straight in/out) */
    uint64_t io_sends;              /* send operations: send() calls / io_uring send SQEs */
    uint64_t io_sends_linked;       /* io_uring: sends linked behind one of the same connection
                                       (a chain: several of its sends in flight at once) */
    uint64_t io_sends_waited;       /* io_uring: flushes whose bytes waited in the send ring for
                                       a chain the kernel had (sent by its last completion) */
    uint64_t tls_handshakes;        /* TLS 1.3 handshakes completed on the TLS listener */
    uint64_t tls_refused;           /* TLS connections refused (handshake or record failed),
                                       each with a line on stderr naming the peer and reason */
    uint64_t store_syncs;           /* flow store made durable before bytes left (gw_store.c) */
    uint64_t store_sync_failures;   /* ... and failed (sync error: not durable, sent anyway) */
    uint64_t store_sync_ns;         /* time the loop spent in those syncs (in series after the
                                       journal's for the reply they carry) */
    uint64_t store_sync_ns_max;     /* the longest of them */
    uint64_t store_sync_fast;       /* 1: those syncs write back the store's dirty pages and
                                       flush the device's cache (one device write per page, the
                                       inode left alone: native/journal/jrnl_durable.c); 0: msync
                                       of the whole store (the file could not be proven safe) */
} gw_stats_t;

/* The gateway's state: sessions (sequence numbers, retransmission logs), order table, commands
 * in flight. It outlives an engine crash (gw_resume). */
typedef struct gw gw_t;

/* Allocates everything and registers the listening socket. cfg must outlive the gateway; its
 * engine handles (cmd, reply, events, engine_bell, control_seg) may be repointed while gw_serve
 * is not running, before gw_resume. 0, -EINVAL for a config it refuses, -ENOMEM, or -errno. */
int gw_open(const gw_config_t *cfg, gw_stats_t *stats, gw_t **out);

/* Runs the loop until a stop request, a stop signal, the engine leaving READY or the engine dying.
 * Returns 0 after a clean stop or an orderly engine stop (sessions terminated, buffers flushed),
 * GW_RUN_ENGINE_DEAD / GW_RUN_ENGINE_STALE when the engine died: every connection was terminated
 * with ENG_GW_ENGINE_GONE and closed, but the sessions, their logs and the orders are kept; the
 * caller either closes the gateway or, once a restarted engine recovered from the journal,
 * repoints cfg at it and calls gw_resume then gw_serve again. -EINVAL if gw_resume is owed,
 * -errno of epoll. *stats is written throughout. */
int gw_serve(gw_t *g);

/* After GW_RUN_ENGINE_DEAD/STALE, with cfg pointing at the new engine's segments: reads the
 * journal (journal_dir, up to recovered_seq, both from the new engine's control segment) for
 * what became of this gateway's commands and orders and reports it to the sessions (logged for
 * retransmission: the clients reconnect and ask), answers the commands the dead engine never
 * sequenced with ENG_GW_ENGINE_GONE, and re-sends cancels still owed (mass cancel parts,
 * cancel-on-disconnect). old_source: the dead engine's producer slot of this gateway + 1.
 * 0, or < 0 (JRNL_* or -errno) with message saying why: the gateway cannot go on. */
int gw_resume(gw_t *g, uint32_t old_source, uint64_t recovered_seq, const char *journal_dir,
              char *message, uint32_t message_cap);

/* Keeps the sessions' flows (sequence numbers, the request being handled) and their outbound
 * logs in the flow store file at path (native/gateway/gw_store.c), creating it, or reopening
 * the one a previous run of this gateway left (same sessions in the same order, same
 * out_log_msgs; the engine order id prefix becomes the store's). Right after gw_open, then
 * gw_restore, before gw_serve. 0, or < 0 with message saying why. */
int gw_use_store(gw_t *g, const char *path, char *message, uint32_t message_cap);

/* With a store that a previous run used: that run's producer slot + 1 (its command ring may
 * still hold its last commands: the caller waits until the engine took them all). 0 without a
 * store or with a fresh one. */
uint32_t gw_store_last_source(const gw_t *g);

/* After gw_use_store, before gw_serve; source: this run's producer slot + 1. With a fresh
 * store, records that none of this gateway's commands is journaled before first_seq (the
 * engine's last seq + 1 now). With one a previous run used (it died, the engine perhaps too):
 * reads the engine's journal (journal_dir) from that first run's first_seq up to limit_seq (a
 * seq every command of the dead run is at or before, and every event up to which is
 * journaled) and rebuilds the orders of every session, owner included; reports what the dead
 * run had not reported (fills after its death: logged for retransmission, never twice);
 * answers the request it was handling if that never took effect (BusinessMessageReject 959) and
 * its open mass cancels (965, they cannot be finished); marks cancel-on-disconnect; and skips
 * the events up to limit_seq on the log. 0, or < 0 with message saying why. */
int gw_restore(gw_t *g, uint32_t source, uint64_t first_seq, const char *journal_dir,
               uint64_t limit_seq, char *message, uint32_t message_cap);

/* While gw_serve is not running (the engine is down and the caller waits for a restarted one):
 * answers every mass cancel past its mass_cancel_timeout_ms with ENG_GW_MASS_CANCEL_UNFINISHED
 * (logged for retransmission). gw_serve does the same on its own timer. Returns how many. */
uint32_t gw_expire_mass_cancels(gw_t *g);

/* Frees the gateway (connections are closed by gw_serve before it returns). NULL: nothing. */
void gw_close(gw_t *g);

/* 0 if the io_uring backend can run on this kernel and process (a ring with the features it
 * uses is set up and torn down); else -errno with why written to why (NUL-terminated). */
int gw_io_uring_probe(char *why, uint32_t why_cap);

/* 0 if this build has TLS (OpenSSL's headers were there when it was built); else -ENOTSUP
 * with why written to why (NUL-terminated). */
int gw_tls_available(char *why, uint32_t why_cap);

/* A TLS 1.3-only server context for gw_config_t.tls: the certificate chain and private key
 * from PEM files; client_ca: PEM file of the CAs client certificates are verified against
 * ("" : none asked for); require_client_cert: 1, a client without a certificate the CA signed
 * is refused (needs client_ca); 0, one is verified only if the client sends it. NULL on any
 * error, with the reason in why. Freed with gw_tls_ctx_free after gw_close. */
void *gw_tls_server_ctx_new(const char *cert_file, const char *key_file, const char *client_ca,
                            uint32_t require_client_cert, char *why, uint32_t why_cap);

/* Frees a context of gw_tls_server_ctx_new (connections hold their own reference). NULL: none. */
void gw_tls_ctx_free(void *ctx);

/* 1 once a stop was requested (gw_request_stop or a signal) and no gw_serve consumed it. */
int gw_stop_requested(void);

/* Asks a running gw_serve to stop (async-signal-safe). */
void gw_request_stop(void);

/* Installs SIGTERM/SIGINT handlers that call gw_request_stop(). 0 or -errno. */
int gw_install_stop_signals(void);
/* CFFI-END */

#endif /* GW_SERVER_H */
