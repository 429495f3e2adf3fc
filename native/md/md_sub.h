/*
 * md_sub.h - a subscriber's C side: validate MoldUDP64 packets of the order-by-order feed and
 * apply them, in sequence, to an md_book (Level 3; Level 2 and 1 are read off the same book).
 *
 * A packet is validated whole before anything is applied, so a malformed packet changes nothing.
 * Sequencing follows MoldUDP64: the subscriber knows the next seq it needs; a packet starting later
 * is a gap (nothing applied, the caller recovers the missing range and then re-offers the packet),
 * messages it already has are skipped. The Python subscriber (gateway/marketdata/subscriber.py)
 * owns sockets and recovery; this file owns everything done per message.
 */
#ifndef MD_SUB_H
#define MD_SUB_H

#include <stddef.h>
#include <stdint.h>

#include "md_book.h"

/* CFFI-BEGIN */
typedef struct md_sub md_sub_t;

typedef struct md_sub_inst {
    char symbol[8];
    int64_t tick_size;
    int64_t lot_size;
    int64_t reference_price;
    int64_t last_price;
    int64_t last_qty;
    uint64_t last_md_seq;           /* seq of the last message about this instrument */
    uint8_t known;                  /* a directory message was seen */
    uint8_t config_known;
    uint8_t has_last;
    uint8_t phase;
    uint8_t print_side;             /* the side counted for print_match (ENG_SIDE_*, 0: unknown) */
    uint8_t _pad0[3];
    int64_t traded_qty;             /* shares traded since the subscriber started or was reset: one
                                       side of each match of the EXECUTED and TRADE messages (an
                                       auction cross prints both resting sides under one match
                                       number). A recovery snapshot carries none: prints missed in
                                       a gap are not in it. */
    uint64_t print_match;           /* match number of the last print counted */
} md_sub_inst_t;

typedef struct md_sub_stats {
    uint64_t packets;               /* packets offered */
    uint64_t messages;              /* messages applied */
    uint64_t skipped;               /* messages already applied (duplicates, overlaps) */
    uint64_t gaps;                  /* packets refused as MD_GAP */
    uint64_t malformed;             /* packets refused as malformed */
    uint64_t book_errors;           /* MD_E_BOOK / MD_E_CAPACITY while applying */
    uint64_t heartbeats;
    uint64_t next_seq;              /* next seq this subscriber needs */
    int32_t last_error;             /* md_status_t of the last refused packet, 0 if none */
    uint32_t last_error_index;      /* index of the offending message in that packet */
    uint64_t prints_lost;           /* trades not kept: the print buffer was full (md_sub_keep_prints) */
} md_sub_stats_t;

/* One trade as the feed printed it, for a subscriber that wants each trade (a strategy's
 * on_trade): one record per match number, as the engine's TRADE event had it. An iceberg's shown
 * ('E') and hidden ('P') parts of one match are one record while it is not yet taken; an auction
 * uncross prints both resting sides under one match number and counts once (as traded_qty). */
typedef struct md_sub_print {
    int64_t ts_ns;                  /* the engine's timestamp of the trade (message header) */
    int64_t price;
    int64_t qty;                    /* shares of the match, shown and hidden parts together */
    uint64_t match_number;          /* the engine's trade id */
    uint64_t md_seq;                /* seq of the first message of the print */
    uint32_t instrument_id;
    uint8_t aggressor_side;         /* ENG_SIDE_BUY / ENG_SIDE_SELL: the side opposite the resting
                                       order; 0: an auction uncross (printed in PRE_OPEN) or a
                                       dark cross with no aggressor */
    uint8_t hidden;                 /* 1: no displayed share traded (only 'P' messages) */
    uint8_t _pad0[2];
} md_sub_print_t;

/* session: the 10-byte MoldUDP64 session to accept. 0 and *out set, -EINVAL or -ENOMEM. */
int md_sub_create(const char *session, uint32_t max_orders, uint32_t max_levels,
                  uint32_t max_instruments, md_sub_t **out);
void md_sub_destroy(md_sub_t *sub);

/* Offers one MoldUDP64 packet. Returns MD_OK (applied; also for a heartbeat), MD_GAP (the packet
 * starts after next_seq: nothing applied), MD_STALE (nothing new), MD_END_OF_SESSION, or a
 * negative md_status_t: malformed (nothing applied) or MD_E_BOOK / MD_E_CAPACITY (the feed
 * contradicts the book, applied up to the offending message: resync from a snapshot). *first_seq
 * and *count are the packet's header values whenever the header could be read. */
int md_sub_apply_packet(md_sub_t *sub, const uint8_t *pkt, size_t len, uint64_t *first_seq,
                        uint32_t *count);

/* Replaces the book with a snapshot (length-prefixed messages ending with 'G', as the recovery
 * server sends them) and sets next_seq to its as-of seq + 1. MD_OK or a negative md_status_t
 * (malformed: the book is then empty and next_seq 0 until a good snapshot comes). */
int md_sub_apply_snapshot(md_sub_t *sub, const uint8_t *buf, size_t len);

/* Validates one message (type byte first, `len` bytes): 0 or a negative md_status_t. */
int md_msg_validate(const uint8_t *msg, size_t len, uint32_t max_instruments);

/* Sets the next seq wanted and empties the book (a subscriber that joins at the session start
 * uses next_seq 1). */
void md_sub_reset(md_sub_t *sub, uint64_t next_seq);
/* 0 or MD_E_BAD_VALUE (id out of range). */
int md_sub_instrument(const md_sub_t *sub, uint32_t instrument_id, md_sub_inst_t *out);
void md_sub_get_stats(const md_sub_t *sub, md_sub_stats_t *out);
const md_book_t *md_sub_book(const md_sub_t *sub);

/* Keeps each trade the packets apply (md_sub_print_t, feed order) in a buffer of `capacity`
 * records until md_sub_take_prints takes them; a trade that finds the buffer full is counted in
 * prints_lost, not kept. Off until called (no cost to other subscribers); a second call replaces
 * the buffer and drops what it held. Snapshots carry no trades. 0, -EINVAL (capacity 0) or
 * -ENOMEM. */
int md_sub_keep_prints(md_sub_t *sub, uint32_t capacity);
/* Moves up to `max` kept trades, oldest first, into out; returns how many (0 when none are kept
 * or md_sub_keep_prints was never called). The caller owns out. */
uint32_t md_sub_take_prints(md_sub_t *sub, md_sub_print_t *out, uint32_t max);
/* CFFI-END */

#endif /* MD_SUB_H */
