/*
 * eng_protect_cmd.c - ENG_CMD_SET_ORDER_PROTECTION: a lit instrument's Rule 611 mode (ENGINE.md
 * "Order protection"; what the mode does is eng_protect.c) and its Rule 612 price grid
 * (eng_sub_penny, checked by order and replace validation). Its own file because it answers
 * through eng_reject / eng_cmd_ack (eng_orders.c), which itself calls eng_protect.c.
 */
#include "eng_internal.h"

void eng_cmd_set_order_protection(eng_engine_t *e, const eng_set_order_protection_t *c)
{
    eng_instr_t *ins = eng_instr_get(e, c->hdr.instrument_id);
    uint16_t r = ENG_OK;
    if (!ins) r = ENG_REJ_UNKNOWN_INSTRUMENT;
    else if (c->mode > ENG_PROTECT_ROUTE_AWAY || (ins->dark && c->mode != ENG_PROTECT_OFF)) r = ENG_REJ_BAD_CONFIG;
    else if (c->sub_penny_from < 0 || c->sub_penny_increment < 0 ||
             (c->sub_penny_increment == 0) != (c->sub_penny_from == 0)) r = ENG_REJ_BAD_CONFIG;
    if (r) {
        eng_reject(e, (const eng_cmd_t *)c, r);
        return;
    }
    ins->protect_mode = c->mode;
    ins->sub_penny_from = c->sub_penny_from;
    ins->sub_penny_inc = c->sub_penny_increment;
    eng_cmd_ack(e, ins->id, ENG_CMD_SET_ORDER_PROTECTION, 0);
}
