/*
 * md_encode.c - engine events -> ITCH-style messages, the retransmission store, MoldUDP64 packing,
 * conflated L1/L2 and snapshots (contract in md_encode.h).
 *
 * Derivation rules (ENGINE.md gives the event order they rely on): an ACCEPTED limit order or a
 * TRIGGERED stop is the command's "pending" aggressor; it is displayed ('A') when a BOOK_LEVEL
 * for its own side and price arrives, since matching only ever touches the opposite side. A trade
 * executes the resting order's displayed shares ('E'); shares beyond them (an auction reaching
 * into an iceberg's reserve) print as 'P'; an iceberg whose shown part is used up while it has
 * reserve is re-added at the back of its level under the same reference, the way ITCH shows a
 * reserve refresh. Every BOOK_LEVEL is checked against the derived level (stats.level_mismatches).
 *
 * Outside order flow (ENGINE.md) needs no messages of its own: EXECUTE is a TRADE whose aggressor
 * carries order id 0 ('E' on the named order, nothing tracked for the aggressor); REDUCE is a
 * REPLACED(priority_kept) ('X') or a CANCELLED ('D'); SEED_LEVEL is an ACCEPTED plus BOOK_LEVEL
 * ('A' under the engine's seed id, md_feed.h) or reduces/cancels of seeded orders ('X'/'D').
 */
#include "md_encode.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md_feed.h"

/* ST_DARK: a midpoint peg of a dark instrument (ENGINE.md "Dark midpoint instruments"): never
 * displayed, tracked only so that its trades print as 'P' and its end is recognised. */
enum { ST_STOP = 1, ST_PENDING = 2, ST_RESTING = 3, ST_DARK = 4 };

typedef struct md_inst {
    char symbol[8];
    int64_t tick_size, lot_size, reference_price;
    int64_t last_price, last_qty;
    uint64_t last_engine_seq;
    uint8_t config_known, known, has_last, phase, dirty;
    uint8_t _pad0[3];
} md_inst_t;

struct md_enc {
    md_enc_config_t cfg;
    md_book_t *book;
    md_inst_t *inst;                /* [max_instruments + 1] */
    md_order_view_t *views;         /* [max_orders] scratch for snapshots */
    uint8_t *store;                 /* store_bytes ring of [u16 len][message] blocks */
    uint64_t *offsets;              /* [store_messages] absolute store position of each seq */
    uint64_t store_pos;             /* absolute position where the next block goes */
    uint64_t pending;               /* order id of the command's aggressor, 0 if none */
    const eng_evt_t *ev;            /* event being encoded: stamps the message headers */
    md_enc_stats_t st;
};

static int pow2(uint64_t v) { return v && !(v & (v - 1)); }

int md_enc_create(const md_enc_config_t *cfg, md_enc_t **out)
{
    if (cfg->depth_levels < 1 || cfg->depth_levels > MD_MAX_DEPTH_LEVELS ||
        cfg->max_packet_bytes < 256 || cfg->max_packet_bytes > MD_MAX_PACKET_BYTES ||
        !pow2(cfg->store_messages) || !pow2(cfg->store_bytes) || cfg->store_bytes < 4096)
        return -EINVAL;
    md_enc_t *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->cfg = *cfg;
    int rc = md_book_create(cfg->max_orders, cfg->max_levels, cfg->max_instruments, &e->book);
    if (rc != 0) {
        free(e);
        return rc;
    }
    e->inst = calloc((size_t)cfg->max_instruments + 1, sizeof(md_inst_t));
    e->views = calloc(cfg->max_orders, sizeof(md_order_view_t));
    e->store = malloc(cfg->store_bytes);
    e->offsets = calloc(cfg->store_messages, sizeof(uint64_t));
    if (!e->inst || !e->views || !e->store || !e->offsets) {
        md_enc_destroy(e);
        return -ENOMEM;
    }
    e->st.next_seq = 1;
    e->st.oldest_seq = 1;
    e->st.depth_next_seq = 1;
    *out = e;
    return 0;
}

void md_enc_destroy(md_enc_t *e)
{
    if (!e)
        return;
    md_book_destroy(e->book);
    free(e->inst);
    free(e->views);
    free(e->store);
    free(e->offsets);
    free(e);
}

int md_enc_set_instrument(md_enc_t *e, uint32_t id, const char *symbol8, int64_t tick_size,
                          int64_t lot_size, int64_t reference_price)
{
    if (id == 0 || id > e->cfg.max_instruments)
        return MD_E_BAD_VALUE;
    md_inst_t *in = &e->inst[id];
    memcpy(in->symbol, symbol8, 8);
    in->tick_size = tick_size;
    in->lot_size = lot_size;
    in->reference_price = reference_price;
    in->config_known = 1;
    return 0;
}

/* ---- the store ---------------------------------------------------------------------------- */

/* Reserves a block for a message of `size` bytes at the next seq, evicting the oldest messages it
 * overwrites, and returns where the message body goes. Blocks never wrap: one that would is
 * placed at the start of the ring. */
static uint8_t *store_claim(md_enc_t *e, uint32_t size)
{
    uint64_t cap = e->cfg.store_bytes, block = MD_MSG_LEN_BYTES + size;
    uint64_t pos = e->store_pos;
    if ((pos & (cap - 1)) + block > cap)
        pos = (pos | (cap - 1)) + 1;
    uint64_t seq = e->st.next_seq;
    while (e->st.oldest_seq < seq &&
           (seq - e->st.oldest_seq >= e->cfg.store_messages ||
            e->offsets[e->st.oldest_seq & (e->cfg.store_messages - 1)] + cap < pos + block))
        e->st.oldest_seq++;
    e->offsets[seq & (e->cfg.store_messages - 1)] = pos;
    uint8_t *p = e->store + (pos & (cap - 1));
    uint16_t be = htobe16((uint16_t)size);
    memcpy(p, &be, 2);
    e->store_pos = pos + block;
    e->st.next_seq = seq + 1;
    e->st.messages++;
    return p + MD_MSG_LEN_BYTES;
}

static void hdr_fill(md_msg_hdr_t *h, uint8_t type, uint32_t instrument_id, uint64_t md_seq,
                     uint64_t engine_seq, int64_t ts_ns)
{
    memset(h, 0, sizeof(*h));
    h->msg_type = type;
    h->instrument_id = htobe32(instrument_id);
    h->md_seq = htobe64(md_seq);
    h->engine_seq = htobe64(engine_seq);
    h->ts_ns = (int64_t)htobe64((uint64_t)ts_ns);
}

#define BE64(v) ((int64_t)htobe64((uint64_t)(v)))

/* Stamps a live message's header from the event being encoded and stores it. */
static void emit(md_enc_t *e, void *msg, uint32_t size, uint8_t type, uint32_t instrument_id)
{
    hdr_fill((md_msg_hdr_t *)msg, type, instrument_id, e->st.next_seq, e->ev->hdr.seq, e->ev->hdr.ts_ns);
    memcpy(store_claim(e, size), msg, size);
    e->inst[instrument_id].dirty = 1;
}

static uint8_t wire_side(uint8_t side) { return side == ENG_SIDE_BUY ? MD_SIDE_BUY : MD_SIDE_SELL; }

static void put_add(md_enc_t *e, const md_order_t *o)
{
    md_msg_add_t m;
    memset(&m, 0, sizeof(m));
    m.order_ref = htobe64(o->ref);
    m.price = BE64(o->price);
    m.shares = BE64(o->shown);
    m.side = wire_side(o->side);
    emit(e, &m, sizeof(m), MD_MSG_ADD, o->instrument_id);
}

static void put_delete(md_enc_t *e, const md_order_t *o)
{
    md_msg_delete_t m;
    m.order_ref = htobe64(o->ref);
    emit(e, &m, sizeof(m), MD_MSG_DELETE, o->instrument_id);
}

static void put_cancel(md_enc_t *e, const md_order_t *o, int64_t shares)
{
    md_msg_cancel_t m;
    m.order_ref = htobe64(o->ref);
    m.shares = BE64(shares);
    emit(e, &m, sizeof(m), MD_MSG_CANCEL, o->instrument_id);
}

/* ---- derivation --------------------------------------------------------------------------- */

static int64_t shown_for(const md_order_t *o)
{
    return o->peak > 0 && o->peak < o->leaves ? o->peak : o->leaves;
}

/* Displays a tracked order (at the back of its level) and announces it. */
static void display(md_enc_t *e, md_order_t *o)
{
    if (md_book_show(e->book, o, shown_for(o)) != 0) {
        e->st.capacity_errors++;
        return;
    }
    o->state = ST_RESTING;
    put_add(e, o);
}

static void forget(md_enc_t *e, md_order_t *o)
{
    if (e->pending == o->ref)
        e->pending = 0;
    md_book_forget(e->book, o);
}

/* A resting order traded qty at price; new_leaves is what the engine says remains. */
static void fill_resting(md_enc_t *e, uint64_t ref, int64_t qty, int64_t new_leaves, int64_t price,
                         uint64_t match)
{
    md_order_t *o = md_book_find(e->book, ref);
    if (!o || o->level == MD_NIL) {
        e->st.unknown_orders++;
        return;
    }
    int64_t vis = qty < o->shown ? qty : o->shown;
    if (vis > 0) {
        md_msg_executed_t m;
        m.order_ref = htobe64(ref);
        m.shares = BE64(vis);
        m.match_number = htobe64(match);
        m.price = BE64(price);
        emit(e, &m, sizeof(m), MD_MSG_EXECUTED, o->instrument_id);
    }
    if (qty > vis) {
        md_msg_trade_t m;
        memset(&m, 0, sizeof(m));
        m.match_number = htobe64(match);
        m.price = BE64(price);
        m.shares = BE64(qty - vis);
        m.side = wire_side(o->side);
        emit(e, &m, sizeof(m), MD_MSG_TRADE, o->instrument_id);
    }
    o->leaves = new_leaves;
    if (vis < o->shown) {
        md_book_set_shown(e->book, o, o->shown - vis);
    } else if (new_leaves > 0) {
        md_book_hide(e->book, o);   /* the 'E' took it out; the refill re-adds it at the back */
        display(e, o);
    } else {
        forget(e, o);
    }
}

/* Order id 0 on a trade's aggressing side is an outside aggressor (EXECUTE: an execution reported
 * from elsewhere against a named resting order). No order of this engine has id 0 (NEW_ORDER
 * rejects it), so there is nothing to track; only the resting side's 'E' changes the book. */
static void update_aggressor(md_enc_t *e, uint64_t ref, int64_t leaves)
{
    if (ref == 0)
        return;
    md_order_t *o = md_book_find(e->book, ref);
    if (!o) {
        e->st.unknown_orders++;
        return;
    }
    if (leaves == 0)
        forget(e, o);
    else
        o->leaves = leaves;
}

/* A dark trade: neither order was ever displayed, so the whole print is one 'P' whose side is the
 * resting order's (the side opposite the aggressor; NONE for a cross the NBBO or the opening ran). */
static void dark_trade(md_enc_t *e, const eng_evt_trade_t *t)
{
    md_msg_trade_t m;
    memset(&m, 0, sizeof(m));
    m.match_number = htobe64(t->trade_id);
    m.price = BE64(t->price);
    m.shares = BE64(t->qty);
    m.side = t->aggressor_side == ENG_SIDE_BUY ? MD_SIDE_SELL
           : t->aggressor_side == ENG_SIDE_SELL ? MD_SIDE_BUY : MD_SIDE_NONE;
    emit(e, &m, sizeof(m), MD_MSG_TRADE, t->hdr.instrument_id);
    update_aggressor(e, t->buy_order_id, t->buy_leaves_qty);
    update_aggressor(e, t->sell_order_id, t->sell_leaves_qty);
}

static void on_trade(md_enc_t *e, const eng_evt_trade_t *t)
{
    md_inst_t *in = &e->inst[t->hdr.instrument_id];
    in->last_price = t->price;
    in->last_qty = t->qty;
    in->has_last = 1;
    in->dirty = 1;
    const md_order_t *buy = md_book_find(e->book, t->buy_order_id);
    if (buy && buy->state == ST_DARK) {
        dark_trade(e, t);
    } else if (t->aggressor_side == ENG_SIDE_BUY) {
        fill_resting(e, t->sell_order_id, t->qty, t->sell_leaves_qty, t->price, t->trade_id);
        update_aggressor(e, t->buy_order_id, t->buy_leaves_qty);
    } else if (t->aggressor_side == ENG_SIDE_SELL) {
        fill_resting(e, t->buy_order_id, t->qty, t->buy_leaves_qty, t->price, t->trade_id);
        update_aggressor(e, t->sell_order_id, t->sell_leaves_qty);
    } else {
        fill_resting(e, t->buy_order_id, t->qty, t->buy_leaves_qty, t->price, t->trade_id);
        fill_resting(e, t->sell_order_id, t->qty, t->sell_leaves_qty, t->price, t->trade_id);
    }
}

static void on_accepted(md_enc_t *e, const eng_evt_accepted_t *a)
{
    if (e->pending) {
        e->st.stray_pending++;
        e->pending = 0;
    }
    int stop = a->ord_type == ENG_ORD_STOP || a->ord_type == ENG_ORD_STOP_LIMIT;
    int has_price = a->ord_type == ENG_ORD_LIMIT || a->ord_type == ENG_ORD_STOP_LIMIT;
    md_order_t *o = md_book_track(e->book, a->hdr.instrument_id, a->order_id, a->side,
                                  has_price ? a->price : 0);
    if (!o) {
        if (md_book_find(e->book, a->order_id))
            e->st.unknown_orders++;
        else
            e->st.capacity_errors++;
        return;
    }
    o->leaves = a->qty;
    o->peak = (a->flags & ENG_FLAG_ICEBERG) ? a->display_qty : 0;
    if (a->ord_type == ENG_ORD_MIDPOINT_PEG) {
        o->state = ST_DARK; /* never displayed: no BOOK_LEVEL will follow, nothing is pending */
        return;
    }
    o->state = stop ? ST_STOP : ST_PENDING;
    if (!stop)
        e->pending = a->order_id;
}

static void on_leaves_change(md_enc_t *e, uint64_t ref, int64_t leaves)
{
    md_order_t *o = md_book_find(e->book, ref);
    if (!o) {
        e->st.unknown_orders++;
        return;
    }
    if (o->level == MD_NIL) {
        if (leaves == 0)
            forget(e, o);
        else
            o->leaves = leaves;
        return;
    }
    if (leaves == 0) {
        put_delete(e, o);
        forget(e, o);
        return;
    }
    /* an STP decrement takes reserve first: the shown part only shrinks below the new leaves */
    if (leaves < o->shown) {
        put_cancel(e, o, o->shown - leaves);
        md_book_set_shown(e->book, o, leaves);
    }
    o->leaves = leaves;
}

static void on_replaced(md_enc_t *e, const eng_evt_replaced_t *r)
{
    md_order_t *o = md_book_find(e->book, r->order_id);
    if (!o || o->level == MD_NIL) {
        e->st.unknown_orders++;
        return;
    }
    o->leaves = r->leaves_qty;
    if (r->priority_kept) {
        if (r->display_qty < o->shown) {
            put_cancel(e, o, o->shown - r->display_qty);
            md_book_set_shown(e->book, o, r->display_qty);
        }
    } else if (r->price == o->price) {
        md_book_hide(e->book, o);
        if (md_book_show(e->book, o, r->display_qty) != 0) {
            e->st.capacity_errors++;
            return;
        }
        md_msg_replace_t m;
        m.orig_ref = htobe64(o->ref);
        m.new_ref = htobe64(o->ref);
        m.price = BE64(o->price);
        m.shares = BE64(o->shown);
        emit(e, &m, sizeof(m), MD_MSG_REPLACE, o->instrument_id);
    } else {
        /* leaves its level now; matches as an aggressor, and what rests is re-added */
        put_delete(e, o);
        md_book_hide(e->book, o);
        o->price = r->price;
        o->state = ST_PENDING;
        if (e->pending)
            e->st.stray_pending++;
        e->pending = o->ref;
    }
}

static void on_book_level(md_enc_t *e, const eng_evt_book_level_t *bl)
{
    if (e->pending) {
        md_order_t *o = md_book_find(e->book, e->pending);
        if (o && o->state == ST_PENDING && o->instrument_id == bl->hdr.instrument_id &&
            o->side == bl->side && o->price == bl->price) {
            e->pending = 0;
            display(e, o);
        }
    }
    int64_t qty;
    uint32_t count;
    md_book_level_at(e->book, bl->hdr.instrument_id, bl->side, bl->price, &qty, &count);
    if (qty != bl->qty || count != bl->order_count) {
        if (e->st.level_mismatches++ == 0)
            e->st.first_mismatch_seq = bl->hdr.seq;
    }
}

static void on_auction(md_enc_t *e, const eng_evt_auction_t *a)
{
    uint32_t id = a->hdr.instrument_id;
    md_msg_imbalance_t m;
    memset(&m, 0, sizeof(m));
    m.paired_shares = BE64(a->matched_qty);
    m.imbalance_shares = BE64(a->imbalance_qty);
    m.cross_price = BE64(a->price);
    m.imbalance_side = a->imbalance_side == ENG_SIDE_BUY ? MD_SIDE_BUY
                     : a->imbalance_side == ENG_SIDE_SELL ? MD_SIDE_SELL : MD_SIDE_NONE;
    m.crossed = a->crossed;
    emit(e, &m, sizeof(m), MD_MSG_IMBALANCE, id);
    if (a->crossed) {
        md_msg_cross_t q;
        q.price = BE64(a->price);
        q.shares = BE64(a->matched_qty);
        emit(e, &q, sizeof(q), MD_MSG_CROSS, id);
    }
}

static void fill_directory(const md_inst_t *in, md_msg_directory_t *m)
{
    memset(m, 0, sizeof(*m));
    if (in->config_known) {
        memcpy(m->symbol, in->symbol, 8);
        m->tick_size = BE64(in->tick_size);
        m->lot_size = BE64(in->lot_size);
        m->reference_price = BE64(in->reference_price);
        m->config_known = 1;
    } else {
        memset(m->symbol, ' ', 8);
    }
}

static int valid_instrument(const md_enc_t *e, uint32_t id) { return id >= 1 && id <= e->cfg.max_instruments; }

static void on_event(md_enc_t *e, const eng_evt_t *ev)
{
    e->ev = ev;
    uint32_t id = ev->hdr.instrument_id;
    switch (ev->hdr.type) {
    case ENG_EVT_ACCEPTED:
        if (valid_instrument(e, id))
            on_accepted(e, &ev->accepted);
        break;
    case ENG_EVT_TRIGGERED: {
        md_order_t *o = md_book_find(e->book, ev->triggered.order_id);
        if (!o) {
            e->st.unknown_orders++;
            break;
        }
        if (e->pending)
            e->st.stray_pending++;
        o->state = ST_PENDING;
        e->pending = o->ref;
        break;
    }
    case ENG_EVT_TRADE:
        if (valid_instrument(e, id))
            on_trade(e, &ev->trade);
        break;
    case ENG_EVT_CANCELLED:
        on_leaves_change(e, ev->cancelled.order_id, ev->cancelled.leaves_qty);
        break;
    case ENG_EVT_EXPIRED:
        on_leaves_change(e, ev->expired.order_id, 0);
        break;
    case ENG_EVT_REPLACED:
        on_replaced(e, &ev->replaced);
        break;
    case ENG_EVT_BOOK_LEVEL:
        if (valid_instrument(e, id))
            on_book_level(e, &ev->book_level);
        break;
    case ENG_EVT_PHASE:
        if (valid_instrument(e, id)) {
            md_msg_status_t m;
            memset(&m, 0, sizeof(m));
            m.phase = ev->phase.phase;
            m.prev_phase = ev->phase.prev_phase;
            e->inst[id].phase = ev->phase.phase;
            emit(e, &m, sizeof(m), MD_MSG_STATUS, id);
        }
        break;
    case ENG_EVT_AUCTION:
        if (valid_instrument(e, id))
            on_auction(e, &ev->auction);
        break;
    case ENG_EVT_CMD_ACK:
        if (ev->cmd_ack.cmd_type == ENG_CMD_ADD_INSTRUMENT && valid_instrument(e, id)) {
            md_msg_directory_t m;
            e->inst[id].known = 1;
            fill_directory(&e->inst[id], &m);
            emit(e, &m, sizeof(m), MD_MSG_DIRECTORY, id);
        }
        break;
    default:
        break;
    }
    if (valid_instrument(e, id))
        e->inst[id].last_engine_seq = ev->hdr.seq;
}

int64_t md_enc_events(md_enc_t *e, const eng_evt_t *evts, size_t n)
{
    uint64_t before = e->st.next_seq;
    for (size_t i = 0; i < n; i++)
        on_event(e, &evts[i]);
    e->st.events += n;
    return (int64_t)(e->st.next_seq - before);
}

/* ---- packets ------------------------------------------------------------------------------ */

static void mold_hdr(uint8_t *p, const char *session, uint64_t seq, uint16_t count)
{
    md_mold_hdr_t h;
    memcpy(h.session, session, MD_SESSION_LEN);
    uint64_t s = htobe64(seq);
    uint16_t c = htobe16(count);
    memcpy(h.sequence_number, &s, 8);
    memcpy(h.message_count, &c, 2);
    memcpy(p, &h, sizeof(h));
}

int md_enc_pack(md_enc_t *e, uint64_t first_seq, uint64_t count, uint8_t *out, size_t cap,
                uint32_t *lens, uint32_t max_packets, uint64_t *packed)
{
    *packed = 0;
    if (first_seq == 0 || count == 0)
        return MD_E_BAD_VALUE;
    if (first_seq < e->st.oldest_seq)
        return MD_E_NOT_RETAINED;
    if (first_seq + count > e->st.next_seq || first_seq + count < first_seq)
        return MD_E_NOT_YET;
    uint64_t mask = e->cfg.store_bytes - 1, mmask = e->cfg.store_messages - 1;
    size_t used = 0;
    uint32_t packets = 0;
    uint64_t seq = first_seq, end = first_seq + count;
    while (seq < end && packets < max_packets) {
        if (used + MD_MOLD_HDR_BYTES > cap)
            break;
        uint8_t *pkt = out + used;
        size_t plen = MD_MOLD_HDR_BYTES;
        uint16_t n = 0;
        while (seq < end && n < MD_MOLD_END_OF_SESSION - 1) {
            const uint8_t *blk = e->store + (e->offsets[seq & mmask] & mask);
            uint16_t be;
            memcpy(&be, blk, 2);
            size_t blen = MD_MSG_LEN_BYTES + be16toh(be);
            if (plen + blen > e->cfg.max_packet_bytes || used + plen + blen > cap)
                break;
            memcpy(pkt + plen, blk, blen);
            plen += blen;
            seq++;
            n++;
        }
        if (n == 0)
            break;
        mold_hdr(pkt, e->cfg.session, seq - n, n);
        lens[packets++] = (uint32_t)plen;
        used += plen;
    }
    *packed = seq - first_seq;
    return packets == 0 ? MD_E_BUFFER_SMALL : (int)packets;
}

/* ---- conflated L1/L2 ---------------------------------------------------------------------- */

/* One length-prefixed DEPTH message of nb bid and na ask levels at p; returns the end. */
static uint8_t *conflated_put_depth(uint8_t *p, const md_inst_t *in, uint32_t id, uint64_t seq,
                                    int64_t ts_ns, const md_level_info_t *bids, int nb,
                                    const md_level_info_t *asks, int na, size_t dsize)
{
    uint16_t be = htobe16((uint16_t)dsize);
    memcpy(p, &be, 2);
    md_msg_depth_t d;
    hdr_fill(&d.hdr, MD_MSG_DEPTH, id, seq, in->last_engine_seq, ts_ns);
    d.bid_levels = htobe16((uint16_t)nb);
    d.ask_levels = htobe16((uint16_t)na);
    d._pad1 = 0;
    memcpy(p + 2, &d, sizeof(d));
    uint8_t *lp = p + 2 + sizeof(d);
    for (int i = 0; i < nb + na; i++) {
        const md_level_info_t *src = i < nb ? &bids[i] : &asks[i - nb];
        md_depth_level_t l;
        l.price = BE64(src->price);
        l.qty = BE64(src->qty);
        l.order_count = htobe32(src->order_count);
        l._pad0 = 0;
        memcpy(lp + (size_t)i * sizeof(l), &l, sizeof(l));
    }
    return p + 2 + dsize;
}

/* One length-prefixed BBO message at p (bid or ask NULL where that side is empty). */
static void conflated_put_bbo(uint8_t *p, const md_inst_t *in, uint32_t id, uint64_t seq,
                              int64_t ts_ns, const md_level_info_t *bid, const md_level_info_t *ask)
{
    md_msg_bbo_t b;
    memset(&b, 0, sizeof(b));
    hdr_fill(&b.hdr, MD_MSG_BBO, id, seq, in->last_engine_seq, ts_ns);
    if (bid) {
        b.has_bid = 1;
        b.bid_price = BE64(bid->price);
        b.bid_qty = BE64(bid->qty);
        b.bid_count = htobe32(bid->order_count);
    }
    if (ask) {
        b.has_ask = 1;
        b.ask_price = BE64(ask->price);
        b.ask_qty = BE64(ask->qty);
        b.ask_count = htobe32(ask->order_count);
    }
    if (in->has_last) {
        b.has_last = 1;
        b.last_price = BE64(in->last_price);
        b.last_qty = BE64(in->last_qty);
    }
    b.phase = in->phase;
    uint16_t be = htobe16((uint16_t)sizeof(b));
    memcpy(p, &be, 2);
    memcpy(p + 2, &b, sizeof(b));
}

int md_enc_conflated(md_enc_t *e, int all, int64_t ts_ns, uint8_t *out, size_t cap, uint32_t *lens,
                     uint32_t max_packets)
{
    md_level_info_t bids[MD_MAX_DEPTH_LEVELS], asks[MD_MAX_DEPTH_LEVELS];
    size_t used = 0;
    uint32_t packets = 0;
    uint8_t *pkt = NULL;
    size_t plen = 0;
    uint16_t n = 0;
    for (uint32_t id = 1; id <= e->cfg.max_instruments; id++) {
        md_inst_t *in = &e->inst[id];
        if (!in->known || !(all || in->dirty))
            continue;
        int nb = md_book_depth(e->book, id, ENG_SIDE_BUY, bids, e->cfg.depth_levels);
        int na = md_book_depth(e->book, id, ENG_SIDE_SELL, asks, e->cfg.depth_levels);
        size_t dsize = sizeof(md_msg_depth_t) + (size_t)(nb + na) * sizeof(md_depth_level_t);
        size_t need = 2 * MD_MSG_LEN_BYTES + dsize + sizeof(md_msg_bbo_t);
        if (pkt && plen + need > e->cfg.max_packet_bytes) {
            mold_hdr(pkt, e->cfg.depth_session, e->st.depth_next_seq, n);
            e->st.depth_next_seq += n;
            lens[packets++] = (uint32_t)plen;
            used += plen;
            pkt = NULL;
        }
        if (!pkt) {
            if (packets == max_packets || used + MD_MOLD_HDR_BYTES + need > cap)
                return packets ? (int)packets : MD_E_BUFFER_SMALL;
            pkt = out + used;
            plen = MD_MOLD_HDR_BYTES;
            n = 0;
        }
        uint64_t seq = e->st.depth_next_seq + n;
        uint8_t *p = conflated_put_depth(pkt + plen, in, id, seq, ts_ns, bids, nb, asks, na, dsize);
        conflated_put_bbo(p, in, id, seq + 1, ts_ns, nb > 0 ? &bids[0] : NULL, na > 0 ? &asks[0] : NULL);
        plen += need;
        n += 2;
        in->dirty = 0;
    }
    if (pkt) {
        mold_hdr(pkt, e->cfg.depth_session, e->st.depth_next_seq, n);
        e->st.depth_next_seq += n;
        lens[packets++] = (uint32_t)plen;
    }
    return (int)packets;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

size_t md_enc_snapshot_bytes(const md_enc_t *e)
{
    return (size_t)e->cfg.max_instruments * (4 + sizeof(md_msg_directory_t) + sizeof(md_msg_status_t)) +
           (size_t)md_book_order_count(e->book) * (2 + sizeof(md_msg_add_t)) + 2 +
           sizeof(md_msg_snapshot_end_t);
}

static uint8_t *snap_put(uint8_t *p, const void *msg, uint16_t size)
{
    uint16_t be = htobe16(size);
    memcpy(p, &be, 2);
    memcpy(p + 2, msg, size);
    return p + 2 + size;
}

int64_t md_enc_snapshot(md_enc_t *e, uint8_t *out, size_t cap)
{
    if (cap < md_enc_snapshot_bytes(e))
        return MD_E_BUFFER_SMALL;
    uint64_t as_of = e->st.next_seq - 1;
    uint8_t *p = out;
    uint32_t instruments = 0, orders = 0;
    for (uint32_t id = 1; id <= e->cfg.max_instruments; id++) {
        md_inst_t *in = &e->inst[id];
        if (!in->known)
            continue;
        instruments++;
        md_msg_directory_t d;
        fill_directory(in, &d);
        hdr_fill(&d.hdr, MD_MSG_DIRECTORY, id, as_of, in->last_engine_seq, 0);
        p = snap_put(p, &d, sizeof(d));
        md_msg_status_t s;
        memset(&s, 0, sizeof(s));
        hdr_fill(&s.hdr, MD_MSG_STATUS, id, as_of, in->last_engine_seq, 0);
        s.phase = s.prev_phase = in->phase;
        p = snap_put(p, &s, sizeof(s));
        for (uint8_t side = ENG_SIDE_BUY; side <= ENG_SIDE_SELL; side++) {
            int n = md_book_orders(e->book, id, side, e->views, e->cfg.max_orders);
            for (int i = 0; i < n; i++) {
                md_msg_add_t a;
                memset(&a, 0, sizeof(a));
                hdr_fill(&a.hdr, MD_MSG_ADD, id, as_of, in->last_engine_seq, 0);
                a.order_ref = htobe64(e->views[i].order_ref);
                a.price = BE64(e->views[i].price);
                a.shares = BE64(e->views[i].shown);
                a.side = wire_side(side);
                p = snap_put(p, &a, sizeof(a));
                orders++;
            }
        }
    }
    md_msg_snapshot_end_t g;
    hdr_fill(&g.hdr, MD_MSG_SNAPSHOT_END, 0, as_of, 0, 0);
    g.instruments = htobe32(instruments);
    g.orders = htobe32(orders);
    p = snap_put(p, &g, sizeof(g));
    return (int64_t)(p - out);
}

void md_enc_get_stats(const md_enc_t *e, md_enc_stats_t *out)
{
    *out = e->st;
    out->displayed_orders = md_book_order_count(e->book);
}

const md_book_t *md_enc_book(const md_enc_t *e) { return e->book; }

const char *md_enc_session(const md_enc_t *e) { return e->cfg.session; }
