/*
 * gw_waker.c - turns the engine's event-log doorbell into an eventfd the gateway's epoll loop
 * can wait on, so that an idle gateway sends the report of an event it did not cause (a resting
 * order filled by another session, a GTD expiry, a halt) at once instead of after its next
 * epoll_wait timeout (--idle-sleep-ms).
 *
 * Why a thread: epoll cannot wait on a futex, and the engine must not make a system call per
 * batch for readers that are not asleep, so it cannot write an eventfd itself (it would also need
 * every gateway's fd). Alternatives weighed: futex_waitv(2) waits on several futexes but not on
 * sockets; io_uring's FUTEX_WAIT needs Linux 6.7 and a ring per gateway; a shorter epoll timeout
 * costs CPU on a 2-core machine and still delays by the timeout. The waker thread costs one extra
 * thread wake-up on the idle path only (engine futex_wake -> waker -> eventfd -> epoll_wait).
 *
 * Protocol (venue_layout.h Section 4, B1-B4, split between two threads of this process):
 *   G, the gateway thread, about to block in epoll_wait: announces itself as a sleeper on the
 *     log's reader bell and re-checks the log past its cursor (ring_bcast_announce_sleep: B1, B2).
 *     News: it does not block. Otherwise it stores its cursor, state = ARMED (seq_cst), and wakes
 *     W with FUTEX_WAKE_PRIVATE only if W is parked.
 *   W, the waker thread, while ARMED: ticket = the bell's seq; if the log has news past G's
 *     cursor, ARMED -> IDLE (CAS: fires once per arming) and writes 1 to the eventfd; else
 *     futex_wait(seq, ticket) for at most GW_WAKER_BELL_SLEEP_NS (B3). While IDLE it parks on
 *     the private futex of state.
 *   G, after epoll_wait returns: state = IDLE, withdraws its announcement (an atomic decrement,
 *     no system call); reads the eventfd when epoll reported it.
 * No lost wake-up: G's announcement precedes its re-check (full fences paired with the engine's,
 * B1/B4), so a record published after the re-check is rung; the ring bumps seq after the record,
 * so W's ticket either predates it (futex_wait returns at once, or W is woken) or includes it (its
 * re-check, after the acquire load of the ticket, sees the record).
 * Cost while G is busy: G is not announced, so the engine makes no system call for it, and W
 * stays where it was (parked, or in a bounded futex wait nobody rings: it leaves it after at
 * most GW_WAKER_BELL_SLEEP_NS, about 100 wake-ups a second while G keeps arming). So a gateway
 * that blocks between every order of a moderate flow pays, per order, one atomic increment and
 * one fence when it blocks and one atomic decrement when it wakes, and no extra thread switch.
 *
 * The reply ring too: G also blocks while a command is in flight (it used to poll, a busy loop
 * for the whole of a durable ack's sync that took the CPU from the engine and its sync thread
 * on a small machine), so W also ends the wait when a reply waits at G's reply-ring read
 * position (handed over with the cursor). The engine rings the log's reader bell after every
 * batch of reply commits, events or not (runner_wake in native/runner/: its full fence follows the
 * commits' release stores, then the reader bell's sleepers are loaded), so the same B1-B4
 * argument covers the reply: G's re-check after its announcement sees the reply, or the engine
 * sees G announced and rings; W's ticket predates the ring or its re-check sees the reply.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gw_internal.h"
#include "ring_wait.h"

enum { GW_WAKER_IDLE = 0, GW_WAKER_ARMED = 1, GW_WAKER_STOP = 2 };

/* W's longest single wait on the reader bell: bounds a stop's join, and how long W lingers in a
 * wait that G no longer needs. */
#define GW_WAKER_BELL_SLEEP_NS 10000000ULL

struct gw_waker {
    ring_bcast_ctl_t *log;          /* the engine's event log (shared memory) */
    const ring_spsc_t *reply;       /* G's reply ring (W reads only its data, never G's positions) */
    int efd;
    int announced;                  /* G only: G is announced on the reader bell */
    pthread_t thread;
    _Atomic uint32_t state;         /* GW_WAKER_*; the private futex word W parks on */
    _Atomic uint32_t parked;        /* 1: W is (about to be) parked on state */
    _Atomic uint64_t cursor;        /* G's event-log cursor when it armed */
    _Atomic uint64_t reply_pos;     /* G's reply-ring read position when it armed */
};

/* News for G: an event past its cursor or a reply at its read position. */
static int gw_waker_news(const struct gw_waker *w, uint64_t cursor, uint64_t reply_pos)
{
    return ring_bcast_published_since(w->log, cursor) || ring_spsc_ready_at(w->reply, reply_pos);
}

static void gw_waker_futex(_Atomic uint32_t *word, int op, uint32_t val)
{
    syscall(SYS_futex, (uint32_t *)word, op, val, NULL, NULL, 0);
}

static void gw_waker_park(struct gw_waker *w)
{
    /* seq_cst with the fence below; pairs with the seq_cst load of parked in gw_waker_arm(). */
    atomic_store_explicit(&w->parked, 1, memory_order_seq_cst);
    /* Full fence: the parked store before the kernel's read of state; pairs with the seq_cst
     * store of ARMED and load of parked in gw_waker_arm(): either the kernel sees ARMED (the
     * wait returns at once) or G sees parked and wakes us. */
    atomic_thread_fence(memory_order_seq_cst);
    gw_waker_futex(&w->state, FUTEX_WAIT_PRIVATE, GW_WAKER_IDLE);
    atomic_store_explicit(&w->parked, 0, memory_order_relaxed);
}

static void *gw_waker_main(void *arg)
{
    struct gw_waker *w = arg;
    for (;;) {
        /* acquire: pairs with the seq_cst (so also release) store of ARMED in gw_waker_arm():
         * the cursor G stored before arming is visible below. */
        uint32_t s = atomic_load_explicit(&w->state, memory_order_acquire);
        if (s == GW_WAKER_STOP)
            return NULL;
        if (s == GW_WAKER_IDLE) {
            gw_waker_park(w);
            continue;
        }
        uint32_t ticket = ring_bcast_bell_ticket(w->log);   /* acquire, see ring_wait.c */
        /* relaxed: ordered after the acquire load of state above (G stores both before ARMED) */
        uint64_t cursor = atomic_load_explicit(&w->cursor, memory_order_relaxed);
        uint64_t reply_pos = atomic_load_explicit(&w->reply_pos, memory_order_relaxed);
        if (!gw_waker_news(w, cursor, reply_pos)) {
            ring_bcast_bell_wait(w->log, ticket, GW_WAKER_BELL_SLEEP_NS);
            continue;               /* rung, timed out or disarmed: look at the state again */
        }
        uint32_t armed = GW_WAKER_ARMED;
        if (atomic_compare_exchange_strong_explicit(&w->state, &armed, GW_WAKER_IDLE,
                                                    memory_order_relaxed, memory_order_relaxed)) {
            uint64_t one = 1;
            ssize_t rc = write(w->efd, &one, sizeof one);
            (void)rc;               /* EAGAIN only at a counter near 2^64: still readable */
        }
    }
}

int gw_waker_start(gw_waker_t **out, struct ring_bcast_rx *events, const ring_spsc_t *reply)
{
    struct gw_waker *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->log = events->ctl;
    w->reply = reply;
    atomic_init(&w->state, GW_WAKER_IDLE);
    atomic_init(&w->parked, 0);
    atomic_init(&w->cursor, 0);
    atomic_init(&w->reply_pos, 0);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->efd < 0) {
        int rc = -errno;
        free(w);
        return rc;
    }
    int rc = pthread_create(&w->thread, NULL, gw_waker_main, w);
    if (rc != 0) {
        close(w->efd);
        free(w);
        return -rc;
    }
    pthread_setname_np(w->thread, "gw-waker");
    *out = w;
    return 0;
}

int gw_waker_fd(const gw_waker_t *w) { return w->efd; }

int gw_waker_arm(gw_waker_t *w, uint64_t cursor, uint64_t reply_pos)
{
    if (ring_bcast_announce_sleep(w->log, cursor))
        return 0;                   /* published since our last poll: do not block */
    /* The reply's half of the re-check, after the announcement's full fence (B1) in
     * ring_bcast_announce_sleep: pairs with the engine's fence in runner_wake (B4). */
    if (ring_spsc_ready_at(w->reply, reply_pos)) {
        ring_bcast_withdraw_sleep(w->log);
        return 0;
    }
    w->announced = 1;
    atomic_store_explicit(&w->cursor, cursor, memory_order_relaxed);
    atomic_store_explicit(&w->reply_pos, reply_pos, memory_order_relaxed);
    /* seq_cst store: release for the cursor above (pairs with W's acquire load of state), and
     * ordered before the load of parked (pairs with the fence in gw_waker_park()). */
    atomic_store_explicit(&w->state, GW_WAKER_ARMED, memory_order_seq_cst);
    if (atomic_load_explicit(&w->parked, memory_order_seq_cst))
        gw_waker_futex(&w->state, FUTEX_WAKE_PRIVATE, 1);
    return 1;
}

void gw_waker_disarm(gw_waker_t *w)
{
    atomic_store_explicit(&w->state, GW_WAKER_IDLE, memory_order_relaxed);
    if (w->announced) {
        ring_bcast_withdraw_sleep(w->log);
        w->announced = 0;
    }
}

void gw_waker_consume(gw_waker_t *w)
{
    uint64_t n;
    ssize_t rc = read(w->efd, &n, sizeof n);    /* resets the counter; EAGAIN: already 0 */
    (void)rc;
}

void gw_waker_stop(gw_waker_t *w)
{
    if (!w)
        return;
    gw_waker_disarm(w);
    /* seq_cst: pairs with the full fence in gw_waker_park(): either W's futex wait sees STOP and
     * returns at once, or W is parked and the wake below reaches it. */
    atomic_store_explicit(&w->state, GW_WAKER_STOP, memory_order_seq_cst);
    gw_waker_futex(&w->state, FUTEX_WAKE_PRIVATE, 1);
    pthread_join(w->thread, NULL);  /* W's bell wait is bounded: GW_WAKER_BELL_SLEEP_NS */
    close(w->efd);
    free(w);
}
