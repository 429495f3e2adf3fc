/*
 * rpl_router.c - see rpl_router.h. Buffers grow by doubling (realloc); the FIFO compacts to the
 * front of its buffer before growing, so a long replay keeps it at the size of the backlog.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpl_router.h"

#define RPL_INIT_MD 4096u
#define RPL_INIT_OWN 256u
#define RPL_INIT_REJ 256u
#define RPL_INIT_SCRATCH 1024u
#define RPL_SUB 64u            /* commands per engine call inside one batch */

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

int rpl_router_init(rpl_router_t *r, uint32_t account_id, uint8_t want_md, int64_t feed_const_ns)
{
    memset(r, 0, sizeof *r);
    r->account_id = account_id;
    r->want_md = want_md;
    r->feed_const_ns = feed_const_ns;
    if (grow((void **)&r->md, &r->md_cap, RPL_INIT_MD, sizeof(rpl_md_t)) ||
        grow((void **)&r->own, &r->own_cap, RPL_INIT_OWN, sizeof(eng_evt_t)) ||
        grow((void **)&r->rej, &r->rej_cap, RPL_INIT_REJ, sizeof(rpl_reject_t)) ||
        grow((void **)&r->scratch, &r->scratch_cap, RPL_INIT_SCRATCH, sizeof(eng_cmd_t))) {
        rpl_router_free(r);
        return -ENOMEM;
    }
    r->own_deliver = malloc(r->own_cap * sizeof(int64_t));
    if (!r->own_deliver) {
        rpl_router_free(r);
        return -ENOMEM;
    }
    return 0;
}

void rpl_router_free(rpl_router_t *r)
{
    free(r->md);
    free(r->own);
    free(r->own_deliver);
    free(r->rej);
    free(r->scratch);
    r->md = NULL;
    r->own = NULL;
    r->own_deliver = NULL;
    r->rej = NULL;
    r->scratch = NULL;
    r->md_cap = r->own_cap = r->rej_cap = r->scratch_cap = 0;
}

/* Room for one more FIFO entry: compacts, then grows. 0 or -ENOMEM. */
static int md_room(rpl_router_t *r)
{
    if (r->md_tail < r->md_cap) return 0;
    if (r->md_head > 0) {
        memmove(r->md, r->md + r->md_head, (r->md_tail - r->md_head) * sizeof(rpl_md_t));
        r->md_tail -= r->md_head;
        r->md_head = 0;
        if (r->md_tail < r->md_cap) return 0;
    }
    return grow((void **)&r->md, &r->md_cap, r->md_cap + 1, sizeof(rpl_md_t));
}

/* Appends one entry, stamped when the feed latency is constant. 0 or -ENOMEM. */
static int md_push(rpl_router_t *r, uint32_t instrument, int64_t ts, uint8_t kind, uint8_t side, int64_t price,
                   int64_t qty)
{
    if (md_room(r)) return -ENOMEM;
    rpl_md_t *m = &r->md[r->md_tail++];
    m->ts_ns = ts;
    m->kind = kind;
    m->side = side;
    m->price = price;
    m->qty = qty;
    memset(m->_pad, 0, sizeof m->_pad);
    m->instrument = instrument;
    if (r->feed_const_ns >= 0) {
        int64_t d = ts + r->feed_const_ns;
        if (d < r->last_delivery) d = r->last_delivery;
        r->last_delivery = d;
        m->deliver_ns = d;
    } else {
        m->deliver_ns = 0;
        r->md_unstamped++;
    }
    return 0;
}

int rpl_md_push_print(rpl_router_t *r, uint32_t instrument, int64_t ts_ns, uint8_t side, int64_t price, int64_t qty)
{
    return md_push(r, instrument, ts_ns, 2, side, price, qty);
}

/* Appends one of the strategy's events to the own buffer (its delivery stamped by stamp_own, once
 * the batch's market data is queued). 0 or -ENOMEM. */
static int keep_own(rpl_router_t *r, const eng_evt_t *ev)
{
    if (r->own_len == r->own_cap) {
        size_t cap = r->own_cap;
        if (grow((void **)&r->own, &r->own_cap, cap + 1, sizeof(eng_evt_t))) return -ENOMEM;
        int64_t *nd = realloc(r->own_deliver, r->own_cap * sizeof(int64_t));
        if (!nd) return -ENOMEM;
        r->own_deliver = nd;
    }
    r->own[r->own_len++] = *ev;
    return 0;
}

/* Refused history command: its (command type, reason) listed. 0 or -ENOMEM. */
static int list_reject(rpl_router_t *r, const eng_evt_t *ev)
{
    if (grow((void **)&r->rej, &r->rej_cap, r->rej_len + 1, sizeof(rpl_reject_t))) return -ENOMEM;
    r->rej[r->rej_len].cmd_type = ev->rejected.cmd_type;
    r->rej[r->rej_len].reason = ev->hdr.reason;
    r->rej_len++;
    return 0;
}

/* One event of a batch, by its type: market data queued (when want_md), a history command's refusal
 * listed, and an event about the strategy's orders kept (every order event of its own batch; of
 * the history's, a trade, cancel or expiry booked to its account). 0 or -ENOMEM. */
static int route_event(rpl_router_t *r, const eng_evt_t *ev, int own)
{
    uint32_t acct = r->account_id;
    switch (ev->hdr.type) {
    case ENG_EVT_BOOK_LEVEL:
        if (!r->want_md) return 0;
        return md_push(r, ev->hdr.instrument_id, ev->hdr.ts_ns, 0, ev->book_level.side, ev->book_level.price,
                       ev->book_level.qty);
    case ENG_EVT_TRADE:
        if (r->want_md && md_push(r, ev->hdr.instrument_id, ev->hdr.ts_ns, 1, ev->trade.aggressor_side,
                                  ev->trade.price, ev->trade.qty))
            return -ENOMEM;
        return own || ev->trade.buy_account_id == acct || ev->trade.sell_account_id == acct ? keep_own(r, ev) : 0;
    case ENG_EVT_PHASE:
        return r->want_md ? md_push(r, ev->hdr.instrument_id, ev->hdr.ts_ns, 3, 0, ev->phase.phase, ev->phase.prev_phase) : 0;
    case ENG_EVT_REJECTED:
        return own ? keep_own(r, ev) : list_reject(r, ev);
    case ENG_EVT_CANCELLED:
        return own || ev->cancelled.account_id == acct ? keep_own(r, ev) : 0;
    case ENG_EVT_EXPIRED:
        return own || ev->expired.account_id == acct ? keep_own(r, ev) : 0;
    case ENG_EVT_ACCEPTED:
    case ENG_EVT_REPLACED:
        return own ? keep_own(r, ev) : 0;
    default:
        return 0;
    }
}

/* The deliveries of the batch's own events, in order, after all of its market data (the same FIFO
 * floor: one feed, never reordered); 0 when the caller stamps them. */
static void stamp_own(rpl_router_t *r)
{
    for (size_t k = 0; k < r->own_len; k++) {
        int64_t d = 0;
        if (r->feed_const_ns >= 0) {
            d = r->own[k].hdr.ts_ns + r->feed_const_ns;
            if (d < r->last_delivery) d = r->last_delivery;
            r->last_delivery = d;
        }
        r->own_deliver[k] = d;
    }
}

/* Runs cmds[0..n) through the engine and routes their events (market data and refusals queued,
 * the strategy's events kept for stamp_own); *done: how many ran. 0, or eng_submit's error (its
 * events not routed) or -ENOMEM. */
static int run_and_route(rpl_router_t *r, eng_engine_t *e, const eng_cmd_t *cmds, size_t n, int own, size_t *done)
{
    *done = 0;
    eng_clear_events(e);
    int rc = eng_submit(e, cmds, n, done);
    size_t count = 0;
    const eng_evt_t *evs = eng_events(e, &count);
    r->events += count;
    if (rc) return rc;
    for (size_t k = 0; k < count; k++) {
        int bad = route_event(r, &evs[k], own);
        if (bad) return bad;
    }
    eng_clear_events(e);
    return rc;
}

long rpl_submit_stamped(rpl_router_t *r, eng_engine_t *e, eng_cmd_t *cmds, size_t n, int own)
{
    r->own_len = 0;
    for (size_t k = 0; k < n; k++) cmds[k].hdr.seq = r->seq + 1 + k;
    uint64_t events = r->events;
    int rc = 0;
    /* RPL_SUB commands per engine call: their events are routed while still in cache (a batch's
     * events are one sequence either way; the own events' deliveries wait for the whole batch) */
    for (size_t a = 0; a < n && rc == 0; a += RPL_SUB) {
        size_t done = 0, m = n - a < RPL_SUB ? n - a : RPL_SUB;
        rc = run_and_route(r, e, cmds + a, m, own, &done);
        r->seq += done;
    }
    if (rc == 0) stamp_own(r);
    return rc ? rc : (long)(r->events - events);
}

long rpl_submit(rpl_router_t *r, eng_engine_t *e, const eng_cmd_t *cmds, size_t n, int own)
{
    if (grow((void **)&r->scratch, &r->scratch_cap, n, sizeof(eng_cmd_t))) return -ENOMEM;
    memcpy(r->scratch, cmds, n * sizeof(eng_cmd_t));
    return rpl_submit_stamped(r, e, r->scratch, n, own);
}

size_t rpl_md_pending(rpl_router_t *r, rpl_md_t **first)
{
    *first = r->md + (r->md_tail - r->md_unstamped);
    return r->md_unstamped;
}

size_t rpl_md_take(rpl_router_t *r, int64_t t, rpl_md_t *out, size_t max)
{
    size_t k = 0;
    while (k < max && r->md_head < r->md_tail - r->md_unstamped && r->md[r->md_head].deliver_ns <= t)
        out[k++] = r->md[r->md_head++];
    if (r->md_head == r->md_tail) r->md_head = r->md_tail = 0;
    return k;
}

size_t rpl_first_touch(const int64_t *bid_hit, const int64_t *ask_hit, size_t a, size_t b, int64_t bid, int64_t ask)
{
    for (size_t k = a; k < b; k++)
        if (bid_hit[k] <= bid || ask_hit[k] >= ask) return k;
    return b;
}
