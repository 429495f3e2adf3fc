/*
 * md_subrx.c - receive, apply, timestamp (contract in md_subrx.h). The timestamp is taken once
 * per packet, after the whole packet was validated and applied: that is when a consumer could
 * act on any of its messages.
 */
#include "md_subrx.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "md_feed.h"
#include "ring_segment.h"

#define MD_SUBRX_ZMQ_DONTWAIT 1     /* ZMQ_DONTWAIT in zmq.h */

/* One datagram: its length, 0 when none came, or -errno; *pkt points at it (io->buf, or the
 * AF_XDP frame, held until md_xdp_release). block: wait (UDP, AF_XDP: up to 10 ms in poll(2);
 * ZeroMQ: up to the socket's ZMQ_RCVTIMEO) instead of returning at once. */
static int64_t take(md_subrx_io_t *io, int block, const uint8_t **pkt)
{
    *pkt = io->buf;
    if (io->xdp) {
        uint32_t len = 0;
        const uint8_t *p = md_xdp_peek(io->xdp, &len);
        if (!p && block && md_xdp_wait(io->xdp, 10) > 0)
            p = md_xdp_peek(io->xdp, &len);
        if (!p)
            return 0;
        *pkt = p;
        return len;
    }
    if (io->fd >= 0) {
        if (block) {
            struct pollfd pfd = {.fd = io->fd, .events = POLLIN};
            if (poll(&pfd, 1, 10) < 0 && errno != EINTR)
                return -errno;
        }
        ssize_t n = recv(io->fd, io->buf, io->buf_cap, MSG_DONTWAIT);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
        return n;
    }
    char chan[8];
    int n = io->zmq_recv(io->zmq_socket, chan, sizeof(chan), block ? 0 : MD_SUBRX_ZMQ_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    /* the packet frame follows the channel frame at once (multipart messages arrive whole) */
    n = io->zmq_recv(io->zmq_socket, io->buf, io->buf_cap, 0);
    if (n < 0)
        return -errno;
    return n > (int)io->buf_cap ? -EMSGSIZE : n;
}

/* One latency sample per engine command whose messages the packet carried (the packet was
 * validated by md_sub_apply_packet, so every length is in bounds). */
static void stamp(md_subrx_io_t *io, const uint8_t *pkt, size_t len, int64_t now)
{
    size_t off = MD_MOLD_HDR_BYTES;
    uint64_t prev_seq = 0;
    while (off + MD_MSG_LEN_BYTES <= len && io->lat_count < io->lat_cap) {
        uint16_t be;
        memcpy(&be, pkt + off, 2);
        size_t ml = be16toh(be);
        if (ml < sizeof(md_msg_hdr_t) || off + 2 + ml > len)
            return;
        md_msg_hdr_t h;
        memcpy(&h, pkt + off + 2, sizeof(h));
        uint64_t eseq = be64toh(h.engine_seq);
        if (eseq != prev_seq && h.ts_ns != 0)
            io->lat_ns[io->lat_count++] = now - (int64_t)be64toh((uint64_t)h.ts_ns);
        prev_seq = eseq;
        off += 2 + ml;
    }
}

int md_subrx_poll(md_sub_t *sub, md_subrx_io_t *io, uint32_t max_packets, int64_t idle_ns)
{
    if ((io->fd < 0 && !io->xdp && (!io->zmq_socket || !io->zmq_recv)) || !io->buf ||
        io->buf_cap < MD_MAX_PACKET_BYTES || (io->lat_cap && !io->lat_ns))
        return MD_E_BAD_VALUE;
    int64_t last = ring_now_ns();
    uint32_t taken = 0, empty = 0;
    while (taken < max_packets) {
        const uint8_t *pkt;
        int64_t n = take(io, io->spin_polls != UINT32_MAX && empty >= io->spin_polls, &pkt);
        if (n < 0)
            return (int)n;
        int64_t now = ring_now_ns();
        if (n == 0) {
            empty++;
            if (now - last >= idle_ns)
                return MD_OK;
            continue;
        }
        empty = 0;
        taken++;
        io->packets++;
        uint64_t first;
        uint32_t count;
        int rc = md_sub_apply_packet(sub, pkt, (size_t)n, &first, &count);
        now = ring_now_ns();
        last = now;
        if (rc == MD_OK)
            stamp(io, pkt, (size_t)n, now);
        if (rc != MD_OK && rc != MD_STALE && pkt != io->buf)
            memcpy(io->buf, pkt, (size_t)n < io->buf_cap ? (size_t)n : io->buf_cap);
        if (io->xdp)
            md_xdp_release(io->xdp);
        if (rc != MD_OK && rc != MD_STALE) {
            io->pkt_len = (uint32_t)((size_t)n < io->buf_cap ? (size_t)n : io->buf_cap);
            return rc;
        }
    }
    return MD_OK;
}
