/*
 * eng_midpoint.c - dark midpoint instruments (venue mode ENG_MODE_DARK_MIDPOINT): the quote's
 * usability, the midpoint cross, and the arrival and replace of a midpoint peg (ENGINE.md "Dark
 * midpoint instruments"). The NBBO command is eng_nbbo.c's, the queues' links eng_dark_queue.c's.
 *
 * A dark order (MIDPOINT_PEG) is never displayed: it waits in its side's queue in time priority,
 * in no level, with all of its leaves in shown_qty and its minimum acceptable quantity (MAQ) in
 * display_qty. It is pegged to the midpoint: it has no price of its own, only an optional limit,
 * so every dark trade prints at the midpoint of the NBBO held at that moment, and a new NBBO
 * re-prices every resting order at once (re-pricing is implicit: nothing is stored per order).
 * A trade needs a usable quote: two-sided, neither locked nor crossed, and not older than the
 * instrument's nbbo_max_age_ns in engine time (never the wall clock, so replays are exact).
 *
 * The cross, the one matching rule here: while some (buy, sell) pair can trade at the midpoint,
 * trade the first such pair in priority order: the earliest buy that has any compatible sell,
 * with its earliest compatible sell, for min(both leaves). Compatible: both eligible at the mid
 * (limit 0, or buy limit >= mid, sell limit <= mid), not of one non-zero STP group, and the
 * quantity meets each side's MAQ, capped at that side's own leaves (a remainder smaller than its
 * MAQ may still trade whole). The scan below produces exactly that sequence: a trade changes
 * only the two orders' leaves, so the buys before the one that traded can only have become
 * compatible with the sell it traded with, and that is all it re-checks. Cost: O(B * S) pair
 * tests at worst for a command that trades nothing (B, S: the dark queues' lengths), O(B + S)
 * when no buy passes the bounds of sell_bounds() (small orders against large MAQs), and O(S) more
 * per trade.
 */
#include "eng_internal.h"

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ENG_OK with the midpoint in *mid when the instrument's NBBO can be traded on now; otherwise
 * the reason a dark IOC remainder is cancelled with (none/one-sided, locked, crossed, stale). */
uint16_t eng_dark_quote_state(const eng_engine_t *e, const eng_instr_t *ins, int64_t *mid)
{
    if (!ins->has_nbbo || ins->nbbo_bid == 0 || ins->nbbo_ask == 0) return ENG_CXL_NBBO_NONE;
    if (ins->nbbo_bid == ins->nbbo_ask) return ENG_CXL_NBBO_LOCKED;
    if (ins->nbbo_bid > ins->nbbo_ask) return ENG_CXL_NBBO_CROSSED;
    if ((__int128)e->now - ins->nbbo_ts > ins->nbbo_max_age) return ENG_CXL_NBBO_STALE;
    /* both prices sit on an even tick, so the spread is even and the midpoint exact */
    *mid = ins->nbbo_bid + (ins->nbbo_ask - ins->nbbo_bid) / 2;
    return ENG_OK;
}

/* Retires a dark order whose leaves reached 0: out of the index, the GTD heap and its queue. */
static void dark_filled(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    eng_oidx_erase(e, o->order_id);
    if (o->tif == ENG_TIF_GTD) eng_gtd_erase(e, oi);
    eng_dark_unlink(e, ins, oi);
    eng_order_free(e, oi);
}

/* Dark orders always have their extension (eng_order_t): limit, MAQ and STP group are there. */
static inline int eligible(const eng_engine_t *e, const eng_order_t *o, int64_t mid)
{
    const int64_t limit = eng_ext(e, o)->price;
    if (limit == 0) return 1;
    return o->side == ENG_SIDE_BUY ? limit >= mid : limit <= mid;
}

/* The pair may trade (eligibility aside): different STP groups, and q = min(both leaves) meets
 * each side's MAQ capped at that side's leaves. */
static inline int compatible(const eng_engine_t *e, const eng_order_t *b, const eng_order_t *s)
{
    const eng_order_ext_t *bx = eng_ext(e, b), *sx = eng_ext(e, s);
    if (bx->stp_group != 0 && bx->stp_group == sx->stp_group) return 0;
    const int64_t q = min64(b->shown_qty, s->shown_qty);
    return q >= min64(bx->display_qty, b->shown_qty) && q >= min64(sx->display_qty, s->shown_qty);
}

/* Bounds over the sells eligible at the midpoint, for skipping a buy without a scan: a pair is
 * compatible only if sell leaves >= the buy's effective MAQ and buy leaves >= the sell's (each
 * effective MAQ being min(MAQ, leaves)), so a buy whose leaves are below every eligible sell's
 * effective MAQ, or whose effective MAQ exceeds every eligible sell's leaves, has no partner.
 * This makes a book of small orders facing large minimum quantities (blocks) cost O(B + S). */
typedef struct { int64_t min_eff_maq, max_leaves; } sell_bounds_t;

static sell_bounds_t sell_bounds(const eng_engine_t *e, const eng_instr_t *ins, int64_t mid)
{
    sell_bounds_t sb = {INT64_MAX, 0};
    for (uint32_t si = ins->dark_head[ENG_SIDE_SELL]; si != ENG_NIL; si = e->orders[si].next) {
        const eng_order_t *s = &e->orders[si];
        if (!eligible(e, s, mid)) continue;
        sb.min_eff_maq = min64(sb.min_eff_maq, min64(eng_ext(e, s)->display_qty, s->shown_qty));
        if (s->shown_qty > sb.max_leaves) sb.max_leaves = s->shown_qty;
    }
    return sb;
}

/* The earliest sell in the queue that can trade with buy bi at mid, or ENG_NIL. */
static uint32_t first_sell_for(const eng_engine_t *e, const eng_instr_t *ins, uint32_t bi, int64_t mid,
                               sell_bounds_t sb)
{
    const eng_order_t *b = &e->orders[bi];
    if (!eligible(e, b, mid)) return ENG_NIL;
    if (b->shown_qty < sb.min_eff_maq || sb.max_leaves < min64(eng_ext(e, b)->display_qty, b->shown_qty))
        return ENG_NIL;
    for (uint32_t si = ins->dark_head[ENG_SIDE_SELL]; si != ENG_NIL; si = e->orders[si].next) {
        const eng_order_t *s = &e->orders[si];
        if (eligible(e, s, mid) && compatible(e, b, s)) return si;
    }
    return ENG_NIL;
}

/* The earliest buy before `stop` that can trade with sell si at mid, or ENG_NIL. */
static uint32_t first_buy_before(const eng_engine_t *e, const eng_instr_t *ins, uint32_t stop, uint32_t si,
                                 int64_t mid)
{
    const eng_order_t *s = &e->orders[si];
    for (uint32_t bi = ins->dark_head[ENG_SIDE_BUY]; bi != stop; bi = e->orders[bi].next) {
        const eng_order_t *b = &e->orders[bi];
        if (eligible(e, b, mid) && compatible(e, b, s)) return bi;
    }
    return ENG_NIL;
}

/* Runs the cross (file comment) if the instrument is CONTINUOUS with a usable quote. `arrival` is
 * the slot of the order the current NEW_ORDER entered (ENG_NIL for an NBBO or the opening): a
 * trade it takes part in has its side as aggressor, any other dark trade ENG_SIDE_NONE. */
void eng_dark_cross(eng_engine_t *e, eng_instr_t *ins, uint32_t arrival)
{
    int64_t mid;
    if (ins->phase != ENG_PHASE_CONTINUOUS || eng_dark_quote_state(e, ins, &mid) != ENG_OK) return;
    uint32_t bi = ins->dark_head[ENG_SIDE_BUY];
    sell_bounds_t sb = sell_bounds(e, ins, mid);
    while (bi != ENG_NIL) {
        uint32_t si = first_sell_for(e, ins, bi, mid, sb);
        if (si == ENG_NIL) {
            bi = e->orders[bi].next;  /* invariant: no buy before bi can trade with any sell */
            continue;
        }
        eng_order_t *b = &e->orders[bi], *s = &e->orders[si];
        const int64_t q = min64(b->shown_qty, s->shown_qty);
        b->shown_qty -= q;
        s->shown_qty -= q;
        const uint8_t aggressor = bi == arrival ? ENG_SIDE_BUY : si == arrival ? ENG_SIDE_SELL : ENG_SIDE_NONE;
        eng_trade(e, ins, b, s, mid, q, aggressor);
        const uint32_t b_next = b->next;
        const int b_live = b->shown_qty > 0, s_live = s->shown_qty > 0;
        if (!b_live) dark_filled(e, ins, bi);
        if (!s_live) dark_filled(e, ins, si);
        uint32_t earlier = s_live ? first_buy_before(e, ins, b_live ? bi : b_next, si, mid) : ENG_NIL;
        bi = earlier != ENG_NIL ? earlier : b_live ? bi : b_next;
        sb = sell_bounds(e, ins, mid); /* the sell's leaves changed: O(S) per trade */
    }
}

/* A MIDPOINT_PEG order just ACCEPTED: indexed, queued at the back of its side, filed for GTD
 * expiry; in CONTINUOUS the cross runs, then an IOC's remainder is cancelled with the reason the
 * quote gave (or IOC_REMAINDER when the quote was usable). In PRE_OPEN it only waits. */
void eng_dark_run_order(eng_engine_t *e, eng_instr_t *ins, uint32_t oi)
{
    eng_order_t *o = &e->orders[oi];
    const uint64_t order_id = o->order_id;
    eng_oidx_insert(e, order_id, oi);
    eng_dark_append(e, ins, oi);
    if (o->tif == ENG_TIF_GTD) eng_gtd_push(e, oi);
    if (ins->phase != ENG_PHASE_CONTINUOUS) return;
    eng_dark_cross(e, ins, oi);
    if (o->tif != ENG_TIF_IOC || o->state != ENG_OST_DARK || o->order_id != order_id) return;
    int64_t mid;
    uint16_t why = eng_dark_quote_state(e, ins, &mid);
    eng_order_remove(e, oi, ENG_EVT_CANCELLED, why != ENG_OK ? why : ENG_CXL_IOC_REMAINDER);
}

/* REPLACE of a dark order (validated by eng_orders.c): the same limit and no more quantity keeps
 * its place, anything else sends it to the back of its queue; REPLACED (display_qty 0: never
 * shown), then in CONTINUOUS the cross runs with the order as the one the command changed (a
 * smaller quantity lowers its effective MAQ, so even a kept place may now trade). */
void eng_dark_replace(eng_engine_t *e, eng_instr_t *ins, uint32_t oi, int64_t limit, int64_t qty)
{
    eng_order_t *o = &e->orders[oi];
    const uint8_t kept = limit == eng_ext(e, o)->price && qty <= o->shown_qty;
    eng_open_add(e, o, qty - o->shown_qty);
    eng_ext(e, o)->price = limit;
    o->shown_qty = qty;
    if (!kept) {
        eng_dark_unlink(e, ins, oi);
        eng_dark_append(e, ins, oi);
    }
    eng_evt_t *ev = eng_evt_new(e, ENG_EVT_REPLACED, ENG_OK, ins->id);
    ev->replaced.order_id = o->order_id;
    ev->replaced.price = limit;
    ev->replaced.leaves_qty = qty;
    ev->replaced.account_id = o->account_id;
    ev->replaced.priority_kept = kept;
    eng_dark_cross(e, ins, oi);
}
