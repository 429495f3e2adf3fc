"""OrderRequest: what a NewOrderSingle asks for, with the venue's defaults, and its encoding;
prices in currency units (Decimal) and back; the session's own orders and positions (OrderBook);
one-line descriptions of reports for people (enums and reasons by name).

Shared by the blocking and the asyncio client so both build identical frames and keep the same
books."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Union

import msgspec

from gateway.orderentry.sbe_codec import (ExecType, ExecutionReport, NewOrderSingle, OrderFlags,
                                          OrdType, SelfTradePrevention, Side, TimeInForce)
from gateway.reasons import Reason


class OrderRequest(msgspec.Struct, frozen=True):
    instrument_id: int
    side: Side
    order_qty: int
    account_id: int
    price: int | None = None               # LIMIT and STOP_LIMIT
    ord_type: OrdType = OrdType.LIMIT
    time_in_force: TimeInForce = TimeInForce.DAY
    stop_px: int | None = None             # STOP and STOP_LIMIT
    display_qty: int | None = None         # with OrderFlags.ICEBERG
    expire_time_ns: int | None = None      # with GOOD_TILL_DATE
    stp_group: int = 0
    stp_mode: SelfTradePrevention = SelfTradePrevention.NONE
    flags: OrderFlags = OrderFlags(0)

    def message(self, seq_num: int, sending_time_ns: int, cl_ord_id: int) -> NewOrderSingle:
        return NewOrderSingle(seq_num=seq_num, sending_time_ns=sending_time_ns, cl_ord_id=cl_ord_id,
                              price=self.price, stop_px=self.stop_px, order_qty=self.order_qty,
                              display_qty=self.display_qty, expire_time_ns=self.expire_time_ns,
                              instrument_id=self.instrument_id, account_id=self.account_id,
                              stp_group=self.stp_group, side=self.side, ord_type=self.ord_type,
                              time_in_force=self.time_in_force, stp_mode=self.stp_mode,
                              flags=self.flags)


DEFAULT_PRICE_SCALE = 10_000               # engine price units per currency unit (venue.price_scale)

PriceLike = Union[Decimal, str, int]


def to_units(price: PriceLike, scale: int) -> int:
    """A price in currency units (Decimal, a decimal string such as "99.50", or an int) -> the
    engine's integer price units. Exact: a price finer than 1/scale is refused, never rounded.
    Floats are refused too (0.1 has no exact binary value: pass "0.1")."""
    if isinstance(price, bool) or not isinstance(price, (Decimal, str, int)):
        raise TypeError(f"price must be a Decimal, a decimal string or an int, got "
                        f"{type(price).__name__} {price!r}")
    try:
        d = Decimal(price)
    except InvalidOperation:
        raise ValueError(f"not a price: {price!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a price: {price!r}")
    units = d * scale
    if units != units.to_integral_value():
        raise ValueError(f"price {price} is finer than the venue's 1/{scale}")
    return int(units)


def from_units(units: int | None, scale: int) -> Decimal | None:
    """Engine price units -> currency units as an exact Decimal (None stays None)."""
    if units is None:
        return None
    return (Decimal(units) / Decimal(scale)).normalize() if units % scale else \
        Decimal(units // scale)


def fmt_price(units: int | None, scale: int) -> str:
    """Engine price units as a decimal string with at least two decimals ("99.50")."""
    d = from_units(units, scale)
    if d is None:
        return "-"
    return f"{d:.2f}" if d == d.quantize(Decimal("0.01")) else str(d)


class OrderBook:
    """What one session knows of its own orders and positions, from the reports it received:
    clOrdId -> (venue orderId, instrument) once acknowledged, and the position per (account,
    instrument) from its fills. Shared by the blocking and the asyncio client."""

    def __init__(self) -> None:
        self.order_ids: dict[int, tuple[int, int]] = {}
        self.position: dict[tuple[int, int], int] = {}

    def note(self, msg: object) -> None:
        if not isinstance(msg, ExecutionReport):
            return
        if msg.order_id:
            self.order_ids.setdefault(msg.cl_ord_id, (msg.order_id, msg.instrument_id))
        if msg.exec_type == ExecType.TRADE and msg.last_qty:
            key = (msg.account_id, msg.instrument_id)
            signed = msg.last_qty if msg.side == Side.BUY else -msg.last_qty
            self.position[key] = self.position.get(key, 0) + signed

    def venue_id(self, cl_ord_id: int) -> tuple[int, int] | None:
        """(orderId, instrumentId) of the order sent as cl_ord_id, once the venue acknowledged
        it; None before."""
        return self.order_ids.get(cl_ord_id)


def exec_type_of(value: str | ExecType) -> ExecType:
    """"TRADE", "trade" or ExecType.TRADE -> ExecType.TRADE; ValueError naming the choices."""
    if isinstance(value, ExecType):
        return value
    try:
        return ExecType[value.upper()]
    except KeyError:
        raise ValueError(f"unknown exec type {value!r}: one of "
                         f"{', '.join(e.name for e in ExecType)}") from None


def describe(msg: object, scale: int = DEFAULT_PRICE_SCALE) -> str:
    """One line for a person: enums by name, prices in currency units, reasons by name."""
    if isinstance(msg, ExecutionReport):
        text = (f"{msg.exec_type.name} {msg.side.name} {msg.order_qty} @ "
                f"{fmt_price(msg.price, scale) if msg.price is not None else 'MARKET'} "
                f"(clOrdId {msg.cl_ord_id}, order {msg.order_id}, instrument "
                f"{msg.instrument_id}, account {msg.account_id})")
        if msg.exec_type == ExecType.TRADE:
            text += f": filled {msg.last_qty} @ {fmt_price(msg.last_px, scale)}"
        text += f", {msg.ord_status.name}, cum {msg.cum_qty}, leaves {msg.leaves_qty}"
        if msg.reason_code:
            text += f", reason {_reason_name(msg.reason_code)}"
        return text
    reason = getattr(msg, "reason_code", None)
    fields = [f"{k}={getattr(msg, k)}" for k in getattr(msg, "__struct_fields__", ())
              if k not in ("reason_code", "sending_time_ns", "transact_time_ns")]
    if reason:
        fields.append(f"reason {_reason_name(int(reason))}")
    return f"{type(msg).__name__} {', '.join(fields)}"


def _reason_name(code: int) -> str:
    try:
        return f"{Reason(code).name} ({code})"
    except ValueError:
        return str(code)
