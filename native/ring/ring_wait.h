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

#include "ring_bcast.h"
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

/* Waiter side: one guarded sleep on db (announce, full fence, re-check has_work(ctx), futex
 * wait of at most sleep_ns). Returns 1 if the re-check found work (no sleep), else 0 (woken, timed
 * out or interrupted: the caller re-checks). */
int ring_doorbell_sleep(ring_doorbell_t *db, uint64_t sleep_ns, int (*has_work)(void *), void *ctx);

/* Broadcast log, writer side (B4 in venue_layout.h Section 4): after a batch of
 * ring_bcast_transmit calls, wakes the readers asleep on the log's reader bell. No system call
 * when none sleeps. ring_bcast_wake_readers_fenced is for a caller that issued
 * ring_fence_seq_cst() itself after its last transmit (one fence for several bells). */
void ring_bcast_wake_readers(ring_bcast_tx_t *tx);
void ring_bcast_wake_readers_fenced(ring_bcast_tx_t *tx);

/* Broadcast log, reader side (B1-B3): 1 if a record was published at or past `cursor` (a
 * reader's rx->cursor), else 0. */
int ring_bcast_published_since(ring_bcast_ctl_t *ctl, uint64_t cursor);

/* Split form of B1-B3 for a reader whose own thread cannot block on the futex (an epoll loop,
 * native/gateway/gw_waker.c). The reader's thread: ring_bcast_announce_sleep (B1's announcement and full
 * fence, then B2); 1: news already past cursor, nothing announced, do not block; 0: announced,
 * block, and call ring_bcast_withdraw_sleep once awake. Its waker thread, while the reader is
 * announced: ticket = ring_bcast_bell_ticket; if nothing new past the reader's cursor,
 * ring_bcast_bell_wait(ticket) (B3). The ticket is taken after the announcement and before the
 * waker's own re-check, so a ring after the re-check changes seq and the wait returns at once. */
int ring_bcast_announce_sleep(ring_bcast_ctl_t *ctl, uint64_t cursor);
void ring_bcast_withdraw_sleep(ring_bcast_ctl_t *ctl);
uint32_t ring_bcast_bell_ticket(ring_bcast_ctl_t *ctl);
/* futex wait while seq == ticket, at most timeout_ns (0: returns at once). */
void ring_bcast_bell_wait(ring_bcast_ctl_t *ctl, uint32_t ticket, uint64_t timeout_ns);

/* Reader: sleeps on the log's reader bell until something is published past rx->cursor, or
 * timeout_ns passes. Returns 1 (news: at once, or woken), 0 (timed out or a spurious wake-up
 * with nothing new: the caller polls anyway). Never consumes a record. */
int ring_bcast_wait(ring_bcast_rx_t *rx, uint64_t timeout_ns);

/* Consumer: waits for the next complete record of r, sleeping on r's own consumer bell in
 * BACKOFF mode. Returns its payload offset with *type / *length set (as ring_spsc_peek), or
 * RING_TIMEOUT after timeout_ns, or RING_SEG_CORRUPT. */
int32_t ring_wait_spsc_peek(ring_spsc_t *r, ring_wait_t *w, uint64_t timeout_ns, int32_t *type,
                            uint32_t *length);
/* CFFI-END */

#endif /* RING_WAIT_H */
