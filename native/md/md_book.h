/*
 * md_book.h - the market-data side's order-by-order book: what a feed says is displayed.
 *
 * One structure serves both ends of the feed: the publisher (md_encode.c) keeps the displayed book
 * it has announced, and a subscriber (md_sub.c) rebuilds it from the messages. Orders are found by
 * reference in an open-addressing index; each (instrument, side) keeps its levels sorted best first
 * and each level its orders in time priority. All memory is allocated in md_book_create; no call
 * allocates afterwards. Invariant: a level's qty and order_count equal the sum and number of its
 * orders' shown shares, and every order in a level has shown > 0 (md_book_check verifies it).
 */
#ifndef MD_BOOK_H
#define MD_BOOK_H

#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
typedef struct md_book md_book_t;

typedef struct md_level_info {
    int64_t price;
    int64_t qty;                    /* displayed shares at the level */
    uint32_t order_count;
    uint32_t _pad0;
} md_level_info_t;

typedef struct md_order_view {
    uint64_t order_ref;
    int64_t price;
    int64_t shown;                  /* displayed shares */
    uint32_t instrument_id;
    uint8_t side;                   /* ENG_SIDE_BUY / ENG_SIDE_SELL */
    uint8_t _pad0[3];
} md_order_view_t;

/* Allocates a book for instrument ids 1..max_instruments. 0 and *out set, -EINVAL (a zero or too
 * large capacity) or -ENOMEM; *out untouched on failure. */
int md_book_create(uint32_t max_orders, uint32_t max_levels, uint32_t max_instruments,
                   md_book_t **out);
void md_book_destroy(md_book_t *book);
/* Empties the book (every order and level freed); capacities stay. */
void md_book_clear(md_book_t *book);

/* Adds a displayed order at the back of its level. side: ENG_SIDE_BUY/SELL. 0, MD_E_BAD_VALUE
 * (side, shares <= 0, instrument out of range), MD_E_BOOK (ref already live), MD_E_CAPACITY. */
int md_book_add(md_book_t *book, uint32_t instrument_id, uint64_t ref, uint8_t side, int64_t price,
                int64_t shares);
/* Removes `shares` displayed shares (an execution or a partial cancel); the order leaves the book
 * when none are left. 0, MD_E_BAD_VALUE (shares <= 0), MD_E_BOOK (unknown ref, or more shares
 * than shown). */
int md_book_reduce(md_book_t *book, uint64_t ref, int64_t shares);
/* Removes the order. 0 or MD_E_BOOK (unknown ref). */
int md_book_delete(md_book_t *book, uint64_t ref);
/* Moves orig_ref to the back of `price` as new_ref with `shares` shown (ITCH 'U'). 0,
 * MD_E_BAD_VALUE, MD_E_BOOK (orig unknown, or new_ref live and different), MD_E_CAPACITY. */
int md_book_replace(md_book_t *book, uint64_t orig_ref, uint64_t new_ref, int64_t price,
                    int64_t shares);

/* Levels of one side, best first, at most max. Returns the number written, or MD_E_BAD_VALUE
 * (instrument out of range or bad side). */
int md_book_depth(const md_book_t *book, uint32_t instrument_id, uint8_t side,
                  md_level_info_t *out, uint32_t max);
/* Orders of one side in book order (best level first, front to back), at most max. Returns the
 * number written or MD_E_BAD_VALUE. */
int md_book_orders(const md_book_t *book, uint32_t instrument_id, uint8_t side,
                   md_order_view_t *out, uint32_t max);
/* Displayed orders in the whole book. */
uint32_t md_book_order_count(const md_book_t *book);
/* Verifies the invariants above. 0, or a negative number naming the first broken one. */
int md_book_check(const md_book_t *book);
/* CFFI-END */

/* ---- Below: for md_encode.c only (the publisher also tracks orders that are not displayed:
 * waiting stops, aggressors still matching). Such an order has a record but no level. ---- */
#define MD_NIL 0xFFFFFFFFu

typedef struct md_order {
    uint64_t ref;
    int64_t price;
    int64_t shown;                  /* displayed shares while in a level, else 0 */
    int64_t leaves;                 /* publisher: shown + hidden reserve, as the engine says */
    int64_t peak;                   /* publisher: iceberg display size, 0 for a plain order */
    uint32_t instrument_id;
    uint32_t level;                 /* MD_NIL when not displayed */
    uint32_t prev, next;            /* neighbours in the level's queue; free-list link when free */
    uint8_t side;
    uint8_t state;                  /* publisher's md_enc order state */
    uint8_t _pad0[6];
} md_order_t;

/* The record of ref, or NULL. */
md_order_t *md_book_find(md_book_t *book, uint64_t ref);
/* A new record that is not displayed (level MD_NIL). NULL if ref is live or no slot is free. */
md_order_t *md_book_track(md_book_t *book, uint32_t instrument_id, uint64_t ref, uint8_t side,
                          int64_t price);
/* Puts a tracked, undisplayed order at the back of its price level with `shown` shares.
 * 0, MD_E_BAD_VALUE or MD_E_CAPACITY (no free level). */
int md_book_show(md_book_t *book, md_order_t *o, int64_t shown);
/* Takes a displayed order out of its level (keeps the record). */
void md_book_hide(md_book_t *book, md_order_t *o);
/* Frees the record (taking it out of its level first if displayed). */
void md_book_forget(md_book_t *book, md_order_t *o);
/* The level of (instrument, side, price): qty and order count, or 0/0 if none. */
void md_book_level_at(const md_book_t *book, uint32_t instrument_id, uint8_t side, int64_t price,
                      int64_t *qty, uint32_t *count);
/* Changes a displayed order's shown shares in place (keeps its priority); new_shown > 0. */
void md_book_set_shown(md_book_t *book, md_order_t *o, int64_t new_shown);

#endif /* MD_BOOK_H */
