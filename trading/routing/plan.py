"""The router's records: a parent order, the child orders of a routing plan, the plan itself (what
was decided, from which market, why), and what became of each child. All are msgspec Structs: a
plan prints (``describe``), stores as JSON (``to_json``/``plan_from_json``) and replays
(trading/routing/execution.py runs a stored plan again against the same market).
"""
from __future__ import annotations

from typing import Literal

import msgspec

from trading.routing.errors import RoutingError
from trading.routing.market import SIDES, MarketSnapshot, Nbbo

SideName = Literal["buy", "sell"]
# IOC limit on a lit venue / midpoint IOC in a dark pool / a post-only limit resting at the touch of a lit venue
ChildStyle = Literal["take", "midpoint", "post"]
ChildState = Literal["filled", "partial", "unfilled", "rejected", "timed_out"]


class ParentOrder(msgspec.Struct, frozen=True, kw_only=True):
    """What a user, strategy or execution algorithm asks the router to do.
    limit_price: the worst price (engine units) any child may take; None: arrival touch +/- collar_bps.
    risk_aversion: the implementation-shortfall strategy's lambda (1/USD); horizon_ns: how long the
    router may keep re-routing what is left; max_waves: how many routing decisions at most;
    post_ns: the longest a passive child (the `passive` strategy) rests before it is cancelled."""
    parent_id: str
    instrument_id: int
    side: SideName
    qty: int
    limit_price: int | None = None
    collar_bps: float = 50.0
    risk_aversion: float = 1e-6
    horizon_ns: int = 5_000_000_000
    wave_interval_ns: int = 200_000_000
    max_waves: int = 20
    dark_min_qty: int = 0
    post_ns: int = 2_000_000_000

    @property
    def side_code(self) -> int:
        return SIDES[self.side]

    def check(self) -> ParentOrder:
        def bad(why: str) -> RoutingError:
            return RoutingError(f"parent order {self.parent_id!r}: {why}")
        if not self.parent_id:
            raise RoutingError("parent order: parent_id is empty")
        if self.side not in SIDES:
            raise bad(f"side {self.side!r} is neither 'buy' nor 'sell'")
        if self.qty <= 0:
            raise bad(f"quantity {self.qty} must be positive")
        if self.instrument_id <= 0:
            raise bad(f"instrument id {self.instrument_id} must be positive")
        if self.limit_price is not None and self.limit_price <= 0:
            raise bad(f"limit price {self.limit_price} must be positive")
        if not 0.0 < self.collar_bps <= 10_000.0:
            raise bad(f"collar {self.collar_bps} bps is outside (0, 10000]")
        if self.risk_aversion < 0 or self.horizon_ns <= 0 or self.wave_interval_ns <= 0 or self.post_ns <= 0:
            raise bad("risk aversion must be >= 0, horizon, wave interval and post time > 0")
        if not 1 <= self.max_waves <= 1000:
            raise bad(f"max_waves {self.max_waves} is outside 1..1000")
        if not 0 <= self.dark_min_qty <= self.qty:
            raise bad(f"dark minimum quantity {self.dark_min_qty} is outside 0..{self.qty}")
        return self


class ChildOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One order to one venue. price: the IOC's limit (a take); 0 for a midpoint order (the dark
    pool prices it at the NBBO mid); a post's resting price. intermarket_sweep: sent as an ISO, the
    router having swept every better protected quote in the same wave (Rule 611(b)(5)). expires_ns:
    a post is cancelled then (or earlier, when the touch moves away from its price)."""
    child_id: str
    parent_id: str
    wave: int
    venue_id: str
    side: SideName
    qty: int
    price: int
    style: ChildStyle
    intermarket_sweep: bool = False
    min_qty: int = 0
    expected_fill_qty: float = 0.0
    why: str = ""
    expires_ns: int = 0


class CostEstimate(msgspec.Struct, frozen=True, kw_only=True):
    """Per-share costs in basis points of the arrival mid (positive = a cost)."""
    spread_bps: float = 0.0
    fees_bps: float = 0.0
    impact_bps: float = 0.0

    @property
    def total_bps(self) -> float:
        return self.spread_bps + self.fees_bps + self.impact_bps


class RoutingPlan(msgspec.Struct, frozen=True, kw_only=True):
    """One routing decision. deferred_qty: what the strategy leaves for later waves on purpose.
    excluded: venues left out, each with the reason ('down', 'fee above the Rule 610 cap', ...)."""
    plan_id: str
    strategy: str
    parent: ParentOrder
    wave: int
    remaining_qty: int
    created_ns: int
    rules_version: str
    snapshot: MarketSnapshot
    children: tuple[ChildOrder, ...]
    deferred_qty: int
    expected: CostEstimate
    excluded: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    def nbbo(self) -> Nbbo:
        return self.snapshot.nbbo(frozenset(v for v, _ in self.excluded))

    def describe(self) -> str:
        p = self.parent
        n = self.nbbo()
        lines = [f"plan {self.plan_id} ({self.strategy}, wave {self.wave}): {p.side} {self.remaining_qty} of "
                 f"{p.qty} instrument {p.instrument_id}; NBBO {_px(n.bid)} x {_px(n.ask)}; rules: {self.rules_version}"]
        for c in self.children:
            price = "mid" if c.style == "midpoint" else _px(c.price)
            until = f" until +{(c.expires_ns - self.created_ns) / 1e9:.2f} s" if c.style == "post" else ""
            iso = " ISO" if c.intermarket_sweep else ""
            lines.append(f"  {c.child_id:<14} {c.venue_id:<8} {c.style:<8} {c.side} {c.qty:>7} @ {price:>10}{iso}"
                         f"{until}  expect {c.expected_fill_qty:,.0f}  {c.why}")
        if self.deferred_qty:
            lines.append(f"  deferred to later waves: {self.deferred_qty}")
        for venue, why in self.excluded:
            lines.append(f"  excluded {venue}: {why}")
        e = self.expected
        lines.append(f"  expected cost: spread {e.spread_bps:.2f} + fees {e.fees_bps:.2f} + impact {e.impact_bps:.2f}"
                     f" = {e.total_bps:.2f} bps")
        lines.extend(f"  note: {t}" for t in self.notes)
        return "\n".join(lines)

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)


def plan_from_json(data: bytes | str) -> RoutingPlan:
    """A stored plan; a document that is not one raises RoutingError saying where it is wrong."""
    try:
        plan = msgspec.json.decode(data, type=RoutingPlan)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise RoutingError(f"not a routing plan: {exc}") from None
    plan.parent.check()
    return plan


class ChildFill(msgspec.Struct, frozen=True, kw_only=True):
    child_id: str
    venue_id: str
    ts_ns: int
    price: int
    qty: int
    fee_usd: float


class ChildOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What became of one child: answered_ns None when the venue never answered (timed_out)."""
    child_id: str
    venue_id: str
    state: ChildState
    sent_ns: int
    answered_ns: int | None
    filled_qty: int
    reason: str = ""


class RealisedCost(msgspec.Struct, frozen=True, kw_only=True):
    """Realised per-share costs, bps of the arrival mid, positive = cost. spread: half the arrival
    NBBO spread on the filled shares; impact: how far the fills' average went beyond the arrival
    touch (walking books, prices moving during routing); fees: paid minus rebates."""
    spread_bps: float
    impact_bps: float
    fees_bps: float

    @property
    def total_bps(self) -> float:
        return self.spread_bps + self.impact_bps + self.fees_bps


class ExecutionReport(msgspec.Struct, frozen=True, kw_only=True):
    parent: ParentOrder
    strategy: str
    plans: tuple[RoutingPlan, ...]
    outcomes: tuple[ChildOutcome, ...]
    fills: tuple[ChildFill, ...]
    filled_qty: int
    avg_price: float | None
    arrival_mid: float
    arrival_touch: int
    cost: RealisedCost
    venues_down: tuple[str, ...]
    finished_ns: int
    end_mid: float | None = None

    @property
    def shortfall_bps(self) -> float:
        """Implementation shortfall (Perold 1988, "The implementation shortfall: paper versus
        reality", J. Portfolio Management 14(3)) per share of the parent, bps of the arrival mid: the
        filled shares' cost (spread, impact, fees) plus the unfilled shares' opportunity cost, the
        mid's move from arrival to the end against us."""
        unfilled = max(self.parent.qty - self.filled_qty, 0)
        side = 1.0 if self.parent.side == "buy" else -1.0
        missed = unfilled * side * ((self.end_mid if self.end_mid is not None else self.arrival_mid) - self.arrival_mid)
        return (self.filled_qty * self.cost.total_bps + 1e4 * missed / self.arrival_mid) / self.parent.qty

    @property
    def children(self) -> tuple[ChildOrder, ...]:
        return tuple(c for p in self.plans for c in p.children)

    def describe(self) -> str:
        c = self.cost
        avg = f"{self.avg_price / 10_000:.4f}" if self.avg_price is not None else "-"
        lines = [f"parent {self.parent.parent_id} ({self.strategy}): filled {self.filled_qty} of {self.parent.qty}"
                 f" avg {avg} in {len(self.plans)} wave(s), {len(self.outcomes)} children",
                 f"  cost: spread {c.spread_bps:.2f} + impact {c.impact_bps:.2f} + fees {c.fees_bps:.2f}"
                 f" = {c.total_bps:.2f} bps of the arrival mid {self.arrival_mid / 10_000:.4f};"
                 f" shortfall with the unfilled shares {self.shortfall_bps:.2f} bps"]
        for o in self.outcomes:
            lines.append(f"  {o.child_id:<14} {o.venue_id:<8} {o.state:<9} {o.filled_qty:>7} filled  {o.reason}")
        if self.venues_down:
            lines.append(f"  venues scored down as not answering: {', '.join(self.venues_down)}")
        return "\n".join(lines)

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)


def _px(price: int | None) -> str:
    return "-" if price is None else f"{price / 10_000:.4f}"
