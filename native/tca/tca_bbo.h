/*
 * tca_bbo.h - the best bid and offer after each BOOK_LEVEL event, for transaction cost analysis
 * (trading/tca/quotes.py in batch, trading/tca/monitor.py live).
 *
 * A BOOK_LEVEL event (venue_layout.h, eng_evt_book_level_t) carries the displayed quantity of one
 * price level after a change; 0 removes the level. The best bid is the highest live bid level, the
 * best ask the lowest live ask level, 0 for an empty side. Each side keeps its live prices in a
 * sorted array the caller owns (a few thousand levels at most per book, bounded by the engine's
 * max_levels), so an update is a binary search and a short memmove and the best is an end of the
 * array. This is the one sequential pass of the analysis that numpy cannot vectorise: the best
 * after a level empties depends on every level still live.
 */
#ifndef TCA_BBO_H
#define TCA_BBO_H

#include <stdint.h>

/* CFFI-BEGIN */
typedef struct tca_levels {
    int64_t *prices;                  /* the live prices of one side, ascending, owned by the caller */
    uint32_t count;                   /* live prices in prices[0 .. count) */
    uint32_t capacity;                /* room in prices */
} tca_levels_t;

/* Applies n level updates of one instrument in order: update i sets the level price[i] of side
 * side[i] (1 bid, anything else ask) live when qty[i] > 0, removes it otherwise (removing a
 * level that is not live changes nothing). Writes the best bid and best ask after update i into
 * bid_out[i] and ask_out[i] (0 for an empty side). Returns n when every update was applied, or
 * the index i of the first update that found its side full (count == capacity): updates from i
 * on are not applied; the caller grows that side's array (copying the live prices) and calls
 * again from i. Never allocates; the arrays are the caller's. */
uint64_t tca_bbo_apply(tca_levels_t *bids, tca_levels_t *asks, const uint8_t *side, const int64_t *price,
                       const int64_t *qty, uint64_t n, int64_t *bid_out, int64_t *ask_out);
/* CFFI-END */

#endif /* TCA_BBO_H */
