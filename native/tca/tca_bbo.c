/*
 * tca_bbo.c - best bid and offer over level updates (contract: tca_bbo.h).
 * Invariant of a tca_levels_t: prices[0 .. count) strictly ascending, each a live level.
 */
#include "tca_bbo.h"

#include <string.h>

/* The first position in lv whose price is >= p (count if none). */
static uint32_t tca_lower_bound(const tca_levels_t *lv, int64_t p)
{
    uint32_t lo = 0, hi = lv->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lv->prices[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Makes p live (0) or removes it (qty <= 0); -1 if p is new and lv is full (nothing changed). */
static int tca_levels_set(tca_levels_t *lv, int64_t p, int64_t qty)
{
    uint32_t at = tca_lower_bound(lv, p);
    int present = at < lv->count && lv->prices[at] == p;
    if (qty > 0) {
        if (present)
            return 0;
        if (lv->count == lv->capacity)
            return -1;
        memmove(lv->prices + at + 1, lv->prices + at, (size_t)(lv->count - at) * sizeof(int64_t));
        lv->prices[at] = p;
        lv->count++;
    } else if (present) {
        memmove(lv->prices + at, lv->prices + at + 1, (size_t)(lv->count - at - 1) * sizeof(int64_t));
        lv->count--;
    }
    return 0;
}

uint64_t tca_bbo_apply(tca_levels_t *bids, tca_levels_t *asks, const uint8_t *side, const int64_t *price,
                       const int64_t *qty, uint64_t n, int64_t *bid_out, int64_t *ask_out)
{
    for (uint64_t i = 0; i < n; i++) {
        if (tca_levels_set(side[i] == 1 ? bids : asks, price[i], qty[i]) < 0)
            return i;
        bid_out[i] = bids->count ? bids->prices[bids->count - 1] : 0;
        ask_out[i] = asks->count ? asks->prices[0] : 0;
    }
    return n;
}
