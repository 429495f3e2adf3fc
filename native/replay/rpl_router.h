/*
 * rpl_router.h - the replay's engine calls and event routing (trading/replay/runtime.py), in C so
 * that a replay step costs one call instead of a dozen array operations per handful of events.
 *
 * A router belongs to one replay and one engine. rpl_submit stamps sequence numbers on a batch of
 * commands, runs it through the engine (eng_submit) and sorts the events out:
 *   - book levels, trades and phase changes (when want_md) go on the market-data FIFO with their delivery time
 *     (engine time + the constant feed latency when feed_const_ns >= 0; else the caller stamps
 *     them through rpl_md_pending, in push order);
 *   - events about the strategy's orders (own = 1: every order event of its own batch; own = 0: a
 *     trade, cancel or expiry booked to account_id) are copied to the own buffer, delivered after
 *     that batch's market data (one feed: FIFO, never reordered);
 *   - refusals of history commands (own = 0) are listed as (command type, reason) pairs.
 * Invariant: delivery times never decrease in the order events are handed over (last_delivery).
 * Memory: the router owns its buffers (malloc'd, grown by doubling); the replay is not the venue's
 * order path, but the engine call inside is, unchanged.
 */
#ifndef RPL_ROUTER_H
#define RPL_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "eng_engine.h"

/* CFFI-BEGIN */
typedef struct rpl_md {
    int64_t deliver_ns;       /* when the strategy sees it */
    int64_t ts_ns;            /* engine time of the event */
    int64_t price;
    int64_t qty;
    uint8_t kind;             /* 0 book level (qty: the level's displayed total), 1 trade, 2 hidden print,
                                 3 phase change (price: the new eng_phase_t, qty: the previous one) */
    uint8_t side;             /* book level: its side; trade: the aggressor's side; phase: 0 */
    uint8_t _pad[2];
    uint32_t instrument;      /* the event's instrument (a hidden print: the one its caller names), so
                                 a replay of several instruments through one engine can tell them apart */
} rpl_md_t;

typedef struct rpl_reject {
    uint16_t cmd_type;
    uint16_t reason;
} rpl_reject_t;

typedef struct rpl_router {
    /* set by the caller */
    uint32_t account_id;      /* the strategy's account */
    uint8_t want_md;          /* 1: queue market data for the strategy */
    uint8_t _pad0[3];
    int64_t feed_const_ns;    /* >= 0: constant feed latency; < 0: the caller stamps deliveries */
    int64_t last_delivery;    /* newest delivery time handed out (FIFO floor) */
    uint64_t seq;             /* the last sequence number stamped */
    uint64_t events;          /* engine events seen, all calls */
    /* market-data FIFO: entries [md_head, md_tail) of md (capacity md_cap) */
    rpl_md_t *md;
    size_t md_head, md_tail, md_cap;
    size_t md_unstamped;      /* entries at the tail whose delivery the caller has not stamped yet */
    /* the strategy's events of the last rpl_submit, delivery times beside them */
    eng_evt_t *own;
    int64_t *own_deliver;
    size_t own_len, own_cap;
    /* refused history commands since the caller last emptied the list (rej_len = 0) */
    rpl_reject_t *rej;
    size_t rej_len, rej_cap;
    /* scratch: the batch with its sequence numbers */
    eng_cmd_t *scratch;
    size_t scratch_cap;
} rpl_router_t;

/* Sets up an empty router (fields zero, buffers allocated). 0 or -ENOMEM (nothing to free then).
 * rpl_router_free releases the buffers; the struct itself is the caller's. */
int rpl_router_init(rpl_router_t *r, uint32_t account_id, uint8_t want_md, int64_t feed_const_ns);
void rpl_router_free(rpl_router_t *r);

/* Runs n commands through the engine with seq r->seq+1.. and routes their events as above; own: 1
 * for the strategy's batch, 0 for history. Returns the number of events, -ENOMEM (a buffer could
 * not grow) or an eng_submit error (commands after the failing one were not run). */
long rpl_submit(rpl_router_t *r, eng_engine_t *e, const eng_cmd_t *cmds, size_t n, int own);

/* rpl_submit on the caller's own writable copy of the commands: the sequence numbers are stamped
 * into cmds itself (no scratch copy); the same result and errors. */
long rpl_submit_stamped(rpl_router_t *r, eng_engine_t *e, eng_cmd_t *cmds, size_t n, int own);

/* Queues hidden prints (kind 2) for the strategy, engine time ts, as rpl_submit queues market
 * data. 0 or -ENOMEM. */
int rpl_md_push_print(rpl_router_t *r, uint32_t instrument, int64_t ts_ns, uint8_t side, int64_t price, int64_t qty);

/* The entries pushed but not stamped (feed_const_ns < 0): *first is set to the first of them;
 * returns how many (contiguous in md). The caller writes their deliver_ns in order and sets
 * r->md_unstamped = 0 and r->last_delivery. */
size_t rpl_md_pending(rpl_router_t *r, rpl_md_t **first);

/* Moves up to max entries delivered at or before t off the FIFO into out, in order. Returns the
 * number moved. */
size_t rpl_md_take(rpl_router_t *r, int64_t t, rpl_md_t *out, size_t max);

/* Index of the first k in [a, b) with bid_hit[k] <= bid or ask_hit[k] >= ask (a command that can
 * trade with an order of the strategy resting at bid / ask), or b. */
size_t rpl_first_touch(const int64_t *bid_hit, const int64_t *ask_hit, size_t a, size_t b, int64_t bid, int64_t ask);
/* CFFI-END */

#endif
