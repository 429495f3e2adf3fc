/*
 * ring_wait.h - doorbells and wait strategies: how a consumer with nothing to do waits.
 *
 * SPIN polls forever (an isolated core). BACKOFF polls spin_limit times, then calls sched_yield
 * yield_limit times, then sleeps on a futex doorbell in shared memory for at most sleep_ns, so a
 * laptop or a 2-core machine stays usable. The lost-wake-up argument (two full fences that pair)
 * is in venue_layout.h Section 4; the code below marks each half.
 */
#ifndef RING_WAIT_H
#define RING_WAIT_H

#include <stdint.h>

#include "ring_spsc.h"

/* CFFI-BEGIN */
typedef struct ring_wait {
    uint32_t mode;                  /* ring_wait_mode_t */
    uint32_t spin_limit;            /* idle polls before yielding (BACKOFF) */
    uint32_t yield_limit;           /* sched_yield calls before sleeping (BACKOFF) */
    uint32_t idle;                  /* idle polls since work was last found */
    uint64_t sleep_ns;              /* longest single futex sleep */
    uint64_t sleeps;
    uint64_t yields;
} ring_wait_t;

/* Fills a strategy. 0, or RING_INVALID (unknown mode, or BACKOFF with sleep_ns 0). */
int ring_wait_init(ring_wait_t *w, uint32_t mode, uint32_t spin_limit, uint32_t yield_limit,
                   uint64_t sleep_ns);

/* Waker side, after publishing with a release store: full fence, then wake if anyone sleeps. */
void ring_doorbell_notify(ring_doorbell_t *db);

/* Waker side for a caller that has issued the full fence itself (one fence for many bells). */
void ring_doorbell_wake_if_sleeping(ring_doorbell_t *db);

/* Full fence for ring_doorbell_wake_if_sleeping callers. */
void ring_fence_seq_cst(void);

/* Waiter side: one idle step. Returns 1 if has_work(ctx) said there is work (only checked before
 * sleeping), else 0. The caller resets w->idle to 0 whenever it finds work. db may be NULL in
 * SPIN mode (or for a caller without a doorbell: it then sleeps by nanosleep). */
int ring_wait_idle(ring_wait_t *w, ring_doorbell_t *db, int (*has_work)(void *), void *ctx);

/* Consumer: waits for the next complete record of r, sleeping on r's own consumer bell in
 * BACKOFF mode. Returns its payload offset with *type / *length set (as ring_spsc_peek), or
 * RING_TIMEOUT after timeout_ns, or RING_SEG_CORRUPT. */
int32_t ring_wait_spsc_peek(ring_spsc_t *r, ring_wait_t *w, uint64_t timeout_ns, int32_t *type,
                            uint32_t *length);
/* CFFI-END */

#endif /* RING_WAIT_H */
