/*
 * md_pub.h - the market-data publisher's hot loop: drain the engine's broadcast log, encode
 * (md_encode.c), cut MoldUDP64 packets and send them in batches (sendmmsg for UDP, libzmq's
 * zmq_send through a function pointer for ZeroMQ), conflate L1/L2 on a timer, heartbeat when idle.
 *
 * Python (gateway/marketdata/publisher.py) creates the sockets, calls md_pub_run on a thread of
 * its own (cffi drops the GIL) and supervises; it never touches a message. The encoder is shared
 * with the recovery server's thread: every md_pub_* call that reads or writes it takes the
 * publisher's mutex, and the loop holds it only while a batch is encoded and sent.
 */
#ifndef MD_PUB_H
#define MD_PUB_H

#include <stddef.h>
#include <stdint.h>

#include "md_encode.h"
#include "md_xdp.h"
#include "ring_segment.h"

/* CFFI-BEGIN */
/* libzmq's zmq_send / zmq_recv, passed in by address: the extension does not link libzmq, it
 * uses the copy pyzmq already loaded, on a socket pyzmq created and then hands over. */
typedef int (*md_zmq_send_fn)(void *socket, const void *buf, size_t len, int flags);
typedef int (*md_zmq_recv_fn)(void *socket, void *buf, size_t len, int flags);

typedef struct md_pub md_pub_t;

typedef struct md_pub_config {
    int l3_fd;                      /* UDP socket of the order-by-order channel, -1: none */
    uint32_t l3_addr;               /* its destination: IPv4 address (host order) and port */
    uint32_t l3_port;
    int l2_fd;                      /* UDP socket of the conflated channel, -1: none */
    uint32_t l2_addr;
    uint32_t l2_port;
    void *zmq_socket;               /* ZeroMQ PUB socket carrying [channel, packet], or NULL */
    md_zmq_send_fn zmq_send;
    int64_t conflate_interval_ns;   /* L1/L2 at most this often; 0: after every batch; < 0: never */
    int64_t heartbeat_interval_ns;  /* idle this long: send a heartbeat (> 0) */
    int64_t idle_sleep_ns;          /* after spin_polls empty polls, sleep at most this long per
                                       poll on the event log's doorbell (the engine's publish
                                       ends the sleep) */
    uint32_t spin_polls;
    uint32_t batch_events;          /* most log records drained per batch, 1..65536 */
    uint32_t drop_ppm;              /* loss injection on live L3 packets, parts per million */
    uint32_t from_start;            /* 1: replay the log from offset 0 if it has not wrapped yet */
    uint64_t drop_seed;
    struct md_xdp *l3_xdp;          /* AF_XDP transmit socket of the order-by-order channel
                                       (md_xdp.h, cfg tx = 1) instead of l3_fd, or NULL */
} md_pub_config_t;

typedef struct md_pub_stats {
    uint64_t batches;               /* non-empty drains */
    uint64_t events;                /* engine events handed to the encoder */
    uint64_t other_records;         /* log records that were not engine events (skipped) */
    uint64_t packets_sent;          /* L3 packets handed to the transports */
    uint64_t packets_dropped;       /* L3 packets dropped by loss injection */
    uint64_t l2_packets;
    uint64_t heartbeats;
    uint64_t laps;                  /* the log lapped us: events lost, subscribers must resync */
    uint64_t send_errors;           /* sendmmsg / zmq_send failures (the packet is lost) */
    int32_t last_send_errno;
    uint32_t started_at_tail;       /* 1: the log had wrapped; the boot events were not seen */
} md_pub_stats_t;

/* Binds a publisher to an encoder (borrowed: it must outlive the publisher, and after this call
 * is used only through md_pub_*) and to a mapped BROADCAST segment. 0 and *out set, -EINVAL
 * (a config value outside the ranges above, or no transport), RING_INVALID (not a broadcast
 * segment), -ENOMEM. */
int md_pub_create(const md_pub_config_t *cfg, md_enc_t *enc, const struct ring_seg *events,
                  md_pub_t **out);
void md_pub_destroy(md_pub_t *pub);

/* Runs the loop until md_pub_stop() or until the log's segment is CLOSED (then drains what is
 * left). Returns 0, or RING_SEG_CORRUPT (the log is unreadable: stopped). */
int md_pub_run(md_pub_t *pub);
/* Asks md_pub_run to return; safe from any thread and from a signal handler. */
void md_pub_stop(md_pub_t *pub);

/* md_enc_pack / md_enc_snapshot_bytes / md_enc_snapshot / md_enc_get_stats under the mutex. */
int md_pub_pack(md_pub_t *pub, uint64_t first_seq, uint64_t count, uint8_t *out, size_t cap,
                uint32_t *lens, uint32_t max_packets, uint64_t *packed);
size_t md_pub_snapshot_bytes(md_pub_t *pub);
int64_t md_pub_snapshot(md_pub_t *pub, uint8_t *out, size_t cap);
void md_pub_get_stats(md_pub_t *pub, md_pub_stats_t *out, md_enc_stats_t *enc_out);
/* Sends a heartbeat (count 0) or, with end != 0, the end-of-session packet (count 65535) on L3.
 * Returns 0 or -errno of the failed send. */
int md_pub_control_packet(md_pub_t *pub, int end);
/* CFFI-END */

#endif /* MD_PUB_H */
