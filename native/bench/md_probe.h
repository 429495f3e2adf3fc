/*
 * md_probe.h - the market-data bench's baseline: a raw UDP ping-pong on loopback between two
 * processes, both sides busy-polling a non-blocking socket, as the feed's subscriber does. It is
 * what one datagram costs with no venue code in the way (bench/marketdata.py divides by it).
 */
#ifndef MD_PROBE_H
#define MD_PROBE_H

#include <stdint.h>

/* CFFI-BEGIN */
/* Echo side: on bound UDP socket fd, returns each datagram to its sender, count times.
 * Returns the number echoed (< count when nothing arrived for timeout_ns), or -errno. */
int64_t md_probe_udp_echo(int fd, uint32_t count, int64_t timeout_ns);

/* Ping side: sends payload_bytes (1..1472) to addr:port (IPv4, host order) and waits for the
 * echo, warmup + samples times; rtt_ns[i] gets sample i's round trip (CLOCK_MONOTONIC).
 * 0, -EINVAL, -ETIMEDOUT (no echo within timeout_ns), or -errno of a failed send/recv. */
int md_probe_udp_ping(int fd, uint32_t addr, uint32_t port, uint32_t payload_bytes,
                      uint32_t warmup, uint32_t samples, int64_t *rtt_ns, int64_t timeout_ns);
/* CFFI-END */

#endif /* MD_PROBE_H */
