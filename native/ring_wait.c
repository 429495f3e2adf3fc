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
     * ring_doorbell_sleep_once() (see ring_doorbell_notify). */
    atomic_thread_fence(RING_SEQ_CST);
}

void ring_doorbell_wake_if_sleeping(ring_doorbell_t *db)
{
    if (atomic_load_explicit(ring_a32(&db->sleepers), RING_RELAXED) == 0)
        return;
    /* release: a woken waiter that sees the new seq also sees what we published before; pairs
     * with the acquire load of the ticket in ring_doorbell_sleep_once(). */
    atomic_fetch_add_explicit(ring_a32(&db->seq), 1, RING_RELEASE);
    atomic_fetch_add_explicit(ring_a64(&db->wakes), 1, RING_RELAXED);
    syscall(SYS_futex, &db->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void ring_doorbell_notify(ring_doorbell_t *db)
{
    /* Waker's full fence: orders our earlier release store (the record's length) before the
     * load of sleepers in ring_doorbell_wake_if_sleeping. Pairs with the waiter's full fence in
     * ring_doorbell_sleep_once(): either the waiter's re-check sees our record, or we see its
     * sleepers increment and wake it. */
    atomic_thread_fence(RING_SEQ_CST);
    ring_doorbell_wake_if_sleeping(db);
}

/* One guarded sleep: announce, fence, re-check, sleep. Returns 1 if the re-check found work. */
static int ring_doorbell_sleep_once(ring_doorbell_t *db, uint64_t sleep_ns,
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
    return ring_doorbell_sleep_once(db, w->sleep_ns, has_work, ctx);
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
