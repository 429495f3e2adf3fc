/*
 * rpl_view.c - see rpl_view.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpl_view.h"

/* The index of the first level of the side whose key is >= key: a walk back from the best level
 * (the array's end) over the few levels nearest the touch, where nearly every change is (the GOOG
 * day: 97% within 8 levels of it), then a binary search in what is left. */
static size_t lower_bound(const rpl_view_level_t *lv, size_t n, int64_t key)
{
    size_t hi = n, stop = n > 8 ? n - 8 : 0;
    while (hi > stop && lv[hi - 1].key >= key) hi--;
    if (hi > stop || hi == 0) return hi;       /* lv[hi - 1].key < key: hi is the answer */
    size_t lo = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lv[mid].key < key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Room for one more level on side s. 0 or -ENOMEM. */
static int room(rpl_view_t *v, int s)
{
    if (v->n[s] < v->cap[s]) return 0;
    size_t cap = v->cap[s] ? 2 * v->cap[s] : 64;
    rpl_view_level_t *nb = realloc(v->lv[s], cap * sizeof *nb);
    if (!nb) return -ENOMEM;
    v->lv[s] = nb;
    v->cap[s] = cap;
    return 0;
}

int rpl_view_set(rpl_view_t *v, uint8_t side, int64_t price, int64_t qty)
{
    int s = side == 1 ? 0 : 1;
    int64_t key = s == 0 ? price : -price;
    size_t n = v->n[s];
    size_t k = lower_bound(v->lv[s], n, key);
    rpl_view_level_t *lv = v->lv[s];
    if (k < n && lv[k].key == key) {
        if (qty) {
            lv[k].qty = qty;
            return 0;
        }
        memmove(lv + k, lv + k + 1, (n - k - 1) * sizeof *lv);
        v->n[s] = n - 1;
        return 0;
    }
    if (!qty) return 0;
    if (room(v, s)) return -ENOMEM;
    lv = v->lv[s];
    memmove(lv + k + 1, lv + k, (n - k) * sizeof *lv);
    lv[k].key = key;
    lv[k].qty = qty;
    v->n[s] = n + 1;
    return 0;
}

int64_t rpl_view_best(const rpl_view_t *v, uint8_t side, int64_t none)
{
    int s = side == 1 ? 0 : 1;
    if (!v->n[s]) return none;
    int64_t key = v->lv[s][v->n[s] - 1].key;
    return s == 0 ? key : -key;
}

void rpl_view_free(rpl_view_t *v)
{
    free(v->lv[0]);
    free(v->lv[1]);
    memset(v, 0, sizeof *v);
}
