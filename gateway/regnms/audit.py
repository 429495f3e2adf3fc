"""Audit lines for the Regulation NMS refusals the engine decides (eng_protect.c, Rule 612's grid in
order validation): a REJECTED event with a reason of the Reg NMS range (600-649: trade-through,
sub-penny, access fee, locked or crossed, malformed ISO) or a CANCELLED event for the rest of an
order routed away (430, 431). The control plane, which reads every engine event, writes each one to
its audit log (gateway/control/audit.py, hash-chained) as a system entry: command ``regnms.<rule>``,
outcome refused, code engine_reject, the order, account and instrument in the arguments and the
reason's name and text in the message."""
from __future__ import annotations

from typing import Any

from gateway.reasons import Reason
from native import messages

RULES = {
    int(Reason.ENG_REJ_REGNMS_TRADE_THROUGH): ("611", "would execute through another venue's protected quote"),
    int(Reason.ENG_REJ_REGNMS_SUB_PENNY): ("612", "price not on the minimum pricing increment of its band"),
    int(Reason.ENG_REJ_REGNMS_FEE_CAP): ("610(c)", "access fee above the cap"),
    int(Reason.ENG_REJ_REGNMS_LOCK_CROSS): ("610(d)", "would lock or cross another venue's protected quote"),
    int(Reason.ENG_REJ_REGNMS_BAD_ISO): ("600(b)(30)", "an intermarket sweep order must be an IOC limit order"),
    int(Reason.ENG_CXL_REGNMS_TRADE_THROUGH): ("611", "rest cancelled: it would trade through; route it away"),
    int(Reason.ENG_CXL_REGNMS_LOCK_CROSS): ("610(d)", "rest cancelled: it would lock or cross; route it away"),
}


def refusal_entry(ev: messages.Event) -> tuple[str, dict[str, Any], str] | None:
    """(command, args, message) of the audit entry for a Reg NMS refusal by the engine, else None."""
    if not isinstance(ev, (messages.RejectedEvent, messages.CancelledEvent)) or ev.reason not in RULES:
        return None
    rule, text = RULES[ev.reason]
    args: dict[str, Any] = {"order_id": ev.order_id, "account": ev.account_id, "instrument": ev.instrument_id,
                            "engine_seq": ev.seq, "reason": ev.reason}
    if isinstance(ev, messages.RejectedEvent):
        args["cmd_type"] = ev.cmd_type
    else:
        args["cancelled_qty"] = ev.cancelled_qty
    return f"regnms.{rule}", args, f"{Reason(ev.reason).name}: Rule {rule}: {text}"
