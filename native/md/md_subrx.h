/*
 * md_subrx.h - a subscriber's receive loop in C: take datagrams from a UDP socket, an AF_XDP socket or a
 * ZeroMQ SUB socket, apply them to an md_sub, and stamp each engine command's messages with the time they
 * were decoded (CLOCK_MONOTONIC, the clock the engine stamps ts_ns with at dequeue), so that
 * feed latency can be measured without Python in the path.
 *
 * It stops at the first packet it cannot apply in sequence (a gap or a bad packet) and leaves it
 * in the caller's buffer: recovery stays with the Python subscriber (gateway/marketdata).
 */
#ifndef MD_SUBRX_H
#define MD_SUBRX_H

#include <stddef.h>
#include <stdint.h>

#include "md_pub.h"
#include "md_sub.h"
#include "md_xdp.h"

/* CFFI-BEGIN */
typedef struct md_subrx_io {
    int fd;                         /* non-blocking UDP socket, or -1 */
    uint32_t _pad0;
    void *zmq_socket;               /* ZeroMQ SUB socket subscribed to "L3", or NULL */
    md_zmq_recv_fn zmq_recv;
    uint8_t *buf;                   /* datagram buffer, >= MD_MAX_PACKET_BYTES */
    uint32_t buf_cap;
    uint32_t pkt_len;               /* out: length of the packet left in buf (status != MD_OK) */
    int64_t *lat_ns;                /* out: decode time - engine ts_ns, one per engine command */
    uint32_t lat_cap;
    uint32_t lat_count;             /* in/out: samples written so far */
    uint64_t packets;               /* out: packets taken from the socket */
    uint32_t spin_polls;            /* empty polls before blocking (UINT32_MAX: never block);
                                       a ZeroMQ socket blocks for its ZMQ_RCVTIMEO, set by the
                                       caller, a UDP or AF_XDP socket in poll(2) for at most 10 ms */
    uint32_t _pad1;
    struct md_xdp *xdp;             /* AF_XDP transport (md_xdp.h), or NULL: packets are applied
                                       in place in their UMEM frame (no copy); a packet it stops
                                       at is copied into buf for the caller */
} md_subrx_io_t;

/* Receives and applies packets until max_packets were taken, or nothing arrives for idle_ns
 * (spinning on a non-blocking receive, then blocking: io->spin_polls). Returns MD_OK, or the md_sub_apply_packet status of the
 * packet it stopped at (MD_GAP, MD_END_OF_SESSION, a negative md_status_t) with that packet left
 * in io->buf, or -errno of a failed receive, or MD_E_BAD_VALUE (no socket or a buffer too small). */
int md_subrx_poll(md_sub_t *sub, md_subrx_io_t *io, uint32_t max_packets, int64_t idle_ns);
/* CFFI-END */

#endif /* MD_SUBRX_H */
