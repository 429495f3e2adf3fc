/*
 * md_encode.h - the market-data publisher's hot path: engine events in, ITCH-style messages out.
 *
 * md_enc_events derives the order-by-order feed for the displayed book from the engine's event
 * stream (native/ENGINE.md), keeping per-order state (shown, leaves, iceberg peak) because the
 * events carry leaves incl. reserve, not what is shown. Each message gets the next sequence number
 * and is appended, length-prefixed as in a MoldUDP64 packet, to a bounded retransmission store;
 * md_enc_pack cuts MoldUDP64 packets out of that store, for the live feed and for retransmissions
 * alike. Level 2 / Level 1 (md_enc_conflated) and snapshots are derived from the same book. Not
 * thread-safe: one thread owns an md_enc_t (the publisher serialises its retransmission server).
 */
#ifndef MD_ENCODE_H
#define MD_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "md_book.h"
#include "venue_layout.h"

/* CFFI-BEGIN */
#define MD_MAX_DEPTH_LEVELS 25      /* a full depth message of 2 x 25 levels fits one packet */

typedef struct md_enc md_enc_t;

typedef struct md_enc_config {
    char session[10];               /* order-by-order channel's MoldUDP64 session */
    char depth_session[10];         /* conflated L1/L2 channel's session */
    uint32_t max_orders;            /* live orders tracked (>= the engine's max_orders) */
    uint32_t max_levels;
    uint32_t max_instruments;
    uint32_t depth_levels;          /* N of the L2 messages, 1..MD_MAX_DEPTH_LEVELS */
    uint32_t max_packet_bytes;      /* UDP payload limit, 256..MD_MAX_PACKET_BYTES */
    uint32_t store_messages;        /* retransmission store: messages kept, power of two */
    uint64_t store_bytes;           /* retransmission store: bytes kept, power of two */
} md_enc_config_t;

typedef struct md_enc_stats {
    uint64_t events;                /* engine events consumed */
    uint64_t messages;              /* order-by-order messages published */
    uint64_t next_seq;              /* seq the next message gets (first is 1) */
    uint64_t oldest_seq;            /* oldest seq still in the store */
    uint64_t depth_next_seq;        /* next seq on the conflated channel */
    uint64_t level_mismatches;      /* BOOK_LEVEL events the derived book disagrees with */
    uint64_t first_mismatch_seq;    /* engine seq of the first such event, 0 if none */
    uint64_t unknown_orders;        /* events about orders the publisher did not track */
    uint64_t stray_pending;         /* aggressors that neither rested nor left (a derivation bug) */
    uint64_t capacity_errors;       /* orders or levels the publisher had no room for */
    uint32_t displayed_orders;
    uint32_t _pad0;
} md_enc_stats_t;

/* 0 and *out set; -EINVAL naming nothing (check the config against the comments above) or
 * -ENOMEM. */
int md_enc_create(const md_enc_config_t *cfg, md_enc_t **out);
void md_enc_destroy(md_enc_t *enc);

/* Directory data for an instrument (sent in 'R' when the engine adds it, and in snapshots).
 * 0 or MD_E_BAD_VALUE (id out of range). */
int md_enc_set_instrument(md_enc_t *enc, uint32_t instrument_id, const char *symbol8,
                          int64_t tick_size, int64_t lot_size, int64_t reference_price);

/* Consumes n engine events in order. Returns the number of messages appended to the store (their
 * seqs are the last ones: stats.next_seq - return .. stats.next_seq - 1). Never fails: events the
 * derived book cannot explain are counted in the stats. */
int64_t md_enc_events(md_enc_t *enc, const eng_evt_t *evts, size_t n);

/* MoldUDP64 packets carrying messages [first_seq, first_seq + count), back to back into out,
 * each packet's length in lens[]. Stops early when out or lens is full; *packed says how many
 * messages went out. Returns the number of packets, MD_E_NOT_RETAINED (first_seq older than the
 * store), MD_E_NOT_YET (range beyond the last seq), MD_E_BAD_VALUE (count 0 or first_seq 0) or
 * MD_E_BUFFER_SMALL (not even one packet fits). */
int md_enc_pack(md_enc_t *enc, uint64_t first_seq, uint64_t count, uint8_t *out, size_t cap,
                uint32_t *lens, uint32_t max_packets, uint64_t *packed);

/* Conflated L2 ('V') and L1 ('B') messages for every instrument changed since the last call
 * (all known instruments when all_instruments != 0), as MoldUDP64 packets of the depth session.
 * Returns the number of packets (0: nothing changed) or MD_E_BUFFER_SMALL (nothing written for
 * the instruments that did not fit; they stay pending for the next call). */
int md_enc_conflated(md_enc_t *enc, int all_instruments, int64_t ts_ns, uint8_t *out, size_t cap,
                     uint32_t *lens, uint32_t max_packets);

/* Book snapshot for a late joiner: per known instrument its 'R', 'H' and an 'A' per displayed
 * order in book order, then one 'G' whose md_seq is the last seq the snapshot reflects; as
 * length-prefixed messages. Returns bytes written or MD_E_BUFFER_SMALL (see md_enc_snapshot_bytes). */
int64_t md_enc_snapshot(md_enc_t *enc, uint8_t *out, size_t cap);
size_t md_enc_snapshot_bytes(const md_enc_t *enc);

/* Copies the encoder's counters (messages, events, book mismatches, ...) into *out. Never fails. */
void md_enc_get_stats(const md_enc_t *enc, md_enc_stats_t *out);
/* The publisher's displayed book (tests compare it with the engine's). */
const md_book_t *md_enc_book(const md_enc_t *enc);
/* The order-by-order channel's 10-byte MoldUDP64 session (not NUL-terminated). */
const char *md_enc_session(const md_enc_t *enc);
/* CFFI-END */

#endif /* MD_ENCODE_H */
