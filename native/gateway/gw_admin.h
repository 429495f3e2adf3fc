/*
 * gw_admin.h - the gateway's session-admin mailbox: how a thread other than the gateway's (the
 * admin thread of gateway/gw_process.py, which serves gateway/gw_admin.py's GatewayAdmin over
 * ZeroMQ) asks the C loop for a snapshot of its session table or to disconnect a session.
 *
 * Protocol (exactly one requester thread): the requester fills op/session_id/reason, then
 * gw_admin_submit() publishes request = done + 1 with a release store. The loop sees request !=
 * done on its next pass (one relaxed load per pass), answers (result fields and the session table),
 * and publishes done = request with a release store; gw_admin_done() reads done with an acquire
 * load, after which the requester may read the answer. The loop writes the table only while a
 * request is outstanding and the requester reads it only after done: no seqlock is needed, and the
 * loop never blocks or allocates for it.
 */
#ifndef GW_ADMIN_H
#define GW_ADMIN_H

#include <stdint.h>

#include "gw_security.h"

/* CFFI-BEGIN */
#define GW_ADMIN_OP_SNAPSHOT 1
#define GW_ADMIN_OP_DISCONNECT 2
#define GW_ADMIN_OP_SET_KEY 3           /* session_id's StoredKey := reason[0..32) (rotation) */
#define GW_ADMIN_OP_SECURITY_EVENTS 4   /* events[] := security events from event_cursor on */
#define GW_ADMIN_REASON_MAX 128     /* bytes of Terminate reason text (the SBE field's maximum) */
#define GW_ADMIN_PEER_MAX 64

#define GW_ADMIN_SESSION_DISCONNECTED 0
#define GW_ADMIN_SESSION_NEGOTIATED 1
#define GW_ADMIN_SESSION_ESTABLISHED 2

/* Results of a request (gw_admin_t.result). */
#define GW_ADMIN_OK 0
#define GW_ADMIN_UNKNOWN_SESSION 1
#define GW_ADMIN_BAD_OP 2

/* One configured session as the loop last published it. */
typedef struct gw_admin_session {
    uint64_t session_id;
    uint64_t in_seq;                /* last inbound application seqNum accepted; 0: none */
    uint64_t out_seq;               /* last outbound application seqNum sent; 0: none */
    uint64_t orders_live;           /* orders the session entered that the gateway still tracks */
    uint32_t firm_id;
    uint32_t state;                 /* GW_ADMIN_SESSION_* */
    uint32_t cancel_on_disconnect;
    uint32_t _pad0;
    char peer[64];                  /* "host:port" of the bound connection, "" when none */
} gw_admin_session_t;

typedef struct gw_admin {
    /* Written by the requester before gw_admin_submit. */
    uint32_t op;                    /* GW_ADMIN_OP_* */
    uint32_t reason_len;
    uint64_t session_id;
    uint8_t reason[128];
    /* Written by the loop before it publishes done. */
    int32_t result;                 /* GW_ADMIN_OK, GW_ADMIN_UNKNOWN_SESSION, GW_ADMIN_BAD_OP */
    uint32_t was_connected;
    uint64_t orders_cancelling;
    uint32_t session_count;         /* entries of sessions[] the loop filled */
    uint32_t capacity;              /* entries sessions[] has room for (the requester's) */
    gw_admin_session_t *sessions;   /* every answer refreshes the table */
    gw_sec_event_t *events;         /* GW_ADMIN_OP_SECURITY_EVENTS: the requester's buffer */
    uint32_t event_capacity;        /* entries events[] has room for */
    uint32_t event_count;           /* entries the loop filled */
    uint64_t event_cursor;          /* in: the first event wanted; out: the next one (a jump
                                       past the last read: events overwritten before collected) */
    /* The mailbox: accessed only through the functions below (atomics). */
    uint64_t request;
    uint64_t done;
} gw_admin_t;

/* Requester: publishes the request filled in above; returns its id for gw_admin_done. */
uint64_t gw_admin_submit(gw_admin_t *a);
/* Requester: 1 once the loop answered request `id`, else 0. */
int gw_admin_done(gw_admin_t *a, uint64_t id);
/* CFFI-END */

#endif /* GW_ADMIN_H */
