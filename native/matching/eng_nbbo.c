/*
 * eng_nbbo.c - the NBBO command: the reference best bid and offer across venues, sequenced and
 * journaled like any command so that a dark instrument's midpoint trades replay exactly
 * (ENGINE.md "Dark midpoint instruments"). Every instrument holds the last one; only a dark one
 * trades on it (eng_midpoint.c).
 */
#include "eng_internal.h"

/* NBBO: validated, stored (every instrument holds one), then a dark CONTINUOUS instrument runs
 * its cross at the new midpoint; CMD_ACK. */
void eng_cmd_nbbo(eng_engine_t *e, const eng_nbbo_t *c)
{
    eng_instr_t *ins = eng_instr_get(e, c->hdr.instrument_id);
    uint16_t r = ENG_OK;
    if (!ins) r = ENG_REJ_UNKNOWN_INSTRUMENT;
    else if (c->bid_price < 0 || c->ask_price < 0 || c->bid_qty < 0 || c->ask_qty < 0 ||
             c->bid_price % ins->tick || c->ask_price % ins->tick || c->quote_ts_ns < 0 ||
             c->quote_ts_ns > c->hdr.ts_ns)
        r = ENG_REJ_BAD_NBBO;
    else if (ins->has_nbbo && c->quote_ts_ns < ins->nbbo_ts) r = ENG_REJ_NBBO_OUT_OF_ORDER;
    if (r) {
        eng_reject(e, (const eng_cmd_t *)c, r);
        return;
    }
    ins->has_nbbo = 1;
    ins->nbbo_bid = c->bid_price;
    ins->nbbo_ask = c->ask_price;
    ins->nbbo_bid_qty = c->bid_qty;
    ins->nbbo_ask_qty = c->ask_qty;
    ins->nbbo_ts = c->quote_ts_ns;
    if (ins->dark && ins->phase == ENG_PHASE_CONTINUOUS) eng_dark_cross(e, ins, ENG_NIL);
    eng_cmd_ack(e, ins->id, ENG_CMD_NBBO, 0);
}
