/* probe_tcp: TCP loopback ping-pong (see probe_tcp.h for the contract). One listening socket and
 * one connection per call, an echo thread on the far side; both ends use blocking sockets whose
 * SO_RCVTIMEO / SO_SNDTIMEO turn every wait into a bounded one, so a lost peer ends the run with
 * -ETIMEDOUT instead of hanging the caller. Nothing outlives the call: both sockets are closed and
 * the echo thread is joined on every path. */
#define _GNU_SOURCE
#include "probe_tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct probe_tcp_echo_t {
    int listen_fd;
    uint32_t rounds;
    uint32_t payload_bytes;
    int cpu;
    int result; /* written by the echo thread, read by the caller only after pthread_join() */
} probe_tcp_echo_t;

static uint64_t probe_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A timed-out blocking call reports EAGAIN/EWOULDBLOCK (socket(7), SO_RCVTIMEO); callers of this
 * probe want to tell "took too long" apart from a real failure, so it becomes ETIMEDOUT. */
static int probe_errno(void)
{
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
}

static int probe_set_timeouts(int fd, uint32_t timeout_ms)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000u, .tv_usec = (timeout_ms % 1000u) * 1000u };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return -errno;
    return 0;
}

static int probe_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 ? 0 : -errno;
}

/* Sends exactly len bytes. Returns 0, -ETIMEDOUT, or -errno. */
static int probe_send_all(int fd, const unsigned char *buf, uint32_t len)
{
    uint32_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return probe_errno();
        }
        done += (uint32_t)n;
    }
    return 0;
}

/* Receives exactly len bytes. Returns 0, -ECONNRESET when the peer closed early, -ETIMEDOUT, or
 * -errno. */
static int probe_recv_all(int fd, unsigned char *buf, uint32_t len)
{
    uint32_t done = 0;
    while (done < len) {
        ssize_t n = recv(fd, buf + done, len - done, 0);
        if (n == 0)
            return -ECONNRESET;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return probe_errno();
        }
        done += (uint32_t)n;
    }
    return 0;
}

static int probe_pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    return rc == 0 ? 0 : -rc;
}

static void *probe_echo_main(void *arg)
{
    probe_tcp_echo_t *echo = arg;
    unsigned char *buf = malloc(echo->payload_bytes);
    int fd = -1;
    int rc = 0;

    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (echo->cpu >= 0 && (rc = probe_pin_self(echo->cpu)) != 0)
        goto out;
    /* accept() honours the listening socket's SO_RCVTIMEO, so a client that never connects ends
     * this thread too. */
    fd = accept(echo->listen_fd, NULL, NULL);
    if (fd < 0) {
        rc = probe_errno();
        goto out;
    }
    if ((rc = probe_nodelay(fd)) != 0)
        goto out;
    for (uint32_t i = 0; i < echo->rounds; i++) {
        if ((rc = probe_recv_all(fd, buf, echo->payload_bytes)) != 0)
            goto out;
        if ((rc = probe_send_all(fd, buf, echo->payload_bytes)) != 0)
            goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    echo->result = rc;
    return NULL;
}

static int probe_cpu_valid(int cpu)
{
    return cpu == -1 || (cpu >= 0 && cpu < CPU_SETSIZE);
}

/* A loopback listening socket on an ephemeral port (written to *addr), with the timeouts set:
 * its fd, or -errno. */
static int probe_listen_loopback(struct sockaddr_in *addr, uint32_t timeout_ms)
{
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->sin_port = 0;
    socklen_t addr_len = sizeof *addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = probe_set_timeouts(fd, timeout_ms);
    if (rc == 0 && (bind(fd, (struct sockaddr *)addr, sizeof *addr) != 0
                    || getsockname(fd, (struct sockaddr *)addr, &addr_len) != 0
                    || listen(fd, 1) != 0))
        rc = -errno;
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* A client socket connected to addr, TCP_NODELAY and timeouts set: its fd, or -errno. */
static int probe_connect(const struct sockaddr_in *addr, uint32_t timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = probe_set_timeouts(fd, timeout_ms);
    if (rc == 0)
        rc = probe_nodelay(fd);
    if (rc == 0 && connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0)
        rc = probe_errno();
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* warmup + samples round trips of payload_bytes; the samples' times into rtt_ns. 0 or -errno. */
static int probe_rounds(int fd, unsigned char *buf, uint32_t payload_bytes, uint32_t warmup,
                        uint32_t samples, uint64_t *rtt_ns)
{
    for (uint32_t i = 0; i < warmup + samples; i++) {
        uint64_t t0 = probe_now_ns();
        int rc = probe_send_all(fd, buf, payload_bytes);
        if (rc == 0)
            rc = probe_recv_all(fd, buf, payload_bytes);
        if (rc != 0)
            return rc;
        uint64_t t1 = probe_now_ns();
        if (i >= warmup)
            rtt_ns[i - warmup] = t1 - t0;
    }
    return 0;
}

int probe_tcp_pingpong(uint64_t *rtt_ns, uint32_t samples, uint32_t warmup, uint32_t payload_bytes,
                       int client_cpu, int server_cpu, uint32_t timeout_ms)
{
    if (rtt_ns == NULL || samples == 0 || samples > PROBE_TCP_MAX_SAMPLES || warmup > PROBE_TCP_MAX_SAMPLES
        || payload_bytes == 0 || payload_bytes > PROBE_TCP_MAX_PAYLOAD || timeout_ms == 0
        || !probe_cpu_valid(client_cpu) || !probe_cpu_valid(server_cpu))
        return -EINVAL;

    int rc = 0;
    int fd = -1;
    int thread_started = 0;
    int affinity_saved = 0;
    cpu_set_t saved_affinity;
    pthread_t thread;
    probe_tcp_echo_t echo = { .rounds = warmup + samples, .payload_bytes = payload_bytes,
                              .cpu = server_cpu, .result = 0 };
    unsigned char *buf = calloc(1, payload_bytes);
    if (buf == NULL)
        return -ENOMEM;
    struct sockaddr_in addr;
    int listen_fd = probe_listen_loopback(&addr, timeout_ms);
    if (listen_fd < 0) {
        rc = listen_fd;
        goto out;
    }
    if (client_cpu >= 0) {
        if (pthread_getaffinity_np(pthread_self(), sizeof saved_affinity, &saved_affinity) != 0) {
            rc = -EINVAL;
            goto out;
        }
        affinity_saved = 1;
        if ((rc = probe_pin_self(client_cpu)) != 0)
            goto out;
    }
    echo.listen_fd = listen_fd;
    if ((rc = pthread_create(&thread, NULL, probe_echo_main, &echo)) != 0) {
        rc = -rc;
        goto out;
    }
    thread_started = 1;
    fd = probe_connect(&addr, timeout_ms);
    rc = fd < 0 ? fd : probe_rounds(fd, buf, payload_bytes, warmup, samples, rtt_ns);
out:
    /* Closing the client end first wakes an echo thread blocked in recv() with EOF, and closing
     * the listener after the join keeps accept() bounded by its own timeout. */
    if (fd >= 0)
        close(fd);
    if (thread_started) {
        pthread_join(thread, NULL);
        if (rc == 0)
            rc = echo.result;
    }
    if (listen_fd >= 0)
        close(listen_fd);
    if (affinity_saved)
        pthread_setaffinity_np(pthread_self(), sizeof saved_affinity, &saved_affinity);
    free(buf);
    return rc;
}
