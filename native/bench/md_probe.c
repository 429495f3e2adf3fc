/*
 * md_probe.c - raw UDP ping-pong (contract in md_probe.h). Busy-polls with MSG_DONTWAIT so that
 * the baseline waits the way the bench's subscriber waits; no sleeping, no wake-up cost.
 */
#include "md_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "md_feed.h"
#include "ring_segment.h"

int64_t md_probe_udp_echo(int fd, uint32_t count, int64_t timeout_ns)
{
    uint8_t buf[MD_MAX_PACKET_BYTES];
    uint32_t done = 0;
    int64_t last = ring_now_ns();
    while (done < count) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -errno;
            if (ring_now_ns() - last > timeout_ns)
                break;
            continue;
        }
        if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen) < 0)
            return -errno;
        done++;
        last = ring_now_ns();
    }
    return done;
}

int md_probe_udp_ping(int fd, uint32_t addr, uint32_t port, uint32_t payload_bytes,
                      uint32_t warmup, uint32_t samples, int64_t *rtt_ns, int64_t timeout_ns)
{
    if (payload_bytes < 1 || payload_bytes > MD_MAX_PACKET_BYTES || port < 1 || port > 65535 ||
        (samples && !rtt_ns))
        return -EINVAL;
    uint8_t buf[MD_MAX_PACKET_BYTES];
    memset(buf, 0x5a, payload_bytes);
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(addr);
    dst.sin_port = htons((uint16_t)port);
    for (uint32_t i = 0; i < warmup + samples; i++) {
        int64_t t0 = ring_now_ns();
        if (sendto(fd, buf, payload_bytes, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
            return -errno;
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n >= 0)
                break;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return -errno;
            if (ring_now_ns() - t0 > timeout_ns)
                return -ETIMEDOUT;
        }
        if (i >= warmup)
            rtt_ns[i - warmup] = ring_now_ns() - t0;
    }
    return 0;
}
