/* probe_tcp: a TCP loopback ping-pong latency probe, the socket baseline that tuning/measure.py
 * reports before and after host tuning. It owns nothing but its own two sockets and one thread for
 * the run; it never leaves either behind. Invariants: blocking sockets only, every wait bounded by
 * timeout_ms, the round-trip count bounded by PROBE_TCP_MAX_SAMPLES, so a call always terminates. */
#ifndef PROBE_TCP_H
#define PROBE_TCP_H

#include <stdint.h>

/* CFFI-BEGIN */
/* Bounds that keep one call finite and its buffers small (cffi reads the numbers from here). */
#define PROBE_TCP_MAX_SAMPLES 10000000
#define PROBE_TCP_MAX_PAYLOAD 65536

/* Runs warmup + samples round trips of payload_bytes over a fresh 127.0.0.1 TCP connection with
 * TCP_NODELAY: the client (the calling thread) sends, an echo thread sends the bytes back. The
 * round trip of sample i, measured with CLOCK_MONOTONIC around send and the complete reply, is
 * written to rtt_ns[i]; warmup rounds are not recorded. client_cpu / server_cpu pin the calling
 * thread (for the run only, its affinity is restored) and the echo thread; -1 leaves it unpinned.
 * timeout_ms bounds every single blocking call (accept, send, recv).
 * Returns 0 on success; -EINVAL for samples == 0 or above PROBE_TCP_MAX_SAMPLES, payload_bytes == 0
 * or above PROBE_TCP_MAX_PAYLOAD, timeout_ms == 0 or a CPU that does not exist; -ETIMEDOUT when a
 * call waited longer than timeout_ms; another -errno from the socket or thread call that failed. */
int probe_tcp_pingpong(uint64_t *rtt_ns, uint32_t samples, uint32_t warmup, uint32_t payload_bytes,
                       int client_cpu, int server_cpu, uint32_t timeout_ms);
/* CFFI-END */

#endif
