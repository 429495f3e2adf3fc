/*
 * eng_engine.h - public face of the matching engine: create, process commands, query state.
 *
 * The engine is single-threaded and a pure function of its sequenced input (native/ENGINE.md):
 * the same commands always give the same events, byte for byte. All memory (orders, levels, the
 * order-id index, per-account risk state) is reserved in eng_create(); the pools' resident part
 * follows the live orders and is prefaulted ahead of them by eng_prefault_ahead() when the caller
 * is idle. Processing a command never allocates, locks or makes a system call. Running out of capacity is a reject
 * with a reason code, never a crash. Threading, rings, journals and wall clocks belong to callers.
 */
#ifndef ENG_ENGINE_H
#define ENG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "venue_layout.h"

/* CFFI-BEGIN */

typedef struct eng_engine eng_engine_t;

typedef struct eng_config {
    uint32_t max_orders;      /* live orders (resting + waiting stops), all instruments */
    uint32_t max_levels;      /* price levels, both sides, all instruments */
    uint32_t max_instruments; /* instrument ids 1..max_instruments */
    uint32_t max_accounts;    /* account ids 0..max_accounts-1 */
} eng_config_t;

/* Where events go. The engine appends to buf[len++]; when len == cap it calls flush(sink), which
 * must consume the buffered events and set len to 0 (the venue runner copies them into the
 * broadcast log). The engine never calls flush at the end of a command: after eng_process()
 * returns, the caller owns whatever is buffered. */
typedef struct eng_sink eng_sink_t;
struct eng_sink {
    eng_evt_t *buf;
    uint32_t len;
    uint32_t cap;
    void (*flush)(eng_sink_t *sink);
    void *ctx;
};

typedef struct eng_level_info {
    int64_t price;
    int64_t qty;              /* displayed aggregate */
    uint32_t order_count;
    uint32_t _pad0;
} eng_level_info_t;

typedef struct eng_order_info {
    uint64_t order_id;
    uint64_t client_order_id;
    uint64_t accept_seq;
    int64_t price;
    int64_t stop_price;
    int64_t display_qty;      /* configured iceberg peak, 0 if not an iceberg */
    int64_t shown_qty;        /* displayed now (0 for a waiting stop) */
    int64_t reserve_qty;
    int64_t leaves_qty;       /* shown + reserve */
    int64_t expire_ts_ns;
    uint32_t instrument_id;
    uint32_t account_id;
    uint32_t stp_group;
    uint8_t side;
    uint8_t ord_type;
    uint8_t tif;
    uint8_t stp_mode;
    uint8_t flags;
    uint8_t waiting_stop;     /* 1: untriggered stop, not in the book */
    uint8_t _pad0[6];
} eng_order_info_t;

typedef struct eng_position_info {
    int64_t position;
    int64_t open_buy_qty;
    int64_t open_sell_qty;
    int64_t max_position;
} eng_position_info_t;

typedef struct eng_instrument_info {
    int64_t tick_size;
    int64_t lot_size;
    int64_t reference_price;
    int64_t market_collar_ticks;
    int64_t max_order_qty;
    int64_t max_order_notional;
    int64_t price_collar_ticks;
    int64_t last_trade_price;
    int64_t nbbo_max_age_ns;
    int64_t nbbo_bid_price;   /* the reference NBBO last received (0s when has_nbbo is 0) */
    int64_t nbbo_ask_price;
    int64_t nbbo_bid_qty;
    int64_t nbbo_ask_qty;
    int64_t nbbo_quote_ts_ns;
    uint8_t has_last_trade;
    uint8_t phase;
    uint8_t venue_mode;       /* eng_venue_mode_t */
    uint8_t has_nbbo;
    uint8_t _pad0[4];
} eng_instrument_info_t;

typedef struct eng_stats {
    uint64_t commands;
    uint64_t events;
    uint64_t trades;
    uint32_t orders_live;
    uint32_t orders_capacity;
    uint32_t levels_live;
    uint32_t levels_capacity;
    uint64_t memory_bytes;    /* bytes resident: fixed tables + the pools' prefaulted prefixes */
    uint64_t memory_reserved_bytes; /* address space reserved for the pools at full capacity */
    uint32_t orders_high_water;     /* order slots ever in use at once (pool high-water mark) */
    uint32_t levels_high_water;
    uint32_t ext_live;              /* orders with an extension record (iceberg, stop, GTD, STP group, dark) */
    uint32_t ext_high_water;
    uint32_t order_record_bytes;    /* sizeof of the pools' records (ENGINE.md "Memory per resting order") */
    uint32_t ext_record_bytes;
    uint32_t level_record_bytes;
    uint32_t _pad0;
} eng_stats_t;

/* Allocates the fixed tables, reserves the pools (eng_prefault_ahead) and prefaults their first
 * prefix. Returns 0 and sets *out, or -EINVAL (a zero or
 * too-large capacity) or -ENOMEM; *out is untouched on failure. */
int eng_create(const eng_config_t *config, eng_engine_t **out);

/* Off-path pool growth: makes the order, level and order-extension pools (and the order-id index
 * buckets and the GTD heap) resident up to their high-water marks plus a sixteenth for orders, a
 * quarter for levels, an eighth for extensions (and at least 64 Ki orders, 4 Ki levels and 16 Ki
 * extensions beyond them, at most the capacity), by writing each new page once. Call it when idle (the venue
 * runner does when its rings are empty; eng_submit after each batch): the order path then runs
 * on resident memory. Returns the bytes newly made resident (0 almost always). */
uint64_t eng_prefault_ahead(eng_engine_t *eng);

/* Frees everything eng_create allocated. eng may be NULL. */
void eng_destroy(eng_engine_t *eng);

/* Processes one command and appends its events to sink (see eng_sink). Never fails: bad input
 * becomes a REJECTED event. */
void eng_process(eng_engine_t *eng, const eng_cmd_t *cmd, eng_sink_t *sink);

/* Batch API for in-process callers (Python, benchmarks): processes n commands into the engine's
 * own event buffer, which grows (the only allocation outside eng_create, and never on the venue's
 * ring path) when a batch produces more events than it holds. Returns 0 or -ENOMEM (in which case
 * the commands from the failing one on were not processed; *processed says how many were). */
int eng_submit(eng_engine_t *eng, const eng_cmd_t *cmds, size_t n, size_t *processed);

/* The events buffered by eng_submit since the last eng_clear_events, and their count. The
 * pointer is valid until the next eng_submit or eng_clear_events. */
const eng_evt_t *eng_events(const eng_engine_t *eng, size_t *count);
void eng_clear_events(eng_engine_t *eng);

/* Depth of one side, best first, at most max levels. Returns the number written, or
 * -ENOENT (unknown instrument) / -EINVAL (bad side). */
int eng_book_depth(const eng_engine_t *eng, uint32_t instrument_id, uint8_t side,
                   eng_level_info_t *out, uint32_t max);

/* The orders of one side in book order (best level first, front to back), at most max.
 * side ENG_SIDE_NONE lists the waiting stops in acceptance order. Returns the number written,
 * or -ENOENT / -EINVAL. */
int eng_book_orders(const eng_engine_t *eng, uint32_t instrument_id, uint8_t side,
                    eng_order_info_t *out, uint32_t max);

/* One live order by id: 0, or -ENOENT if no live order has that id. */
int eng_order_info(const eng_engine_t *eng, uint64_t order_id, eng_order_info_t *out);

/* 0, or -ENOENT (unknown instrument) / -EINVAL (account out of range). */
int eng_position(const eng_engine_t *eng, uint32_t account_id, uint32_t instrument_id,
                 eng_position_info_t *out);

/* 0, or -ENOENT for an unknown instrument. */
int eng_instrument_info(const eng_engine_t *eng, uint32_t instrument_id,
                        eng_instrument_info_t *out);

/* Copies the engine's counters (live orders and levels, commands, events, ...) into *out. Never
 * fails; eng and out are the caller's. */
void eng_get_stats(const eng_engine_t *eng, eng_stats_t *out);

/* A 64-bit hash of the whole logical state (books in book order, orders, positions, risk
 * settings, phases, engine time, last seq, next trade id). Equal states give equal hashes
 * whatever the history of pool slots. */
uint64_t eng_state_hash(const eng_engine_t *eng);

/* Verifies every internal invariant (level aggregates and counts equal their orders, best-price
 * pointers, order-id index consistency, open quantities, free-list sizes). Returns 0, or a
 * negative number identifying the first broken invariant. Tests call it after every step. */
int eng_check(const eng_engine_t *eng);

/* CFFI-END */

#endif /* ENG_ENGINE_H */
