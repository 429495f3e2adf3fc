/*
 * gw_loadgen.h - an open-loop (wrk2-style) order load generator for one established gateway
 * session: NewOrderSingles go out at planned times whatever the replies do, and each order's
 * latency is measured both from its planned send time (corrected for coordinated omission) and
 * from its actual send time. Used by bench/wire.py; the session handshake is done in Python.
 */
#ifndef GW_LOADGEN_H
#define GW_LOADGEN_H

#include <stdint.h>

/* CFFI-BEGIN */
typedef struct gw_loadgen_cfg {
    int32_t fd;                     /* connected, established session socket */
    uint32_t count;                 /* orders to send */
    uint64_t interval_ns;           /* planned gap between orders; 0: as fast as the window lets */
    uint32_t window;                /* interval 0 only: most orders without their New report */
    uint32_t batch_max;             /* most orders written by one send() when behind plan */
    uint64_t first_seq;             /* application seqNum of the first order */
    uint64_t first_cl_ord_id;       /* clOrdId of order i is first_cl_ord_id + i */
    uint32_t instrument_id;
    uint32_t account_id;
    int64_t price;                  /* IOC limit price: choose one that never trades */
    uint8_t side;
    uint8_t _pad0[3];
    uint32_t timeout_ms;            /* the run ends after this long without any report */
    uint32_t _pad1;
    struct tls_client *tls;         /* NULL: plain TCP on fd; else the session's TLS client on
                                       fd (tls_client.h): every send and receive goes through it */
} gw_loadgen_cfg_t;

typedef struct gw_loadgen_result {
    uint64_t sent;
    uint64_t acked;                 /* New reports received (latency recorded) */
    uint64_t finished;              /* Canceled (IOC remainder) reports received */
    uint64_t refused;               /* Rejected reports or BusinessMessageRejects */
    uint64_t other;                 /* any other message (heartbeats included) */
    uint64_t send_calls;
    int64_t elapsed_ns;             /* first planned send to last report */
    int64_t max_behind_ns;          /* largest lateness of a send against its plan */
    int32_t error;                  /* 0, -ETIMEDOUT, -EPROTO (Terminate / undecodable), -errno */
    uint32_t _pad0;
} gw_loadgen_result_t;

/* Runs the load. planned_ns[i] / sent_ns[i] receive, for order i, the time from its planned /
 * actual send to its New report (CLOCK_MONOTONIC ns; -1 if it never came). Blocks in ppoll between
 * planned sends (timer slack set to 1 ns for the thread). Returns 0 when every order got its New
 * and final report, else res->error; -EINVAL for a bad config. */
int gw_loadgen_run(const gw_loadgen_cfg_t *cfg, int64_t *planned_ns, int64_t *sent_ns,
                   gw_loadgen_result_t *res);
/* CFFI-END */

#endif /* GW_LOADGEN_H */
