/*
 * venue_layout.h - the one layout header every process of the venue maps.
 *
 * Owns: reason codes, the engine's command records (sequenced input) and event records (output),
 * and (section 4) the shared-memory segment and ring layouts. Nothing else in the project may
 * define these shapes a second time: the Python side gets them from cffi, which parses the part of
 * this file between the CFFI markers, and the static asserts at the bottom pin the sizes that the
 * rings, the journal and the wire encoders rely on.
 *
 * Invariants: every command and every event is a fixed 96-byte record, 8-byte aligned, whose first
 * field is a 16-bit type; integers are host order (little-endian x86_64/aarch64); prices are
 * int64 in the instrument's price unit and must be a multiple of its tick size; quantities are
 * int64 and must be a multiple of its lot size. The semantics of every command and the exact
 * order of the events it produces are specified in native/ENGINE.md.
 */
#ifndef VENUE_LAYOUT_H
#define VENUE_LAYOUT_H

#include <stdint.h>

/* CFFI-BEGIN */

/* ---- Section 1: reason codes ------------------------------------------------------------------
 * One table, grouped by stage into number ranges (exchange-core style). A retired code keeps its
 * number as a comment and is never reused. The Python IntEnum and the README table derive from it.
 */
typedef enum eng_reason {
    ENG_OK = 0,

    /* 100-199: the request itself is malformed or names something that does not exist */
    ENG_REJ_UNKNOWN_INSTRUMENT = 100,
    ENG_REJ_BAD_QTY = 101,            /* quantity <= 0 */
    ENG_REJ_OFF_TICK = 102,           /* price or stop price not a multiple of the tick size */
    ENG_REJ_OFF_LOT = 103,            /* quantity or display quantity not a multiple of the lot */
    ENG_REJ_BAD_SIDE = 104,
    ENG_REJ_BAD_ORDER_TYPE = 105,
    ENG_REJ_BAD_TIF = 106,            /* unknown TIF, or a TIF this order type does not allow */
    ENG_REJ_BAD_PRICE = 107,          /* limit price <= 0, or a price on an order type without one */
    ENG_REJ_BAD_DISPLAY_QTY = 108,    /* iceberg display qty <= 0 or >= qty, or set without the flag */
    ENG_REJ_BAD_STOP_PRICE = 109,     /* stop price <= 0 on a stop, or set on a non-stop order */
    ENG_REJ_DUPLICATE_ORDER_ID = 110, /* order id 0 or already live */
    ENG_REJ_UNKNOWN_ORDER = 111,      /* cancel/replace of an id that is not live on that instrument */
    ENG_REJ_BAD_ACCOUNT = 112,        /* account id >= configured max_accounts */
    ENG_REJ_BAD_EXPIRY = 113,         /* GTD expiry not after engine time, or expiry on a non-GTD */
    ENG_REJ_UNKNOWN_COMMAND = 114,
    ENG_REJ_BAD_STP_MODE = 115,
    ENG_REJ_BAD_REPLACE = 116,        /* replace of a waiting stop order */
    ENG_REJ_BAD_CONFIG = 117,         /* tick/lot <= 0, reference price off the grid, negative limit */
    ENG_REJ_DUPLICATE_INSTRUMENT = 118,
    ENG_REJ_BAD_FLAGS = 119,          /* unknown flag bit, or post-only/iceberg where not allowed */
    ENG_REJ_BAD_SEQUENCE = 120,       /* command sequence number not greater than the previous one */

    /* 200-299: pre-trade risk */
    ENG_REJ_MAX_QTY = 200,
    ENG_REJ_MAX_NOTIONAL = 201,
    ENG_REJ_PRICE_COLLAR = 202,       /* limit price too far from the reference price (fat finger) */
    ENG_REJ_POSITION_LIMIT = 203,
    ENG_REJ_KILL_SWITCH = 204,

    /* 300-399: trading phase and matching rules that refuse a request */
    ENG_REJ_PHASE = 300,              /* not accepted in the instrument's current phase */
    ENG_REJ_POST_ONLY_WOULD_TAKE = 301,
    ENG_REJ_BAD_PHASE_TRANSITION = 302,

    /* 400-449: why a live order left the book (reason of CANCELLED and EXPIRED events) */
    ENG_CXL_USER = 400,
    ENG_CXL_MASS = 401,
    ENG_CXL_KILL_SWITCH = 402,
    ENG_CXL_STP = 403,                /* self-trade prevention */
    ENG_CXL_IOC_REMAINDER = 404,
    ENG_CXL_FOK_NOT_FILLABLE = 405,
    ENG_CXL_NO_LIQUIDITY = 406,       /* market order: nothing (more) on the other side */
    ENG_CXL_MARKET_COLLAR = 407,      /* market order: liquidity left only beyond the collar */
    ENG_CXL_NO_LEVEL_CAPACITY = 408,  /* a triggered stop-limit could not rest: level pool empty */
    ENG_EXP_DAY = 410,
    ENG_EXP_GTD = 411,

    /* 500-599: capacity fixed at start-up is exhausted */
    ENG_REJ_ORDER_CAPACITY = 500,
    ENG_REJ_LEVEL_CAPACITY = 501,
    ENG_REJ_INSTRUMENT_CAPACITY = 502

    /* 900-999: reserved for the gateways (gw_*, sbe_*, fixp_*) */
} eng_reason_t;

/* ---- Section 2: commands (the engine's sequenced input) -------------------------------------- */

typedef enum eng_cmd_type {
    ENG_CMD_NEW_ORDER = 1,
    ENG_CMD_CANCEL = 2,
    ENG_CMD_REPLACE = 3,
    ENG_CMD_MASS_CANCEL = 4,
    ENG_CMD_SET_PHASE = 5,
    ENG_CMD_END_OF_DAY = 6,
    ENG_CMD_TIME = 7,
    ENG_CMD_ADD_INSTRUMENT = 8,
    ENG_CMD_SET_INSTRUMENT_RISK = 9,
    ENG_CMD_SET_ACCOUNT_LIMIT = 10,
    ENG_CMD_SET_KILL_SWITCH = 11
} eng_cmd_type_t;

typedef enum eng_side { ENG_SIDE_NONE = 0, ENG_SIDE_BUY = 1, ENG_SIDE_SELL = 2 } eng_side_t;

typedef enum eng_ord_type {
    ENG_ORD_LIMIT = 1,
    ENG_ORD_MARKET = 2,
    ENG_ORD_STOP = 3,        /* stop-market: becomes a market order when triggered */
    ENG_ORD_STOP_LIMIT = 4   /* becomes a limit order at `price` when triggered */
} eng_ord_type_t;

typedef enum eng_tif {
    ENG_TIF_DAY = 1,
    ENG_TIF_GTC = 2,
    ENG_TIF_GTD = 3,
    ENG_TIF_IOC = 4,
    ENG_TIF_FOK = 5
} eng_tif_t;

typedef enum eng_stp_mode {
    ENG_STP_NONE = 0,
    ENG_STP_CANCEL_RESTING = 1,
    ENG_STP_CANCEL_AGGRESSING = 2,
    ENG_STP_CANCEL_BOTH = 3,
    ENG_STP_DECREMENT = 4    /* decrement both by the smaller quantity, cancel what reaches zero */
} eng_stp_mode_t;

typedef enum eng_order_flag {
    ENG_FLAG_POST_ONLY = 1,
    ENG_FLAG_ICEBERG = 2     /* display_qty is the peak shown; the rest is a hidden reserve */
} eng_order_flag_t;

typedef enum eng_phase {
    ENG_PHASE_CLOSED = 0,
    ENG_PHASE_PRE_OPEN = 1,  /* orders accepted, no matching; leaving it to CONTINUOUS uncrosses */
    ENG_PHASE_CONTINUOUS = 2,
    ENG_PHASE_HALTED = 3     /* cancels only; reopening goes through PRE_OPEN and an auction */
} eng_phase_t;

/* Every command starts with this header. `seq` and `ts_ns` are stamped by the sequencer: seq
 * strictly increases, and ts_ns is the engine's only clock (engine time = max of all ts_ns seen),
 * so a replay of the journal reproduces every output byte. */
typedef struct eng_cmd_hdr {
    uint16_t type;           /* eng_cmd_type_t */
    uint16_t _pad0;
    uint32_t instrument_id;  /* ids start at 1; ignored by commands whose doc says so */
    uint64_t seq;
    int64_t ts_ns;
} eng_cmd_hdr_t;

typedef struct eng_new_order {
    eng_cmd_hdr_t hdr;
    uint64_t order_id;        /* chosen by the submitter, non-zero, unique among live orders */
    uint64_t client_order_id; /* opaque, echoed in ACCEPTED and REJECTED */
    int64_t price;            /* LIMIT and STOP_LIMIT only; 0 otherwise */
    int64_t stop_price;       /* STOP and STOP_LIMIT only; 0 otherwise */
    int64_t qty;
    int64_t display_qty;      /* with ENG_FLAG_ICEBERG only; 0 otherwise */
    int64_t expire_ts_ns;     /* with ENG_TIF_GTD only; 0 otherwise */
    uint32_t account_id;
    uint32_t stp_group;       /* orders of one non-zero group never trade with each other */
    uint8_t side;             /* eng_side_t */
    uint8_t ord_type;         /* eng_ord_type_t */
    uint8_t tif;              /* eng_tif_t */
    uint8_t stp_mode;         /* eng_stp_mode_t, applied when this order is the aggressor */
    uint8_t flags;            /* eng_order_flag_t bits */
    uint8_t _pad1[3];
} eng_new_order_t;

typedef struct eng_cancel {
    eng_cmd_hdr_t hdr;
    uint64_t order_id;
} eng_cancel_t;

typedef struct eng_replace {
    eng_cmd_hdr_t hdr;
    uint64_t order_id;
    int64_t price;            /* new limit price */
    int64_t qty;              /* new remaining (leaves) quantity, reserve included */
} eng_replace_t;

typedef struct eng_mass_cancel {
    eng_cmd_hdr_t hdr;        /* hdr.instrument_id is used only when by_instrument is set */
    uint32_t account_id;      /* used only when by_account is set */
    uint8_t by_account;
    uint8_t by_instrument;
    uint8_t _pad1[2];
} eng_mass_cancel_t;

typedef struct eng_set_phase {
    eng_cmd_hdr_t hdr;
    uint8_t phase;            /* eng_phase_t */
    uint8_t _pad1[7];
} eng_set_phase_t;

typedef struct eng_end_of_day {
    eng_cmd_hdr_t hdr;        /* hdr.instrument_id is used only when all_instruments is 0 */
    uint8_t all_instruments;
    uint8_t _pad1[7];
} eng_end_of_day_t;

typedef struct eng_time {
    eng_cmd_hdr_t hdr;        /* advances engine time only (GTD expiry); instrument_id ignored */
} eng_time_t;

typedef struct eng_add_instrument {
    eng_cmd_hdr_t hdr;        /* hdr.instrument_id: the new id, 1..max_instruments */
    int64_t tick_size;
    int64_t lot_size;
    int64_t reference_price;  /* collar and auction tie-break reference until the first trade */
    int64_t market_collar_ticks; /* a market order never trades beyond best +/- this many ticks */
} eng_add_instrument_t;

typedef struct eng_set_instrument_risk {
    eng_cmd_hdr_t hdr;
    int64_t max_order_qty;        /* INT64_MAX: no limit (the value an instrument starts with) */
    int64_t max_order_notional;   /* price * qty, in price units x quantity */
    int64_t price_collar_ticks;   /* |limit price - reference| may not exceed this many ticks */
} eng_set_instrument_risk_t;

typedef struct eng_set_account_limit {
    eng_cmd_hdr_t hdr;
    uint32_t account_id;
    uint32_t _pad1;
    int64_t max_position;     /* |position + open orders on one side| may not exceed this */
} eng_set_account_limit_t;

typedef struct eng_set_kill_switch {
    eng_cmd_hdr_t hdr;        /* instrument_id ignored: the switch covers the whole account */
    uint32_t account_id;
    uint8_t engaged;          /* 1: cancel everything of the account and refuse new orders */
    uint8_t _pad1[3];
} eng_set_kill_switch_t;

typedef union eng_cmd {
    eng_cmd_hdr_t hdr;
    eng_new_order_t new_order;
    eng_cancel_t cancel;
    eng_replace_t replace;
    eng_mass_cancel_t mass_cancel;
    eng_set_phase_t set_phase;
    eng_end_of_day_t end_of_day;
    eng_time_t time;
    eng_add_instrument_t add_instrument;
    eng_set_instrument_risk_t set_instrument_risk;
    eng_set_account_limit_t set_account_limit;
    eng_set_kill_switch_t set_kill_switch;
    uint8_t raw[96];
} eng_cmd_t;

/* ---- Section 3: events (the engine's output stream) ------------------------------------------ */

typedef enum eng_evt_type {
    ENG_EVT_ACCEPTED = 1,
    ENG_EVT_REJECTED = 2,
    ENG_EVT_TRADE = 3,
    ENG_EVT_CANCELLED = 4,
    ENG_EVT_REPLACED = 5,
    ENG_EVT_EXPIRED = 6,
    ENG_EVT_TRIGGERED = 7,
    ENG_EVT_BOOK_LEVEL = 8,
    ENG_EVT_PHASE = 9,
    ENG_EVT_AUCTION = 10,
    ENG_EVT_CMD_ACK = 11
} eng_evt_type_t;

/* Every event starts with this header; `seq` and `ts_ns` are those of the command that caused it. */
typedef struct eng_evt_hdr {
    uint16_t type;           /* eng_evt_type_t */
    uint16_t reason;         /* eng_reason_t; ENG_OK where the event type has no reason */
    uint32_t instrument_id;
    uint64_t seq;
    int64_t ts_ns;
} eng_evt_hdr_t;

typedef struct eng_evt_accepted {
    eng_evt_hdr_t hdr;
    uint64_t order_id;
    uint64_t client_order_id;
    int64_t price;
    int64_t stop_price;
    int64_t qty;
    int64_t display_qty;
    int64_t expire_ts_ns;
    uint32_t account_id;
    uint32_t stp_group;
    uint8_t side;
    uint8_t ord_type;
    uint8_t tif;
    uint8_t stp_mode;
    uint8_t flags;
    uint8_t _pad1[3];
} eng_evt_accepted_t;

typedef struct eng_evt_rejected {
    eng_evt_hdr_t hdr;        /* hdr.reason says why */
    uint64_t order_id;        /* from the command, 0 for commands without one */
    uint64_t client_order_id; /* from a NEW_ORDER, 0 otherwise */
    uint32_t account_id;      /* from the command, 0 for commands without one */
    uint16_t cmd_type;        /* the rejected command's type (raw, may be unknown) */
    uint16_t _pad1;
} eng_evt_rejected_t;

typedef struct eng_evt_trade {
    eng_evt_hdr_t hdr;
    uint64_t trade_id;        /* 1, 2, 3 ... per engine */
    uint64_t buy_order_id;
    uint64_t sell_order_id;
    int64_t price;
    int64_t qty;
    int64_t buy_leaves_qty;   /* remaining after this trade, hidden reserve included */
    int64_t sell_leaves_qty;
    uint32_t buy_account_id;
    uint32_t sell_account_id;
    uint8_t aggressor_side;   /* ENG_SIDE_NONE for auction trades */
    uint8_t _pad1[7];
} eng_evt_trade_t;

typedef struct eng_evt_cancelled {
    eng_evt_hdr_t hdr;        /* hdr.reason: an ENG_CXL_* code */
    uint64_t order_id;
    int64_t cancelled_qty;
    int64_t leaves_qty;       /* > 0 only for an STP decrement that left the order live */
    uint32_t account_id;
    uint32_t _pad1;
} eng_evt_cancelled_t;

typedef struct eng_evt_replaced {
    eng_evt_hdr_t hdr;
    uint64_t order_id;
    int64_t price;
    int64_t leaves_qty;
    int64_t display_qty;      /* quantity now shown in the book */
    uint32_t account_id;
    uint8_t priority_kept;    /* 1: same price and quantity not increased */
    uint8_t _pad1[3];
} eng_evt_replaced_t;

typedef struct eng_evt_expired {
    eng_evt_hdr_t hdr;        /* hdr.reason: ENG_EXP_DAY or ENG_EXP_GTD */
    uint64_t order_id;
    int64_t expired_qty;
    uint32_t account_id;
    uint32_t _pad1;
} eng_evt_expired_t;

typedef struct eng_evt_triggered {
    eng_evt_hdr_t hdr;
    uint64_t order_id;
    int64_t stop_price;
    int64_t last_trade_price; /* the trade price that satisfied the stop */
} eng_evt_triggered_t;

typedef struct eng_evt_book_level {
    eng_evt_hdr_t hdr;
    int64_t price;
    int64_t qty;              /* displayed aggregate; 0 with order_count 0: the level is gone */
    uint32_t order_count;
    uint8_t side;
    uint8_t _pad1[3];
} eng_evt_book_level_t;

typedef struct eng_evt_phase {
    eng_evt_hdr_t hdr;
    uint8_t phase;
    uint8_t prev_phase;
    uint8_t _pad1[6];
} eng_evt_phase_t;

typedef struct eng_evt_auction {
    eng_evt_hdr_t hdr;
    int64_t price;            /* uncrossing price; 0 when crossed is 0 */
    int64_t matched_qty;
    int64_t imbalance_qty;    /* eligible quantity left unmatched at the price */
    uint8_t imbalance_side;   /* side holding the surplus, ENG_SIDE_NONE if none */
    uint8_t crossed;          /* 1 if the book crossed and trades were printed */
    uint8_t _pad1[6];
} eng_evt_auction_t;

typedef struct eng_evt_cmd_ack {
    eng_evt_hdr_t hdr;
    uint32_t affected;        /* orders cancelled or expired by the command */
    uint16_t cmd_type;
    uint16_t _pad1;
} eng_evt_cmd_ack_t;

typedef union eng_evt {
    eng_evt_hdr_t hdr;
    eng_evt_accepted_t accepted;
    eng_evt_rejected_t rejected;
    eng_evt_trade_t trade;
    eng_evt_cancelled_t cancelled;
    eng_evt_replaced_t replaced;
    eng_evt_expired_t expired;
    eng_evt_triggered_t triggered;
    eng_evt_book_level_t book_level;
    eng_evt_phase_t phase;
    eng_evt_auction_t auction;
    eng_evt_cmd_ack_t cmd_ack;
    uint8_t raw[96];
} eng_evt_t;

/* ---- Section 4: shared-memory segments and rings (owned by ring_*) --------------------------- */

/* CFFI-END */

#ifdef __cplusplus
#define VENUE_STATIC_ASSERT static_assert
#else
#define VENUE_STATIC_ASSERT _Static_assert
#endif
VENUE_STATIC_ASSERT(sizeof(eng_cmd_t) == 96, "command records are 96 bytes");
VENUE_STATIC_ASSERT(sizeof(eng_evt_t) == 96, "event records are 96 bytes");
VENUE_STATIC_ASSERT(sizeof(eng_new_order_t) == 96, "new order fills the record");
VENUE_STATIC_ASSERT(sizeof(eng_evt_trade_t) == 96, "trade fills the record");

#endif /* VENUE_LAYOUT_H */
