/*
 * eng_book.c - order and level pools, price levels and their FIFO queues.
 *
 * Price-level structure: per instrument and side, a doubly linked list of levels sorted best
 * first, plus the (instrument, side, price) -> level hash of eng_index.c. Best price is the list
 * head (O(1)); a level that already exists is found in O(1) by the hash; only creating a new level
 * walks the list, from whichever end is nearer in price, which near the touch (where real order
 * flow lands) is a step or two. A price-indexed ladder would make that walk O(1) too, but needs a
 * window per instrument sized in advance and a fallback for prices outside it; the list needs no
 * tuning, uses memory only per live level and stays exact for any price range.
 * Invariant: each live level holds >= 1 order; an emptied level is unlinked, unhashed and freed
 * at once, so a level's existence always means liquidity.
 */
#include "eng_internal.h"

/* Takes a slot off the order free list (LIFO: the most recently used first), else the next one
 * above the high-water mark; ENG_NIL when the pool is exhausted. Live orders so stay packed at
 * the start of the pool, whatever its capacity. */
uint32_t eng_order_alloc(eng_engine_t *e)
{
    uint32_t oi = e->free_order;
    if (oi != ENG_NIL) e->free_order = e->orders[oi].next;
    else if (e->orders_hw < e->cfg.max_orders) oi = ++e->orders_hw;
    else return ENG_NIL;
    e->orders_live++;
    return oi;
}

/* Gives order o an extension record (zeroed), off the extension free list or above its high-water
 * mark. Never fails: the extension pool has a slot for every order slot. */
eng_order_ext_t *eng_ext_attach(eng_engine_t *e, eng_order_t *o)
{
    uint32_t xi = e->free_ext;
    if (xi != ENG_NIL) e->free_ext = e->ext[xi].next_free;
    else xi = ++e->ext_hw;
    e->ext_live++;
    eng_order_ext_t *x = &e->ext[xi];
    memset(x, 0, sizeof(*x));
    o->ext = xi;
    return x;
}

/* Returns a slot to the free list (LIFO, so the hottest slots are reused first), with its
 * extension if it has one. The order must already be out of every level, list, index and heap. */
void eng_order_free(eng_engine_t *e, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    if (o->ext != ENG_NIL) {
        e->ext[o->ext].next_free = e->free_ext;
        e->free_ext = o->ext;
        e->ext_live--;
        o->ext = ENG_NIL;
    }
    o->state = ENG_OST_FREE;
    o->level = ENG_NIL;
    o->prev = ENG_NIL;
    o->next = e->free_order;
    e->free_order = oi;
    e->orders_live--;
}

/* 1 if an order of (instrument, side, price) could rest now: its level exists or one is free. */
int eng_book_can_rest(const eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price)
{
    return eng_level_available(e) || eng_lidx_find(e, instrument_id, side, price) != ENG_NIL;
}

static inline int better(uint8_t side, int64_t a, int64_t b) { return side == ENG_SIDE_BUY ? a > b : a < b; }

static uint32_t level_create(eng_engine_t *e, eng_instr_t *ins, uint32_t instrument_id, uint8_t side, int64_t price)
{
    uint32_t li = e->free_level;
    if (li != ENG_NIL) e->free_level = e->levels[li].worse;
    else if (e->levels_hw < e->cfg.max_levels) li = ++e->levels_hw;
    else return ENG_NIL;
    eng_level_t *l = &e->levels[li];
    e->levels_live++;
    l->price = price;
    l->qty = 0;
    l->count = 0;
    l->head = l->tail = ENG_NIL;
    l->instrument_id = instrument_id;
    l->side = side;

    uint32_t b = ins->best[side], w = ins->worst[side];
    uint32_t before = ENG_NIL; /* the level that will follow the new one (worse), NIL = append */
    if (b == ENG_NIL) {
        before = ENG_NIL;
    } else if (better(side, price, e->levels[b].price)) {
        before = b;
    } else if (better(side, e->levels[w].price, price)) {
        before = ENG_NIL;
    } else {
        int64_t db = price - e->levels[b].price, dw = price - e->levels[w].price;
        if (db < 0) db = -db;
        if (dw < 0) dw = -dw;
        if (db <= dw) {
            uint32_t c = b;
            while (!better(side, price, e->levels[c].price)) c = e->levels[c].worse;
            before = c;
        } else {
            uint32_t c = w; /* walk towards best until c is better than price; insert after it */
            while (better(side, price, e->levels[c].price)) c = e->levels[c].better;
            before = e->levels[c].worse;
        }
    }
    if (before == ENG_NIL) {
        l->better = w;
        l->worse = ENG_NIL;
        if (w != ENG_NIL) e->levels[w].worse = li; else ins->best[side] = li;
        ins->worst[side] = li;
    } else {
        uint32_t bb = e->levels[before].better;
        l->better = bb;
        l->worse = before;
        e->levels[before].better = li;
        if (bb != ENG_NIL) e->levels[bb].worse = li; else ins->best[side] = li;
    }
    eng_lidx_insert(e, instrument_id, side, price, li);
    return li;
}

static void level_destroy(eng_engine_t *e, eng_instr_t *ins, uint32_t li)
{
    eng_level_t *l = &e->levels[li];
    if (l->better != ENG_NIL) e->levels[l->better].worse = l->worse; else ins->best[l->side] = l->worse;
    if (l->worse != ENG_NIL) e->levels[l->worse].better = l->better; else ins->worst[l->side] = l->better;
    eng_lidx_erase(e, l->instrument_id, l->side, l->price);
    l->count = 0;
    l->qty = 0;
    l->better = ENG_NIL;
    l->worse = e->free_level;
    e->free_level = li;
    e->levels_live--;
}

/* Puts an order whose shown/reserve split is already set at the back of its price level,
 * creating the level if needed. Returns 0, or -1 if a new level was needed and none is free
 * (callers check eng_book_can_rest first, so -1 is a bug guard). */
int eng_book_rest(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    /* the order is ACTIVE: its price and instrument are in the union the links are about to fill */
    const int64_t price = o->act_price;
    const uint32_t instrument_id = o->act_instrument;
    uint32_t li = eng_lidx_find(e, instrument_id, o->side, price);
    if (li == ENG_NIL) {
        li = level_create(e, ins, instrument_id, o->side, price);
        if (li == ENG_NIL) return -1;
    }
    eng_level_t *l = &e->levels[li];
    o->level = li;
    o->next = ENG_NIL;
    o->prev = l->tail;
    if (l->tail != ENG_NIL) e->orders[l->tail].next = oi; else l->head = oi;
    l->tail = oi;
    l->count++;
    l->qty += o->shown_qty;
    o->state = ENG_OST_RESTING;
    return 0;
}

/* Takes a resting order out of its level queue (freeing the level if it empties). The order
 * becomes ACTIVE and keeps its price and instrument (copied from the level into act_price and
 * act_instrument). Returns the level slot, or ENG_NIL if the level is gone. */
uint32_t eng_book_unlink(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    uint32_t li = o->level;
    eng_level_t *l = &e->levels[li];
    if (o->prev != ENG_NIL) e->orders[o->prev].next = o->next; else l->head = o->next;
    if (o->next != ENG_NIL) e->orders[o->next].prev = o->prev; else l->tail = o->prev;
    l->count--;
    l->qty -= o->shown_qty;
    o->act_price = l->price;
    o->act_instrument = l->instrument_id;
    o->state = ENG_OST_ACTIVE;
    if (l->count == 0) {
        level_destroy(e, ins, li);
        return ENG_NIL;
    }
    return li;
}

/* Moves a resting order to the back of its level (iceberg refill, size-up replace). The level's
 * qty is the caller's business. */
void eng_book_to_back(eng_engine_t *e, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    eng_level_t *l = &e->levels[o->level];
    if (l->tail == oi) return;
    if (o->prev != ENG_NIL) e->orders[o->prev].next = o->next; else l->head = o->next;
    e->orders[o->next].prev = o->prev;
    o->prev = l->tail;
    o->next = ENG_NIL;
    e->orders[l->tail].next = oi;
    l->tail = oi;
}

/* BOOK_LEVEL for (side, price); li is the level slot or NIL when the level is gone. */
void eng_book_level_event(eng_engine_t *e, uint32_t instrument_id, uint8_t side, int64_t price, uint32_t li)
{
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_BOOK_LEVEL, ENG_OK, instrument_id);
    ev->book_level.price = price;
    ev->book_level.side = side;
    if (li != ENG_NIL) {
        ev->book_level.qty = e->levels[li].qty;
        ev->book_level.order_count = e->levels[li].count;
    }
}

/* Removes a live order (resting or waiting stop) whole, with a CANCELLED or EXPIRED event of the
 * given reason and, if it was resting, the BOOK_LEVEL of its level. */
void eng_order_remove(eng_engine_t *e, uint32_t oi, uint16_t evt_type, uint16_t reason)
{
    eng_order_t *o = &e->orders[oi];
    const uint32_t instrument_id = eng_order_instrument(e, o);
    eng_instr_t *ins = &e->instr[instrument_id];
    int64_t leaves = eng_leaves(e, o);
    eng_evt_t *ev = eng_evt_new(e, evt_type, reason, instrument_id);
    if (evt_type == ENG_EVT_EXPIRED) {
        ev->expired.order_id = o->order_id;
        ev->expired.expired_qty = leaves;
        ev->expired.account_id = o->account_id;
    } else {
        ev->cancelled.order_id = o->order_id;
        ev->cancelled.cancelled_qty = leaves;
        ev->cancelled.account_id = o->account_id;
    }
    eng_open_add(e, o, -leaves);
    /* a live GTD order is always in the heap; testing tif (hot line) spares reading heap_pos */
    if (o->tif == ENG_TIF_GTD) eng_gtd_erase(e, oi);
    eng_oidx_erase(e, o->order_id);
    if (o->state == ENG_OST_STOP) {
        eng_stops_unlink(e, ins, oi);
    } else if (o->state == ENG_OST_DARK) {
        eng_dark_unlink(e, ins, oi); /* never displayed: no BOOK_LEVEL */
    } else {
        uint8_t side = o->side;
        int64_t price = e->levels[o->level].price;
        uint32_t li = eng_book_unlink(e, ins, oi);
        eng_book_level_event(e, instrument_id, side, price, li);
    }
    eng_order_free(e, oi);
}

/* Retires a resting order whose leaves reached 0 by trading: out of the index, the GTD heap and
 * its level, slot freed. Returns its level slot, or ENG_NIL if the level went with it. */
uint32_t eng_order_filled(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    eng_oidx_erase(e, o->order_id);
    /* a live GTD order is always in the heap; testing tif (hot line) spares reading heap_pos */
    if (o->tif == ENG_TIF_GTD) eng_gtd_erase(e, oi);
    uint32_t li = eng_book_unlink(e, ins, oi);
    eng_order_free(e, oi);
    return li;
}

/* Rests an ACTIVE order (all leaves in shown_qty, its reserve 0) at the back of its price: splits
 * an iceberg into peak and reserve, indexes it, files a GTD expiry, and emits the BOOK_LEVEL. The
 * caller has made sure the level exists or one is free. */
void eng_order_rest(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    if (o->flags & ENG_FLAG_ICEBERG) {
        eng_order_ext_t *x = eng_ext(e, o);
        int64_t leaves = o->shown_qty + x->reserve_qty;
        o->shown_qty = leaves < x->display_qty ? leaves : x->display_qty;
        x->reserve_qty = leaves - o->shown_qty;
    }
    eng_book_rest(e, ins, oi);
    eng_oidx_insert(e, o->order_id, oi);
    if (o->tif == ENG_TIF_GTD) eng_gtd_push(e, oi);
    eng_book_level_event(e, ins->id, o->side, e->levels[o->level].price, o->level);
}

/* Cancels what is left of an ACTIVE order (an aggressor or a just-triggered stop, which is in no
 * index): CANCELLED(reason, cancelled_qty = leaves, leaves_qty 0), slot freed. */
void eng_active_cancel(eng_engine_t *e, uint32_t oi, uint16_t reason)
{
    eng_order_t *o = &e->orders[oi];
    int64_t leaves = eng_leaves(e, o);
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_CANCELLED, reason, o->act_instrument);
    ev->cancelled.order_id = o->order_id;
    ev->cancelled.cancelled_qty = leaves;
    ev->cancelled.account_id = o->account_id;
    eng_open_add(e, o, -leaves);
    eng_order_free(e, oi);
}
