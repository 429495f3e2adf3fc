/*
 * rpl_loop.h - the replay's main loop in C (trading/replay/runtime.py, "the C loop"): history runs
 * through the engine in slices, with the strategy's commands from its arrival FIFO when they are
 * due, until the strategy must run, so Python is entered only at its wake-ups.
 *
 * It is the same loop as the runtime's reference loop in Python (Replay._run_reference), step for
 * step, for a constant feed latency (the router stamps deliveries itself):
 *   - the next wake-up: the first own event or (for a strategy woken by market data) the first
 *     market data due, or a timer's tick (an on-change timer's tick moves to the first one at or
 *     after the next delivery), never before busy_until (the strategy's computation time);
 *   - ties: history first, then the strategy's arriving commands, then wake-ups;
 *   - a history slice never runs past the earliest time a command the strategy has not made yet
 *     could arrive, and is cut where a history command could touch one of its orders (plus the
 *     feed and order latency), at most RPL_SLICE commands;
 *   - executions at or through the strategy's best own bid / ask become IOC orders of the contra
 *     account (FIDELITY.md rules 2 and 3), hidden prints not rewritten go to the market-data FIFO.
 * The strategy's own events wait on the loop's own FIFO (delivery times beside them) until Python
 * takes them at a wake-up. Market data delivered to the strategy is folded into a set of changed
 * levels (the last quantity per side and price; kept from the strategy's first read of its level
 * dicts on: levels_wanted) and the trades' last price and volume, so Python
 * applies a handful of net level changes per wake-up instead of every event; a row Python must see
 * on its own (a phase change, or a trade when the strategy has on_trade) stops the fold.
 * The level rows taken also update a C copy of the strategy's book view (rpl_view.h), so that a
 * wake-up due only to touch timers (RPL_TIMER_ON_TOUCH) at which the touch has not moved and
 * nothing of the strategy's own arrived runs no callback and never enters Python: the loop takes
 * its deliveries into the fold, moves those timers' ticks and goes on (Replay._wake's quiet
 * wake-up, which takes no P&L sample). An own event of a type in silent_types wakes nothing (it
 * waits on the own FIFO for the strategy's next wake-up); its delivery is still noted (by
 * rpl_loop_take_md, at the next wake-up or quiet one, or at a step of its own: the loop takes the
 * market data up to it): the view's touch kept beside it for the P&L sample of a fill, the timers
 * marked (but by a silent ACCEPTED), and the strategy's order table (`orders`) updated.
 *
 * Memory: the loop owns its FIFO, scratch and level-set buffers (malloc'd, grown by doubling);
 * the history arrays are the caller's and must outlive the loop (recs a writable copy the loop
 * stamps sequence numbers into, so a slice goes to the engine without a copy of its own).
 */
#ifndef RPL_LOOP_H
#define RPL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "eng_engine.h"
#include "rpl_ledger.h"
#include "rpl_orders.h"
#include "rpl_router.h"
#include "rpl_view.h"

/* CFFI-BEGIN */
#define RPL_INF 4611686018427387904
#define RPL_SLICE 4096

/* What rpl_loop_advance stopped for. */
enum {
    RPL_STOP_END = 0,       /* the day is over (history done, nothing on the way) */
    RPL_STOP_WAKE = 1,      /* the strategy wakes at wake_ns */
    RPL_STOP_NOTE = 2       /* a silent own event is delivered at wake_ns, and a row the caller must
                             * handle (a phase change) comes first: the caller takes the market data
                             * up to wake_ns (rpl_loop_take_md, its held rows) and calls advance again */
};

/* rpl_loop_advance's flags */
enum { RPL_STOPPED = 2 };

/* rpl_loop_take_md's result bits */
enum { RPL_MD_FOLDED = 1, RPL_MD_HELD = 2 };

/* A timer's kind (Context.set_timer): it ticks every interval, or skips the ticks at which nothing
 * was delivered since its last tick, or skips those at which no own event arrived and the
 * strategy's touch (best bid and ask prices of its book view) is the one it had at its last firing. */
enum { RPL_TIMER_EVERY = 0, RPL_TIMER_ON_CHANGE = 1, RPL_TIMER_ON_TOUCH = 2 };

/* History command kinds (trading/replay/history.py Cmd) the loop needs. */
enum { RPL_KIND_ADD = 1, RPL_KIND_EXECUTE = 4, RPL_KIND_HIDDEN = 5 };

typedef struct rpl_timer {
    int64_t next_ns;
    int64_t interval_ns;
    uint8_t on_change;        /* RPL_TIMER_EVERY / _ON_CHANGE / _ON_TOUCH */
    uint8_t changed;          /* it fires at its next tick: something was delivered since the last one
                               * (_ON_TOUCH: an own event, or the touch moved from fired_bid/ask) */
    uint8_t ignore_own_cancels; /* the confirmation of the strategy's own cancel (CANCELLED, reason
                               * ENG_CXL_USER, leaves 0) is no own event for this timer */
    uint8_t _pad[5];
    int64_t fired_bid, fired_ask; /* _ON_TOUCH: the touch when it last fired (-RPL_INF / RPL_INF: none) */
} rpl_timer_t;

/* The strategy's view at an own event's delivery (noted by rpl_loop_take_md): its touch then
 * (-RPL_INF / RPL_INF: an empty side), from which a fill's P&L sample takes its mark. */
typedef struct rpl_own_mark {
    int64_t deliver_ns;
    int64_t bid, ask;
} rpl_own_mark_t;

/* What an own event marks when it is noted: a timer without ignore_own_cancels (any event but a
 * silent ACCEPTED), and one with it (neither a silent ACCEPTED nor the confirmation of the
 * strategy's own cancel). */
enum { RPL_OWN_MARKS = 1, RPL_OWN_MARKS_ALL = 2 };

/* One net level change of the strategy's book view. */
typedef struct rpl_level {
    int64_t price;
    int64_t qty;              /* the level's displayed total now (0: gone) */
    uint8_t side;
    uint8_t _pad[7];
} rpl_level_t;

/* What rpl_loop_advance returned and left, in one block the caller reads in one go (each field as
 * int64_t): the stop (RPL_STOP_* or a negative error), wake_ns, now, i and the hand-over's took_own,
 * took_md, settled and fired (as the rpl_loop_t fields of those names; the hand-over's are
 * meaningful after RPL_STOP_WAKE only), and the router's rej_len (rejects waiting to be counted). */
typedef struct rpl_report {
    int64_t stop, wake_ns, now, i;
    int64_t took_own, took_md, settled, fired;
    int64_t rejects;
} rpl_report_t;

typedef struct rpl_loop {
    /* history (the caller's arrays, n commands; recs writable) */
    eng_cmd_t *recs;          /* the loop's own copy: sequence numbers are stamped into it */
    const int64_t *ts, *price, *qty;
    const uint8_t *side, *kind;
    const int64_t *bid_exec, *ask_exec, *bid_hit, *ask_hit;
    size_t n;
    size_t i;                 /* the next history command */
    int64_t now;              /* newest time the engine has seen from the replay */
    /* the strategy's side, set by rpl_loop_advance (its arguments; own_bid, own_ask and has_orders
     * from `orders`) */
    int64_t t_arrival;        /* first of its commands still on the way (the arrival FIFO's head), RPL_INF: none */
    int64_t own_bid, own_ask; /* its highest bid / lowest ask live or on the way (-RPL_INF / RPL_INF) */
    int64_t busy_until;       /* it cannot be woken before (its computation time) */
    uint8_t has_orders;       /* it has orders live or on the way */
    uint8_t stopped;          /* it raised: no wake-ups but own events, no rewriting */
    uint8_t md_callbacks;     /* market data itself wakes it (on_book / on_trade / on_phase) */
    uint8_t md_wakes;         /* market data can wake it (md_callbacks or an on-change timer at start) */
    uint8_t hidden_executions;/* hidden prints may fill its orders */
    uint8_t _pad0[3];
    /* constants */
    int64_t lo_min, lf_min;   /* minimum order and feed latency */
    int64_t tick;
    uint32_t instrument, contra_account, hist_stp_group;
    uint32_t _pad1;
    uint64_t aggressor_base, next_aggressor;
    /* counters Python reports */
    uint64_t aggressors_visible, aggressors_hidden;
    uint8_t aggressors_built; /* any aggressor was built (the counters' keys exist) */
    uint8_t _pad2[7];
    /* outputs of rpl_loop_advance */
    int64_t wake_ns;          /* RPL_STOP_WAKE */
    /* timers */
    rpl_timer_t *timers;
    size_t n_timers, timers_cap;
    size_t touch_timers;      /* how many are RPL_TIMER_ON_TOUCH (the loop skips their quiet ticks itself) */
    size_t quiet_skipped;     /* wake-ups the loop found quiet and did not hand to Python */
    uint8_t silent_types;     /* bit 1 << type: an own event of that type (ENG_EVT_ACCEPTED ..
                               * ENG_EVT_EXPIRED) wakes nothing, it waits for the next wake-up (the
                               * runtime sets it: Replay._set_silent_events) */
    uint8_t waking_types;     /* the silent_types own_waking counts by (rpl_loop_advance recounts
                               * when the runtime has changed silent_types) */
    uint8_t _pad4[6];
    size_t own_waking;        /* own events waiting on the FIFO of a type not in waking_types: with
                               * none, the loop's scans for the first one that wakes are skipped */
    rpl_view_t view;          /* the strategy's book view as delivered (every level row taken) */
    rpl_orders_t orders;      /* the strategy's orders as its context knows them (rpl_orders.h): its
                               * NEWs added by rpl_loop_push_arrivals, its events by rpl_loop_take_own;
                               * the caller sets orders.account_id */
    /* the strategy's commands on their way to the engine: [arr_head, arr_tail), each stamped
     * (hdr.ts_ns) with its arrival time, non-decreasing (rpl_loop_push_arrivals) */
    eng_cmd_t *arr;
    size_t arr_head, arr_tail, arr_cap;
    /* the strategy's own events: [own_head, own_tail); [own_head, own_noted) have their
     * delivery noted (own_mark: the view's touch then; the timers marked), [own_head, own_applied)
     * are applied to `orders` (a silent one when it is noted, with every one before it applied;
     * any other when it is taken), so own_head <= own_applied <= own_noted <= own_tail */
    eng_evt_t *own;
    int64_t *own_deliver;
    rpl_own_mark_t *own_mark;
    size_t own_head, own_tail, own_cap, own_noted, own_applied;
    size_t own_booked;        /* [own_head, own_booked) are silent events `booked` booked at their
                               * delivery (a prefix of the applied ones: own_booked <= own_applied);
                               * rpl_loop_take_own takes them off without handing them out */
    size_t note_stop;         /* noting stops before this event (set by a step noting silent events
                               * only, kept through RPL_STOP_NOTE until the next rpl_loop_advance) */
    int64_t noted_md_ns;      /* the first such step since the timers were last marked (RPL_INF: none):
                               * its market data may have moved the touch, so an unmarked timer's
                               * tick never moves past it (Replay._noted_md_at) */
    /* net level changes since the last rpl_loop_levels_clear, and the trades folded */
    rpl_level_t *levels;
    size_t n_levels, levels_cap;
    uint64_t *slot;           /* open addressing: epoch << 32 | (index into levels + 1); stale epoch: empty */
    size_t slot_cap;          /* a power of two, at least twice n_levels */
    uint64_t epoch;
    uint8_t md_changed;       /* a book level or a trade was taken since the caller cleared it */
    uint8_t trade_seen;       /* a trade was folded since rpl_loop_levels_clear */
    uint8_t levels_wanted;    /* the caller's: keep the level set (0 until the strategy first reads its
                               * level dicts, which are then built from the view; a strategy that reads
                               * only the touch costs no level set per row) */
    uint8_t _pad3[5];
    int64_t trade_last_price, trade_volume;
    int64_t touch_bid, touch_ask; /* the view's best bid / ask after the last rpl_loop_take_md (-RPL_INF /
                               * RPL_INF: none): Python reads the touch as two fields, not two calls */
    rpl_md_t held;            /* the row rpl_loop_take_md stopped at */
    /* the wake-up's hand-over, done by rpl_loop_advance itself when it stops with RPL_STOP_WAKE and
     * take_out is set (the caller's buffer of take_max events): took_md is
     * rpl_loop_take_md(wake_ns, stop_on_trade)'s result, took_own how many own events
     * rpl_loop_take_own(wake_ns) moved into take_out (take_max: there may be more; 0 when a row
     * is held: the caller takes them after the held rows), their marks into take_marks */
    eng_evt_t *take_out;
    rpl_own_mark_t *take_marks;
    size_t take_max, took_own;
    int32_t took_md;
    uint8_t stop_on_trade;
    uint8_t settle_at_wake;   /* the caller's: nothing of the strategy runs between marking and firing
                               * the timers at a wake-up (no on_book), so the hand-over settles them */
    uint8_t settled;          /* the hand-over settled the timers (rpl_loop_settle_timers): `fired` of
                               * them fire; 0: they wait for the caller (a row held, more own events
                               * than take_max, or settle_at_wake / the strategy stopped) */
    uint8_t _pad5[1];
    size_t fired;
    rpl_report_t report;      /* written by every rpl_loop_advance */
    rpl_booked_t booked;      /* silent own events booked in C when noted (rpl_ledger.h; the caller
                               * sets booked.on, the rates and the price scale) */
    /* scratch: one history slice with its rewritten executions */
    eng_cmd_t *chunk;
    size_t chunk_cap;
    size_t *touch;
    size_t touch_cap;
    /* the last slice's scan for commands that can touch an own order (cut_before_own_orders):
     * none in [hit_from, hit_first); SIZE_MAX: no scan to use (rpl_loop_hist_chunk's own scan) */
    size_t hit_from, hit_first;
} rpl_loop_t;

/* Sets up an empty loop: every field zero but own_bid -RPL_INF, own_ask and t_arrival RPL_INF (and
 * the other "none" markers: the touch, note_stop, hit_from, noted_md_ns), and its buffers allocated; the caller then sets the history fields (recs .. ask_hit, n) and the
 * constants. 0 or -ENOMEM (nothing to free then). rpl_loop_free releases the loop's buffers; the
 * struct and the history arrays are the caller's. */
int rpl_loop_init(rpl_loop_t *l);
void rpl_loop_free(rpl_loop_t *l);

/* Appends a timer (first tick at next_ns; on_change an RPL_TIMER_* kind; ignore_own_cancels as
 * rpl_timer_t's). 0 or -ENOMEM. */
int rpl_loop_add_timer(rpl_loop_t *l, int64_t next_ns, int64_t interval_ns, uint8_t on_change,
                       uint8_t ignore_own_cancels);

/* Runs the commands through the router and the engine (rpl_submit) and moves the strategy's events
 * onto the own FIFO. own: 1 for the strategy's batch, 0 for history. The number of engine events,
 * or a negative rpl_submit / -ENOMEM error. */
long rpl_loop_submit(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, const eng_cmd_t *cmds, size_t n, int own);

/* History commands [a, b) through the engine with the executions that can touch the strategy's
 * orders rewritten, hidden prints queued; i = b. 0, or a negative rpl_loop_submit error. */
long rpl_loop_hist_chunk(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, size_t a, size_t b);

/* Appends n of the strategy's commands to the arrival FIFO, each stamped (hdr.ts_ns) with the time
 * it reaches the engine, not before the FIFO's last; each NEW_ORDER joins `orders`. rpl_loop_advance runs them through the engine
 * when due (history first at equal times), as one batch per run of arrivals between two history
 * commands. 0 or -ENOMEM (nothing appended then). */
int rpl_loop_push_arrivals(rpl_loop_t *l, const eng_cmd_t *cmds, size_t n);

/* Takes the strategy's side as it stands now (now, busy_until; flags: RPL_STOPPED; its best own bid
 * and ask and whether it has orders from `orders`), then runs history and the strategy's arriving commands (the arrival FIFO) until the
 * strategy must run (quiet wake-ups skipped, counted in quiet_skipped): RPL_STOP_WAKE (wake_ns)
 * or RPL_STOP_END; a negative error as rpl_loop_hist_chunk (or -ENOMEM from the hand-over). With
 * take_out set, a RPL_STOP_WAKE has already taken the wake-up's market data and own events
 * (took_md, took_own), and with settle_at_wake settled its timers too when it could (settled,
 * fired): one C call per wake-up instead of four. Every return leaves the report (rpl_report_t). */
long rpl_loop_advance(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, int64_t now, int64_t busy_until, int flags);

/* Takes market data delivered at or before t off the router's FIFO: book levels into the level
 * set (with levels_wanted) and the view, trades folded (unless stop_on_trade), md_changed set for both (held trades
 * too); each own event delivered by then is noted as the rows reach its delivery time (own_mark:
 * the view's touch with every row delivered at or before it taken; the timers it marks marked;
 * a silent one applied to `orders`). Returns RPL_MD_FOLDED when the level set or the trade fold holds something (taken now, or
 * earlier by a quiet wake-up the loop skipped), | RPL_MD_HELD when it stopped at a row
 * Python must handle itself (a phase change; a trade with stop_on_trade), copied to held; 0 when
 * nothing was due and the fold is empty; -ENOMEM when the level set could not grow. touch_bid and
 * touch_ask are the view's touch on return (also after -ENOMEM). */
int rpl_loop_take_md(rpl_loop_t *l, rpl_router_t *r, int64_t t, int stop_on_trade);

/* After a wake-up's deliveries were taken: marks the on-change timers they changed (an
 * RPL_TIMER_ON_CHANGE one when a level or a trade arrived (md_changed); an RPL_TIMER_ON_TOUCH one
 * when the view's touch is not the one of its last firing) and clears md_changed and noted_md_ns.
 * (An own event marks them when it is noted: RPL_OWN_*.) */
void rpl_loop_mark_timers(rpl_loop_t *l);

/* The timers due at t (next_ns <= t) in order: an on-change one left unmarked moves one interval on;
 * each other fires: its touch noted, its mark cleared, its next tick the first after t. Returns how
 * many fire (the caller then calls on_timer that many times). */
size_t rpl_loop_fire_timers(rpl_loop_t *l, int64_t t);

/* rpl_loop_mark_timers(l) then rpl_loop_fire_timers(l, t), in one call: the wake-up of a strategy
 * with no on_book (nothing runs between the two). Returns how many timers fire. */
size_t rpl_loop_settle_timers(rpl_loop_t *l, int64_t t);

/* Forgets the level set and the folded trades (after the caller applied them). */
void rpl_loop_levels_clear(rpl_loop_t *l);

/* Moves up to max own events delivered at or before t off the FIFO into out, in order, each
 * applied to `orders` (the caller applies them to the strategy's context), and their marks into
 * marks (NULL: not wanted; an event not noted yet is noted as it is taken). Events booked in C
 * (own_booked) leave the FIFO without being handed out (the caller takes them from `booked`);
 * handing one out that was not booked clears booked.on (the caller books it, then turns booking
 * on again with its ledger). Returns how many were handed out. */
size_t rpl_loop_take_own(rpl_loop_t *l, int64_t t, eng_evt_t *out, rpl_own_mark_t *marks, size_t max);
/* CFFI-END */

#endif
