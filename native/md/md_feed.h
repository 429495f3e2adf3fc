/*
 * md_feed.h - the one definition of the venue's market-data wire format (ITCH-style messages in
 * MoldUDP64 packets, the L1/L2 conflated messages, and the recovery channel's frames).
 *
 * The C encoder (md_encode.c), the C book applier (md_sub.c) and the Python decoder
 * (gateway/marketdata/schema.py, which derives numpy dtypes from these structs through cffi) all
 * read the shapes from here, so a change is one edit. Invariants: every integer on the wire is
 * big-endian (network order, as ITCH and MoldUDP64 specify); every message struct is naturally
 * aligned with explicit pads, so its C layout is its wire layout (static asserts below); a field
 * declared as uint8_t[2|4|8] is a big-endian integer that sits unaligned in the wire format
 * (MoldUDP64's header), and the Python side reads it as such.
 */
#ifndef MD_FEED_H
#define MD_FEED_H

#include <stdint.h>

/* CFFI-BEGIN */
#define MD_FEED_VERSION 1
#define MD_SESSION_LEN 10           /* MoldUDP64 session: 10 ASCII bytes, space padded */
#define MD_MOLD_HDR_BYTES 20
#define MD_MOLD_HEARTBEAT_COUNT 0       /* message count of a heartbeat packet */
#define MD_MOLD_END_OF_SESSION 65535    /* message count of the end-of-session packet */
#define MD_MSG_LEN_BYTES 2              /* each message in a packet is preceded by its length */
#define MD_MAX_PACKET_BYTES 1472        /* one Ethernet-MTU UDP payload */
#define MD_SIDE_BUY 66                  /* 'B' */
#define MD_SIDE_SELL 83                 /* 'S' */
#define MD_SIDE_NONE 32                 /* ' ' (trade prints of auction crosses) */

/* Message types: the ASCII letter ITCH uses for the same concept where it has one. */
typedef enum md_msg_type {
    MD_MSG_DIRECTORY = 82,          /* 'R' instrument directory */
    MD_MSG_STATUS = 72,             /* 'H' trading status (phase) */
    MD_MSG_ADD = 65,                /* 'A' add order (displayed part) */
    MD_MSG_EXECUTED = 69,           /* 'E' order executed (displayed shares) */
    MD_MSG_CANCEL = 88,             /* 'X' order cancel (displayed shares reduced) */
    MD_MSG_DELETE = 68,             /* 'D' order delete */
    MD_MSG_REPLACE = 85,            /* 'U' order replace (to the back of the new level) */
    MD_MSG_TRADE = 80,              /* 'P' trade of non-displayed shares */
    MD_MSG_CROSS = 81,              /* 'Q' cross trade (auction uncross) */
    MD_MSG_IMBALANCE = 73,          /* 'I' auction imbalance (NOII) */
    MD_MSG_SNAPSHOT_END = 71,       /* 'G' end of a book snapshot; header md_seq = as-of seq */
    MD_MSG_BBO = 66,                /* 'B' level 1: best bid/offer and last trade (conflated) */
    MD_MSG_DEPTH = 86               /* 'V' level 2: top N levels per side (conflated) */
} md_msg_type_t;

/* Return codes of every md_* function: 0 ok, > 0 "nothing wrong, nothing done", < 0 errors.
 * -2001..-2019: the bytes are wrong (a malformed packet or request; never crashes, nothing
 * applied); -2020..-2039: the request is well formed but cannot be served here; -2040..: state. */
typedef enum md_status {
    MD_OK = 0,
    MD_GAP = 1,                     /* packet starts after the next expected seq: nothing applied */
    MD_STALE = 2,                   /* every message already applied: nothing applied */
    MD_END_OF_SESSION = 3,          /* the publisher ended the session */
    MD_E_PACKET_SHORT = -2001,      /* fewer bytes than a MoldUDP64 header */
    MD_E_MSG_TRUNCATED = -2002,     /* a message length runs past the end of the packet */
    MD_E_MSG_LENGTH = -2003,        /* a message length does not fit its type */
    MD_E_UNKNOWN_TYPE = -2004,      /* message type the feed does not define */
    MD_E_COUNT = -2005,             /* header message count disagrees with the messages present */
    MD_E_SESSION = -2006,           /* packet of another session */
    MD_E_SEQ_FIELD = -2007,         /* a message's md_seq is not the packet's seq + its index */
    MD_E_BAD_VALUE = -2008,         /* a side, quantity or price outside what the feed allows */
    MD_E_REQUEST = -2009,           /* malformed recovery request */
    MD_E_NOT_RETAINED = -2020,      /* retransmission: range older than the store keeps */
    MD_E_NOT_YET = -2021,           /* retransmission: range beyond the last published seq */
    MD_E_BUFFER_SMALL = -2022,      /* caller's output buffer cannot take even one unit */
    MD_E_BOOK = -2040,              /* the feed contradicts the book (unknown or duplicate order,
                                       more shares removed than shown): resync from a snapshot */
    MD_E_CAPACITY = -2041,          /* book or order table full */
    MD_E_NOMEM = -2042
} md_status_t;

/* MoldUDP64 downstream packet header (also the upstream request's shape on UDP). */
typedef struct md_mold_hdr {
    char session[10];
    uint8_t sequence_number[8];     /* seq of the first message in the packet */
    uint8_t message_count[2];
} md_mold_hdr_t;

/* Every message starts with this header. md_seq is the MoldUDP64 sequence number of the message
 * (repeated here so that a message stands alone once taken out of its packet); engine_seq and
 * ts_ns are those of the engine command that caused it (0 for conflated and snapshot messages
 * where no single command did). */
typedef struct md_msg_hdr {
    uint8_t msg_type;               /* md_msg_type_t */
    uint8_t _pad0[3];
    uint32_t instrument_id;
    uint64_t md_seq;
    uint64_t engine_seq;
    int64_t ts_ns;
} md_msg_hdr_t;

typedef struct md_msg_directory {
    md_msg_hdr_t hdr;
    char symbol[8];                 /* ASCII, space padded */
    int64_t tick_size;
    int64_t lot_size;
    int64_t reference_price;
    uint8_t config_known;           /* 0: the publisher was not given this instrument's
                                       configuration; tick/lot/reference are then 0 */
    uint8_t _pad1[7];
} md_msg_directory_t;

typedef struct md_msg_status {
    md_msg_hdr_t hdr;
    uint8_t phase;                  /* eng_phase_t */
    uint8_t prev_phase;
    uint8_t _pad1[6];
} md_msg_status_t;

typedef struct md_msg_add {
    md_msg_hdr_t hdr;
    /* the engine's order id (stable across replaces/refills). Anonymous liquidity (SEED_LEVEL)
     * is added under the engine's seed id, (1 << 63) | the seeding command's seq: a reserved
     * range no submitted order uses, so a ref with bit 63 set is seeded level liquidity that
     * belongs to no known order. An EXECUTE against a named order is an 'E' on that order (its
     * outside aggressor has no ref); a REDUCE is an 'X' (part) or a 'D' (all). */
    uint64_t order_ref;
    int64_t price;
    int64_t shares;                 /* displayed shares */
    uint8_t side;                   /* MD_SIDE_BUY / MD_SIDE_SELL */
    uint8_t _pad1[7];
} md_msg_add_t;

typedef struct md_msg_executed {
    md_msg_hdr_t hdr;
    uint64_t order_ref;
    int64_t shares;                 /* displayed shares executed; at 0 shown the order is gone */
    uint64_t match_number;          /* the engine's trade id */
    int64_t price;                  /* execution price (the order's price, or the auction's) */
} md_msg_executed_t;

typedef struct md_msg_cancel {
    md_msg_hdr_t hdr;
    uint64_t order_ref;
    int64_t shares;                 /* displayed shares removed; the order stays */
} md_msg_cancel_t;

typedef struct md_msg_delete {
    md_msg_hdr_t hdr;
    uint64_t order_ref;
} md_msg_delete_t;

typedef struct md_msg_replace {
    md_msg_hdr_t hdr;
    uint64_t orig_ref;
    uint64_t new_ref;               /* equal to orig_ref on this venue (ids are stable) */
    int64_t price;
    int64_t shares;
} md_msg_replace_t;

typedef struct md_msg_trade {
    md_msg_hdr_t hdr;
    uint64_t match_number;
    int64_t price;
    int64_t shares;                 /* executed shares that were never displayed */
    uint8_t side;                   /* side of the resting order, or MD_SIDE_NONE */
    uint8_t _pad1[7];
} md_msg_trade_t;

typedef struct md_msg_cross {
    md_msg_hdr_t hdr;
    int64_t price;
    int64_t shares;                 /* matched in the uncross */
} md_msg_cross_t;

typedef struct md_msg_imbalance {
    md_msg_hdr_t hdr;
    int64_t paired_shares;
    int64_t imbalance_shares;
    int64_t cross_price;            /* 0 when the book did not cross (crossed says which) */
    uint8_t imbalance_side;         /* MD_SIDE_BUY / MD_SIDE_SELL / MD_SIDE_NONE */
    uint8_t crossed;
    uint8_t _pad1[6];
} md_msg_imbalance_t;

typedef struct md_msg_snapshot_end {
    md_msg_hdr_t hdr;               /* hdr.md_seq: the last live seq the snapshot reflects */
    uint32_t instruments;
    uint32_t orders;                /* add messages in the snapshot */
} md_msg_snapshot_end_t;

typedef struct md_msg_bbo {
    md_msg_hdr_t hdr;
    int64_t bid_price;
    int64_t bid_qty;
    int64_t ask_price;
    int64_t ask_qty;
    int64_t last_price;
    int64_t last_qty;
    uint32_t bid_count;
    uint32_t ask_count;
    uint8_t has_bid;
    uint8_t has_ask;
    uint8_t has_last;
    uint8_t phase;
    uint8_t _pad1[4];
} md_msg_bbo_t;

/* Level 2: the header, then bid_levels entries (best first), then ask_levels entries. */
typedef struct md_msg_depth {
    md_msg_hdr_t hdr;
    uint16_t bid_levels;
    uint16_t ask_levels;
    uint32_t _pad1;
} md_msg_depth_t;

typedef struct md_depth_level {
    int64_t price;
    int64_t qty;
    uint32_t order_count;
    uint32_t _pad0;
} md_depth_level_t;

/* Recovery channel (TCP). A request is one md_rq_t; the server answers with frames, each an
 * md_rsp_hdr_t and `length` bytes: kind 'P' a MoldUDP64 packet, 'M' a run of length-prefixed
 * snapshot messages (MD_MSG_LEN_BYTES + message, as in a packet), 'E' an error (status holds the
 * md_status_t magnitude, the bytes an ASCII reason), 'Z' end of the answer. */
#define MD_RQ_RETRANSMIT 82             /* 'R' */
#define MD_RQ_SNAPSHOT 83               /* 'S' */
#define MD_RSP_PACKET 80                /* 'P' */
#define MD_RSP_MESSAGES 77              /* 'M' */
#define MD_RSP_ERROR 69                 /* 'E' */
#define MD_RSP_END 90                   /* 'Z' */
#define MD_RQ_MAX_COUNT 65535           /* messages one retransmit request may ask for */

typedef struct md_rq {
    char session[10];
    uint8_t kind;                   /* MD_RQ_RETRANSMIT / MD_RQ_SNAPSHOT */
    uint8_t _pad0;
    uint32_t count;                 /* retransmit: messages wanted; snapshot: 0 */
    uint64_t first_seq;             /* retransmit: first seq wanted; snapshot: 0 */
} md_rq_t;

typedef struct md_rsp_hdr {
    uint32_t length;                /* bytes after this header */
    uint16_t status;                /* 'E': -md_status_t; else 0 */
    uint8_t kind;
    uint8_t _pad0;
} md_rsp_hdr_t;
/* CFFI-END */

_Static_assert(sizeof(md_mold_hdr_t) == MD_MOLD_HDR_BYTES, "MoldUDP64 header is 20 bytes");
_Static_assert(sizeof(md_msg_hdr_t) == 32, "message header");
_Static_assert(sizeof(md_msg_directory_t) == 72, "directory");
_Static_assert(sizeof(md_msg_status_t) == 40, "status");
_Static_assert(sizeof(md_msg_add_t) == 64, "add");
_Static_assert(sizeof(md_msg_executed_t) == 64, "executed");
_Static_assert(sizeof(md_msg_cancel_t) == 48, "cancel");
_Static_assert(sizeof(md_msg_delete_t) == 40, "delete");
_Static_assert(sizeof(md_msg_replace_t) == 64, "replace");
_Static_assert(sizeof(md_msg_trade_t) == 64, "trade");
_Static_assert(sizeof(md_msg_cross_t) == 48, "cross");
_Static_assert(sizeof(md_msg_imbalance_t) == 64, "imbalance");
_Static_assert(sizeof(md_msg_snapshot_end_t) == 40, "snapshot end");
_Static_assert(sizeof(md_msg_bbo_t) == 96, "bbo");
_Static_assert(sizeof(md_msg_depth_t) == 40, "depth header");
_Static_assert(sizeof(md_depth_level_t) == 24, "depth level");
_Static_assert(sizeof(md_rq_t) == 24, "recovery request");
_Static_assert(sizeof(md_rsp_hdr_t) == 8, "recovery frame header");

#endif /* MD_FEED_H */
