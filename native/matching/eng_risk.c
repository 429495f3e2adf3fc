/*
 * eng_risk.c - pre-trade risk: the checks every new or replaced order passes (kill switch,
 * order size and notional, price collar, position limit). The commands that set these limits
 * are eng_admin.c's.
 *
 * All limit arithmetic is exact (__int128): a limit of INT64_MAX means "none" and must never
 * wrap into a false reject. Open quantities (leaves of live orders, waiting stops included) are
 * maintained by the order path; this file only reads them.
 */
#include "eng_internal.h"

/* The first failing risk check as a reason code, or ENG_OK. old_leaves is the leaves the order
 * already counts in its side's open quantity (replace), 0 for a new order. */
uint16_t eng_risk_check(const eng_engine_t *e, const eng_instr_t *ins, uint32_t account, uint8_t side,
                        uint8_t ord_type, int64_t price, int64_t qty, int64_t old_leaves)
{
    if (e->killed[account]) return ENG_REJ_KILL_SWITCH;
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

