"""Expected-event builders for hand-written scenarios: each returns the full Event Struct
(native.messages) the engine must emit, stamped with the seq and ts_ns of the command that
causes it.

Keeping every field explicit (no partial matching) is deliberate: a scenario states the whole
event, so a wrong leaves_qty or account is caught as surely as a wrong price.
"""
from __future__ import annotations

import msgspec

from native.messages import Command, Event, UnknownCommand

Cmd = Command


def _event(kind: str, cmd: Cmd, instrument_id: int, reason: int = 0, **fields: int) -> Event:
    return msgspec.convert({"type": kind, "reason": reason, "instrument_id": instrument_id,
                            "seq": cmd.seq, "ts_ns": cmd.ts_ns, **fields}, Event)


def _code(cmd: Cmd) -> int:
    return cmd.code if isinstance(cmd, UnknownCommand) else cmd.CODE


def accepted(cmd: Cmd) -> Event:
    fields = {k: getattr(cmd, k, 0) for k in (
        "order_id", "client_order_id", "price", "stop_price", "qty", "display_qty",
        "expire_ts_ns", "account_id", "stp_group", "side", "ord_type", "tif", "stp_mode", "flags")}
    return _event("ACCEPTED", cmd, cmd.instrument_id, **fields)


def rejected(cmd: Cmd, reason: int, instrument_id: int | None = None) -> Event:
    return _event("REJECTED", cmd, cmd.instrument_id if instrument_id is None else instrument_id,
                  reason, order_id=getattr(cmd, "order_id", 0),
                  client_order_id=getattr(cmd, "client_order_id", 0),
                  account_id=getattr(cmd, "account_id", 0), cmd_type=_code(cmd))


def trade(cmd: Cmd, trade_id: int, buy: int, sell: int, price: int, qty: int, buy_leaves: int,
          sell_leaves: int, aggressor: int, buy_account: int = 0, sell_account: int = 0,
          instrument_id: int = 1) -> Event:
    return _event("TRADE", cmd, instrument_id, trade_id=trade_id, buy_order_id=buy,
                  sell_order_id=sell, price=price, qty=qty, buy_leaves_qty=buy_leaves,
                  sell_leaves_qty=sell_leaves, buy_account_id=buy_account,
                  sell_account_id=sell_account, aggressor_side=aggressor)


def level(cmd: Cmd, side: int, price: int, qty: int, count: int, instrument_id: int = 1) -> Event:
    return _event("BOOK_LEVEL", cmd, instrument_id, price=price, qty=qty, order_count=count,
                  side=side)


def cancelled(cmd: Cmd, order_id: int, reason: int, cancelled_qty: int, leaves_qty: int = 0,
              account: int = 0, instrument_id: int = 1) -> Event:
    return _event("CANCELLED", cmd, instrument_id, reason, order_id=order_id,
                  cancelled_qty=cancelled_qty, leaves_qty=leaves_qty, account_id=account)


def expired(cmd: Cmd, order_id: int, reason: int, expired_qty: int, account: int = 0,
            instrument_id: int = 1) -> Event:
    return _event("EXPIRED", cmd, instrument_id, reason, order_id=order_id,
                  expired_qty=expired_qty, account_id=account)


def replaced(cmd: Cmd, order_id: int, price: int, leaves_qty: int, display_qty: int,
             priority_kept: int, account: int = 0, instrument_id: int = 1) -> Event:
    return _event("REPLACED", cmd, instrument_id, order_id=order_id, price=price,
                  leaves_qty=leaves_qty, display_qty=display_qty, account_id=account,
                  priority_kept=priority_kept)


def triggered(cmd: Cmd, order_id: int, stop_price: int, last_trade_price: int,
              instrument_id: int = 1) -> Event:
    return _event("TRIGGERED", cmd, instrument_id, order_id=order_id, stop_price=stop_price,
                  last_trade_price=last_trade_price)


def phase(cmd: Cmd, new: int, prev: int) -> Event:
    return _event("PHASE", cmd, cmd.instrument_id, phase=new, prev_phase=prev)


def auction(cmd: Cmd, price: int, matched_qty: int, imbalance_qty: int, imbalance_side: int,
            crossed: int) -> Event:
    return _event("AUCTION", cmd, cmd.instrument_id, price=price, matched_qty=matched_qty,
                  imbalance_qty=imbalance_qty, imbalance_side=imbalance_side, crossed=crossed)


def ack(cmd: Cmd, affected: int = 0) -> Event:
    return _event("CMD_ACK", cmd, cmd.instrument_id, affected=affected, cmd_type=_code(cmd))
