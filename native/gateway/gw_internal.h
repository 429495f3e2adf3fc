/*
 * gw_internal.h - the gateway thread's private state, shared by its layers, each calling only
 * the ones below it:
 *   gw_server.c     the loop, connection slots; connection buffers (gw_conn_*)
 *   gw_io_*.c       the I/O backend under it: epoll or io_uring (gw_io.h), chosen at gw_open
 *   fixp_session.c  the FIXP session state machine: handshake, inbound sequencing,
 *                   retransmission, timers, Terminate; hands application messages down
 *   gw_entry.c      application entry: messages to engine commands, ownership, throttle
 *   gw_sweep.c      cancels owed in bulk (mass cancel, cancel-on-disconnect), sent as room frees
 *   gw_engine.c     the engine bridge: commands out, replies and events back as reports
 *   gw_outbound.c   each session's outbound application flow: seqNums and retransmission log
 *   gw_orders.c     the order table
 * Not seen by cffi. Everything here is touched by exactly one thread, the gateway's, so nothing
 * is atomic.
 */
#ifndef GW_INTERNAL_H
#define GW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "gw_io.h"
#include "gw_security.h"
#include "gw_server.h"
#include "gw_tls.h"
#include "jrnl_durable.h"
#include "ring_bcast.h"
#include "ring_spsc.h"
#include "sbe_codec.h"

#define GW_RX_BYTES 4096            /* >= 2 * SBE_MAX_FRAME_LENGTH: a whole frame always fits */
#define GW_TX_RESERVE 256           /* kept free for the Terminate that ends a slow consumer */
#define GW_LOG_SLOT_BYTES 256       /* one retained outbound frame (largest app frame is 181 B)
                                       after its gw_log_slot_hdr_t */
#define GW_PENDING_CAP 8192         /* engine commands in flight or awaiting their events */
#define GW_LINGER_NS 200000000LL    /* a closing connection gets this long to flush */
#define GW_REQ_NOTES 1024           /* requests remembered per session in its flow (gw_flow_t) */
#define GW_LAT_TX_CAP 512           /* stamped commands whose first report awaits the flush pass
                                       (one engine poll queues at most 256) */

enum gw_conn_state { GW_CONN_FREE = 0, GW_CONN_NEW, GW_CONN_NEGOTIATED, GW_CONN_ESTABLISHED };

typedef struct gw_conn {
    int fd;
    uint32_t state;                 /* gw_conn_state */
    int32_t session;                /* index into gw_t.sessions, -1 before Negotiate */
    uint32_t closing;               /* 1: reads stop, the buffer flushes, then the fd closes */
    uint32_t blocked;               /* 1: a frame waits for room in the command ring */
    uint32_t want_out;              /* 1: EPOLLOUT registered */
    uint32_t keepalive_ms;
    uint32_t rx_len;
    int64_t accepted_ns;
    int64_t last_rx_ns;
    int64_t last_tx_ns;
    int64_t close_deadline_ns;
    uint8_t *tx;                    /* tx_buffer_bytes: what the backend sends (ciphertext on a
                                       TLS connection) */
    uint32_t tx_head, tx_tail;      /* unsent bytes are tx[head..tail) */
    gw_tls_conn_t *tls;             /* NULL: plain TCP; else accepted on the TLS listener */
    uint8_t *ptx;                   /* TLS: the session layer's plaintext, tx_buffer_bytes (only
                                       allocated when the gateway has a TLS listener) */
    uint32_t ptx_head, ptx_tail;    /* not yet encrypted: ptx[head..tail) */
    uint64_t lat_rx;                /* latency: hdr_now() after the recv() that last added bytes */
    char peer[GW_ADMIN_PEER_MAX];   /* "host:port" of the client, for the admin table */
    uint8_t rx[GW_RX_BYTES];
} gw_conn_t;

/* One session's flow state that must outlive the gateway process (gw_store.c): in the store
 * file's mapping when the gateway has one, else in memory. Written by the gateway thread only;
 * the order of its stores is what a restart relies on (gw_store.c states the invariants). */
typedef struct gw_flow {
    uint64_t session_id;            /* the configuration's, checked when a store is reopened */
    uint64_t next_in_seq;           /* seqNum we expect from the client next */
    uint64_t next_out_seq;          /* seqNum of the next application message we send */
    uint64_t last_evt_seq;          /* the engine event of the last event-made message logged: */
    uint32_t last_evt_sub;          /* (seq, index * 2 + trade leg) */
    uint32_t established_once;
    uint64_t req_cmds;              /* engine commands written for the session's requests */
    /* The application message being handled (doubt_in_seq 0: none): set before next_in_seq
     * moves past it, cleared once its effect (a reject logged, a command written, a mass
     * cancel recorded) is complete, so a restart can tell whether it took effect. */
    uint64_t doubt_in_seq;
    uint64_t doubt_out_seq;         /* next_out_seq when it was taken */
    uint64_t doubt_req_cmds;        /* req_cmds then */
    uint64_t doubt_cl_ord_id;
    uint32_t doubt_template;
    uint32_t _pad0;
    /* The request behind each of the last GW_REQ_NOTES engine commands written for the session
     * (by req_cmds before the increment), so a restart can answer the ones an engine that died
     * too never journaled. */
    struct { uint64_t in_seq, cl_ord_id; uint32_t template_id, _pad; } reqs[GW_REQ_NOTES];
} gw_flow_t;

/* A retained outbound message: header, then the frame. evt_seq/evt_sub: the engine event it
 * reports (0: made by the gateway itself), so a restart logs no event's message twice. */
typedef struct gw_log_slot_hdr {
    uint16_t len;
    uint16_t _pad0;
    uint32_t evt_sub;
    uint64_t evt_seq;
} gw_log_slot_hdr_t;

typedef struct gw_session {
    const gw_session_cfg_t *cfg;
    int32_t conn;                   /* bound connection or -1 */
    uint32_t _pad2;
    gw_flow_t *flow;                /* sequence numbers and the message being handled */
    double tokens;                  /* throttle bucket */
    int64_t tokens_ns;
    uint64_t live_orders;
    uint64_t orders_head, orders_tail; /* the session's live orders, oldest first (ids; 0: none) */
    uint32_t sweeping;              /* 1: some of its orders are owed a cancel not yet written */
    uint32_t _pad1;
    uint64_t sweep_at;              /* order id the sweep looks at next (0: end of the chain) */
    uint8_t *log;                   /* out_log_msgs slots of GW_LOG_SLOT_BYTES: gw_log_slot_hdr_t,
                                       then the frame (in the store's mapping when it has one) */
} gw_session_t;

typedef struct gw_order {
    uint64_t order_id;              /* 0: free slot */
    uint64_t cl_ord_id;
    int64_t price, stop_px, order_qty, display_qty, cum_qty, leaves_qty;
    uint32_t instrument_id, account_id, firm_id;
    int32_t session;
    uint8_t side, ord_type, tif;
    uint8_t cancel_sent;            /* 1: the owed cancel was written to the engine */
    uint32_t owed;                  /* a cancel is owed: 0 none, GW_OWED_COD, or mass slot + 1 */
    uint32_t _pad0;
    uint64_t sess_prev, sess_next;  /* the owning session's chain, by order id (entries move) */
} gw_order_t;

typedef struct gw_orders {
    gw_order_t *slots;
    uint64_t mask;
    uint64_t count;
} gw_orders_t;

#define GW_OWED_COD UINT32_MAX     /* gw_order_t.owed: cancel-on-disconnect */
#define GW_MASS_SLOTS 256
#define GW_DONE_CAP 65536           /* orders remembered after they left: too late to cancel */

enum gw_pending_kind { GW_P_NEW = 1, GW_P_CANCEL, GW_P_REPLACE, GW_P_MASS_PART, GW_P_COD };

/* One engine command this gateway wrote: answered (seq known) once its reply is read, done once
 * all event_count of its events went past on the log. */
typedef struct gw_pending {
    uint64_t seq;                   /* 0 until the reply came */
    uint32_t event_count, events_seen;
    uint32_t kind;
    int32_t session;
    uint64_t cl_ord_id;
    uint64_t order_id;
    uint32_t mass;                  /* GW_P_MASS_PART: index into gw_t.mass */
    uint32_t done;
    uint64_t lat_rx, lat_enqueue;   /* latency stamps of a stamped command; lat_rx 0: none, or
                                       its first report is already queued for transmit */
    uint32_t lat_e2p_ns;            /* from its reply: enqueue -> events published */
    uint32_t _lat_pad;
} gw_pending_t;

typedef struct gw_mass {
    int32_t session;
    uint32_t remaining;             /* orders it marked (owed == slot + 1) still live */
    uint32_t affected;
    uint32_t instrument_id, account_id;
    uint64_t cl_ord_id;
    int64_t transact_ns;            /* CLOCK_REALTIME of the request; 0 marks a free slot */
    int64_t deadline_ns;            /* CLOCK_MONOTONIC: answered UNFINISHED if still open then */
} gw_mass_t;

/* An open mass cancel as the store keeps it (session_plus1 0: free), so a restart answers it. */
typedef struct gw_store_mass {
    uint32_t session_plus1;
    uint32_t instrument_id, account_id, affected;
    uint64_t cl_ord_id;
    uint64_t report_seq;            /* != 0: its report gets this seqNum (logged once the
                                       session's next_out_seq is past it) */
} gw_store_mass_t;

/* The flow store file's first page(s); the flows and the logs follow (gw_store.c). */
typedef struct gw_store_hdr {
    uint64_t magic;                 /* GW_STORE_MAGIC */
    uint32_t version, session_count;
    uint32_t out_log_msgs;
    uint32_t order_id_prefix;       /* the first run's, kept by every later one */
    uint64_t from_seq;              /* no command of this gateway's is journaled before it */
    uint32_t source;                /* producer slot + 1 of the last run (its ring may hold the
                                       last commands it wrote) */
    uint32_t runs;                  /* runs that used this store; 0: fresh */
    uint64_t file_bytes;
    gw_store_mass_t mass[GW_MASS_SLOTS];
} gw_store_hdr_t;

struct gw {                         /* gw_t (gw_server.h) */
    const gw_config_t *cfg;
    gw_stats_t *stats;
    const gw_io_ops_t *io;          /* the I/O backend (gw_io.h) and its state */
    void *io_state;
    gw_conn_t *conns;
    gw_session_t *sessions;
    gw_orders_t orders;
    gw_pending_t pending[GW_PENDING_CAP];
    uint64_t p_tail, p_answered, p_head;  /* [tail,answered): seq known; [answered,head): not */
    uint64_t last_answered_seq;
    gw_mass_t mass[GW_MASS_SLOTS];
    uint32_t sweeps;                /* sessions with sweeping set */
    gw_orders_t done;               /* orders that left, the last GW_DONE_CAP / 2 of them */
    uint64_t *done_ring;            /* their ids, oldest first from done_head */
    uint64_t done_head, done_count;
    uint64_t next_order_counter;
    uint64_t next_exec_id;
    uint32_t cmds_unsignalled;      /* commands written since the engine's doorbell was rung */
    int64_t now_ns;                 /* CLOCK_MONOTONIC at the top of the loop iteration */
    int held;                       /* 1: held_evt waits for the reply of one of our commands */
    eng_evt_t held_evt;
    /* latency stamps (venue_layout.h Section 5); all unused while lat is NULL */
    const struct hdr_hist *lat;     /* cfg->latency */
    uint64_t lat_rx, lat_decoded;   /* the frame being handled; lat_decoded 0: none to stamp */
    uint32_t lat_tx_count;          /* reports queued since the last flush pass: */
    uint32_t lat_recvs;             /* recv() calls that read bytes, for sampling */
    struct { uint64_t rx, enqueue; uint64_t e2p_ns; } lat_tx[GW_LAT_TX_CAP];
    struct gw_waker *waker;         /* event-log doorbell -> eventfd (gw_waker.c); NULL: none */
    /* Where this gateway is in the engine's output: the seq of the last event it handled and
     * how many events of that seq it handled. After an engine crash the events past this point
     * are read from the event journal (gw_resume.c), which numbers a seq's events 0, 1, 2 ... */
    uint64_t evt_seq;
    uint32_t evt_index;
    uint32_t engine_down;           /* 1 from the engine's death until gw_resume: nothing may be
                                       written to its orphaned rings (owed cancels wait) */
    gw_store_hdr_t *store;          /* the flow store's mapping (gw_store.c); NULL: memory only */
    uint64_t store_bytes;
    int store_fd;                   /* the store's file, for its syncs (-1: none) */
    int store_flush_fd;             /* with a store: its directory's flush file (jrnl_durable.c),
                                       -1 if it could not be made */
    jrnl_durable_t store_durable;   /* with a store: how gw_store_sync makes it durable */
    int store_dirty;                /* written since its last sync (set by gw_store_order) */
    int store_owed;                 /* 1: written with something the journal cannot rebuild
                                       since its last sync (gw_store_owe): synced before the next
                                       bytes leave and before the next request is taken */
    int store_shadow_fd;            /* test only ($VENUE_GW_TEST_STORE_SHADOW): each sync copies
                                       the store there, the image a power loss would leave; -1 */
    uint32_t order_id_prefix;       /* cfg's, or the store's when it has one */
    uint32_t die_before_event_note; /* test hook (0: off): the process SIGKILLs itself in the S1
                                       window of the N-th event-made message (gw_outbound.c);
                                       from $VENUE_GW_TEST_DIE_BEFORE_EVENT_NOTE */
    gw_flow_t *flows_mem;           /* the flows when there is no store */
    uint32_t restoring;             /* 1 while gw_restore replays the journal */
    uint32_t cur_evt_sub;           /* the engine event being reported (cur_evt_seq 0: none) */
    uint64_t cur_evt_seq;
    uint64_t skip_through_seq;      /* after a restore: log events up to it are in the journal,
                                       replayed already */
    uint64_t stale_reply_seq;       /* replies up to this seq answer a previous owner of the
                                       producer slot (it died with commands in flight): none of
                                       ours is sequenced before it */
    void (*on_unbound)(gw_t *g, int32_t session, int was_established);
                                    /* fixp_session_unbound: how gw_conn.c, below the session
                                       layer, tells it a session lost its connection */
};

/* gw_store.c: the flow store, a file mapped MAP_SHARED (see its top comment) */
/* Maps path, creating it or checking that it belongs to this configuration, and points every
 * session's flow and log into it (before any was used). 0, or < 0 with message set. */
int gw_store_open(gw_t *g, const char *path, char *message, uint32_t cap);
/* Unmaps it (NULL store: nothing). */
void gw_store_close(gw_t *g);
/* Compiler barrier: the stores before it reach the mapping before those after it, as seen by
 * a later process reading the file after this one was killed (the CPU retires them in order on
 * a kill; only the compiler may reorder). Marks the store written (gw_store_sync syncs it). */
void gw_store_order(gw_t *g);
/* Marks the store written with something a restart cannot rebuild from the journal (a message
 * not made from an engine event, an inbound sequence number that moved without a journaled
 * command, session state): gw_store_sync then syncs it before the next bytes leave. */
void gw_store_owe(gw_t *g);
/* The point that matters for a power loss: called before any bytes are handed to the kernel
 * for a client (gw_conn_flush, the io_uring backend's send). The store is made durable
 * (jrnl_durable_sync: writeback + the device's flush, or msync; gw_store.c) if it owes a sync
 * (gw_store_owe), or, with cfg->events_durable 0, if it was written at all since its last
 * sync; so every message a client can have seen is in the durable store, or is made from
 * events the durable journal holds and comes out the same from it (gw_store.c's rule). One
 * sync covers a whole pass's messages. A failure is counted (stats->store_sync_failures),
 * never fatal: the bytes go out (the engine's journal is what recovery needs first). */
void gw_store_sync(gw_t *g);
/* Syncs now if the store owes a sync (gw_store_owe), whatever cfg->events_durable says: before
 * a request is taken, so the journaled requests past the durable store's count are exactly
 * the ones it took after it (gw_store.c), and where a request needs its notes durable before
 * its commands reach the engine (a mass cancel). */
void gw_store_settle(gw_t *g);
/* The persisted copy of mass slot m: written at open, on each cancel counted, at finish. */
void gw_store_mass_put(gw_t *g, uint32_t m);
/* Mass slot m's report is about to be logged with seqNum seq (before the slot is cleared). */
void gw_store_mass_answering(gw_t *g, uint32_t m, uint64_t seq);

/* gw_restore.c: a restarted gateway rebuilds its orders from the journal */
/* See gw_server.h gw_restore. */
int gw_restore_run(gw_t *g, uint32_t source, uint64_t first_seq, const char *journal_dir,
                   uint64_t limit_seq, char *message, uint32_t cap);

/* gw_orders.c */
/* Allocates a table of capacity slots (a power of two). 0 or -ENOMEM/-EINVAL. */
int gw_orders_init(gw_orders_t *t, uint64_t capacity);
void gw_orders_free(gw_orders_t *t);
/* The live order with that id, or NULL. */
gw_order_t *gw_orders_find(gw_orders_t *t, uint64_t order_id);
/* Inserts a copy of o; returns the stored order, or NULL when the table is 7/8 full. */
gw_order_t *gw_orders_insert(gw_orders_t *t, const gw_order_t *o);
/* Removes the order (o must come from find/insert); keeps every probe chain intact. */
void gw_orders_remove(gw_orders_t *t, gw_order_t *o);
/* Appends o to a session's chain (head/tail ids) / takes it out again. The chain links by id,
 * not by pointer, because removal's backward shift moves entries; a session's mass cancel and
 * cancel-on-disconnect walk its own orders instead of the whole table. */
void gw_orders_chain_append(gw_orders_t *t, uint64_t *head, uint64_t *tail, gw_order_t *o);
void gw_orders_chain_unlink(gw_orders_t *t, uint64_t *head, uint64_t *tail, gw_order_t *o);

/* gw_conn.c: a connection's buffers, Terminate and close (the lowest layer: it calls nothing
 * above it, and tells the session layer of an unbound session through g->on_unbound) */
/* Queues one encoded frame on the connection. 0, or -ENOBUFS after which the connection is a
 * slow consumer being terminated (the frame was not queued). */
int gw_conn_send(gw_t *g, gw_conn_t *c, const uint8_t *frame, uint32_t len);
/* Writes as much of the outbound buffer as the socket takes (a TLS connection's plaintext is
 * encrypted first, as far as its ciphertext buffer has room). 0, or -1 if the peer is gone. */
int gw_conn_flush(gw_t *g, gw_conn_t *c);
/* 1 while bytes queued on the connection have not all been handed to the backend. */
int gw_conn_out_pending(const gw_conn_t *c);
/* A TLS connection that failed: what TLS still has to say (an alert) is flushed, then the
 * connection closes (reads stop at once). */
void gw_conn_tls_refused(gw_t *g, gw_conn_t *c);
/* Queues Terminate(code, reason) and starts closing the connection. */
void gw_conn_terminate(gw_t *g, gw_conn_t *c, uint8_t code, uint16_t reason);
/* As gw_conn_terminate, with reason text (at most 128 bytes) in the Terminate. */
void gw_conn_terminate_text(gw_t *g, gw_conn_t *c, uint8_t code, uint16_t reason,
                            const uint8_t *text, uint16_t text_len);
/* Closes the connection now: unbinds its session (cancel-on-disconnect applies). */
void gw_conn_close(gw_t *g, gw_conn_t *c);

/* gw_outbound.c: each session's outbound application flow */
/* Encodes one application message into buf with seqNum seq; returns its length or -errno. */
typedef int (*gw_encode_fn)(uint8_t *buf, size_t cap, uint64_t seq, int64_t sending_ns,
                            const void *ctx);
/* Sends an application message to a session: seqNum stamped, logged for retransmission, sent
 * if a connection is established on it. */
void gw_out_send(gw_t *g, int32_t session, gw_encode_fn encode, const void *ctx);
/* BusinessMessageReject of an inbound application message (ref_seq, ref_id: its seqNum and
 * clOrdId, 0 when unknown). */
void gw_out_bmr(gw_t *g, int32_t session, uint64_t ref_seq, uint64_t ref_id,
                uint16_t ref_template, uint16_t reason, uint8_t code);
/* OrderCancelReject; cxl_reason is the FIX CxlRejReason, reason the precise eng_reason. */
typedef struct gw_ocr {
    uint64_t order_id, cl_ord_id, transact_ns;
    uint32_t instrument_id;
    uint16_t reason;
    uint8_t response_to, cxl_reason;
} gw_ocr_t;
void gw_out_ocr(gw_t *g, int32_t session, const gw_ocr_t *x);
/* CLOCK_REALTIME in ns (sendingTime, transactTime of gateway-made reports). */
int64_t gw_realtime_ns(void);

/* fixp_session.c: the FIXP session state machine */
/* Handles every whole frame in c->rx. Returns 0; stops early (c->blocked) when the command ring
 * has no room, leaving the rest for the next call. */
int fixp_conn_input(gw_t *g, gw_conn_t *c);
/* Heartbeats, keepalive expiry and handshake timeouts for every connection. */
void fixp_timers(gw_t *g);
/* g->on_unbound: an established session lost its connection (cancel-on-disconnect applies). */
void fixp_session_unbound(gw_t *g, int32_t session, int was_established);

/* gw_entry.c: application entry */
/* 1 if an application message of this template can be handled now (engine room for it). */
int gw_entry_room(gw_t *g, uint16_t template_id);
/* Handles one decoded application message whose seqNum the session layer accepted: throttle,
 * account and ownership checks, then engine commands, or a reject. */
void gw_entry_message(gw_t *g, gw_conn_t *c, const sbe_msg_t *m);

/* gw_sweep.c: cancels owed in bulk */
/* Marks the session's live orders matching the filters (instrument 0: any; account
 * SBE_OPTIONAL_ACCOUNT_ID_NULL: any) as owed a cancel for `owner` (GW_OWED_COD or mass slot +
 * 1), skipping orders already owed one; returns how many it marked. Writes nothing: the sweep
 * (gw_sweep_run) sends the cancels as the command ring has room. */
uint32_t gw_sweep_mark(gw_t *g, int32_t session, uint32_t instrument, uint32_t account,
                       uint32_t owner);
/* Writes owed cancels while the engine has room. Returns how many it wrote. */
uint32_t gw_sweep_run(gw_t *g);
/* The owed cancel of order o was never sequenced (engine crash): it is sent again. */
void gw_sweep_resend(gw_t *g, gw_order_t *o);

/* gw_resume.c */
/* After the engine died and a new one recovered from its journal (the caller pointed cfg's ring
 * handles at the new engine's segments): reports what the journal says happened to our
 * commands and orders up to recovered_seq, answers commands the dead engine never journaled,
 * re-sends owed cancels, and rearms the loop. 0, or < 0 with message set. */
int gw_resume_engine(gw_t *g, uint32_t old_source, uint64_t recovered_seq,
                     const char *journal_dir, char *message, uint32_t cap);

/* gw_engine.c: the engine bridge */
/* 1 if one more command (and its pending entry) can be written now. */
int gw_engine_has_room(gw_t *g);
/* Writes a command (caller checked gw_engine_has_room) and records its pending context. */
void gw_engine_submit(gw_t *g, eng_cmd_t *cmd, const gw_pending_t *ctx);
/* Writes one engine cancel of order o (caller checked gw_engine_has_room). */
void gw_engine_cancel(gw_t *g, const gw_order_t *o, uint32_t kind, uint32_t mass);
/* Reads replies and events, turning the events about our orders into reports. Returns work done. */
int gw_engine_poll(gw_t *g);
/* Handles one engine event: attributes it to our command, reports it, advances evt_seq/index. */
void gw_engine_apply(gw_t *g, const eng_evt_t *e);
/* Reports one engine event (index: its place among its seq's events) caused by our command p
 * (NULL: none or not ours): the order table follows it and the owners get their messages. */
void gw_engine_report(gw_t *g, const eng_evt_t *e, uint32_t index, const gw_pending_t *p);
/* Answers a NEW, CANCEL or REPLACE the engine never sequenced (it died first, and its successor
 * recovered a journal without it): rejected with ENG_GW_ENGINE_GONE; owed cancels (mass parts,
 * cancel-on-disconnect) are sent again; other kinds: nothing. */
void gw_engine_not_executed(gw_t *g, const gw_pending_t *p, int64_t ts_ns);
/* Retires the oldest commands that are done. */
void gw_engine_retire(gw_t *g);
/* Retires every answered command, done or not (its events are all behind the caller). */
void gw_engine_retire_answered(gw_t *g);
/* 1 if any command of ours still waits for its reply. */
int gw_engine_in_flight(const gw_t *g);
/* Latency: after the flush pass, stamps GATEWAY_TRANSMIT for every stamped command whose first
 * report was queued since the last call, and records published_to_transmit and end_to_end. */
void gw_engine_lat_transmitted(gw_t *g);
/* A free mass cancel slot, or -1 if every one is in progress. */
int gw_mass_open(gw_t *g, int32_t session, uint64_t cl_ord_id, uint32_t instrument_id,
                 uint32_t account_id);
/* Sets how many orders mass slot m marked; with none, the report goes out at once. */
void gw_mass_marked(gw_t *g, uint32_t m, uint32_t count);
/* Answers every mass cancel still open at g->now_ns past its deadline with
 * ENG_GW_MASS_CANCEL_UNFINISHED (the orders cancelled so far in the total); its orders not yet
 * cancelled stay owed, as cancel-on-disconnect's are (no report counts them), so they are still
 * cancelled if the engine comes back. Returns how many it answered. */
uint32_t gw_mass_expire(gw_t *g);
/* Answers mass slot m now as gw_mass_expire does past its deadline. */
void gw_mass_expire_one(gw_t *g, uint32_t m);

/* gw_orders.c: orders that left, remembered so that a late cancel is told it is too late */
/* Remembers o (its id, firm, session, instrument); forgets the oldest beyond GW_DONE_CAP / 2. */
void gw_done_remember(gw_t *g, const gw_order_t *o);
/* The remembered order with that id, or NULL. */
const gw_order_t *gw_done_find(gw_t *g, uint64_t order_id);

/* gw_waker.c: a thread that sleeps on the event log's reader bell for the gateway thread
 * and wakes its epoll_wait through an eventfd when an event or a reply arrives (the protocol is
 * at the top of gw_waker.c). */
typedef struct gw_waker gw_waker_t;
/* Starts the thread watching events and the reply ring reply (both stay owned by the caller and
 * mapped until gw_waker_stop). 0, -ENOMEM, or -errno of eventfd / pthread_create. */
int gw_waker_start(gw_waker_t **out, struct ring_bcast_rx *events, const ring_spsc_t *reply);
/* The eventfd to register in epoll (EPOLLIN). */
int gw_waker_fd(const gw_waker_t *w);
/* Gateway thread, just before a blocking epoll_wait: cursor is its event-log cursor and
 * reply_pos its reply ring's read position, taken after its last poll found nothing. 1: armed,
 * block; 0: an event or a reply is there, do not block (nothing armed). */
int gw_waker_arm(gw_waker_t *w, uint64_t cursor, uint64_t reply_pos);
/* Gateway thread, after epoll_wait returned (armed or not). */
void gw_waker_disarm(gw_waker_t *w);
/* Gateway thread: epoll reported the eventfd; resets it. */
void gw_waker_consume(gw_waker_t *w);
/* Stops and joins the thread, closes the eventfd, frees w (NULL: nothing). */
void gw_waker_stop(gw_waker_t *w);

/* gw_security.c: logon checks and intrusion detection (gw_security.h). With no
 * cfg->security every check passes as before (plain keys) and nothing is counted. */
/* Checks a Negotiate's or Establish's credentials (tid: its template) for session (-1: unknown
 * session or wrong firm, refused), from connection c's source: ENG_OK, ENG_GW_BAD_CREDENTIALS,
 * ENG_GW_CREDENTIALS_REPLAYED, or ENG_GW_LOGON_LOCKED_OUT (not checked: the source or the session
 * is locked out). A refusal counts toward both lockouts. */
uint16_t gw_sec_logon(gw_t *g, gw_conn_t *c, int32_t session, uint16_t tid, uint64_t ts_ns,
                      const uint8_t *cred, uint16_t len);
/* An application message of session about to be entered: ENG_OK, or the reason to refuse it
 * (ENG_GW_SECURITY_THROTTLED, ENG_GW_SECURITY_DISCONNECT); counts it for the detectors. */
uint16_t gw_sec_entry(gw_t *g, int32_t session, uint16_t template_id);
/* Counts one event of GW_SEC_RULE_* rule (rejects, sequence abuse) for session (-1: none). */
void gw_sec_note(gw_t *g, int32_t session, uint32_t rule);
/* A fill reported to session (the message-to-trade detector's denominator). */
void gw_sec_fill(gw_t *g, int32_t session);
/* 1 once when a detector asked for session to be terminated (the caller terminates it). */
int gw_sec_disconnect_due(gw_t *g, int32_t session);
/* Rotation: session_id's key becomes the hashed one stored_key (32 bytes). 0, or -1 for an
 * unknown session, a wrong length or no security configured. */
int gw_sec_set_key(gw_t *g, uint64_t session_id, const uint8_t *stored_key, uint32_t len);
/* Copies up to cap events from *cursor on into out and advances *cursor; returns how many. */
uint32_t gw_sec_copy_events(gw_t *g, uint64_t *cursor, gw_sec_event_t *out, uint32_t cap);

/* gw_admin.c */
/* Answers an outstanding admin request, if any (cfg->admin must be set). */
void gw_admin_service(gw_t *g);

#endif /* GW_INTERNAL_H */
