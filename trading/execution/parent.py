"""A parent order: what to execute, by which algorithm, between when, within which limits; and
the check that refuses a bad one before anything is sent.

Prices are the engine's integer price units; times are ns in the runner's clock (the replay's
simulated clock or CLOCK_MONOTONIC live). ``limit_price`` 0 means no limit. ``risk_aversion`` is
the Almgren-Chriss lambda (per currency unit) of the IS algorithm; ``max_participation`` caps the
parent's share of the instrument's traded volume for every algorithm; POV aims at
``target_participation`` and speeds up when it falls below ``min_participation``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

ALGORITHMS = ("TWAP", "VWAP", "POV", "IS")
BUY, SELL = 1, 2


@dataclass(frozen=True)
class InstrumentRules:
    """What the venue allows for one instrument: quantities in lots, prices on ticks."""
    lot_size: int = 1
    tick_size: int = 1


class ParentOrderRefused(ValueError):
    """A parent order that cannot be accepted: names the field, the value and why."""

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field, self.value, self.why = field, value, why
        super().__init__(f"parent order refused: {field}={value!r}: {why}")


@dataclass(frozen=True)
class ParentOrder:
    instrument_id: int
    side: int
    qty: int
    algo: str
    start_ns: int
    end_ns: int
    limit_price: int = 0
    risk_aversion: float = 1e-6
    max_participation: float = 0.25
    target_participation: float = 0.10
    min_participation: float = 0.0
    account_id: int = 0
    seed: int = 0

    def amended(self, **changes: object) -> ParentOrder:
        """A copy with some fields changed (the result must pass ``validate`` again)."""
        unknown = set(changes) - set(AMENDABLE)
        if unknown:
            raise ParentOrderRefused(sorted(unknown)[0], changes[sorted(unknown)[0]],
                                     f"cannot be amended (amendable: {', '.join(AMENDABLE)})")
        return replace(self, **changes)  # type: ignore[arg-type]


AMENDABLE = ("qty", "end_ns", "limit_price", "risk_aversion", "max_participation", "target_participation",
             "min_participation")


def validate(order: ParentOrder, instruments: Mapping[int, InstrumentRules]) -> ParentOrder:
    """The order itself when it can be executed, else ParentOrderRefused naming the first bad field."""
    rules = instruments.get(order.instrument_id)
    if rules is None:
        known = ", ".join(str(i) for i in sorted(instruments)) or "none"
        raise ParentOrderRefused("instrument_id", order.instrument_id, f"unknown instrument (known: {known})")
    if order.side not in (BUY, SELL):
        raise ParentOrderRefused("side", order.side, "must be 1 (buy) or 2 (sell)")
    if order.algo not in ALGORITHMS:
        raise ParentOrderRefused("algo", order.algo, f"must be one of {', '.join(ALGORITHMS)}")
    if order.qty <= 0:
        raise ParentOrderRefused("qty", order.qty, "must be positive")
    if order.qty >= 1 << 63:        # the engine's quantities are int64 (venue_layout.h eng_new_order.qty)
        raise ParentOrderRefused("qty", order.qty, "above the engine's largest quantity (2^63 - 1)")
    if order.qty % rules.lot_size:
        raise ParentOrderRefused("qty", order.qty, f"not a whole number of lots (lot size {rules.lot_size})")
    if order.end_ns <= order.start_ns:
        raise ParentOrderRefused("end_ns", order.end_ns, f"must be after the start ({order.start_ns})")
    if order.limit_price < 0 or order.limit_price % rules.tick_size:
        raise ParentOrderRefused("limit_price", order.limit_price,
                                 f"must be 0 (none) or a positive multiple of the tick ({rules.tick_size})")
    for name in ("max_participation", "target_participation", "min_participation"):
        value = getattr(order, name)
        if not 0.0 <= value <= 1.0:
            raise ParentOrderRefused(name, value, "a share of volume must be between 0 and 1 (100 %)")
    if order.max_participation == 0.0:
        raise ParentOrderRefused("max_participation", 0.0, "must be above 0: nothing could ever be sent")
    if order.min_participation > order.max_participation:
        raise ParentOrderRefused("min_participation", order.min_participation,
                                 f"above max_participation {order.max_participation}")
    if order.algo == "POV" and not order.min_participation <= order.target_participation <= order.max_participation:
        raise ParentOrderRefused("target_participation", order.target_participation,
                                 "must lie between min_participation and max_participation")
    if not order.risk_aversion >= 0.0:
        raise ParentOrderRefused("risk_aversion", order.risk_aversion, "must not be negative")
    return order
