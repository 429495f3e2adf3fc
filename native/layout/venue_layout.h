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
    ENG_OK = 0,                       /* no error */

    /* 100-199: the request itself is malformed or names something that does not exist */
    ENG_REJ_UNKNOWN_INSTRUMENT = 100, /* no instrument with that id was added */
    ENG_REJ_BAD_QTY = 101,            /* quantity <= 0 */
    ENG_REJ_OFF_TICK = 102,           /* price or stop price not a multiple of the tick size */
    ENG_REJ_OFF_LOT = 103,            /* quantity or display quantity not a multiple of the lot */
    ENG_REJ_BAD_SIDE = 104,           /* side is neither buy nor sell */
    ENG_REJ_BAD_ORDER_TYPE = 105,     /* not limit, market, stop or stop-limit */
    ENG_REJ_BAD_TIF = 106,            /* unknown TIF, or a TIF this order type does not allow */
    ENG_REJ_BAD_PRICE = 107,          /* limit price <= 0, or a price on an order type without one */
    ENG_REJ_BAD_DISPLAY_QTY = 108,    /* iceberg display qty <= 0 or >= qty, or set without the flag */
    ENG_REJ_BAD_STOP_PRICE = 109,     /* stop price <= 0 on a stop, or set on a non-stop order */
    ENG_REJ_DUPLICATE_ORDER_ID = 110, /* order id 0 or already live */
    ENG_REJ_UNKNOWN_ORDER = 111,      /* cancel/replace of an id that is not live on that instrument */
    ENG_REJ_BAD_ACCOUNT = 112,        /* account id >= configured max_accounts */
    ENG_REJ_BAD_EXPIRY = 113,         /* GTD expiry not after engine time, or expiry on a non-GTD */
    ENG_REJ_UNKNOWN_COMMAND = 114,    /* command type the engine does not know */
    ENG_REJ_BAD_STP_MODE = 115,       /* self-trade prevention mode out of range */
    ENG_REJ_BAD_REPLACE = 116,        /* replace of a waiting stop order */
    ENG_REJ_BAD_CONFIG = 117,         /* tick/lot <= 0, reference price off the grid, negative limit */
    ENG_REJ_DUPLICATE_INSTRUMENT = 118, /* an instrument with that id already exists */
    ENG_REJ_BAD_FLAGS = 119,          /* unknown flag bit, or post-only/iceberg where not allowed */
    ENG_REJ_BAD_SEQUENCE = 120,       /* command sequence number not greater than the previous one */
    ENG_REJ_NOT_RESTING = 121,        /* execute/reduce of a waiting stop order (it is not in the book) */
    ENG_REJ_BAD_MIN_QTY = 122,        /* midpoint peg: minimum acceptable quantity < 0 or > qty */
    ENG_REJ_BAD_NBBO = 123,           /* NBBO with a negative price or size, a price off tick, quote time < 0 */
    ENG_REJ_NBBO_OUT_OF_ORDER = 124,  /* NBBO whose quote time is older than the NBBO already held */

    /* 200-299: pre-trade risk */
    ENG_REJ_MAX_QTY = 200,            /* quantity above the instrument's maximum order quantity */
    ENG_REJ_MAX_NOTIONAL = 201,       /* price x quantity above the maximum order notional */
    ENG_REJ_PRICE_COLLAR = 202,       /* limit price too far from the reference price (fat finger) */
    ENG_REJ_POSITION_LIMIT = 203,     /* position plus open orders would exceed the account limit */
    ENG_REJ_KILL_SWITCH = 204,        /* the account's kill switch is engaged */
    ENG_REJ_ORDER_VELOCITY = 205,     /* the account sent more NEW_ORDER + REPLACE than its order-velocity limit allows (SET_ORDER_VELOCITY) */

    /* 300-399: trading phase and matching rules that refuse a request */
    ENG_REJ_PHASE = 300,              /* not accepted in the instrument's current phase */
    ENG_REJ_POST_ONLY_WOULD_TAKE = 301, /* a post-only order would have taken liquidity */
    ENG_REJ_BAD_PHASE_TRANSITION = 302, /* phase change not allowed from the current phase */
    ENG_REJ_WOULD_CROSS = 303,        /* seeded liquidity would cross the other side in CONTINUOUS */
    ENG_REJ_DARK_ORDER_TYPE = 310,    /* order type not allowed in the venue mode: dark takes only MIDPOINT_PEG, lit none */
    ENG_REJ_DARK_UNSUPPORTED = 311,   /* EXECUTE, REDUCE or SEED_LEVEL on a dark order or instrument */

    /* 400-449: why a live order left the book (reason of CANCELLED and EXPIRED events) */
    ENG_CXL_USER = 400,               /* cancelled on request */
    ENG_CXL_MASS = 401,               /* cancelled by a mass cancel */
    ENG_CXL_KILL_SWITCH = 402,        /* cancelled when the account's kill switch engaged */
    ENG_CXL_STP = 403,                /* self-trade prevention */
    ENG_CXL_IOC_REMAINDER = 404,      /* unfilled rest of an immediate-or-cancel order */
    ENG_CXL_FOK_NOT_FILLABLE = 405,   /* fill-or-kill order could not fill completely */
    ENG_CXL_NO_LIQUIDITY = 406,       /* market order: nothing (more) on the other side */
    ENG_CXL_MARKET_COLLAR = 407,      /* market order: liquidity left only beyond the collar */
    ENG_CXL_NO_LEVEL_CAPACITY = 408,  /* a triggered stop-limit could not rest: level pool empty */
    ENG_EXP_DAY = 410,                /* DAY order expired at the end of day */
    ENG_EXP_GTD = 411,                /* good-till-date order reached its expiry time */
    ENG_CXL_REGNMS_TRADE_THROUGH = 430, /* Rule 611: the rest would trade through another venue's protected quote; route it there */
    ENG_CXL_REGNMS_LOCK_CROSS = 431,  /* Rule 610(d): the rest would rest locking or crossing another venue's protected quote */
    /* a dark (midpoint) IOC order's remainder when the reference NBBO gave no midpoint to trade at */
    ENG_CXL_NBBO_NONE = 420,          /* no NBBO received yet, or one side of it empty */
    ENG_CXL_NBBO_LOCKED = 421,        /* the NBBO is locked (bid == ask) */
    ENG_CXL_NBBO_CROSSED = 422,       /* the NBBO is crossed (bid > ask) */
    ENG_CXL_NBBO_STALE = 423,         /* the NBBO is older than the instrument's nbbo_max_age_ns */

    /* 500-599: capacity fixed at start-up is exhausted */
    ENG_REJ_ORDER_CAPACITY = 500,     /* no free order slot (max_orders) */
    ENG_REJ_LEVEL_CAPACITY = 501,     /* no free price level (max_levels) */
    ENG_REJ_INSTRUMENT_CAPACITY = 502, /* instrument id 0 or above max_instruments */

    /* 600-649: Regulation NMS (gateway/regnms/: the rule values with their effective dates, and the checks) */
    ENG_REJ_REGNMS_TRADE_THROUGH = 600, /* Rule 611: would execute at a price worse than another venue's protected quote */
    ENG_REJ_REGNMS_SUB_PENNY = 601,   /* Rule 612: price not a multiple of the minimum pricing increment of its price band */
    ENG_REJ_REGNMS_FEE_CAP = 602,     /* Rule 610(c): a venue's access (taker) fee is above the cap in force */
    ENG_REJ_REGNMS_LOCK_CROSS = 603,  /* Rule 610(d): a displayed order would lock or cross another venue's protected quote */
    ENG_REJ_REGNMS_BAD_ISO = 604,     /* an intermarket sweep order that is not an IOC limit order */

    /* 900-999: reserved for the gateways (gw_*, sbe_*, fixp_*) */
    /* ---- BEGIN gateway block 900-939: a frame refused by the SBE decoder (native/gateway/sbe_codec.c,
     * gateway/orderentry/sbe_codec.py, both generated by scripts/generate_sbe.py; the first failure in the
     * order the frame is read wins). Numbers here are the decoder's one error table. */
    ENG_GW_FRAME_TRUNCATED = 900,  /* fewer bytes than the SOFH header or than its message length */
    ENG_GW_ENCODING_TYPE = 901,    /* SOFH encoding type is not 0xEB50 (SBE 1.0 little-endian) */
    ENG_GW_FRAME_LENGTH = 902,     /* SOFH message length below SOFH + SBE header, or above the maximum frame */
    ENG_GW_SCHEMA_ID = 903,        /* SBE header schemaId is not this venue's order-entry schema */
    ENG_GW_SCHEMA_VERSION = 904,   /* SBE header version is 0 or newer than the decoder knows */
    ENG_GW_UNKNOWN_TEMPLATE = 905, /* SBE header templateId names no message of the schema */
    ENG_GW_BLOCK_LENGTH = 906,     /* SBE header blockLength smaller than the message's root block */
    ENG_GW_BODY_TRUNCATED = 907,   /* root block or variable-length data runs past the frame's end */
    ENG_GW_BAD_ENUM = 908,         /* an enum field holds a value the schema does not list */
    ENG_GW_BAD_SET = 909,          /* a bit-set field has a bit the schema does not define */
    ENG_GW_VALUE_RANGE = 910,      /* a field is outside its type's minValue..maxValue (and not its null) */
    ENG_GW_VAR_DATA_LENGTH = 911,  /* a variable-length field is longer than its type's maxValue */
    ENG_GW_TRAILING_BYTES = 912,   /* the frame holds bytes after the message's last field */
    /* ---- END gateway block 900-939 */
    /* ---- BEGIN gateway block 940-999: the FIXP session layer and the order-entry gateway
     * (native/gateway/fixp_session.c, native/gw_*.c); carried in Terminate, NegotiationReject,
     * EstablishmentReject, RetransmitReject, BusinessMessageReject and OrderCancelReject. */
    ENG_GW_NOT_ESTABLISHED = 940,  /* an application or session message before Negotiate/Establish completed */
    ENG_GW_BAD_CREDENTIALS = 941,  /* unknown session id, wrong firm or wrong key */
    ENG_GW_ALREADY_NEGOTIATED = 942, /* Negotiate or Establish repeated on a connection that did it */
    ENG_GW_SESSION_IN_USE = 943,   /* the session is already bound to another live connection */
    ENG_GW_SESSION_MISMATCH = 944, /* sessionId differs from the one this connection negotiated */
    ENG_GW_BAD_KEEPALIVE = 945,    /* keepalive interval outside the configured bounds */
    ENG_GW_FLOW_TYPE = 946,        /* a client flow other than Idempotent or Recoverable */
    ENG_GW_THROTTLED = 947,        /* the session's message-rate limit was exceeded */
    ENG_GW_NOT_OWNER = 948,        /* cancel or replace of an order another firm entered */
    ENG_GW_UNKNOWN_ORDER_ID = 949, /* cancel or replace names no live order this gateway entered */
    ENG_GW_SEQ_TOO_LOW = 950,      /* application seqNum below the next expected: a duplicate, not executed */
    ENG_GW_ACCOUNT_NOT_PERMITTED = 951, /* the account does not belong to the session's firm */
    ENG_GW_SLOW_CONSUMER = 952,    /* the client stopped reading: its outbound buffer filled */
    ENG_GW_HEARTBEAT_TIMEOUT = 953, /* nothing received for two keepalive intervals */
    ENG_GW_ORDER_CAPACITY = 954,   /* the gateway's order table is full */
    ENG_GW_RETRANSMIT_RANGE = 955, /* retransmission asked for messages not sent or no longer kept */
    ENG_GW_RETRANSMIT_LIMIT = 956, /* retransmission asked for more messages than one request may */
    ENG_GW_PEER_TERMINATED = 957,  /* the client sent Terminate; answered with Terminate */
    ENG_GW_HANDSHAKE_TIMEOUT = 958, /* the connection did not establish within the handshake timeout */
    ENG_GW_ENGINE_GONE = 959,      /* the engine stopped or died; after a crash, also a request it never sequenced */
    ENG_GW_ADMIN_DISCONNECT = 960, /* an operator disconnected the session (Terminate text says why) */
    ENG_GW_ORDER_DONE = 961,       /* cancel or replace of an order that already filled, was cancelled or expired: too late */
    ENG_GW_MASS_CANCEL_BUSY = 962, /* every mass-cancel slot of the gateway is taken by one still in progress */
    ENG_GW_VENUE_STOPPING = 964,   /* the gateway is stopping (operator stop, or the venue could not be kept running): not a normal session end */
    ENG_GW_MASS_CANCEL_UNFINISHED = 965, /* a mass cancel did not finish within the gateway's bound (engine dead or stuck): the report counts the orders cancelled so far; the rest are still cancelled, each with its own report, if the engine comes back */
    ENG_GW_LOGON_LOCKED_OUT = 966, /* too many failed logons from this source address or for this session: logons are refused unchecked until the lockout ends */
    ENG_GW_CREDENTIALS_REPLAYED = 967, /* a hashed session key's logon proof was presented before, or its timestamp is outside the accepted window */
    ENG_GW_SECURITY_THROTTLED = 968, /* an intrusion detector throttles this session (order velocity, message-to-trade, cancel burst, rejects, sequence abuse) */
    ENG_GW_SECURITY_DISCONNECT = 969 /* an intrusion detector ended this session (its rule's action is disconnect or kill) */
    /* ---- END gateway block 940-999 */
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
    ENG_CMD_SET_KILL_SWITCH = 11,
    ENG_CMD_SET_POST_TRADE_LIMIT = 12,
    ENG_CMD_EXECUTE = 13,     /* an execution reported from outside against a named resting order */
    ENG_CMD_REDUCE = 14,      /* take a quantity off a resting order, keeping its place */
    ENG_CMD_SEED_LEVEL = 15,  /* add or remove liquidity at a level that belongs to no known order */
    ENG_CMD_NBBO = 16,        /* the reference NBBO (best bid/offer across venues), for dark midpoint trading */
    ENG_CMD_SET_ORDER_PROTECTION = 17, /* Rule 611 mode of a lit instrument (ENGINE.md "Order protection") */
    ENG_CMD_SET_ORDER_VELOCITY = 18   /* an account's pre-trade order-velocity limit (ENGINE.md "SET_ORDER_VELOCITY") */
} eng_cmd_type_t;

typedef enum eng_side { ENG_SIDE_NONE = 0, ENG_SIDE_BUY = 1, ENG_SIDE_SELL = 2 } eng_side_t;

typedef enum eng_ord_type {
    ENG_ORD_LIMIT = 1,
    ENG_ORD_MARKET = 2,
    ENG_ORD_STOP = 3,        /* stop-market: becomes a market order when triggered */
    ENG_ORD_STOP_LIMIT = 4,  /* becomes a limit order at `price` when triggered */
    ENG_ORD_MIDPOINT_PEG = 5 /* dark instruments only: pegged to the NBBO midpoint; `price` is an optional
                                limit (0: none); `display_qty` is the minimum acceptable quantity (0: none) */
} eng_ord_type_t;

/* How an instrument trades (ADD_INSTRUMENT.venue_mode). */
typedef enum eng_venue_mode {
    ENG_MODE_LIT = 0,         /* a displayed limit order book (everything in ENGINE.md before "Dark") */
    ENG_MODE_DARK_MIDPOINT = 1 /* never displayed; trades only at the midpoint of the reference NBBO */
} eng_venue_mode_t;

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
    ENG_FLAG_ICEBERG = 2,    /* display_qty is the peak shown; the rest is a hidden reserve */
    ENG_FLAG_ISO = 4         /* intermarket sweep order: its sender took every better protected quote
                                elsewhere (Rule 600(b)(30)), so Rule 611 protection does not stop it;
                                lit LIMIT IOC/FOK only */
} eng_order_flag_t;

typedef enum eng_phase {
    ENG_PHASE_CLOSED = 0,
    ENG_PHASE_PRE_OPEN = 1,  /* orders accepted, no matching; leaving it to CONTINUOUS uncrosses */
    ENG_PHASE_CONTINUOUS = 2,
    ENG_PHASE_HALTED = 3     /* cancels only; reopening goes through PRE_OPEN and an auction */
} eng_phase_t;

/* eng_cmd_hdr_t.session as the order-entry gateway sets it: the session's index in the
 * gateway's configuration + 1 in the low 15 bits; the top bit marks a cancel the gateway owed the
 * session in bulk (mass cancel, cancel-on-disconnect) rather than one of its requests. */
#define ENG_SESSION_TAG_INDEX_MASK 0x7FFF
#define ENG_SESSION_TAG_OWED 0x8000

/* Every command starts with this header. `seq` and `ts_ns` are stamped by the sequencer: seq
 * strictly increases, and ts_ns is the engine's only clock (engine time = max of all ts_ns seen),
 * so a replay of the journal reproduces every output byte. */
typedef struct eng_cmd_hdr {
    uint16_t type;           /* eng_cmd_type_t */
    uint16_t session;        /* the producer's tag, journaled with the command and otherwise
                                ignored by the engine (0: none). The order-entry gateway sets
                                ENG_SESSION_TAG_* above, so a gateway that restarts can tell,
                                from the journal alone, which session each of its commands
                                served (native/gateway/gw_entry.c, gw_sweep.c) */
    uint32_t instrument_id;  /* ids start at 1; ignored by commands whose doc says so */
    uint64_t seq;
    int64_t ts_ns;
} eng_cmd_hdr_t;

typedef struct eng_new_order {
    eng_cmd_hdr_t hdr;
    uint64_t order_id;        /* chosen by the submitter, non-zero, unique among live orders */
    uint64_t client_order_id; /* opaque, echoed in ACCEPTED and REJECTED */
    int64_t price;            /* LIMIT and STOP_LIMIT; MIDPOINT_PEG: optional limit (0: none); 0 otherwise */
    int64_t stop_price;       /* STOP and STOP_LIMIT only; 0 otherwise */
    int64_t qty;
    int64_t display_qty;      /* with ENG_FLAG_ICEBERG: the peak shown; MIDPOINT_PEG (never shown): the
                                 minimum acceptable quantity of each execution (0: none); 0 otherwise */
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
    uint64_t client_order_id; /* opaque, ignored by the engine, journaled: the order-entry gateway
                                 puts the cancel request's clOrdID here, so a gateway restarted
                                 from an older flow store reports it (gw_restore.c); 0: none */
} eng_cancel_t;

typedef struct eng_replace {
    eng_cmd_hdr_t hdr;
    uint64_t order_id;
    int64_t price;            /* new limit price */
    int64_t qty;              /* new remaining (leaves) quantity, reserve included */
    uint64_t client_order_id; /* opaque, ignored by the engine, journaled (as eng_cancel_t's) */
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
    int64_t nbbo_max_age_ns;  /* dark: an NBBO older than this (engine time - quote_ts_ns) is stale and
                                 nothing trades on it; must be > 0 for dark, >= 0 (unused) for lit */
    uint8_t venue_mode;       /* eng_venue_mode_t; dark needs an even tick_size, so that every midpoint
                                 of two on-tick quotes is a whole price unit (half a tick at most) */
    uint8_t _pad1[7];
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

/* The pre-trade order-velocity limit of one account, over all instruments: a token bucket in
 * engine time (ENGINE.md "SET_ORDER_VELOCITY"). Accepted NEW_ORDER and REPLACE commands count;
 * CANCEL, MASS_CANCEL and the outside flow (EXECUTE, REDUCE, SEED_LEVEL) never do. */
typedef struct eng_set_order_velocity {
    eng_cmd_hdr_t hdr;        /* instrument_id ignored: the limit covers the whole account */
    uint32_t account_id;
    uint32_t max_orders;      /* counted commands per window (and the largest burst); 0 with window_ns 0: no limit */
    int64_t window_ns;        /* the window, in the sequencer's clock (hdr.ts_ns) */
} eng_set_order_velocity_t;

typedef struct eng_set_kill_switch {
    eng_cmd_hdr_t hdr;        /* instrument_id ignored: the switch covers the whole account */
    uint32_t account_id;
    uint8_t engaged;          /* 1: cancel everything of the account and refuse new orders */
    uint8_t _pad1[3];
} eng_set_kill_switch_t;

/* Post-trade limits are evaluated by the control plane, not the engine; the engine only sequences,
 * journals and acknowledges them, so a replay of the journal reproduces every run-time change. */
typedef enum eng_post_trade_limit {
    ENG_PTL_VAR = 1,          /* value at risk per account, price units x quantity */
    ENG_PTL_DRAWDOWN = 2,     /* maximum drawdown of the account's equity */
    ENG_PTL_CONCENTRATION = 3, /* largest share of gross exposure (1.0 = 1000000) */
    ENG_PTL_LOSS = 4,         /* -(realized + unrealized) */
    ENG_PTL_NOTIONAL = 5,     /* gross exposure, sum |position x mark| */
    ENG_PTL_AUTO_KILL = 6     /* 0: off; any other value: engage the kill switch on a breach */
} eng_post_trade_limit_t;

typedef struct eng_set_post_trade_limit {
    eng_cmd_hdr_t hdr;        /* instrument_id ignored: the limits cover the whole account */
    uint32_t account_id;
    uint16_t limit;           /* eng_post_trade_limit_t */
    uint8_t _pad1[2];
    int64_t value_e6;         /* the limit in millionths (1.5 -> 1500000); 0: no limit */
} eng_set_post_trade_limit_t;

/* The three commands below carry order flow that happened elsewhere (a historical day replayed,
 * an outside venue's executions) into this book; ENGINE.md "Outside order flow". */
typedef struct eng_execute {
    eng_cmd_hdr_t hdr;
    uint64_t order_id;        /* the resting order executed (the passive side of the trade) */
    int64_t qty;              /* executes min(qty, leaves); the TRADE says how much */
    uint32_t contra_account_id; /* account booked on the aggressing side (position only) */
    uint32_t _pad1;
} eng_execute_t;

typedef struct eng_reduce {
    eng_cmd_hdr_t hdr;
    uint64_t order_id;
    int64_t qty;              /* takes min(qty, leaves) off; all of it cancels the order */
} eng_reduce_t;

/* Seeded liquidity is a resting LIMIT GTC order whose id is (1 << 63) | hdr.seq, so it never
 * collides with a submitter's id in practice and is found again by SEED_LEVEL's removal. */
typedef struct eng_seed_level {
    eng_cmd_hdr_t hdr;
    int64_t price;
    int64_t qty;              /* > 0: rest that much at the back; < 0: remove up to -qty of the
                                 level's seeded orders, newest first */
    uint32_t account_id;      /* owner of the seeded order (positions, mass cancel) */
    uint32_t stp_group;
    uint8_t side;
    uint8_t _pad1[7];
} eng_seed_level_t;

/* The reference NBBO, as the consolidator (SIP) saw it, entered as a sequenced command so that the
 * engine stays a pure function of its journaled input. A dark instrument trades only at
 * (bid_price + ask_price) / 2, and only while the quote is two-sided, neither locked nor crossed,
 * and not stale; a lit instrument only stores it. ENGINE.md "Dark midpoint instruments". */
typedef struct eng_nbbo {
    eng_cmd_hdr_t hdr;
    int64_t bid_price;        /* 0: no bid anywhere */
    int64_t ask_price;        /* 0: no offer anywhere */
    int64_t bid_qty;
    int64_t ask_qty;
    int64_t quote_ts_ns;      /* when the consolidator built the quote, in the sequencer's clock
                                 (the one hdr.ts_ns uses); staleness is measured from it */
} eng_nbbo_t;

/* Rule 611 order protection of a lit instrument (ENGINE.md "Order protection"): with a mode other
 * than OFF, the instrument's NBBO (ENG_CMD_NBBO; for a lit venue the consolidator sends the best
 * protected quotes of the OTHER venues) bounds every non-ISO execution. */
typedef enum eng_protect_mode {
    ENG_PROTECT_OFF = 0,       /* no protection (the default; a single venue has no other venue) */
    ENG_PROTECT_REJECT = 1,    /* a new order that would trade through is rejected whole */
    ENG_PROTECT_ROUTE_AWAY = 2 /* the order executes up to the protected price; the rest is cancelled
                                  (ENG_CXL_REGNMS_TRADE_THROUGH) for its sender to route away */
} eng_protect_mode_t;

typedef struct eng_set_order_protection {
    eng_cmd_hdr_t hdr;
    uint8_t mode;             /* eng_protect_mode_t */
    uint8_t _pad1[7];
    int64_t sub_penny_from;   /* Rule 612: an order or replace priced at or above this (the $1.00 of
                                 the price band, engine units) must be a multiple of
                                 sub_penny_increment, else ENG_REJ_REGNMS_SUB_PENNY (checked before
                                 the instrument's own tick); 0 with an increment of 0: no check */
    int64_t sub_penny_increment;
} eng_set_order_protection_t;

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
    eng_set_post_trade_limit_t set_post_trade_limit;
    eng_execute_t execute;
    eng_reduce_t reduce;
    eng_seed_level_t seed_level;
    eng_nbbo_t nbbo;
    eng_set_order_protection_t set_order_protection;
    eng_set_order_velocity_t set_order_velocity;
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

/*
 * A segment is one file under /dev/shm (or a hugetlbfs mount), mapped MAP_SHARED by every process
 * that uses it. Its first 4 KiB hold the segment header and the kind's control block; the data
 * area (rings only) starts on the next page, so it is page (and huge-page) aligned:
 *
 *   offset 0     ring_seg_hdr_t (256 B): identity (written once, before the file is linked into
 *                view) | state + heartbeat (creator writes, attachers read)
 *   offset 256   control block: ring_spsc_ctl_t | ring_bcast_ctl_t | ring_control_t
 *   offset 4096  data: `capacity` bytes (a power of two) of framed records (rings only)
 *
 * Record framing (Agrona RecordDescriptor shape), every record 8-byte aligned:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-------------------------------------------------------------+
 *   |R|                  length (header + payload)                  |  <0 claimed, 0 free,
 *   +-+-------------------------------------------------------------+  >0 complete
 *   |                          type (int32)                         |  -1: padding
 *   +---------------------------------------------------------------+
 *   |                 payload, `length - 8` bytes ...               |
 *   ...                          zero fill up to the next 8 bytes ...
 *
 * Positions (head, tail, tail_intent, cursors) are 64-bit byte counters that only grow; a
 * position's slot is `position & (capacity - 1)`. At 1e9 bytes/s they wrap after 584 years.
 * A record never straddles the end of the data area: when it does not fit, the writer fills the
 * rest with one padding record (type RING_MSG_PADDING) and starts the record at offset 0.
 *
 * SPSC ring (commands into the engine, replies out of it). Publication protocol and ordering:
 *   P1 producer claims: stores length = -(8 + payload) (relaxed: the consumer stops at <= 0
 *      whatever it sees), fills the payload in place with plain stores.
 *   P2 producer commits: stores length = +(8 + payload) with RELEASE.
 *      Partner: the ACQUIRE load of the length in ring_spsc_peek() (C1). Everything written in
 *      P1 happens-before the consumer's reads of that record.
 *   C1 consumer loads length at its read position with ACQUIRE; stops at <= 0.
 *   C2 after a batch the consumer zeroes the consumed bytes (so the next lap reads 0, never a
 *      stale length) and stores head with RELEASE.
 *      Partner: the ACQUIRE load of head in ring_spsc_claim() (P0), done only when the
 *      producer's cached head says the ring is full. The zeroing and the consumer's reads
 *      happen-before the producer's overwrite.
 *   `tail` is the producer's own counter; it is stored (relaxed) only for monitors and for a
 *   producer that re-attaches. The consumer never reads it: the length word is the publication.
 *
 * Broadcast log (the engine's event stream; one writer, any number of readers, each with its own
 * cursor in its own process memory; the writer never reads anything a reader writes):
 *   W1 writer stores tail_intent = the position it will reach (relaxed), then a RELEASE FENCE,
 *      then writes header and payload with relaxed 64-bit atomic stores (ring_atomic.h).
 *      Partner: the ACQUIRE FENCE a reader issues after copying (R3). If the reader's copy saw
 *      any byte of this write, it also sees the new tail_intent, so it detects the overwrite.
 *   W2 writer stores latest (relaxed) and tail with RELEASE. Partner: the ACQUIRE load of tail in
 *      ring_bcast_receive() (R1), which makes the record's bytes visible. A writer may do W1 for
 *      several records (ring_bcast_stage) and one W2 for all of them later (ring_bcast_publish):
 *      the engine holds a group's events on the log until the journal has made them durable.
 *      Staged bytes count against the readers' slack (tail_intent runs ahead by them), so the
 *      writer keeps them under half the capacity.
 *   R1 reader loads tail (ACQUIRE); nothing new if its cursor == tail.
 *   R2 reader copies header and payload out with relaxed 64-bit loads.
 *   R3 ACQUIRE FENCE, then loads tail_intent: the copy is intact iff
 *      tail_intent <= cursor + capacity (no write into the record's slot had begun). Otherwise
 *      the reader was lapped: it discards the copy, counts the lap, jumps to `latest` and returns
 *      RING_LAPPED, never the torn bytes. All shared accesses are atomic, so the scheme is a
 *      seqlock without a data race in the C11 model.
 *
 * Sleeping consumers (wait strategy "backoff"): a ring_doorbell_t next to what the consumer
 * waits for. Waiter: ticket = seq; sleepers += 1 (seq_cst); FULL FENCE; re-check for work;
 * futex_wait(seq, ticket). Waker, after publishing: FULL FENCE; if sleepers: seq += 1 and
 * futex_wake. The two full fences pair with each other (store-buffering, memory-barriers.txt
 * "SMP BARRIER PAIRING"): a release store followed by a load is not ordered, so without them
 * the waiter could miss the record while the waker misses the sleeper. liburing's
 * sq_ring_needs_enter() uses a full barrier for the same reason.
 *
 * Sleeping readers of the broadcast log (the gateways, the market-data publisher): the same
 * doorbell, ring_bcast_ctl_t.reader_bell, shared by every reader. Reader (ring_bcast_wait):
 *   B1 ticket = seq (ACQUIRE); sleepers += 1 (seq_cst); FULL FENCE;
 *   B2 re-check: tail != the reader's cursor -> no sleep;
 *   B3 futex_wait(seq, ticket, timeout); sleepers -= 1.
 * Writer (the engine), once per batch of records, after the last W2 release store of tail:
 *   B4 FULL FENCE; if sleepers (relaxed load) != 0: seq += 1 (RELEASE) and futex_wake(all).
 * Partners: B1's fence pairs with B4's fence (store-buffering, as above): either B2 loads the new
 * tail, or B4 loads sleepers != 0 and wakes; and because B1 took the ticket before announcing,
 * a wake between B2 and B3 changes seq and futex_wait returns at once. B4's RELEASE increment
 * pairs with B1's ACQUIRE load of the ticket. With no sleeper the writer pays one fence and one
 * relaxed load per batch, never a system call. A reader that cannot block on a futex (an epoll
 * loop) does B1-B2 itself just before blocking and lets a waker thread do B3 with a ticket taken
 * after the announcement, turning the wake into an eventfd (gw_waker.c).
 *
 * Cache lines: every field written by one side lives in its own 128-byte block (two 64-byte
 * lines, so the adjacent-line prefetcher does not pair a producer line with a consumer line).
 * cffi cannot parse alignment attributes, so the blocks are explicit uint8_t padding and the
 * static asserts at the end of this file pin every offset.
 *
 * Bump RING_LAYOUT_VERSION on ANY change to this section: attach refuses other versions.
 */
#define RING_LAYOUT_VERSION 5   /* 2: RING_MSG_ENG_CMD_STAMPED, ring_reply_t.enqueue_to_published_ns;
                                   3: ring_bcast_ctl_t.reader_bell;
                                   4: ring_control_t.recovered_seq and journal_dir;
                                   5: ring_control_t.journal_durable */
#define RING_SEG_MAGIC 0x3147455356454E56   /* "VNEVSEG1" as little-endian bytes */
#define RING_CACHE_BLOCK 128
#define RING_SEG_HDR_BYTES 256
#define RING_SEG_CTL_OFFSET 256
#define RING_SEG_DATA_OFFSET 4096
#define RING_RECORD_ALIGN 8
#define RING_RECORD_HDR_BYTES 8
#define RING_MIN_CAPACITY 1024
#define RING_MAX_CAPACITY 1073741824
#define RING_MAX_PRODUCERS 16

typedef enum ring_seg_kind {
    RING_KIND_SPSC = 1,
    RING_KIND_BROADCAST = 2,
    RING_KIND_CONTROL = 3
} ring_seg_kind_t;

typedef enum ring_seg_state {
    RING_STATE_INITIALISING = 0,
    RING_STATE_READY = 1,
    RING_STATE_DRAINING = 2,    /* control segment: engine stopping, submit nothing new */
    RING_STATE_CLOSED = 3
} ring_seg_state_t;

/* Results of ring and segment calls. "Try again" (-1001..-1009), "you are wrong" (-1010..-1019)
 * and "this segment cannot be used" (-1020..) are separate ranges; a system call failure is
 * returned as -errno, which never reaches these ranges. */
typedef enum ring_status {
    RING_OK = 0,
    RING_FULL = -1001,              /* no room now; the record was not written */
    RING_EMPTY = -1002,             /* nothing complete to read now */
    RING_TIMEOUT = -1003,           /* a bounded wait expired */
    RING_LAPPED = -1004,            /* broadcast reader fell behind by more than the capacity */
    RING_INVALID = -1010,           /* bad argument: type <= 0, bad capacity, bad offset */
    RING_TOO_BIG = -1011,           /* record longer than the ring's max_record */
    RING_SEG_MISSING = -1020,
    RING_SEG_TRUNCATED = -1021,     /* file shorter than its header says, or than a header */
    RING_SEG_BAD_MAGIC = -1022,
    RING_SEG_BAD_VERSION = -1023,
    RING_SEG_BAD_KIND = -1024,
    RING_SEG_BAD_CAPACITY = -1025,
    RING_SEG_NOT_READY = -1026,     /* creator still initialising */
    RING_SEG_CLOSED = -1027,
    RING_SEG_CREATOR_DEAD = -1028,  /* stale: the creating process is gone */
    RING_SEG_HEARTBEAT_STALE = -1029, /* creator alive but its heartbeat is older than allowed */
    RING_SEG_EXISTS = -1030,
    RING_SEG_CORRUPT = -1031        /* header fields or a record length inconsistent */
} ring_status_t;

typedef enum ring_msg_type {
    RING_MSG_PADDING = -1,          /* fills the end of the data area at a wrap */
    RING_MSG_ENG_CMD = 1,           /* payload: eng_cmd_t (producer -> engine) */
    RING_MSG_ENG_REPLY = 2,         /* payload: ring_reply_t (engine -> producer) */
    RING_MSG_ENG_EVT = 3,           /* payload: eng_evt_t (engine -> broadcast log) */
    RING_MSG_ENG_CMD_STAMPED = 4    /* payload: hdr_stamped_cmd_t (Section 5): a command plus its
                                       ring-enqueue stamp, for the latency histograms */
} ring_msg_type_t;

typedef enum ring_wait_mode {
    RING_WAIT_SPIN = 1,             /* never sleeps: for an isolated core */
    RING_WAIT_BACKOFF = 2           /* spin, then sched_yield, then futex sleep on a doorbell */
} ring_wait_mode_t;

typedef struct ring_record_hdr {
    int32_t length;                 /* header + payload bytes, unaligned; see the diagram */
    int32_t type;                   /* ring_msg_type_t or a user type > 0 */
} ring_record_hdr_t;

typedef struct ring_seg_hdr {
    /* Identity: written by the creator before the file is linked under its name; read-only. */
    uint64_t magic;                 /* RING_SEG_MAGIC */
    uint32_t layout_version;        /* RING_LAYOUT_VERSION */
    uint32_t kind;                  /* ring_seg_kind_t */
    uint64_t capacity;              /* data bytes, power of two; 0 for the control segment */
    uint64_t size_bytes;            /* whole file */
    uint32_t max_record;            /* largest record (header + payload) a writer may put */
    int32_t creator_pid;
    uint64_t creator_start_ticks;   /* field 22 of /proc/<pid>/stat: tells a reused pid apart */
    int64_t created_realtime_ns;
    uint8_t _pad0[72];
    /* Liveness: the creator writes (state: release; heartbeat: relaxed), attachers read. */
    uint32_t state;                 /* ring_seg_state_t */
    uint32_t _pad1;
    int64_t heartbeat_ns;           /* CLOCK_MONOTONIC of the creator's last heartbeat */
    uint8_t _pad2[112];
} ring_seg_hdr_t;

typedef struct ring_doorbell {
    uint32_t seq;                   /* futex word; wakers bump it (release) before futex_wake */
    uint32_t sleepers;              /* waiters between prepare and wake-up (seq_cst RMW) */
    uint64_t wakes;                 /* futex wakes issued, for monitors (relaxed) */
    uint8_t _pad0[112];
} ring_doorbell_t;

typedef struct ring_spsc_ctl {
    uint64_t tail;                  /* producer writes (relaxed): monitors and re-attach only */
    uint8_t _pad0[120];
    uint64_t head;                  /* consumer writes (release), producer reads (acquire) */
    uint8_t _pad1[120];
    ring_doorbell_t consumer_bell;  /* the consumer sleeps here; the producer rings it */
} ring_spsc_ctl_t;

typedef struct ring_bcast_ctl {
    /* All three are written only by the writer and read by every reader; they share one block
     * because the writer updates them together for every record. */
    uint64_t tail_intent;           /* relaxed store + release fence (W1); readers: fence + load */
    uint64_t tail;                  /* release store (W2); readers load acquire (R1) */
    uint64_t latest;                /* start of the last complete record; where a lapped reader
                                       resumes */
    uint64_t records;               /* records published, for monitors */
    uint8_t _pad0[96];
    ring_doorbell_t reader_bell;    /* sleeping readers wait here; the writer rings it once per
                                       batch, only if sleepers != 0 (B1-B4 above) */
} ring_bcast_ctl_t;

/* The command each engine reply answers is the producer's oldest unanswered one: replies come
 * back in submission order, one per command. */
typedef struct ring_reply {
    uint64_t seq;                   /* seq the sequencer gave the command; 0: malformed record */
    int64_t ts_ns;                  /* ts_ns the sequencer gave it (CLOCK_MONOTONIC at dequeue) */
    uint32_t event_count;           /* events it put on the broadcast log */
    uint32_t enqueue_to_published_ns; /* latency stamps (Section 5): for a RING_MSG_ENG_CMD_STAMPED
                                       command, ns from its ring enqueue to its events being on
                                       the log (saturates at UINT32_MAX); 0 otherwise. Never
                                       journaled, never seen by the engine's state. */
    eng_evt_t first;                /* its first event (ACCEPTED, REJECTED, CMD_ACK, ...) */
} ring_reply_t;

typedef struct ring_producer_slot {
    int32_t owner_pid;              /* 0 free; clients claim by CAS 0 -> pid, free by storing 0 */
    uint32_t _pad0;
    uint64_t commands;              /* engine writes (relaxed): commands taken from this slot */
    uint64_t bad_records;           /* engine writes (relaxed): malformed records answered */
    uint8_t _pad1[104];
} ring_producer_slot_t;

/* The control segment (kind CONTROL): one per engine, no data area. */
typedef struct ring_control {
    /* Engine writes, monitors read (all relaxed): a consistent snapshot is not promised. */
    uint32_t wait_mode;             /* ring_wait_mode_t: in SPIN clients skip the doorbell */
    uint32_t producer_count;        /* slots in use by this engine, <= RING_MAX_PRODUCERS */
    int32_t engine_cpu;             /* -1: not pinned */
    uint32_t journal_durable;       /* 1: a command's reply and events are released only once its
                                       command record is durable (--durability group or each), so
                                       what a gateway reports of them survives a power loss in the
                                       journal; 0: no journal, or async. Written before
                                       producer_count. */
    uint64_t last_seq;
    uint64_t commands;
    uint64_t events;
    uint64_t sleeps;                /* futex sleeps taken by the engine's wait strategy */
    uint64_t undrained;             /* records left in command rings at stop (dead producers) */
    uint64_t recovered_seq;         /* seq of the last command the engine recovered from its
                                       journal before serving (0: none); every event of a seq up
                                       to it is in the event journal, every later one is new on
                                       this engine's event log. Written before producer_count. */
    uint8_t _pad1[64];
    uint32_t stop_requested;        /* anyone stores 1 (release); engine loads (acquire) */
    uint8_t _pad2[124];
    ring_doorbell_t engine_bell;    /* the engine sleeps here; producers ring it after a commit */
    ring_producer_slot_t producers[16];
    char journal_dir[256];          /* the engine's journal directory, absolute and
                                       NUL-terminated; "" when it journals nothing. A gateway that
                                       outlived an engine crash reads the events it missed there,
                                       up to recovered_seq. Written before producer_count. */
} ring_control_t;


/* ---- Section 5: latency histograms (owned by hdr_*) -------------------------------------------
 * One region of shared memory holds up to HDR_REGION_MAX_HISTS histograms with HdrHistogram's
 * exact bucket layout (Java AbstractHistogram, HdrHistogram_c): counts[i] is the number of values
 * v with countsArrayIndex(v) == i, so Python hands the counts to the `hdrhistogram` package as they
 * are. Values are nanoseconds. Region bytes: hdr_region_t, then each histogram's counts array
 * (uint64, params.counts_len entries, 64-byte aligned) at hists[i].counts_offset from the start.
 * Writers: each histogram has exactly ONE writer thread (the stage's owner), which bumps a count
 * with a relaxed load + relaxed store (no lock, no RMW: nobody else writes that word). Readers
 * (snapshots) load each count relaxed: a count only grows, so a snapshot is a consistent histogram
 * of whatever it saw, and its total is the sum of its counts, never a separately read counter.
 * Nothing is dropped silently: values above the range go to overflow_count, negative intervals
 * (end stamped before start) to underflow_count.
 */
#define HDR_REGION_MAGIC 0x564e55454c544448   /* the bytes "HDTLEUNV" in memory */
#define HDR_REGION_VERSION 1
#define HDR_REGION_MAX_HISTS 16
#define HDR_HIST_NAME_LEN 32

/* The stages of the order path: each is the interval between two adjacent points below. */
typedef enum hdr_stage {
    HDR_STAGE_RECEIVE_TO_DECODE = 0,     /* socket receive -> decode done (gateway thread) */
    HDR_STAGE_DECODE_TO_ENQUEUE = 1,     /* decode done -> ring enqueue (gateway thread) */
    HDR_STAGE_ENQUEUE_TO_DEQUEUE = 2,    /* ring enqueue -> engine dequeue (engine; spans the ring) */
    HDR_STAGE_DEQUEUE_TO_MATCHED = 3,    /* engine dequeue -> matching done (engine thread) */
    HDR_STAGE_MATCHED_TO_PUBLISHED = 4,  /* matching done -> event published on the log (engine) */
    HDR_STAGE_PUBLISHED_TO_TRANSMIT = 5, /* event published -> gateway transmit (gateway; spans the log) */
    HDR_STAGE_END_TO_END = 6,            /* socket receive -> gateway transmit (gateway thread) */
    HDR_STAGE_COUNT = 7
} hdr_stage_t;

/* The points in time stamped along the order path, hdr_now() ticks. */
typedef enum hdr_point {
    HDR_POINT_SOCKET_RECEIVE = 0,
    HDR_POINT_DECODE = 1,
    HDR_POINT_RING_ENQUEUE = 2,
    HDR_POINT_ENGINE_DEQUEUE = 3,
    HDR_POINT_MATCHING_DONE = 4,
    HDR_POINT_EVENT_PUBLISHED = 5,
    HDR_POINT_GATEWAY_TRANSMIT = 6,
    HDR_POINT_COUNT = 7
} hdr_point_t;

typedef enum hdr_clock_source {
    HDR_CLOCK_AUTO = 0,       /* as a request: TSC where invariant, CLOCK_MONOTONIC otherwise */
    HDR_CLOCK_MONOTONIC = 1,  /* ticks are CLOCK_MONOTONIC nanoseconds */
    HDR_CLOCK_TSC = 2         /* ticks are invariant-TSC cycles, converted with the calibration */
} hdr_clock_source_t;

/* A process's clock choice and calibration; the region keeps its creator's copy so that every
 * process recording into it converts ticks to ns with the same factor (hdr_clock_adopt()). */
typedef struct hdr_clock_info {
    uint32_t source;                 /* hdr_clock_source_t, never HDR_CLOCK_AUTO once chosen */
    uint32_t tsc_invariant_cpuid;    /* 1: CPUID 0x80000007 EDX bit 8 (invariant TSC) is set */
    uint32_t tsc_flags_cpuinfo;      /* 1: /proc/cpuinfo lists both constant_tsc and nonstop_tsc */
    uint32_t ns_shift;               /* ns = (ticks * ns_mult) >> ns_shift */
    uint64_t ns_mult;
    double ticks_per_ns;             /* measured: TSC cycles per CLOCK_MONOTONIC ns; 1.0 for it */
    uint64_t calibration_window_ns;  /* CLOCK_MONOTONIC length of the calibration; 0 if none */
} hdr_clock_info_t;

/* HdrHistogram's derived parameters (same names and formulas as Java AbstractHistogram). */
typedef struct hdr_params {
    int64_t lowest_discernible_value;        /* >= 1 */
    int64_t highest_trackable_value;         /* >= 2 * lowest_discernible_value */
    int32_t significant_figures;             /* 1..5 */
    int32_t unit_magnitude;                  /* floor(log2(lowest_discernible_value)) */
    int32_t sub_bucket_half_count_magnitude;
    int32_t sub_bucket_count;                /* 2^(sub_bucket_half_count_magnitude + 1) */
    int32_t sub_bucket_half_count;
    int32_t bucket_count;                    /* buckets needed to cover highest_trackable_value */
    int32_t counts_len;                      /* (bucket_count + 1) * sub_bucket_half_count */
    int32_t _pad0;
    int64_t sub_bucket_mask;                 /* (sub_bucket_count - 1) << unit_magnitude */
} hdr_params_t;

/* One histogram's header: two cache lines, the first read-only after init, the second written
 * only by the histogram's writer, so a writer never shares a line with read-mostly metadata. */
typedef struct hdr_hist_hdr {
    /* written by hdr_region_init (before the magic's release), read by everyone */
    char name[32];                   /* NUL-terminated label, e.g. "end_to_end" */
    uint64_t counts_offset;          /* bytes from the region start to counts[0], 64-aligned */
    int64_t co_expected_interval_ns; /* written once by the writer before it records corrected
                                      * values (hdr_hist_declare_corrected); 0: uncorrected */
    uint8_t _pad0[16];
    /* written only by this histogram's writer (relaxed), read by snapshots (relaxed) */
    uint64_t overflow_count;         /* values above the trackable range, not in counts */
    int64_t overflow_max;            /* the largest such value, ns */
    uint64_t underflow_count;        /* negative values: an interval whose end precedes its start */
    uint8_t _pad1[40];
} hdr_hist_hdr_t;

/* A command as a latency-stamping producer (the gateway) writes it on its command ring, record
 * type RING_MSG_ENG_CMD_STAMPED. How the seven points travel, each stamped once, by one process:
 *   gateway: SOCKET_RECEIVE (after the recv() that completed the frame), DECODE (after sbe_decode),
 *            RING_ENQUEUE (enqueue_ticks below, just before the record is committed);
 *            it records receive_to_decode and decode_to_enqueue at once and keeps the receive and
 *            enqueue stamps with the command's pending entry.
 *   engine:  ENGINE_DEQUEUE (after peeking the record), MATCHING_DONE (eng_process returned),
 *            EVENT_PUBLISHED (its events are on the broadcast log: at once, or when a journal
 *            group is released); it records enqueue_to_dequeue, dequeue_to_matched and
 *            matched_to_published, and answers enqueue_to_published_ns in the ring_reply_t.
 *   gateway: GATEWAY_TRANSMIT (the send() pass that flushed the command's first report);
 *            it records published_to_transmit = (transmit - enqueue) - enqueue_to_published_ns
 *            and end_to_end = transmit - receive.
 * So nothing but the command's 96 bytes reaches the engine's state, journal or hash: the stamp
 * stays in the ring record. Each process records into its own region (one writer per histogram),
 * all converting with the engine region's calibration (the gateway adopts the engine's clock).
 * Only single-command requests (new order, cancel, replace) are stamped: a mass cancel's parts
 * and cancel-on-disconnect have no one frame to time from. */
typedef struct hdr_stamped_cmd {
    eng_cmd_t cmd;
    uint64_t enqueue_ticks;          /* hdr_now() of the producer at RING_ENQUEUE */
} hdr_stamped_cmd_t;

typedef struct hdr_region {
    /* written by hdr_region_init; magic last, with release (pairs with the acquire load in
     * hdr_region_attach), so an attacher that sees the magic sees every field below */
    uint64_t magic;                  /* HDR_REGION_MAGIC */
    uint32_t version;                /* HDR_REGION_VERSION */
    uint32_t hist_count;             /* histograms in use, 1..HDR_REGION_MAX_HISTS */
    uint64_t region_bytes;           /* header + all counts arrays */
    int64_t created_realtime_ns;     /* CLOCK_REALTIME at init: the interval logs' StartTime */
    uint8_t _pad0[32];
    hdr_params_t params;             /* the same for every histogram of the region */
    uint8_t _pad1[8];
    hdr_clock_info_t clock;          /* the creator's clock; recorders convert ticks with it */
    uint8_t _pad2[24];
    hdr_hist_hdr_t hists[16];        /* HDR_REGION_MAX_HISTS */
} hdr_region_t;

/* ---- Section 6: journal records (owned by jrnl_*) ---------------------------------------------
 * The sequencer's input journal (every command, as the engine processed it) and the output
 * journal (every event) are directories of preallocated, memory-mapped segment files
 * `cmd-NNNNNNNNNNNNNNNN.jrnl` / `evt-NNNNNNNNNNNNNNNN.jrnl` (16-digit segment index, 0, 1, ...).
 * The journal writer (jrnl_log.c) and every reader (recovery, replay, drop copy) use these structs
 * and nothing else:
 *
 *   offset 0     jrnl_seg_hdr_t (128 B): identity (written once at creation, covered by hdr_crc)
 *                | released_seq (writer: release store after each group is released)
 *   offset 128   fixed 128-byte records, slot i at 128 + 128 * i, until the end of the file
 *
 *    0               4               8       10      12              16              24      32
 *   +---------------+---------------+-------+-------+---------------+---------------+-------+
 *   | crc (CRC32C   | length = 128  | kind  | pad   | index (events:| seq           | ts_ns |
 *   | of bytes 4..) | 0: never used |       |       | n-th of cmd)  |               |       |
 *   +---------------+---------------+-------+-------+---------------+---------------+-------+
 *   | payload: eng_cmd_t (kind CMD) or eng_evt_t (kind EVT), 96 bytes                       |
 *
 * A record is valid iff length == 128, kind matches the file and crc == CRC32C(bytes 4..127).
 * Slots are zero until written (the file is filled with zero blocks when it is created, so a
 * full disk fails at segment creation, never as a SIGBUS in the middle of a record). Command
 * records have seq = previous + 1 across segments; event records have non-decreasing seq and, within one seq,
 * index 0, 1, 2 ... Recovery: a last record that fails its check with nothing valid after it is a
 * torn write (the process died inside the copy) and is zeroed; an invalid record followed by a
 * valid one is corruption and stops the start-up with the file and offset named.
 * Bump JRNL_LAYOUT_VERSION on ANY change to this section: a journal of another version is refused.
 */
#define JRNL_LAYOUT_VERSION 2   /* 2: command records' index names their producer slot */
#define JRNL_SEG_MAGIC 0x314C4E524A4E5556   /* "VUNJRNL1" as little-endian bytes */
#define JRNL_SEG_HDR_BYTES 128
#define JRNL_RECORD_BYTES 128
#define JRNL_CRC_FROM 4                      /* the crc covers record bytes [4, 128) */

typedef enum jrnl_kind {
    JRNL_KIND_CMD = 1,                       /* payload eng_cmd_t */
    JRNL_KIND_EVT = 2                        /* payload eng_evt_t */
} jrnl_kind_t;

/* Results of journal calls that are not -errno (a system call failure stays -errno). */
typedef enum jrnl_status {
    JRNL_OK = 0,
    JRNL_INVALID = -2010,                    /* bad argument (path too long, bad kind, size) */
    JRNL_BAD_MAGIC = -2020,                  /* a segment file that is not a journal */
    JRNL_BAD_VERSION = -2021,                /* written by another layout version */
    JRNL_BAD_SEGMENT = -2022,                /* header inconsistent (kind, index, size, crc) */
    JRNL_BAD_CONFIG = -2023,                 /* written by an engine with other capacities */
    JRNL_CORRUPT = -2024,                    /* an invalid record with valid records after it */
    JRNL_SEQ_GAP = -2025,                    /* command seqs not consecutive, or events going back */
    JRNL_MISMATCH = -2026,                   /* a replay produced events that differ from the
                                                output journal: not deterministic, or tampered */
    JRNL_FAILED = -2030                      /* an earlier write or sync failed: log unusable */
} jrnl_status_t;

typedef struct jrnl_seg_hdr {
    /* identity: written before the file gets its name, covered by hdr_crc; read-only after */
    uint64_t magic;                          /* JRNL_SEG_MAGIC */
    uint32_t layout_version;                 /* JRNL_LAYOUT_VERSION */
    uint32_t kind;                           /* jrnl_kind_t */
    uint64_t segment_index;                  /* equals the number in the file name */
    uint64_t segment_bytes;                  /* whole file */
    uint32_t record_bytes;                   /* JRNL_RECORD_BYTES */
    uint32_t hdr_crc;                        /* CRC32C of bytes [0, 64) with hdr_crc = 0 */
    int64_t created_realtime_ns;
    uint32_t max_orders;                     /* the engine capacities the records were */
    uint32_t max_levels;                     /* produced with: a replay must use the same */
    uint32_t max_instruments;
    uint32_t max_accounts;
    /* progress: the writer stores (release) after every release of a group; tailing readers
     * (drop copy) load it (acquire) and read only records with seq <= released_seq */
    uint64_t released_seq;
    uint8_t _pad0[56];
} jrnl_seg_hdr_t;

typedef struct jrnl_rec_hdr {
    uint32_t crc;                            /* CRC32C of record bytes [4, 128) */
    uint32_t length;                         /* JRNL_RECORD_BYTES; 0: slot never written */
    uint16_t kind;                           /* jrnl_kind_t, equal to the file's */
    uint16_t _pad0;
    uint32_t index;                          /* events: position within its command; commands:
                                                the producer slot it was taken from + 1 (0: not
                                                from a ring), so a producer that outlived a crash
                                                can tell which journaled commands were its own */
    uint64_t seq;
    int64_t ts_ns;
} jrnl_rec_hdr_t;

typedef struct jrnl_cmd_rec {
    jrnl_rec_hdr_t hdr;
    eng_cmd_t cmd;
} jrnl_cmd_rec_t;

typedef struct jrnl_evt_rec {
    jrnl_rec_hdr_t hdr;
    eng_evt_t evt;
} jrnl_evt_rec_t;


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

VENUE_STATIC_ASSERT(sizeof(ring_seg_hdr_t) == RING_SEG_HDR_BYTES, "segment header is 256 bytes");
VENUE_STATIC_ASSERT(sizeof(ring_record_hdr_t) == RING_RECORD_HDR_BYTES, "record header is 8 bytes");
VENUE_STATIC_ASSERT(sizeof(ring_doorbell_t) == RING_CACHE_BLOCK, "doorbell owns one block");
VENUE_STATIC_ASSERT(sizeof(ring_spsc_ctl_t) == 3 * RING_CACHE_BLOCK, "tail | head | bell");
VENUE_STATIC_ASSERT(__builtin_offsetof(ring_spsc_ctl_t, head) == RING_CACHE_BLOCK,
                    "head on its own block");
VENUE_STATIC_ASSERT(sizeof(ring_bcast_ctl_t) == 2 * RING_CACHE_BLOCK, "broadcast ctl | reader bell");
VENUE_STATIC_ASSERT(__builtin_offsetof(ring_bcast_ctl_t, reader_bell) == RING_CACHE_BLOCK,
                    "reader bell on its own block");
VENUE_STATIC_ASSERT(__builtin_offsetof(ring_seg_hdr_t, state) == RING_CACHE_BLOCK,
                    "liveness block apart from identity");
VENUE_STATIC_ASSERT(sizeof(ring_producer_slot_t) == RING_CACHE_BLOCK, "one block per producer");
VENUE_STATIC_ASSERT(__builtin_offsetof(ring_control_t, stop_requested) == RING_CACHE_BLOCK,
                    "stop word on its own block");
VENUE_STATIC_ASSERT(__builtin_offsetof(ring_control_t, engine_bell) == 2 * RING_CACHE_BLOCK,
                    "engine bell on its own block");
VENUE_STATIC_ASSERT(sizeof(((ring_control_t *)0)->producers) / sizeof(ring_producer_slot_t) ==
                    RING_MAX_PRODUCERS, "producer table size");
VENUE_STATIC_ASSERT(RING_SEG_CTL_OFFSET + sizeof(ring_control_t) <= 2 * RING_SEG_DATA_OFFSET,
                    "control segment fits two pages");
VENUE_STATIC_ASSERT(RING_SEG_CTL_OFFSET + 3 * RING_CACHE_BLOCK <= RING_SEG_DATA_OFFSET,
                    "ring control blocks fit before the data area");
VENUE_STATIC_ASSERT(sizeof(ring_reply_t) % RING_RECORD_ALIGN == 0, "reply is 8-byte aligned");
VENUE_STATIC_ASSERT(sizeof(hdr_stamped_cmd_t) == 104, "stamped command: 96 + the enqueue stamp");
VENUE_STATIC_ASSERT(sizeof(jrnl_seg_hdr_t) == JRNL_SEG_HDR_BYTES, "journal segment header");
VENUE_STATIC_ASSERT(__builtin_offsetof(jrnl_seg_hdr_t, released_seq) == 64, "hdr_crc covers [0, 64)");
VENUE_STATIC_ASSERT(sizeof(jrnl_rec_hdr_t) == 32, "journal record header is 32 bytes");
VENUE_STATIC_ASSERT(sizeof(jrnl_cmd_rec_t) == JRNL_RECORD_BYTES, "command journal record");
VENUE_STATIC_ASSERT(sizeof(jrnl_evt_rec_t) == JRNL_RECORD_BYTES, "event journal record");

#endif /* VENUE_LAYOUT_H */
