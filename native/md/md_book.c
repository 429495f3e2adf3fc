/*
 * md_book.c - the market-data order-by-order book (see md_book.h for the contract).
 *
 * Orders and levels live in pools with free lists; the reference index is open addressing with
 * linear probing and backward-shift deletion (no tombstones, so probe lengths never degrade over a
 * long session). Each (instrument, side) holds its level indices sorted best first: inserting a
 * level is a memmove, which is cheap for the few hundred levels a book has near the touch.
 */
#include "md_book.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md_feed.h"
#include "venue_layout.h"

typedef struct md_level {
    int64_t price;
    int64_t qty;
    uint32_t count;
    uint32_t head, tail;            /* order indices, MD_NIL when empty; also free-list link */
    uint32_t _pad0;
} md_level_t;

struct md_book {
    uint32_t max_orders, max_levels, max_instruments;
    uint32_t live_orders;           /* records in use (displayed or tracked) */
    uint32_t shown_orders;          /* records in a level */
    uint32_t free_order, free_level;
    uint32_t index_mask;            /* index capacity - 1 (power of two >= 2 * max_orders) */
    md_order_t *orders;
    md_level_t *levels;
    uint32_t *index;                /* order slot + 1, 0 = empty */
    uint32_t *side_len;             /* [(instrument) * 2 + side - 1] levels in use */
    uint32_t *side_lv;              /* [that * max_levels + i] level index, best first */
};

static inline uint32_t hash_ref(uint64_t ref, uint32_t mask)
{
    return (uint32_t)((ref * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static inline int valid_side(uint8_t side) { return side == ENG_SIDE_BUY || side == ENG_SIDE_SELL; }

/* a is strictly better than b for this side: higher bids, lower asks come first */
static inline int better(uint8_t side, int64_t a, int64_t b) { return side == ENG_SIDE_BUY ? a > b : a < b; }

static inline uint32_t side_slot(const md_book_t *b, uint32_t instrument_id, uint8_t side)
{
    return instrument_id * 2u + (side - 1u);
}

int md_book_create(uint32_t max_orders, uint32_t max_levels, uint32_t max_instruments, md_book_t **out)
{
    if (max_orders == 0 || max_levels == 0 || max_instruments == 0 || max_orders > (1u << 28) ||
        max_levels > (1u << 24) || max_instruments > 65535)
        return -EINVAL;
    md_book_t *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    uint32_t cap = 1;
    while (cap < 2 * max_orders)
        cap <<= 1;
    b->max_orders = max_orders;
    b->max_levels = max_levels;
    b->max_instruments = max_instruments;
    b->index_mask = cap - 1;
    size_t sides = ((size_t)max_instruments + 1) * 2;
    b->orders = calloc(max_orders, sizeof(md_order_t));
    b->levels = calloc(max_levels, sizeof(md_level_t));
    b->index = calloc(cap, sizeof(uint32_t));
    b->side_len = calloc(sides, sizeof(uint32_t));
    b->side_lv = calloc(sides * max_levels, sizeof(uint32_t));
    if (!b->orders || !b->levels || !b->index || !b->side_len || !b->side_lv) {
        md_book_destroy(b);
        return -ENOMEM;
    }
    md_book_clear(b);
    *out = b;
    return 0;
}

void md_book_destroy(md_book_t *b)
{
    if (!b)
        return;
    free(b->orders);
    free(b->levels);
    free(b->index);
    free(b->side_len);
    free(b->side_lv);
    free(b);
}

void md_book_clear(md_book_t *b)
{
    for (uint32_t i = 0; i < b->max_orders; i++)
        b->orders[i].next = i + 1 < b->max_orders ? i + 1 : MD_NIL;
    for (uint32_t i = 0; i < b->max_levels; i++)
        b->levels[i].head = i + 1 < b->max_levels ? i + 1 : MD_NIL;
    b->free_order = 0;
    b->free_level = 0;
    b->live_orders = 0;
    b->shown_orders = 0;
    memset(b->index, 0, ((size_t)b->index_mask + 1) * sizeof(uint32_t));
    memset(b->side_len, 0, ((size_t)b->max_instruments + 1) * 2 * sizeof(uint32_t));
}

md_order_t *md_book_find(md_book_t *b, uint64_t ref)
{
    for (uint32_t h = hash_ref(ref, b->index_mask);; h = (h + 1) & b->index_mask) {
        uint32_t v = b->index[h];
        if (v == 0)
            return NULL;
        if (b->orders[v - 1].ref == ref)
            return &b->orders[v - 1];
    }
}

static void index_remove(md_book_t *b, uint64_t ref)
{
    uint32_t h = hash_ref(ref, b->index_mask);
    while (b->orders[b->index[h] - 1].ref != ref)
        h = (h + 1) & b->index_mask;
    /* backward-shift: move later members of the probe run into the hole when their home slot
     * does not lie (cyclically) between the hole and their position */
    uint32_t hole = h;
    for (uint32_t j = (hole + 1) & b->index_mask; b->index[j] != 0; j = (j + 1) & b->index_mask) {
        uint32_t home = hash_ref(b->orders[b->index[j] - 1].ref, b->index_mask);
        if (((j - home) & b->index_mask) >= ((j - hole) & b->index_mask)) {
            b->index[hole] = b->index[j];
            hole = j;
        }
    }
    b->index[hole] = 0;
}

md_order_t *md_book_track(md_book_t *b, uint32_t instrument_id, uint64_t ref, uint8_t side, int64_t price)
{
    if (b->free_order == MD_NIL || md_book_find(b, ref) != NULL)
        return NULL;
    uint32_t slot = b->free_order;
    md_order_t *o = &b->orders[slot];
    b->free_order = o->next;
    memset(o, 0, sizeof(*o));
    o->ref = ref;
    o->instrument_id = instrument_id;
    o->side = side;
    o->price = price;
    o->level = MD_NIL;
    o->prev = o->next = MD_NIL;
    uint32_t h = hash_ref(ref, b->index_mask);
    while (b->index[h] != 0)
        h = (h + 1) & b->index_mask;
    b->index[h] = slot + 1;
    b->live_orders++;
    return o;
}

/* position of price in the side's sorted array; *found says whether a level has that price */
static uint32_t side_search(const md_book_t *b, uint32_t ss, uint8_t side, int64_t price, int *found)
{
    const uint32_t *lv = b->side_lv + (size_t)ss * b->max_levels;
    uint32_t lo = 0, hi = b->side_len[ss];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (better(side, b->levels[lv[mid]].price, price))
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < b->side_len[ss] && b->levels[lv[lo]].price == price;
    return lo;
}

int md_book_show(md_book_t *b, md_order_t *o, int64_t shown)
{
    if (shown <= 0 || o->level != MD_NIL || !valid_side(o->side) || o->instrument_id == 0 ||
        o->instrument_id > b->max_instruments)
        return MD_E_BAD_VALUE;
    uint32_t ss = side_slot(b, o->instrument_id, o->side);
    int found;
    uint32_t pos = side_search(b, ss, o->side, o->price, &found);
    uint32_t *lv = b->side_lv + (size_t)ss * b->max_levels;
    uint32_t li;
    if (found) {
        li = lv[pos];
    } else {
        if (b->free_level == MD_NIL)
            return MD_E_CAPACITY;
        li = b->free_level;
        b->free_level = b->levels[li].head;
        md_level_t *l = &b->levels[li];
        l->price = o->price;
        l->qty = 0;
        l->count = 0;
        l->head = l->tail = MD_NIL;
        memmove(lv + pos + 1, lv + pos, (size_t)(b->side_len[ss] - pos) * sizeof(uint32_t));
        lv[pos] = li;
        b->side_len[ss]++;
    }
    md_level_t *l = &b->levels[li];
    uint32_t oi = (uint32_t)(o - b->orders);
    o->level = li;
    o->shown = shown;
    o->next = MD_NIL;
    o->prev = l->tail;
    if (l->tail != MD_NIL)
        b->orders[l->tail].next = oi;
    else
        l->head = oi;
    l->tail = oi;
    l->qty += shown;
    l->count++;
    b->shown_orders++;
    return 0;
}

void md_book_hide(md_book_t *b, md_order_t *o)
{
    if (o->level == MD_NIL)
        return;
    md_level_t *l = &b->levels[o->level];
    if (o->prev != MD_NIL)
        b->orders[o->prev].next = o->next;
    else
        l->head = o->next;
    if (o->next != MD_NIL)
        b->orders[o->next].prev = o->prev;
    else
        l->tail = o->prev;
    l->qty -= o->shown;
    l->count--;
    b->shown_orders--;
    if (l->count == 0) {
        uint32_t ss = side_slot(b, o->instrument_id, o->side);
        int found;
        uint32_t pos = side_search(b, ss, o->side, l->price, &found);
        uint32_t *lv = b->side_lv + (size_t)ss * b->max_levels;
        memmove(lv + pos, lv + pos + 1, (size_t)(b->side_len[ss] - pos - 1) * sizeof(uint32_t));
        b->side_len[ss]--;
        l->head = b->free_level;
        b->free_level = o->level;
    }
    o->level = MD_NIL;
    o->shown = 0;
    o->prev = o->next = MD_NIL;
}

void md_book_forget(md_book_t *b, md_order_t *o)
{
    md_book_hide(b, o);
    index_remove(b, o->ref);
    uint32_t slot = (uint32_t)(o - b->orders);
    o->next = b->free_order;
    b->free_order = slot;
    b->live_orders--;
}

void md_book_set_shown(md_book_t *b, md_order_t *o, int64_t new_shown)
{
    b->levels[o->level].qty += new_shown - o->shown;
    o->shown = new_shown;
}

void md_book_level_at(const md_book_t *b, uint32_t instrument_id, uint8_t side, int64_t price,
                      int64_t *qty, uint32_t *count)
{
    *qty = 0;
    *count = 0;
    if (!valid_side(side) || instrument_id == 0 || instrument_id > b->max_instruments)
        return;
    uint32_t ss = side_slot(b, instrument_id, side);
    int found;
    uint32_t pos = side_search(b, ss, side, price, &found);
    if (found) {
        const md_level_t *l = &b->levels[b->side_lv[(size_t)ss * b->max_levels + pos]];
        *qty = l->qty;
        *count = l->count;
    }
}

int md_book_add(md_book_t *b, uint32_t instrument_id, uint64_t ref, uint8_t side, int64_t price,
                int64_t shares)
{
    if (!valid_side(side) || shares <= 0 || instrument_id == 0 || instrument_id > b->max_instruments)
        return MD_E_BAD_VALUE;
    if (md_book_find(b, ref))
        return MD_E_BOOK;
    md_order_t *o = md_book_track(b, instrument_id, ref, side, price);
    if (!o)
        return MD_E_CAPACITY;
    int rc = md_book_show(b, o, shares);
    if (rc != 0)
        md_book_forget(b, o);
    return rc;
}

int md_book_reduce(md_book_t *b, uint64_t ref, int64_t shares)
{
    if (shares <= 0)
        return MD_E_BAD_VALUE;
    md_order_t *o = md_book_find(b, ref);
    if (!o || o->level == MD_NIL || shares > o->shown)
        return MD_E_BOOK;
    if (shares == o->shown)
        md_book_forget(b, o);
    else
        md_book_set_shown(b, o, o->shown - shares);
    return 0;
}

int md_book_delete(md_book_t *b, uint64_t ref)
{
    md_order_t *o = md_book_find(b, ref);
    if (!o || o->level == MD_NIL)
        return MD_E_BOOK;
    md_book_forget(b, o);
    return 0;
}

int md_book_replace(md_book_t *b, uint64_t orig_ref, uint64_t new_ref, int64_t price, int64_t shares)
{
    if (shares <= 0)
        return MD_E_BAD_VALUE;
    md_order_t *o = md_book_find(b, orig_ref);
    if (!o || o->level == MD_NIL)
        return MD_E_BOOK;
    if (new_ref != orig_ref && md_book_find(b, new_ref))
        return MD_E_BOOK;
    uint32_t instrument_id = o->instrument_id;
    uint8_t side = o->side;
    md_book_forget(b, o);
    return md_book_add(b, instrument_id, new_ref, side, price, shares);
}

int md_book_depth(const md_book_t *b, uint32_t instrument_id, uint8_t side, md_level_info_t *out,
                  uint32_t max)
{
    if (!valid_side(side) || instrument_id == 0 || instrument_id > b->max_instruments)
        return MD_E_BAD_VALUE;
    uint32_t ss = side_slot(b, instrument_id, side);
    const uint32_t *lv = b->side_lv + (size_t)ss * b->max_levels;
    uint32_t n = b->side_len[ss] < max ? b->side_len[ss] : max;
    for (uint32_t i = 0; i < n; i++) {
        const md_level_t *l = &b->levels[lv[i]];
        out[i].price = l->price;
        out[i].qty = l->qty;
        out[i].order_count = l->count;
        out[i]._pad0 = 0;
    }
    return (int)n;
}

int md_book_orders(const md_book_t *b, uint32_t instrument_id, uint8_t side, md_order_view_t *out,
                   uint32_t max)
{
    if (!valid_side(side) || instrument_id == 0 || instrument_id > b->max_instruments)
        return MD_E_BAD_VALUE;
    uint32_t ss = side_slot(b, instrument_id, side);
    const uint32_t *lv = b->side_lv + (size_t)ss * b->max_levels;
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->side_len[ss] && n < max; i++) {
        for (uint32_t oi = b->levels[lv[i]].head; oi != MD_NIL && n < max; oi = b->orders[oi].next) {
            const md_order_t *o = &b->orders[oi];
            out[n].order_ref = o->ref;
            out[n].price = o->price;
            out[n].shown = o->shown;
            out[n].instrument_id = o->instrument_id;
            out[n].side = o->side;
            memset(out[n]._pad0, 0, sizeof(out[n]._pad0));
            n++;
        }
    }
    return (int)n;
}

uint32_t md_book_order_count(const md_book_t *b) { return b->shown_orders; }

int md_book_check(const md_book_t *b)
{
    uint32_t shown = 0;
    for (uint32_t inst = 1; inst <= b->max_instruments; inst++) {
        for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++) {
            uint32_t ss = side_slot(b, inst, side);
            const uint32_t *lv = b->side_lv + (size_t)ss * b->max_levels;
            for (uint32_t i = 0; i < b->side_len[ss]; i++) {
                const md_level_t *l = &b->levels[lv[i]];
                if (i > 0 && !better(side, b->levels[lv[i - 1]].price, l->price))
                    return -1; /* levels not strictly sorted best first */
                int64_t qty = 0;
                uint32_t count = 0;
                for (uint32_t oi = l->head; oi != MD_NIL; oi = b->orders[oi].next) {
                    const md_order_t *o = &b->orders[oi];
                    if (o->shown <= 0 || o->price != l->price || o->level != lv[i])
                        return -2; /* an order disagrees with its level */
                    qty += o->shown;
                    count++;
                }
                if (qty != l->qty || count != l->count || count == 0)
                    return -3; /* level aggregate differs from its orders */
                shown += count;
            }
        }
    }
    return shown == b->shown_orders ? 0 : -4; /* displayed-order count drifted */
}
