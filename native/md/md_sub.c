/*
 * md_sub.c - validate and apply order-by-order feed packets (contract in md_sub.h).
 *
 * Two passes per packet: the first checks framing, lengths, types, sequence fields and values of
 * every message and touches nothing; the second applies. So the only failure that can leave a
 * half-applied packet is the feed contradicting the book, which needs a snapshot anyway.
 */
#include "md_sub.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "md_feed.h"
#include "venue_layout.h"

struct md_sub {
    char session[MD_SESSION_LEN];
    uint32_t max_instruments;
    md_book_t *book;
    md_sub_inst_t *inst;            /* [max_instruments + 1] */
    md_sub_stats_t st;
    md_sub_print_t *prints;         /* NULL until md_sub_keep_prints */
    uint32_t print_cap, print_n;
};

int md_sub_create(const char *session, uint32_t max_orders, uint32_t max_levels,
                  uint32_t max_instruments, md_sub_t **out)
{
    md_sub_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int rc = md_book_create(max_orders, max_levels, max_instruments, &s->book);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->inst = calloc((size_t)max_instruments + 1, sizeof(md_sub_inst_t));
    if (!s->inst) {
        md_sub_destroy(s);
        return -ENOMEM;
    }
    memcpy(s->session, session, MD_SESSION_LEN);
    s->max_instruments = max_instruments;
    s->st.next_seq = 1;
    *out = s;
    return 0;
}

void md_sub_destroy(md_sub_t *s)
{
    if (!s)
        return;
    md_book_destroy(s->book);
    free(s->inst);
    free(s->prints);
    free(s);
}

static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }

#define F(type, field) offsetof(type, field)
#define HDR(field) F(md_msg_hdr_t, field)

static size_t fixed_size(uint8_t type)
{
    switch (type) {
    case MD_MSG_DIRECTORY: return sizeof(md_msg_directory_t);
    case MD_MSG_STATUS: return sizeof(md_msg_status_t);
    case MD_MSG_ADD: return sizeof(md_msg_add_t);
    case MD_MSG_EXECUTED: return sizeof(md_msg_executed_t);
    case MD_MSG_CANCEL: return sizeof(md_msg_cancel_t);
    case MD_MSG_DELETE: return sizeof(md_msg_delete_t);
    case MD_MSG_REPLACE: return sizeof(md_msg_replace_t);
    case MD_MSG_TRADE: return sizeof(md_msg_trade_t);
    case MD_MSG_CROSS: return sizeof(md_msg_cross_t);
    case MD_MSG_IMBALANCE: return sizeof(md_msg_imbalance_t);
    case MD_MSG_SNAPSHOT_END: return sizeof(md_msg_snapshot_end_t);
    case MD_MSG_BBO: return sizeof(md_msg_bbo_t);
    case MD_MSG_DEPTH: return sizeof(md_msg_depth_t);
    default: return 0;
    }
}

static int side_ok(uint8_t s) { return s == MD_SIDE_BUY || s == MD_SIDE_SELL; }

int md_msg_validate(const uint8_t *m, size_t len, uint32_t max_instruments)
{
    if (len < 1)
        return MD_E_MSG_LENGTH;
    size_t want = fixed_size(m[0]);
    if (want == 0)
        return MD_E_UNKNOWN_TYPE;
    if (len < want)
        return MD_E_MSG_LENGTH;
    if (m[0] == MD_MSG_DEPTH) {
        size_t levels = (size_t)rd16(m + F(md_msg_depth_t, bid_levels)) + rd16(m + F(md_msg_depth_t, ask_levels));
        if (len != want + levels * sizeof(md_depth_level_t))
            return MD_E_MSG_LENGTH;
    } else if (len != want) {
        return MD_E_MSG_LENGTH;
    }
    uint32_t inst = rd32(m + HDR(instrument_id));
    if (m[0] != MD_MSG_SNAPSHOT_END && (inst == 0 || inst > max_instruments))
        return MD_E_BAD_VALUE;
    switch (m[0]) {
    case MD_MSG_ADD:
        if (!side_ok(m[F(md_msg_add_t, side)]) || (int64_t)rd64(m + F(md_msg_add_t, shares)) <= 0 ||
            (int64_t)rd64(m + F(md_msg_add_t, price)) <= 0)
            return MD_E_BAD_VALUE;
        break;
    case MD_MSG_EXECUTED:
        if ((int64_t)rd64(m + F(md_msg_executed_t, shares)) <= 0)
            return MD_E_BAD_VALUE;
        break;
    case MD_MSG_CANCEL:
        if ((int64_t)rd64(m + F(md_msg_cancel_t, shares)) <= 0)
            return MD_E_BAD_VALUE;
        break;
    case MD_MSG_REPLACE:
        if ((int64_t)rd64(m + F(md_msg_replace_t, shares)) <= 0 ||
            (int64_t)rd64(m + F(md_msg_replace_t, price)) <= 0)
            return MD_E_BAD_VALUE;
        break;
    case MD_MSG_STATUS:
        if (m[F(md_msg_status_t, phase)] > ENG_PHASE_HALTED)
            return MD_E_BAD_VALUE;
        break;
    default:
        break;
    }
    return 0;
}

static uint8_t eng_side(uint8_t wire) { return wire == MD_SIDE_BUY ? ENG_SIDE_BUY : ENG_SIDE_SELL; }

static uint8_t trade_side(uint8_t wire)
{
    return wire == MD_SIDE_BUY ? ENG_SIDE_BUY : wire == MD_SIDE_SELL ? ENG_SIDE_SELL : 0;
}

static uint8_t order_side(md_book_t *book, uint64_t ref)
{
    const md_order_t *o = md_book_find(book, ref);
    return o ? o->side : 0;
}

/* One counted print into the kept trades: merged into the newest record not yet taken when it
 * is the same match (an iceberg's 'E' then 'P'), else a new record (counted lost when full). */
static void keep_print(md_sub_t *s, const uint8_t *m, uint32_t id, uint64_t match, int64_t price,
                       int64_t shares, uint8_t aggressor, uint8_t hidden)
{
    if (!s->prints)
        return;
    md_sub_print_t *last = s->print_n ? &s->prints[s->print_n - 1] : NULL;
    if (last && last->match_number == match && last->instrument_id == id) {
        last->qty += shares;
        last->hidden = (uint8_t)(last->hidden & hidden);
        return;
    }
    if (s->print_n == s->print_cap) {
        s->st.prints_lost++;
        return;
    }
    md_sub_print_t *p = &s->prints[s->print_n++];
    memset(p, 0, sizeof(*p));
    p->ts_ns = (int64_t)rd64(m + HDR(ts_ns));
    p->price = price;
    p->qty = shares;
    p->match_number = match;
    p->md_seq = rd64(m + HDR(md_seq));
    p->instrument_id = id;
    p->aggressor_side = aggressor;
    p->hidden = hidden;
}

/* Traded volume: the shares of one side of each match (the first side printed under the match
 * number): a continuous trade prints its resting side only, an auction cross both resting sides.
 * 1 when this print counted (and was kept, see keep_print), 0 when it is the other side of a
 * match already counted. */
static int count_print(md_sub_inst_t *in, uint64_t match, uint8_t side, int64_t shares)
{
    if (match != in->print_match) {
        in->print_match = match;
        in->print_side = side;
    } else if (side != in->print_side) {
        return 0;
    }
    in->traded_qty += shares;
    return 1;
}

static uint8_t opposite(uint8_t side)
{
    return side == ENG_SIDE_BUY ? ENG_SIDE_SELL : side == ENG_SIDE_SELL ? ENG_SIDE_BUY : 0;
}

/* An 'E' or a 'P' of instrument `in` (id): last trade, traded volume, the kept print. resting:
 * the resting order's side (0 unknown). An uncross runs while the instrument is still PRE_OPEN
 * (its STATUS follows the trades), and its trades have no aggressor. */
static void on_print(md_sub_t *s, md_sub_inst_t *in, uint32_t id, const uint8_t *m, uint64_t match,
                     int64_t price, int64_t shares, uint8_t resting, uint8_t hidden)
{
    in->last_price = price;
    in->last_qty = shares;
    in->has_last = 1;
    if (count_print(in, match, resting, shares)) {
        uint8_t aggressor = in->phase == ENG_PHASE_PRE_OPEN ? 0 : opposite(resting);
        keep_print(s, m, id, match, price, shares, aggressor, hidden);
    }
}

/* Applies one validated message. 0 or MD_E_BOOK / MD_E_CAPACITY. */
static int apply(md_sub_t *s, const uint8_t *m, uint64_t seq)
{
    uint32_t id = rd32(m + HDR(instrument_id));
    md_sub_inst_t *in = id <= s->max_instruments ? &s->inst[id] : NULL;
    uint8_t executed_side;
    int rc = 0;
    switch (m[0]) {
    case MD_MSG_DIRECTORY:
        in->known = 1;
        in->config_known = m[F(md_msg_directory_t, config_known)] != 0;
        memcpy(in->symbol, m + F(md_msg_directory_t, symbol), 8);
        in->tick_size = (int64_t)rd64(m + F(md_msg_directory_t, tick_size));
        in->lot_size = (int64_t)rd64(m + F(md_msg_directory_t, lot_size));
        in->reference_price = (int64_t)rd64(m + F(md_msg_directory_t, reference_price));
        break;
    case MD_MSG_STATUS:
        in->phase = m[F(md_msg_status_t, phase)];
        break;
    case MD_MSG_ADD:
        rc = md_book_add(s->book, id, rd64(m + F(md_msg_add_t, order_ref)), eng_side(m[F(md_msg_add_t, side)]),
                         (int64_t)rd64(m + F(md_msg_add_t, price)), (int64_t)rd64(m + F(md_msg_add_t, shares)));
        break;
    case MD_MSG_EXECUTED:
        executed_side = order_side(s->book, rd64(m + F(md_msg_executed_t, order_ref)));
        rc = md_book_reduce(s->book, rd64(m + F(md_msg_executed_t, order_ref)),
                            (int64_t)rd64(m + F(md_msg_executed_t, shares)));
        on_print(s, in, id, m, rd64(m + F(md_msg_executed_t, match_number)),
                 (int64_t)rd64(m + F(md_msg_executed_t, price)), (int64_t)rd64(m + F(md_msg_executed_t, shares)),
                 executed_side, 0);
        break;
    case MD_MSG_CANCEL:
        rc = md_book_reduce(s->book, rd64(m + F(md_msg_cancel_t, order_ref)),
                            (int64_t)rd64(m + F(md_msg_cancel_t, shares)));
        break;
    case MD_MSG_DELETE:
        rc = md_book_delete(s->book, rd64(m + F(md_msg_delete_t, order_ref)));
        break;
    case MD_MSG_REPLACE:
        rc = md_book_replace(s->book, rd64(m + F(md_msg_replace_t, orig_ref)),
                             rd64(m + F(md_msg_replace_t, new_ref)),
                             (int64_t)rd64(m + F(md_msg_replace_t, price)),
                             (int64_t)rd64(m + F(md_msg_replace_t, shares)));
        break;
    case MD_MSG_TRADE:
        on_print(s, in, id, m, rd64(m + F(md_msg_trade_t, match_number)), (int64_t)rd64(m + F(md_msg_trade_t, price)),
                 (int64_t)rd64(m + F(md_msg_trade_t, shares)), trade_side(m[F(md_msg_trade_t, side)]), 1);
        break;
    default:
        break;
    }
    if (in)
        in->last_md_seq = seq;
    if (rc == MD_E_BAD_VALUE)
        rc = MD_E_BOOK;
    return rc;
}

/* First pass over a run of length-prefixed messages: 0 and *n set, or an error with *bad the
 * index of the offending message. With base_seq != 0, each md_seq must be base_seq + index. */
static int scan(const md_sub_t *s, const uint8_t *p, size_t len, uint64_t base_seq, uint32_t *n,
                uint32_t *bad)
{
    size_t off = 0;
    uint32_t i = 0;
    while (off < len) {
        *bad = i;
        if (len - off < MD_MSG_LEN_BYTES)
            return MD_E_MSG_TRUNCATED;
        size_t ml = rd16(p + off);
        if (len - off - MD_MSG_LEN_BYTES < ml)
            return MD_E_MSG_TRUNCATED;
        const uint8_t *m = p + off + MD_MSG_LEN_BYTES;
        int rc = md_msg_validate(m, ml, s->max_instruments);
        if (rc != 0)
            return rc;
        if (base_seq != 0 && rd64(m + HDR(md_seq)) != base_seq + i)
            return MD_E_SEQ_FIELD;
        off += MD_MSG_LEN_BYTES + ml;
        i++;
    }
    *n = i;
    return 0;
}

static int refuse(md_sub_t *s, int rc, uint32_t index)
{
    s->st.last_error = rc;
    s->st.last_error_index = index;
    if (rc == MD_E_BOOK || rc == MD_E_CAPACITY)
        s->st.book_errors++;
    else
        s->st.malformed++;
    return rc;
}

int md_sub_apply_packet(md_sub_t *s, const uint8_t *pkt, size_t len, uint64_t *first_seq, uint32_t *count)
{
    s->st.packets++;
    *first_seq = 0;
    *count = 0;
    if (len < MD_MOLD_HDR_BYTES)
        return refuse(s, MD_E_PACKET_SHORT, 0);
    uint64_t seq = rd64(pkt + F(md_mold_hdr_t, sequence_number));
    uint16_t declared = rd16(pkt + F(md_mold_hdr_t, message_count));
    *first_seq = seq;
    *count = declared;
    if (memcmp(pkt, s->session, MD_SESSION_LEN) != 0)
        return refuse(s, MD_E_SESSION, 0);
    const uint8_t *body = pkt + MD_MOLD_HDR_BYTES;
    size_t blen = len - MD_MOLD_HDR_BYTES;
    if (declared == MD_MOLD_END_OF_SESSION) {
        if (blen != 0)
            return refuse(s, MD_E_COUNT, 0);
        return MD_END_OF_SESSION;
    }
    uint32_t n = 0, bad = 0;
    int rc = scan(s, body, blen, seq, &n, &bad);
    if (rc != 0)
        return refuse(s, rc, bad);
    if (n != declared)
        return refuse(s, MD_E_COUNT, n < declared ? n : declared);
    if (declared == MD_MOLD_HEARTBEAT_COUNT) {
        s->st.heartbeats++;
        if (seq > s->st.next_seq) {
            s->st.gaps++;
            return MD_GAP;
        }
        return MD_OK;
    }
    if (seq > s->st.next_seq) {
        s->st.gaps++;
        return MD_GAP;
    }
    if (seq + n <= s->st.next_seq) {
        s->st.skipped += n;
        return MD_STALE;
    }
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t ml = rd16(body + off);
        const uint8_t *m = body + off + MD_MSG_LEN_BYTES;
        off += MD_MSG_LEN_BYTES + ml;
        if (seq + i < s->st.next_seq) {
            s->st.skipped++;
            continue;
        }
        rc = apply(s, m, seq + i);
        if (rc != 0)
            return refuse(s, rc, i);
        s->st.next_seq = seq + i + 1;
        s->st.messages++;
    }
    return MD_OK;
}

void md_sub_reset(md_sub_t *s, uint64_t next_seq)
{
    md_book_clear(s->book);
    memset(s->inst, 0, ((size_t)s->max_instruments + 1) * sizeof(md_sub_inst_t));
    s->st.next_seq = next_seq;
}

int md_sub_apply_snapshot(md_sub_t *s, const uint8_t *buf, size_t len)
{
    uint32_t n = 0, bad = 0;
    int rc = scan(s, buf, len, 0, &n, &bad);
    if (rc == 0) {
        /* the last message, and only it, must be the end marker */
        size_t off = 0;
        for (uint32_t i = 0; i < n && rc == 0; i++) {
            const uint8_t *m = buf + off + MD_MSG_LEN_BYTES;
            int is_end = m[0] == MD_MSG_SNAPSHOT_END;
            if (is_end != (i + 1 == n)) {
                rc = MD_E_BAD_VALUE;
                bad = i;
            }
            off += MD_MSG_LEN_BYTES + rd16(buf + off);
        }
        if (n == 0) {
            rc = MD_E_COUNT;
        }
    }
    md_sub_reset(s, 0);
    if (rc != 0)
        return refuse(s, rc, bad);
    size_t off = 0;
    uint64_t as_of = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t ml = rd16(buf + off);
        const uint8_t *m = buf + off + MD_MSG_LEN_BYTES;
        off += MD_MSG_LEN_BYTES + ml;
        if (m[0] == MD_MSG_SNAPSHOT_END) {
            as_of = rd64(m + HDR(md_seq));
            break;
        }
        rc = apply(s, m, rd64(m + HDR(md_seq)));
        if (rc != 0) {
            md_sub_reset(s, 0);
            return refuse(s, rc, i);
        }
    }
    s->st.next_seq = as_of + 1;
    return MD_OK;
}

int md_sub_instrument(const md_sub_t *s, uint32_t id, md_sub_inst_t *out)
{
    if (id == 0 || id > s->max_instruments)
        return MD_E_BAD_VALUE;
    *out = s->inst[id];
    return 0;
}

void md_sub_get_stats(const md_sub_t *s, md_sub_stats_t *out) { *out = s->st; }

const md_book_t *md_sub_book(const md_sub_t *s) { return s->book; }

int md_sub_keep_prints(md_sub_t *s, uint32_t capacity)
{
    if (capacity == 0)
        return -EINVAL;
    md_sub_print_t *buf = calloc(capacity, sizeof(*buf));
    if (!buf)
        return -ENOMEM;
    free(s->prints);
    s->prints = buf;
    s->print_cap = capacity;
    s->print_n = 0;
    return 0;
}

uint32_t md_sub_take_prints(md_sub_t *s, md_sub_print_t *out, uint32_t max)
{
    uint32_t n = s->print_n < max ? s->print_n : max;
    if (n == 0)
        return 0;
    memcpy(out, s->prints, (size_t)n * sizeof(*out));
    s->print_n -= n;
    memmove(s->prints, s->prints + n, (size_t)s->print_n * sizeof(*out));
    return n;
}
