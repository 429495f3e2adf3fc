/*
 * ring_wait.c - futex doorbells in shared memory and the spin / backoff wait strategies.
 * The futex word lives in a MAP_SHARED file mapping, so the non-private FUTEX_WAIT/FUTEX_WAKE
 * are used (futex(2): private futexes only work within one process).
 */
#define _GNU_SOURCE
#include "ring_wait.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring_atomic.h"

int ring_wait_init(ring_wait_t *w, uint32_t mode, uint32_t spin_limit, uint32_t yield_limit,
                   uint64_t sleep_ns)
{
    if (!w || (mode != RING_WAIT_SPIN && mode != RING_WAIT_BACKOFF) ||
        (mode == RING_WAIT_BACKOFF && sleep_ns == 0))
        return RING_INVALID;
    w->mode = mode;
    w->spin_limit = spin_limit;
    w->yield_limit = yield_limit;
    w->idle = 0;
    w->sleep_ns = sleep_ns;
    w->sleeps = 0;
    w->yields = 0;
    return 0;
}

void ring_fence_seq_cst(void)
{
    /* The waker's full fence for a batch of bells; pairs with the waiter's full fence in
     * ring_doorbell_sleep() (see ring_doorbell_notify). */
    atomic_thread_fence(RING_SEQ_CST);
}

void ring_doorbell_wake_if_sleeping(ring_doorbell_t *db)
{
    if (atomic_load_explicit(ring_a32(&db->sleepers), RING_RELAXED) == 0)
        return;
    /* release: a woken waiter that sees the new seq also sees what we published before; pairs
     * with the acquire load of the ticket in ring_doorbell_sleep(). */
    atomic_fetch_add_explicit(ring_a32(&db->seq), 1, RING_RELEASE);
    atomic_fetch_add_explicit(ring_a64(&db->wakes), 1, RING_RELAXED);
    syscall(SYS_futex, &db->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void ring_doorbell_notify(ring_doorbell_t *db)
{
    /* Waker's full fence: orders our earlier release store (the record's length) before the
     * load of sleepers in ring_doorbell_wake_if_sleeping. Pairs with the waiter's full fence in
     * ring_doorbell_sleep(): either the waiter's re-check sees our record, or we see its
     * sleepers increment and wake it. */
    atomic_thread_fence(RING_SEQ_CST);
    ring_doorbell_wake_if_sleeping(db);
}

/* One guarded sleep: announce, fence, re-check, sleep. Returns 1 if the re-check found work. */
int ring_doorbell_sleep(ring_doorbell_t *db, uint64_t sleep_ns,
                                    int (*has_work)(void *), void *ctx)
{
    /* acquire: pairs with the release increment of seq in ring_doorbell_wake_if_sleeping().
     * The ticket is read before we announce ourselves, so a wake issued after our announcement
     * changes seq away from the ticket and FUTEX_WAIT returns at once. */
    uint32_t ticket = atomic_load_explicit(ring_a32(&db->seq), RING_ACQUIRE);
    /* seq_cst RMW, then the fence below: pairs with the waker's full fence in
     * ring_doorbell_notify() / ring_fence_seq_cst(). */
    atomic_fetch_add_explicit(ring_a32(&db->sleepers), 1, RING_SEQ_CST);
    /* Waiter's full fence: orders the sleepers increment before the re-check's loads; pairs with
     * the waker's full fence in ring_doorbell_notify(). */
    atomic_thread_fence(RING_SEQ_CST);
    int work = has_work(ctx);
    if (!work) {
        struct timespec ts = { .tv_sec = (time_t)(sleep_ns / 1000000000u),
                               .tv_nsec = (long)(sleep_ns % 1000000000u) };
        syscall(SYS_futex, &db->seq, FUTEX_WAIT, ticket, &ts, NULL, 0);
    }
    atomic_fetch_sub_explicit(ring_a32(&db->sleepers), 1, RING_RELAXED);
    return work;
}

static void ring_nap(uint64_t ns)
{
    struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
    nanosleep(&ts, NULL);
}

int ring_wait_idle(ring_wait_t *w, ring_doorbell_t *db, int (*has_work)(void *), void *ctx)
{
    if (w->mode == RING_WAIT_SPIN || w->idle < w->spin_limit) {
        if (w->idle < UINT32_MAX)
            w->idle++;
        ring_cpu_relax();
        return 0;
    }
    if (w->idle < w->spin_limit + w->yield_limit) {
        w->idle++;
        w->yields++;
        sched_yield();
        return 0;
    }
    w->sleeps++;
    if (!db) {
        ring_nap(w->sleep_ns);
        return 0;
    }
    return ring_doorbell_sleep(db, w->sleep_ns, has_work, ctx);
}

void ring_bcast_wake_readers_fenced(ring_bcast_tx_t *tx)
{
    /* B4 without its fence: the caller's ring_fence_seq_cst() after its last transmit pairs with
     * the reader's full fence in ring_doorbell_sleep() (B1). */
    ring_doorbell_wake_if_sleeping(&tx->ctl->reader_bell);
}

void ring_bcast_wake_readers(ring_bcast_tx_t *tx)
{
    /* B4: the full fence inside ring_doorbell_notify orders the W2 release store of tail before
     * the load of sleepers; pairs with the reader's full fence in ring_doorbell_sleep() (B1). */
    ring_doorbell_notify(&tx->ctl->reader_bell);
}

int ring_bcast_published_since(ring_bcast_ctl_t *ctl, uint64_t cursor)
{
    /* B2: relaxed is enough, the answer only decides whether to sleep: a reader that then
     * receives loads tail again with acquire (R1). Ordered after the sleepers increment by the
     * full fence in ring_doorbell_sleep(), which pairs with the writer's fence (B4). */
    return atomic_load_explicit(ring_a64(&ctl->tail), RING_RELAXED) != cursor;
}

int ring_bcast_announce_sleep(ring_bcast_ctl_t *ctl, uint64_t cursor)
{
    ring_doorbell_t *db = &ctl->reader_bell;
    /* B1 seq_cst RMW, then the waiter's full fence below: pairs with the writer's full fence
     * (B4) in ring_bcast_wake_readers() / runner_wake(). */
    atomic_fetch_add_explicit(ring_a32(&db->sleepers), 1, RING_SEQ_CST);
    /* Waiter's full fence: orders the announcement before the re-check's load of tail; pairs
     * with the writer's full fence (B4): either we see its record or it sees us and rings. */
    atomic_thread_fence(RING_SEQ_CST);
    if (!ring_bcast_published_since(ctl, cursor))
        return 0;
    ring_bcast_withdraw_sleep(ctl);
    return 1;
}

void ring_bcast_withdraw_sleep(ring_bcast_ctl_t *ctl)
{
    atomic_fetch_sub_explicit(ring_a32(&ctl->reader_bell.sleepers), 1, RING_RELAXED);
}

uint32_t ring_bcast_bell_ticket(ring_bcast_ctl_t *ctl)
{
    /* acquire: pairs with the writer's release increment of seq (B4), which follows its
     * publication: a ticket that includes a ring makes the rung record visible to the re-check
     * the caller makes next. */
    return atomic_load_explicit(ring_a32(&ctl->reader_bell.seq), RING_ACQUIRE);
}

void ring_bcast_bell_wait(ring_bcast_ctl_t *ctl, uint32_t ticket, uint64_t timeout_ns)
{
    struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000u),
                           .tv_nsec = (long)(timeout_ns % 1000000000u) };
    syscall(SYS_futex, &ctl->reader_bell.seq, FUTEX_WAIT, ticket, &ts, NULL, 0);
}

static int ring_bcast_news_cb(void *rx)
{
    ring_bcast_rx_t *r = (ring_bcast_rx_t *)rx;
    return ring_bcast_published_since(r->ctl, r->cursor);
}

int ring_bcast_wait(ring_bcast_rx_t *rx, uint64_t timeout_ns)
{
    if (ring_bcast_published_since(rx->ctl, rx->cursor))
        return 1;
    if (ring_doorbell_sleep(&rx->ctl->reader_bell, timeout_ns, ring_bcast_news_cb, rx))
        return 1;
    return ring_bcast_published_since(rx->ctl, rx->cursor);
}

static int ring_spsc_ready_cb(void *r) { return ring_spsc_ready((ring_spsc_t *)r); }

int32_t ring_wait_spsc_peek(ring_spsc_t *r, ring_wait_t *w, uint64_t timeout_ns, int32_t *type,
                            uint32_t *length)
{
    int64_t deadline = 0;
    uint32_t polls = 0;
    for (;;) {
        int32_t off = ring_spsc_peek(r, type, length);
        if (off != RING_EMPTY) {
            w->idle = 0;
            return off;
        }
        /* Read the clock every 64 spinning polls (it costs as much as a poll), every time once
         * yielding or sleeping (each of those may take long). */
        if ((polls++ & 63u) == 0 || (w->mode == RING_WAIT_BACKOFF && w->idle >= w->spin_limit)) {
            int64_t now = ring_now_ns();
            if (deadline == 0)
                deadline = now + (int64_t)timeout_ns;
            else if (now >= deadline)
                return RING_TIMEOUT;
        }
        ring_wait_idle(w, &r->ctl->consumer_bell, ring_spsc_ready_cb, r);
    }
}
