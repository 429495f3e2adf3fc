/*
 * rpl_view.h - the strategy's book view in C, as the replay's C loop has delivered it: every price
 * level per side with its displayed quantity, kept sorted, so the loop knows the strategy's touch
 * (best bid and ask) without entering Python. It mirrors trading/strategy/context.py's BookView,
 * fed the same level rows, so its touch is the one the strategy would read (a test compares them).
 *
 * Each side is one array of (key, qty) sorted by key ascending, the best level last: key = price
 * for bids, -price for asks, so a change at the touch moves little memory. Memory: the arrays are
 * malloc'd and grown by doubling; rpl_view_free releases them.
 */
#ifndef RPL_VIEW_H
#define RPL_VIEW_H

#include <stddef.h>
#include <stdint.h>

/* CFFI-BEGIN */
typedef struct rpl_view_level {
    int64_t key;              /* price (bids) or -price (asks) */
    int64_t qty;
} rpl_view_level_t;

typedef struct rpl_view {
    rpl_view_level_t *lv[2];  /* [0] bids, [1] asks; ascending key, best last */
    size_t n[2], cap[2];
} rpl_view_t;

/* A level's displayed quantity is now qty (side 1 buy, 2 sell; qty 0 removes it). 0, or -ENOMEM
 * when a new level does not fit (the view is unchanged then). */
int rpl_view_set(rpl_view_t *v, uint8_t side, int64_t price, int64_t qty);

/* The best price of a side, or `none` when the side is empty. */
int64_t rpl_view_best(const rpl_view_t *v, uint8_t side, int64_t none);

/* Releases the view's arrays and empties it (the struct is the caller's). */
void rpl_view_free(rpl_view_t *v);
/* CFFI-END */

#endif
