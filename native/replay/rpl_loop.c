/*
 * rpl_loop.c - see rpl_loop.h. Every step mirrors a method of trading/replay/runtime.py's
 * reference loop (named beside it), so the two give byte-identical runs (a test compares them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpl_loop.h"

#define RPL_INIT_OWN 256u
#define RPL_INIT_LEVELS 64u
#define RPL_INIT_CHUNK 256u

/* Makes *buf hold at least `need` elements of `size` bytes (doubling). 0 or -ENOMEM. */
static int grow(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *nb = realloc(*buf, nc * size);
    if (!nb) return -ENOMEM;
    *buf = nb;
    *cap = nc;
    return 0;
}

int rpl_loop_init(rpl_loop_t *l)
{
    memset(l, 0, sizeof *l);
    l->own_bid = -RPL_INF;
    l->own_ask = RPL_INF;
    l->t_arrival = RPL_INF;
    l->touch_bid = -RPL_INF;
    l->touch_ask = RPL_INF;
    l->note_stop = SIZE_MAX;
    l->hit_from = SIZE_MAX;
    l->noted_md_ns = RPL_INF;
    l->epoch = 1;
    size_t own_cap = 0, mark_cap = 0;
    if (grow((void **)&l->own, &l->own_cap, RPL_INIT_OWN, sizeof(eng_evt_t)) ||
        grow((void **)&l->own_deliver, &own_cap, RPL_INIT_OWN, sizeof(int64_t)) ||
        grow((void **)&l->own_mark, &mark_cap, RPL_INIT_OWN, sizeof(rpl_own_mark_t)) ||
        grow((void **)&l->levels, &l->levels_cap, RPL_INIT_LEVELS, sizeof(rpl_level_t)) ||
        grow((void **)&l->chunk, &l->chunk_cap, RPL_INIT_CHUNK, sizeof(eng_cmd_t)) ||
        grow((void **)&l->touch, &l->touch_cap, RPL_INIT_CHUNK, sizeof(size_t))) {
        rpl_loop_free(l);
        return -ENOMEM;
    }
    l->slot = calloc(2 * RPL_INIT_LEVELS, sizeof(uint64_t));
    if (!l->slot) {
        rpl_loop_free(l);
        return -ENOMEM;
    }
    l->slot_cap = 2 * RPL_INIT_LEVELS;
    return 0;
}

void rpl_loop_free(rpl_loop_t *l)
{
    free(l->timers);
    free(l->own);
    free(l->own_deliver);
    free(l->own_mark);
    free(l->levels);
    free(l->slot);
    free(l->chunk);
    free(l->touch);
    free(l->arr);
    rpl_view_free(&l->view);
    rpl_orders_free(&l->orders);
    rpl_booked_free(&l->booked);
    l->timers = NULL;
    l->own = NULL;
    l->own_deliver = NULL;
    l->own_mark = NULL;
    l->levels = NULL;
    l->slot = NULL;
    l->chunk = NULL;
    l->touch = NULL;
    l->arr = NULL;
    l->timers_cap = l->own_cap = l->levels_cap = l->slot_cap = l->chunk_cap = l->touch_cap = l->arr_cap = 0;
    l->arr_head = l->arr_tail = 0;
    l->own_head = l->own_tail = l->own_noted = l->own_applied = l->own_waking = l->own_booked = 0;
}

int rpl_loop_add_timer(rpl_loop_t *l, int64_t next_ns, int64_t interval_ns, uint8_t on_change,
                       uint8_t ignore_own_cancels)
{
    if (grow((void **)&l->timers, &l->timers_cap, l->n_timers + 1, sizeof(rpl_timer_t))) return -ENOMEM;
    rpl_timer_t *t = &l->timers[l->n_timers++];
    memset(t, 0, sizeof *t);
    t->next_ns = next_ns;
    t->interval_ns = interval_ns;
    t->on_change = on_change;
    t->ignore_own_cancels = ignore_own_cancels;
    t->fired_bid = -RPL_INF;
    t->fired_ask = RPL_INF;
    if (on_change == RPL_TIMER_ON_TOUCH) l->touch_timers++;
    return 0;
}

/* ---- the own FIFO ------------------------------------------------------------------------- */

/* Room for `more` events at the tail: compacts, then grows both arrays. 0 or -ENOMEM. */
static int own_room(rpl_loop_t *l, size_t more)
{
    if (l->own_tail + more <= l->own_cap) return 0;
    if (l->own_head > 0) {
        size_t live = l->own_tail - l->own_head;
        memmove(l->own, l->own + l->own_head, live * sizeof(eng_evt_t));
        memmove(l->own_deliver, l->own_deliver + l->own_head, live * sizeof(int64_t));
        memmove(l->own_mark, l->own_mark + l->own_head, live * sizeof(rpl_own_mark_t));
        l->own_noted -= l->own_head;
        l->own_applied -= l->own_head;
        l->own_booked -= l->own_head;
        l->own_tail = live;
        l->own_head = 0;
        if (l->own_tail + more <= l->own_cap) return 0;
    }
    size_t cap = l->own_cap, cap2 = l->own_cap, cap3 = l->own_cap;
    if (grow((void **)&l->own, &cap, l->own_tail + more, sizeof(eng_evt_t))) return -ENOMEM;
    if (grow((void **)&l->own_deliver, &cap2, l->own_tail + more, sizeof(int64_t))) return -ENOMEM;
    if (grow((void **)&l->own_mark, &cap3, l->own_tail + more, sizeof(rpl_own_mark_t))) return -ENOMEM;
    l->own_cap = cap;
    return 0;
}

/* Whether an own event of this type wakes nothing (silent_types). */
static int is_silent(const rpl_loop_t *l, uint16_t type)
{
    return type < 8 && (l->silent_types >> type & 1);
}

/* 1 when own_waking counts an own event of this type (not silent under waking_types). */
static size_t counts_waking(const rpl_loop_t *l, uint16_t type)
{
    return !(type < 8 && (l->waking_types >> type & 1));
}

/* own_waking recounted under silent_types (at rpl_loop_advance, when the runtime changed it). */
static void recount_waking(rpl_loop_t *l)
{
    l->waking_types = l->silent_types;
    l->own_waking = 0;
    for (size_t k = l->own_head; k < l->own_tail; k++) l->own_waking += counts_waking(l, l->own[k].hdr.type);
}

/* The router's events of its last batch (count of them, or its error) onto the own FIFO. */
static long keep_own_events(rpl_loop_t *l, const rpl_router_t *r, long count)
{
    if (count < 0) return count;
    if (r->own_len == 0) return count;
    if (own_room(l, r->own_len)) return -ENOMEM;
    memcpy(l->own + l->own_tail, r->own, r->own_len * sizeof(eng_evt_t));
    memcpy(l->own_deliver + l->own_tail, r->own_deliver, r->own_len * sizeof(int64_t));
    for (size_t k = 0; k < r->own_len; k++) l->own_waking += counts_waking(l, r->own[k].hdr.type);
    l->own_tail += r->own_len;
    return count;
}

long rpl_loop_submit(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, const eng_cmd_t *cmds, size_t n, int own)
{
    return keep_own_events(l, r, rpl_submit(r, e, cmds, n, own));
}

/* rpl_loop_submit on the loop's own writable commands (the history copy, the chunk, the arrival
 * FIFO): their sequence numbers stamped in place. */
static long submit_stamped(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, eng_cmd_t *cmds, size_t n, int own)
{
    return keep_own_events(l, r, rpl_submit_stamped(r, e, cmds, n, own));
}

/* The RPL_OWN_* bits of what an own event marks when it is noted. */
static uint8_t own_marks(const rpl_loop_t *l, const eng_evt_t *ev)
{
    uint16_t type = ev->hdr.type;
    if (type == ENG_EVT_ACCEPTED && is_silent(l, type)) return 0;
    if (type == ENG_EVT_CANCELLED && ev->hdr.reason == ENG_CXL_USER && ev->cancelled.leaves_qty == 0)
        return RPL_OWN_MARKS;
    return RPL_OWN_MARKS | RPL_OWN_MARKS_ALL;
}

/* The strategy's best own bid and ask and whether it has orders, from `orders` (at each
 * rpl_loop_advance, and when a silent event noted during one changes the table). */
static void take_own_prices(rpl_loop_t *l)
{
    rpl_orders_best(&l->orders, -RPL_INF, RPL_INF, &l->own_bid, &l->own_ask);
    l->has_orders = l->orders.n > 0;
}

/* Marks the timers an own event marks (bits: RPL_OWN_*). */
static void mark_own(rpl_loop_t *l, uint8_t bits)
{
    if (!bits) return;
    for (size_t k = 0; k < l->n_timers; k++) {
        rpl_timer_t *tm = &l->timers[k];
        if (bits & (tm->ignore_own_cancels ? RPL_OWN_MARKS_ALL : RPL_OWN_MARKS)) tm->changed = 1;
    }
}

/* Notes the own event own_noted (its delivery reached): the view's touch now beside it, the timers
 * it marks marked; a silent one with every one before it applied is applied to `orders` (the
 * context takes it at the next wake-up, but nothing of the strategy runs before: the replay counts
 * it from its delivery on, as the reference loop, which applies it then: Replay._note_silent). */
static void note_next_own(rpl_loop_t *l)
{
    size_t k = l->own_noted++;
    rpl_own_mark_t *m = &l->own_mark[k];
    m->deliver_ns = l->own_deliver[k];
    m->bid = rpl_view_best(&l->view, ENG_SIDE_BUY, -RPL_INF);
    m->ask = rpl_view_best(&l->view, ENG_SIDE_SELL, RPL_INF);
    mark_own(l, own_marks(l, &l->own[k]));
    if (k == l->own_applied && is_silent(l, l->own[k].hdr.type)) {
        if (k == l->own_booked && !l->stopped &&
            rpl_booked_event(&l->booked, &l->orders, &l->own[k], m->deliver_ns, m->bid, m->ask, RPL_INF))
            l->own_booked++;        /* booked in C: applied to `orders` there */
        else
            rpl_orders_apply(&l->orders, &l->own[k]);
        l->own_applied++;
        take_own_prices(l);
    }
}

/* Notes every own event delivered at or before t not noted yet (the view holds what was delivered
 * by then). */
static void note_own_until(rpl_loop_t *l, int64_t t)
{
    while (l->own_noted < l->own_tail && l->own_noted < l->note_stop && l->own_deliver[l->own_noted] <= t)
        note_next_own(l);
}

size_t rpl_loop_take_own(rpl_loop_t *l, int64_t t, eng_evt_t *out, rpl_own_mark_t *marks, size_t max)
{
    size_t n = 0;
    while (n < max && l->own_head < l->own_tail && l->own_deliver[l->own_head] <= t) {
        size_t k = l->own_head++;
        l->own_waking -= counts_waking(l, l->own[k].hdr.type);
        if (k == l->own_noted) note_next_own(l);
        if (k == l->own_applied) {
            rpl_orders_apply(&l->orders, &l->own[k]);
            l->own_applied++;
        }
        if (k < l->own_booked) continue;    /* booked: the caller takes it from `booked` */
        l->booked.on = 0;       /* handed to Python, which books it: nothing more is booked in C (its
                                 * ledger would miss this one) until Python turns booking on again */
        if (marks) marks[n] = l->own_mark[k];
        out[n++] = l->own[k];
    }
    if (l->own_booked < l->own_head) l->own_booked = l->own_head;
    if (l->own_head == l->own_tail)
        l->own_head = l->own_tail = l->own_noted = l->own_applied = l->own_waking = l->own_booked = 0;
    return n;
}

/* ---- the level set -------------------------------------------------------------------------- */

static size_t level_hash(int64_t price, uint8_t side, size_t mask)
{
    uint64_t h = (uint64_t)price * 0x9E3779B97F4A7C15ull ^ side;
    return (size_t)(h >> 17) & mask;
}

/* Puts levels[idx] into the slot table (the key is not there). */
static void slot_put(rpl_loop_t *l, size_t idx)
{
    size_t mask = l->slot_cap - 1;
    size_t h = level_hash(l->levels[idx].price, l->levels[idx].side, mask);
    while ((l->slot[h] >> 32) == l->epoch) h = (h + 1) & mask;
    l->slot[h] = l->epoch << 32 | (uint64_t)(idx + 1);
}

/* Doubles the slot table and re-enters the current levels. 0 or -ENOMEM. */
static int slots_grow(rpl_loop_t *l)
{
    uint64_t *ns = calloc(2 * l->slot_cap, sizeof(uint64_t));
    if (!ns) return -ENOMEM;
    free(l->slot);
    l->slot = ns;
    l->slot_cap *= 2;
    for (size_t k = 0; k < l->n_levels; k++) slot_put(l, k);
    return 0;
}

/* The level's quantity is now qty (added to the set, or updated there). 0 or -ENOMEM. */
static int level_set(rpl_loop_t *l, uint8_t side, int64_t price, int64_t qty)
{
    size_t mask = l->slot_cap - 1;
    for (size_t h = level_hash(price, side, mask); (l->slot[h] >> 32) == l->epoch; h = (h + 1) & mask) {
        rpl_level_t *lv = &l->levels[(l->slot[h] & 0xFFFFFFFFu) - 1];
        if (lv->price == price && lv->side == side) {
            lv->qty = qty;
            return 0;
        }
    }
    if (grow((void **)&l->levels, &l->levels_cap, l->n_levels + 1, sizeof(rpl_level_t))) return -ENOMEM;
    rpl_level_t *lv = &l->levels[l->n_levels];
    memset(lv, 0, sizeof *lv);
    lv->price = price;
    lv->qty = qty;
    lv->side = side;
    l->n_levels++;
    if (2 * l->n_levels > l->slot_cap) return slots_grow(l);
    slot_put(l, l->n_levels - 1);
    return 0;
}

void rpl_loop_levels_clear(rpl_loop_t *l)
{
    l->n_levels = 0;
    l->trade_seen = 0;
    l->trade_volume = 0;
    l->epoch++;
    if (l->epoch >> 32) {       /* the epoch field of a slot is 32 bits: start the table afresh */
        memset(l->slot, 0, l->slot_cap * sizeof(uint64_t));
        l->epoch = 1;
    }
}

/* The view's touch into touch_bid / touch_ask (rpl_loop_take_md's exits). */
static void note_touch(rpl_loop_t *l)
{
    l->touch_bid = rpl_view_best(&l->view, ENG_SIDE_BUY, -RPL_INF);
    l->touch_ask = rpl_view_best(&l->view, ENG_SIDE_SELL, RPL_INF);
}

int rpl_loop_take_md(rpl_loop_t *l, rpl_router_t *r, int64_t t, int stop_on_trade)
{
    int out = 0;
    while (r->md_head < r->md_tail - r->md_unstamped && r->md[r->md_head].deliver_ns <= t) {
        const rpl_md_t *m = &r->md[r->md_head];
        note_own_until(l, m->deliver_ns - 1);     /* an own event sees the rows delivered with it */
        if (m->kind == 3 || (m->kind != 0 && stop_on_trade)) {
            l->held = *m;
            if (m->kind != 3) l->md_changed = 1;    /* a trade changes what on-change timers see */
            r->md_head++;
            out |= RPL_MD_HELD;
            break;
        }
        if (m->kind == 0) {
            if ((l->levels_wanted && level_set(l, m->side, m->price, m->qty)) ||
                rpl_view_set(&l->view, m->side, m->price, m->qty)) {
                note_touch(l);
                return -ENOMEM;
            }
        } else {
            l->trade_seen = 1;
            l->trade_last_price = m->price;
            l->trade_volume += m->qty;
        }
        l->md_changed = 1;
        out |= RPL_MD_FOLDED;
        r->md_head++;
    }
    if (r->md_head == r->md_tail) r->md_head = r->md_tail = 0;
    if (!(out & RPL_MD_HELD)) note_own_until(l, t);
    if (l->n_levels || l->trade_seen) out |= RPL_MD_FOLDED;    /* a skipped quiet wake-up's fold too */
    note_touch(l);
    return out;
}

/* ---- wake-ups (Replay._next_wake, Replay._earliest_reaction) ---------------------------------- */

static int64_t md_next(const rpl_router_t *r)
{
    return r->md_head < r->md_tail - r->md_unstamped ? r->md[r->md_head].deliver_ns : RPL_INF;
}

static int64_t own_next(const rpl_loop_t *l)
{
    return l->own_head < l->own_tail ? l->own_deliver[l->own_head] : RPL_INF;
}

/* The first own event that wakes the strategy (Replay._first_waking_own): one of a silent type
 * waits for the next wake-up; stopped, every event wakes (bookkeeping). */
static int64_t own_wake_next(const rpl_loop_t *l)
{
    if (!l->silent_types || l->stopped) return own_next(l);
    if (!l->own_waking) return RPL_INF;
    for (size_t k = l->own_head; k < l->own_tail; k++)
        if (!is_silent(l, l->own[k].hdr.type)) return l->own_deliver[k];
    return RPL_INF;
}

/* With every waiting own event silent (own_waking 0, silent_types set): the first not noted yet
 * and not an ACCEPTED (own_mark_next's and own_note_next's answer then), RPL_INF when none. */
static int64_t first_silent_to_note(const rpl_loop_t *l)
{
    for (size_t k = l->own_noted; k < l->own_tail; k++)
        if (l->own[k].hdr.type != ENG_EVT_ACCEPTED) return l->own_deliver[k];
    return RPL_INF;
}

/* The delivery of the first own event still waiting that will mark a timer, a silent one already
 * noted aside (its mark is in the timers' flags: Replay._first_marking_own, whose queue no longer
 * holds it): an unmarked on-change timer's tick moves to the first one at or after it. */
static int64_t own_mark_next(const rpl_loop_t *l)
{
    if (l->silent_types && !l->own_waking) return first_silent_to_note(l);
    for (size_t k = l->own_head; k < l->own_tail; k++) {
        const eng_evt_t *ev = &l->own[k];
        if (is_silent(l, ev->hdr.type) && (k < l->own_noted || ev->hdr.type == ENG_EVT_ACCEPTED)) continue;
        return l->own_deliver[k];
    }
    return RPL_INF;
}

/* When the next silent own event is to be noted at its delivery (Replay._first_silent_to_note): the
 * first waiting one, neither an ACCEPTED nor noted yet, with no event that wakes before it; RPL_INF
 * when none, when the strategy has no silent events but acks, or when it stopped. *wakes: the
 * first waiting event that wakes (own_tail: none), where the step's noting stops. */
static int64_t own_note_next(const rpl_loop_t *l, size_t *wakes)
{
    int64_t at = RPL_INF;
    *wakes = l->own_tail;
    if (!(l->silent_types & ~(1u << ENG_EVT_ACCEPTED)) || l->stopped) return RPL_INF;
    if (!l->own_waking) return first_silent_to_note(l);
    for (size_t k = l->own_head; k < l->own_tail; k++) {
        uint16_t type = l->own[k].hdr.type;
        if (!is_silent(l, type)) {
            *wakes = k;
            return at;
        }
        if (at == RPL_INF && type != ENG_EVT_ACCEPTED && k >= l->own_noted) at = l->own_deliver[k];
    }
    return at;
}

/* A step of its own for a silent event's delivery at t (no wake-up): the market data delivered by t
 * taken, the silent events delivered by then noted (not one that wakes, nor any after it: the
 * reference loop leaves those waiting for the wake-up). 0, RPL_STOP_NOTE (a held row comes
 * first: the caller takes it) or -ENOMEM. */
static int note_step(rpl_loop_t *l, rpl_router_t *r, int64_t t, size_t wakes)
{
    l->note_stop = wakes;       /* kept through RPL_STOP_NOTE: the caller's rpl_loop_take_md goes on */
    if (l->noted_md_ns == RPL_INF) l->noted_md_ns = t;
    int got = rpl_loop_take_md(l, r, t, l->stop_on_trade);
    if (got < 0) return got;
    if (got & RPL_MD_HELD) {
        l->wake_ns = t;
        return RPL_STOP_NOTE;
    }
    l->note_stop = SIZE_MAX;
    return 0;
}

/* The first tick of a timer at or after t (next when t <= next). */
static int64_t tick_at_or_after(int64_t next, int64_t interval, int64_t t)
{
    if (t <= next) return next;
    if (t - next <= interval) return next + interval;     /* the next tick: no division */
    return next + (t - next + interval - 1) / interval * interval;
}

static int64_t next_wake(rpl_loop_t *l, const rpl_router_t *r)
{
    int64_t own = own_wake_next(l);
    if (l->stopped) return own;
    int64_t md = md_next(r), t = own;
    if (l->md_callbacks && md < t) t = md;
    int64_t marking = l->n_timers ? own_mark_next(l) : RPL_INF;
    if (l->noted_md_ns < marking) marking = l->noted_md_ns;
    for (size_t k = 0; k < l->n_timers; k++) {
        rpl_timer_t *tm = &l->timers[k];
        if (tm->on_change && !tm->changed) {
            int64_t first = md < marking ? md : marking;
            if (first >= RPL_INF) continue;
            tm->next_ns = tick_at_or_after(tm->next_ns, tm->interval_ns, first);
        }
        if (tm->next_ns < t) t = tm->next_ns;
    }
    if (t >= RPL_INF) return RPL_INF;
    return t > l->busy_until ? t : l->busy_until;
}

static int64_t earliest_reaction(const rpl_loop_t *l, int64_t delivered)
{
    if (l->md_callbacks) return delivered;
    int64_t best = RPL_INF;
    for (size_t k = 0; k < l->n_timers; k++) {
        const rpl_timer_t *tm = &l->timers[k];
        if (!tm->on_change) continue;
        int64_t tick = tick_at_or_after(tm->next_ns, tm->interval_ns, delivered);
        if (tick < best) best = tick;
    }
    return best > l->busy_until ? best : l->busy_until;
}

/* ---- quiet wake-ups (Replay._wake: no callback runs, nothing of its own arrives) --------------- */

/* Whether a wake-up at t may be quiet before its deliveries are taken: the strategy is running, no
 * market data wakes a callback, none of its own events is due, no row due needs Python (a phase
 * change) and every timer due is an on-change one. */
static int may_be_quiet(const rpl_loop_t *l, const rpl_router_t *r, int64_t t)
{
    if (l->stopped || l->md_callbacks || own_wake_next(l) <= t) return 0;
    for (size_t k = r->md_head; k < r->md_tail - r->md_unstamped && r->md[k].deliver_ns <= t; k++)
        if (r->md[k].kind == 3) return 0;
    for (size_t k = 0; k < l->n_timers; k++)
        if (l->timers[k].next_ns <= t && l->timers[k].on_change == RPL_TIMER_EVERY) return 0;
    return 1;
}

/* Replay._mark_timers */
void rpl_loop_mark_timers(rpl_loop_t *l)
{
    int64_t bid = l->touch_bid, ask = l->touch_ask;     /* the view's touch: only take_md moves it */
    for (size_t k = 0; k < l->n_timers; k++) {
        rpl_timer_t *tm = &l->timers[k];
        if (tm->on_change == RPL_TIMER_ON_TOUCH) {
            if (tm->fired_bid != bid || tm->fired_ask != ask) tm->changed = 1;
        } else if (l->md_changed) {
            tm->changed = 1;
        }
    }
    l->md_changed = 0;
    l->noted_md_ns = RPL_INF;
}

/* Replay._wake's timer loop */
size_t rpl_loop_fire_timers(rpl_loop_t *l, int64_t t)
{
    int64_t bid = l->touch_bid, ask = l->touch_ask;     /* the view's touch: only take_md moves it */
    size_t fired = 0;
    for (size_t k = 0; k < l->n_timers; k++) {
        rpl_timer_t *tm = &l->timers[k];
        if (tm->next_ns > t) continue;
        if (tm->on_change && !tm->changed) {
            tm->next_ns += tm->interval_ns;
            continue;
        }
        tm->fired_bid = bid;
        tm->fired_ask = ask;
        tm->changed = 0;
        int64_t past = t + 1 - tm->next_ns;      /* >= 1: the tick is due */
        int64_t steps = past <= tm->interval_ns ? 1 : (past + tm->interval_ns - 1) / tm->interval_ns;
        tm->next_ns += steps * tm->interval_ns;
        fired++;
    }
    return fired;
}

size_t rpl_loop_settle_timers(rpl_loop_t *l, int64_t t)
{
    rpl_loop_mark_timers(l);
    return rpl_loop_fire_timers(l, t);
}

/* A wake-up at t that runs no callback is done here: its market data taken into the fold and the
 * view, the timers marked, the ticks of those due moved by one interval. 1 when it was quiet
 * (done), 0 when the strategy must wake (a timer due fires; what was taken waits in the fold),
 * -ENOMEM. */
static int skip_quiet_wake(rpl_loop_t *l, rpl_router_t *r, int64_t t)
{
    if (!may_be_quiet(l, r, t)) return 0;
    if (rpl_loop_take_md(l, r, t, 0) < 0) return -ENOMEM;
    rpl_loop_mark_timers(l);        /* md_changed's effect on the timers is in their flags now */
    for (size_t k = 0; k < l->n_timers; k++)
        if (l->timers[k].next_ns <= t && l->timers[k].changed) return 0;
    rpl_loop_fire_timers(l, t);     /* none fires: each due one moves one interval on */
    if (t > l->now) l->now = t;     /* as a wake-up in Python (Replay._wake) */
    l->quiet_skipped++;
    return 1;
}

/* ---- history slices (Replay._cut_before_own_orders, _hist_chunk, _aggressors) ------------------ */

/* numpy.searchsorted(ts, x, side="right") for an answer known to be at or after `from`: a galloping
 * search from there (the answer is usually near: a slice ends a few commands on), then a binary one. */
static size_t upper_bound(const int64_t *ts, size_t n, size_t from, int64_t x)
{
    size_t lo = from, step = 1;
    while (lo + step < n && ts[lo + step] <= x) {
        lo += step;
        step *= 2;
    }
    size_t hi = lo + step < n ? lo + step : n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ts[mid] <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static size_t cut_before_own_orders(rpl_loop_t *l, size_t j, int64_t react_ns)
{
    if (!l->has_orders || l->stopped) return j;
    size_t window = j < l->i + RPL_SLICE ? j : l->i + RPL_SLICE;
    size_t first = rpl_first_touch(l->bid_hit, l->ask_hit, l->i, window, l->own_bid, l->own_ask);
    l->hit_from = l->i;         /* for find_touches: no command of [i, first) can touch an own order */
    l->hit_first = first;
    if (first >= window) return window;
    size_t guard = upper_bound(l->ts, l->n, first, l->ts[first] + react_ns);
    return guard < j ? guard : j;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The IOC order that stands for history command k (an execution at or through an own order). */
static void write_aggressor(rpl_loop_t *l, size_t k, eng_cmd_t *out)
{
    int hidden = l->kind[k] == RPL_KIND_HIDDEN;
    int buy = l->side[k] == ENG_SIDE_BUY;
    memset(out, 0, sizeof *out);
    eng_new_order_t *o = &out->new_order;
    o->hdr.type = ENG_CMD_NEW_ORDER;
    o->hdr.instrument_id = l->instrument;
    o->hdr.ts_ns = l->ts[k];
    o->order_id = l->aggressor_base + ++l->next_aggressor;
    o->side = buy ? ENG_SIDE_SELL : ENG_SIDE_BUY;
    /* a hidden print between ticks: a resting bid must be at or above it, an ask at or below */
    o->price = buy ? -floor_div(-l->price[k], l->tick) * l->tick : floor_div(l->price[k], l->tick) * l->tick;
    o->qty = l->qty[k];
    o->ord_type = ENG_ORD_LIMIT;
    o->tif = ENG_TIF_IOC;
    o->account_id = l->contra_account;
    o->stp_group = hidden ? l->hist_stp_group : 0;
    o->stp_mode = hidden ? ENG_STP_CANCEL_AGGRESSING : 0;
    if (hidden) l->aggressors_hidden++;
    else l->aggressors_visible++;
}

/* The executions in [a, b) at or through the strategy's prices into touch[]; how many, or -ENOMEM. */
static long find_touches(rpl_loop_t *l, size_t a, size_t b)
{
    size_t nt = 0, from = a;
    if (!l->has_orders || l->stopped) return 0;
    /* an execution that touches an own order is a command that does (exec <= hit): the slice's
     * scan for the latter, when it started here, tells where the first can be */
    if (l->hit_from == a && l->hit_first > a) from = l->hit_first;
    l->hit_from = SIZE_MAX;
    for (size_t k = from;; k++) {
        k = rpl_first_touch(l->bid_exec, l->ask_exec, k, b, l->own_bid, l->own_ask);
        if (k >= b) break;
        if (!l->hidden_executions && l->kind[k] == RPL_KIND_HIDDEN) continue;
        if (grow((void **)&l->touch, &l->touch_cap, nt + 1, sizeof(size_t))) return -ENOMEM;
        l->touch[nt++] = k;
    }
    return (long)nt;
}

/* Hidden prints of [a, b) that were not rewritten go to the strategy's market data. 0 or -ENOMEM. */
static int push_prints(rpl_loop_t *l, rpl_router_t *r, size_t a, size_t b, size_t nt)
{
    size_t t = 0;
    for (size_t k = a; k < b; k++) {
        if (l->kind[k] != RPL_KIND_HIDDEN) continue;
        while (t < nt && l->touch[t] < k) t++;
        if (t < nt && l->touch[t] == k) continue;
        if (rpl_md_push_print(r, l->instrument, l->ts[k], l->side[k], l->price[k], l->qty[k])) return -ENOMEM;
    }
    return 0;
}

long rpl_loop_hist_chunk(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, size_t a, size_t b)
{
    if (b <= a) return 0;
    eng_cmd_t *cmds = l->recs + a;
    long nt = find_touches(l, a, b);
    if (nt < 0) return nt;
    if (nt > 0) {
        if (grow((void **)&l->chunk, &l->chunk_cap, b - a, sizeof(eng_cmd_t))) return -ENOMEM;
        memcpy(l->chunk, cmds, (b - a) * sizeof(eng_cmd_t));
        for (long t = 0; t < nt; t++) write_aggressor(l, l->touch[t], &l->chunk[l->touch[t] - a]);
        l->aggressors_built = 1;
        cmds = l->chunk;
    }
    l->i = b;
    if (l->ts[b - 1] > l->now) l->now = l->ts[b - 1];
    long rc = submit_stamped(l, r, e, cmds, b - a, 0);
    if (rc < 0) return rc;
    if (r->want_md && push_prints(l, r, a, b, (size_t)nt)) return -ENOMEM;
    return 0;
}

/* The end of the next history slice (Replay.run's history branch); t_h, t_a, t_w, t_n as there (a
 * silent event's delivery changes the strategy's orders, by which executions are rewritten, as a
 * wake-up there would). */
static size_t slice_end(rpl_loop_t *l, const rpl_router_t *r, int64_t t_h, int64_t t_a, int64_t t_w, int64_t t_n)
{
    int64_t limit = t_a;
    if (t_w < RPL_INF && t_w + l->lo_min < limit) limit = t_w + l->lo_min;
    if (t_n < RPL_INF && t_n + l->lo_min < limit) limit = t_n + l->lo_min;
    if (!l->stopped && l->md_wakes && r->want_md) {
        int64_t reaction = earliest_reaction(l, t_h + l->lf_min);
        if (reaction < RPL_INF && reaction + l->lo_min < limit) limit = reaction + l->lo_min;
    }
    size_t j = limit < RPL_INF ? upper_bound(l->ts, l->n, l->i, limit) : l->n;
    j = cut_before_own_orders(l, j, l->lf_min + l->lo_min);
    if (j < l->i + 1) j = l->i + 1;
    return j < l->i + RPL_SLICE ? j : l->i + RPL_SLICE;
}

/* rpl_loop_advance's hand-over at a wake-up (take_out set): the market data and own events
 * delivered by wake_ns taken (the own events only when no row is held: they are noted as the rows
 * reach their delivery, so the caller takes them after the held rows), and, for a running strategy
 * with settle_at_wake when Python has nothing more to take (no row held, every own event taken),
 * the timers settled. 0 or -ENOMEM. */
static int take_at_wake(rpl_loop_t *l, rpl_router_t *r)
{
    l->settled = 0;
    l->took_own = 0;
    l->took_md = rpl_loop_take_md(l, r, l->wake_ns, l->stop_on_trade);
    if (l->took_md < 0) return l->took_md;
    if (l->took_md & RPL_MD_HELD) return 0;
    l->took_own = rpl_loop_take_own(l, l->wake_ns, l->take_out, l->take_marks, l->take_max);
    if (l->settle_at_wake && !l->stopped && l->took_own < l->take_max) {
        l->fired = rpl_loop_settle_timers(l, l->wake_ns);
        l->settled = 1;
    }
    return 0;
}

int rpl_loop_push_arrivals(rpl_loop_t *l, const eng_cmd_t *cmds, size_t n)
{
    if (!n) return 0;
    if (l->arr_head) {      /* what was taken goes: the FIFO starts at 0 again */
        memmove(l->arr, l->arr + l->arr_head, (l->arr_tail - l->arr_head) * sizeof *l->arr);
        l->arr_tail -= l->arr_head;
        l->arr_head = 0;
    }
    if (grow((void **)&l->arr, &l->arr_cap, l->arr_tail + n, sizeof(eng_cmd_t))) return -ENOMEM;
    size_t known = l->orders.n;
    for (size_t k = 0; k < n; k++) {
        const eng_new_order_t *o = &cmds[k].new_order;
        if (o->hdr.type == ENG_CMD_NEW_ORDER && rpl_orders_add(&l->orders, o->order_id, o->side, o->price)) {
            l->orders.n = known;     /* nothing appended: the orders this call added go too */
            return -ENOMEM;
        }
    }
    memcpy(l->arr + l->arr_tail, cmds, n * sizeof *cmds);
    l->arr_tail += n;
    l->t_arrival = l->arr[l->arr_head].hdr.ts_ns;
    return 0;
}

/* The strategy's commands arriving before t_h through the engine in one batch
 * (Replay._submit_strategy); now moves to the last one's arrival. 0 or a rpl_loop_submit error. */
static long submit_arrivals(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, int64_t t_h)
{
    size_t a = l->arr_head, b = a;
    while (b < l->arr_tail && l->arr[b].hdr.ts_ns < t_h) b++;
    l->arr_head = b;
    l->t_arrival = b < l->arr_tail ? l->arr[b].hdr.ts_ns : RPL_INF;
    int64_t last = l->arr[b - 1].hdr.ts_ns;
    if (last > l->now) l->now = last;
    long rc = submit_stamped(l, r, e, l->arr + a, b - a, 1);
    return rc < 0 ? rc : 0;
}

/* rpl_loop_advance's loop, the strategy's side already taken. */
static long run_until_wake(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e)
{
    for (;;) {
        int64_t t_h = l->i < l->n ? l->ts[l->i] : RPL_INF;
        int64_t t_a = l->t_arrival;
        int64_t t_w = next_wake(l, r);
        if (t_h == RPL_INF && t_a == RPL_INF && (own_wake_next(l) >= RPL_INF || l->stopped)) return RPL_STOP_END;
        size_t wakes;
        int64_t t_n = own_note_next(l, &wakes);
        if (t_n < t_w && t_n < t_h && t_n < t_a) {     /* a silent event's delivery: noted, no wake-up */
            int rc = note_step(l, r, t_n, wakes);
            if (rc) return rc;
            continue;
        }
        if (t_w < t_h && t_w < t_a) {
            int quiet = l->touch_timers ? skip_quiet_wake(l, r, t_w) : 0;
            if (quiet < 0) return quiet;
            if (quiet) continue;
            l->wake_ns = t_w;
            if (l->take_out) {
                int rc = take_at_wake(l, r);
                if (rc < 0) return rc;
            }
            return RPL_STOP_WAKE;
        }
        long rc;
        if (t_a < t_h) {
            rc = submit_arrivals(l, r, e, t_h);
            if (rc < 0) return rc;
            continue;
        }
        rc = rpl_loop_hist_chunk(l, r, e, l->i, slice_end(l, r, t_h, t_a, t_w, t_n));
        if (rc < 0) return rc;
    }
}

long rpl_loop_advance(rpl_loop_t *l, rpl_router_t *r, eng_engine_t *e, int64_t now, int64_t busy_until, int flags)
{
    l->now = now;
    l->busy_until = busy_until;
    take_own_prices(l);
    l->stopped = (flags & RPL_STOPPED) != 0;
    if (l->waking_types != l->silent_types) recount_waking(l);
    l->settled = 0;
    l->note_stop = SIZE_MAX;
    long rc = run_until_wake(l, r, e);
    rpl_report_t *rep = &l->report;
    rep->stop = rc;
    rep->wake_ns = l->wake_ns;
    rep->now = l->now;
    rep->i = (int64_t)l->i;
    rep->took_own = (int64_t)l->took_own;
    rep->took_md = l->took_md;
    rep->settled = l->settled;
    rep->fired = (int64_t)l->fired;
    rep->rejects = (int64_t)r->rej_len;
    return rc;
}
