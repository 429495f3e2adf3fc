/*
 * rpl_ledger.h - a replayed strategy's silent own events booked in C at their delivery
 * (trading/replay/FIDELITY.md rule 8): for a strategy whose fills no callback hears, the C loop
 * (rpl_loop.h) books each silent own event itself when it notes it, instead of Python's context
 * taking it at the next wake-up (Context.apply_record, Ledger.fill, the P&L sample of the fill).
 * Python then takes what was booked in one hand-over (trading/replay/runtime.py
 * Replay._take_booked): the order changes to apply to its OwnOrder objects, the fills, their P&L
 * samples, and the ledger's fields.
 *
 * Exactness: rpl_ledger_fill performs trading/strategy/ledger.py Ledger.fill's float operations
 * in its order, on doubles, with each int -> double conversion where Python converts (an int
 * operand of a float operation, an int / int true division of values below 2^53, which Python
 * also computes as the division of the two exact doubles); this file is built with
 * -ffp-contract=off (native/build_ffi.py), so no multiply-add is fused. A fill whose integer
 * products reach 2^53 (where Python's exact integers and a double would part) is not booked here:
 * booking stops (on = 0) and Python books it and every later one.
 *
 * Memory: the change array is the caller's, of a fixed capacity: an event that finds it full is
 * not booked (booking stops until Python took the changes and turned it on again) and Python
 * books it. The fills and samples of the whole run are kept here (malloc'd, grown by doubling;
 * an event they cannot grow for is not booked either), read by Python once at the run's end;
 * rpl_booked_free releases them.
 */
#ifndef RPL_LEDGER_H
#define RPL_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "eng_engine.h"
#include "rpl_orders.h"

/* CFFI-BEGIN */
/* Ledger's fields, in its order (trading/strategy/ledger.py). */
typedef struct rpl_ledger {
    int64_t position;
    double avg_price, realized, fees, cash;
    int64_t volume, maker_volume;
} rpl_ledger_t;

/* One fill of a strategy order (trading/strategy/api.py Fill, without the instrument). */
typedef struct rpl_fill_rec {
    int64_t ts_ns;            /* the TRADE's engine time */
    uint64_t order_id;
    int64_t side, price, qty, leaves, maker;
    double fee;
} rpl_fill_rec_t;

/* The P&L sample of one fill (trading/replay/runtime.py Sample): at the fill's delivery, marked at
 * the mid of the strategy's view then (has_mid 0: None), own_bid / own_ask from the strategy's
 * orders after the fill (-RPL_INF / RPL_INF: None). */
typedef struct rpl_sample_rec {
    int64_t ts_ns, position;
    double realized, unrealized, fees, total, mid;
    int64_t has_mid, own_bid, own_ask;
} rpl_sample_rec_t;

/* One change to the strategy's OwnOrder objects, in engine order. A state change (kind
 * RPL_CHANGE_STATE | its bits): a = its leaves (with RPL_CHANGE_LEAVES), b = the quantity it
 * filled, RPL_CHANGE_LIVE its status live, RPL_CHANGE_REMOVED done and gone from Context.orders
 * (its leaves 0); an order's state changes between two hand-overs are merged into its one entry
 * when no REPLACED or REJECTED stands between (they commute with other orders' changes: each
 * touches its own order). Else kind is the event type: ENG_EVT_REPLACED (a = price, b = leaves),
 * ENG_EVT_REJECTED (a = reason, b = cmd_type), which Python applies through Context's handlers. */
enum { RPL_CHANGE_LEAVES = 1, RPL_CHANGE_LIVE = 2, RPL_CHANGE_REMOVED = 4, RPL_CHANGE_STATE = 16 };

typedef struct rpl_change {
    int64_t kind;
    uint64_t order_id;
    int64_t a, b;
} rpl_change_t;

typedef struct rpl_booked {
    rpl_ledger_t led;         /* the strategy's ledger (Python copies it in and out at hand-overs) */
    double maker_per_share, taker_per_share; /* the FeeSchedule's rates */
    int64_t price_scale;
    uint8_t on;               /* book silent events here (Python sets it while fills are silent) */
    uint8_t _pad[7];
    size_t n_changes;         /* changes since Python last took them (it clears it) */
    size_t n_fills;           /* fills (and samples) of the whole run */
    int64_t last_sample_ns;   /* the last fill's sample time (n_changes .. here: one block Python reads) */
    size_t changes_cap;
    rpl_change_t *changes;    /* the caller's array, of changes_cap elements */
    rpl_fill_rec_t *fills;    /* the run's fills and their samples (samples[k] is fills[k]'s): the */
    rpl_sample_rec_t *samples; /* loop's, malloc'd and grown by doubling (rpl_booked_free) */
    size_t fills_cap;
} rpl_booked_t;

/* Ledger.fill on *led with the schedule's rates and the price scale: the same float operations in
 * the same order. Returns the fill's fee. The caller checks rpl_ledger_exact first. */
double rpl_ledger_fill(rpl_ledger_t *led, double maker_per_share, double taker_per_share, int64_t price_scale,
                       uint8_t side, int64_t price, int64_t qty, int maker);

/* Whether rpl_ledger_fill gives Ledger.fill's figures to the bit for this fill: its integer
 * products (price x qty, the position after it) and the price scale stay below 2^53. */
int rpl_ledger_exact(const rpl_ledger_t *led, int64_t price_scale, int64_t price, int64_t qty);

/* Books one silent own event of the strategy at its delivery (deliver_ns; bid / ask the strategy's
 * view's touch then, -inf_price / inf_price for an empty side): applies it to `orders` (as
 * rpl_orders_apply) and appends its order changes, and for each of the strategy's sides of a
 * TRADE its fill (rpl_ledger_fill) and the fill's P&L sample. Returns 1 when booked; 0 when not
 * (on is 0, or the fill is not exact, or the arrays are full: on is cleared then) and
 * nothing was changed: the caller applies the event to `orders` itself, Python books it. */
int rpl_booked_event(rpl_booked_t *b, rpl_orders_t *orders, const eng_evt_t *ev, int64_t deliver_ns, int64_t bid,
                     int64_t ask, int64_t inf_price);

/* Releases the fill and sample arrays (the struct and the change array are the caller's). */
void rpl_booked_free(rpl_booked_t *b);
/* CFFI-END */

#endif
