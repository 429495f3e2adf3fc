"""A parent order's slices through the smart order router (trading/routing) when several venues
exist: the schedule (schedules.py) decides how much should be done by now, as it does on one
venue; every slice that falls due becomes a routing parent of its own, which the router splits
across the venues, sends, re-routes after partial fills or silent venues, and reports on
(``Router.route_order`` then ``Router.execute_routing_plan``, through the router's Marketplace:
the multi-venue replay of trading/routing/replay_market.py, or live venue sessions). The router,
not the placement rule, prices each child (it sweeps protected quotes, Reg NMS).

Every algorithm goes through the router. VWAP and POV follow the traded volume, which the router
reports per venue (``Router.traded_volume``: the marketplace's prints, trading/routing/
replay_market.py in replay, the venues' feeds live); the market volume of a decision is their sum
since the parent's start (own fills included, as participation is usually quoted). As in
strategy.py, the participation cap bounds every algorithm at every decision:

    filled + new slice <= max_participation * market volume since the start

and POV speeds up to its minimum rate when behind it (within the cap).

Per decision (every ``decision_ns`` of the marketplace's clock): target as the schedule says (the
whole order in the last FINISH_SHARE of the horizon, except POV), bounded by the cap; the gap
rounded down to lots is one routing parent with a horizon of one decision interval; IS re-solves at
each interval boundary from what is left (adaptive). A slice the router cannot route now (no
two-sided NBBO) is recorded with its reason and tried again at the next decision.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from trading.execution.parent import BUY, ParentOrder, ParentOrderRefused
from trading.execution.schedules import IsSchedule, Schedule
from trading.execution.strategy import FINISH_SHARE


@dataclass
class RoutedSlice:
    ts_ns: int
    qty: int
    filled: int
    avg_price: float | None
    venues: tuple[str, ...]
    children: int
    shortfall_bps: float | None
    skipped: str = ""
    market_volume: int = 0          # shares printed on every venue since the parent's start, at the decision
    filled_before: int = 0


@dataclass
class RoutedResult:
    qty: int
    filled: int = 0
    notional: float = 0.0
    arrival_mid: float | None = None
    slices: list[RoutedSlice] = field(default_factory=list)
    venue_fills: dict[str, int] = field(default_factory=dict)     # shares filled per venue

    @property
    def avg_price(self) -> float | None:
        return self.notional / self.filled if self.filled else None

    def shortfall_bps(self, side: int) -> float | None:
        """Side-signed (average price - arrival mid) / arrival mid of the filled shares, bps."""
        if self.avg_price is None or not self.arrival_mid:
            return None
        sign = 1.0 if side == BUY else -1.0
        return sign * (self.avg_price - self.arrival_mid) / self.arrival_mid * 1e4


def execute_routed(order: ParentOrder, schedule: Schedule, router: Any, market: Any, decision_ns: int,
                   lot: int = 1, strategy: str = "cost_minimization",
                   control: Callable[[RoutedResult, int], str] | None = None) -> RoutedResult:
    """Runs the parent to its end on the router's marketplace; returns every slice and the total.
    control(result so far, market volume) is asked at every decision (a live parent's pause and
    cancel): "paused" sends nothing this decision, "cancelled" ends the run."""
    from trading.routing import ParentOrder as RoutingParent
    from trading.routing import RoutingError
    if decision_ns <= 0:
        raise ParentOrderRefused("decision_ns", decision_ns, "must be positive")
    market.advance_to(order.start_ns)
    result = RoutedResult(order.qty, arrival_mid=market.snapshot(order.instrument_id).nbbo().mid)
    volume0 = sum(router.traded_volume(order.instrument_id).values())
    horizon = order.end_ns - order.start_ns
    k = 0
    while True:
        now = market.now_ns()
        if now >= order.end_ns or result.filled >= order.qty:
            return result
        volume = sum(router.traded_volume(order.instrument_id).values()) - volume0
        state = control(result, volume) if control is not None else "working"
        if state == "cancelled":
            return result
        want = _slice_qty(order, schedule, now, volume, result.filled, lot, horizon) if state == "working" else 0
        if want >= lot:
            k += 1
            parent = RoutingParent(parent_id=f"slice-{k}", instrument_id=order.instrument_id,
                                   side="buy" if order.side == BUY else "sell", qty=want,
                                   limit_price=order.limit_price or None, risk_aversion=order.risk_aversion,
                                   horizon_ns=max(1, min(decision_ns, order.end_ns - now)))
            before = result.filled
            try:
                report = router.execute_routing_plan(router.route_order(parent, strategy))
            except RoutingError as exc:
                result.slices.append(RoutedSlice(now, want, 0, None, (), 0, None, skipped=str(exc),
                                                 market_volume=volume, filled_before=before))
            else:
                if result.arrival_mid is None:
                    result.arrival_mid = report.arrival_mid
                result.filled += report.filled_qty
                result.notional += sum(f.price * f.qty for f in report.fills)
                for f in report.fills:
                    result.venue_fills[f.venue_id] = result.venue_fills.get(f.venue_id, 0) + f.qty
                result.slices.append(RoutedSlice(now, want, report.filled_qty, report.avg_price,
                                                 tuple(sorted({f.venue_id for f in report.fills})),
                                                 len(report.outcomes), report.shortfall_bps,
                                                 market_volume=volume, filled_before=before))
        market.advance_to(max(market.now_ns(), now + decision_ns))


def _slice_qty(order: ParentOrder, schedule: Schedule, now: int, volume: int, filled: int, lot: int,
               horizon: int) -> int:
    """The next slice: the schedule's target (module docstring) within the participation cap, in lots."""
    if isinstance(schedule, IsSchedule):
        schedule.replan(now, filled, None)
    if order.algo != "POV" and order.end_ns - now <= FINISH_SHARE * horizon:
        target = float(order.qty)
    else:
        target = min(float(order.qty), schedule.target(now, volume))
    cap = math.floor(order.max_participation * volume)
    allowed = min(target, cap, order.qty)
    if order.algo == "POV":
        allowed = max(allowed, min(order.min_participation * volume, cap, order.qty))
    return int((allowed - filled) // lot * lot)
