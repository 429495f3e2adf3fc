/*
 * eng_risk.c - pre-trade risk: the checks every new or replaced order passes (kill switch,
 * order velocity, order size and notional, price collar, position limit), and the order-velocity
 * bucket's one write (eng_velocity_count). The commands that set these limits are eng_admin.c's.
 *
 * All limit arithmetic is exact (__int128): a limit of INT64_MAX means "none" and must never
 * wrap into a false reject. Open quantities (leaves of live orders, waiting stops included) are
 * maintained by the order path; this file only reads them.
 */
#include "eng_internal.h"

/* The account's velocity credit at engine time now: what it held after its last counted command
 * plus max_orders per nanosecond since, capped at a full bucket. Elapsed time is clamped to one
 * window first (a window's refill already fills the bucket), so the product stays below
 * 2^32 x 2^63 and the sum below twice that: exact in __int128. */
static __int128 velocity_credit(const eng_velocity_t *v, int64_t now)
{
    const __int128 full = (__int128)v->max_orders * v->window_ns;
    const int64_t elapsed = now - v->last_ts < v->window_ns ? now - v->last_ts : v->window_ns;
    const __int128 credit = v->credit + (__int128)elapsed * v->max_orders;
    return credit < full ? credit : full;
}

/* Books one counted command (an accepted NEW_ORDER or REPLACE) against the account's bucket; a
 * no-op for an account without a limit. Only called after eng_risk_check passed at this engine
 * time, so the credit holds at least one window_ns. */
void eng_velocity_count(eng_engine_t *e, uint32_t account)
{
    eng_velocity_t *v = &e->velocity[account];
    if (!v->window_ns) return;
    v->credit = velocity_credit(v, e->now) - v->window_ns;
    v->last_ts = e->now;
}

/* The first failing risk check as a reason code, or ENG_OK. old_leaves is the leaves the order
 * already counts in its side's open quantity (replace), 0 for a new order. */
uint16_t eng_risk_check(const eng_engine_t *e, const eng_instr_t *ins, uint32_t account, uint8_t side,
                        uint8_t ord_type, int64_t price, int64_t qty, int64_t old_leaves)
{
    if (e->killed[account]) return ENG_REJ_KILL_SWITCH;
    const eng_velocity_t *v = &e->velocity[account];
    if (v->window_ns && velocity_credit(v, e->now) < v->window_ns) return ENG_REJ_ORDER_VELOCITY;
    if (qty > ins->max_qty) return ENG_REJ_MAX_QTY;
    const int64_t ref = ins->has_last ? ins->last_price : ins->ref_price;
    /* a midpoint peg with a limit is checked at its limit, one without like a market order */
    const int priced = ord_type == ENG_ORD_LIMIT || ord_type == ENG_ORD_STOP_LIMIT ||
                       (ord_type == ENG_ORD_MIDPOINT_PEG && price != 0);
    if ((__int128)(priced ? price : ref) * qty > ins->max_notional) return ENG_REJ_MAX_NOTIONAL;
    if (priced) {
        __int128 d = (__int128)price - ref;
        if (d < 0) d = -d;
        if (d > (__int128)ins->collar_ticks * ins->tick) return ENG_REJ_PRICE_COLLAR;
    }
    const eng_pos_t *p = eng_pos_get(e, account, ins->id);
    __int128 exposure = side == ENG_SIDE_BUY
                            ? (__int128)p->position + p->open_buy - old_leaves + qty
                            : (__int128)p->open_sell - old_leaves + qty - p->position;
    if (exposure > p->max_position) return ENG_REJ_POSITION_LIMIT;
    return ENG_OK;
}

