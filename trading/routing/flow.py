"""A replayed order flow through the router: seeded parent orders over a LOBSTER day, each routed and
run to completion in the multi-venue replay, markouts fed back into the venue scores; and the
share-weighted cost summary that bench/routing.py and ``python -m trading route`` print.

Parents (``synthetic_parents``): n arrival times drawn uniformly over the day (its first
`skip_open_ns` and last five minutes left out: a day replayed from a depth-1 order-book file holds
only the levels it has seen, so its book is thin early on), sorted and at least `spacing_ns` apart (a later draw that comes too close is
moved later); side buy or sell with equal odds; quantity log-uniform between min_qty and max_qty,
rounded to 100 shares. Markout: the fill price against the NBBO mid `markout_ns` after the parent
finished, signed so that positive means the price moved our way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gateway.regnms.rules import RuleVersion
from trading.replay.data import MarketDay
from trading.routing.errors import RoutingError
from trading.routing.impact import SquareRootImpact
from trading.routing.plan import ExecutionReport, ParentOrder
from trading.routing.replay_market import MultiVenueReplay, SyntheticVenues
from trading.routing.router import Router
from trading.routing.venue import venue

MINUTE_NS = 60_000_000_000
# the venues of the replays that bench/routing.py and `python -m trading route` run when no
# multi-venue file is given: three lit venues by market share, one dark pool (fees in mils a share)
# (maker rebates below each taker fee, the inverted-ish BATY paying least)
REPLAY_VENUES = (venue("XNAS", market_share=0.45, taker_fee_mils=10.0, maker_rebate_mils=8.0, avg_us=200.0, p99_us=600.0),
                 venue("ARCX", market_share=0.30, taker_fee_mils=9.0, maker_rebate_mils=7.0, avg_us=300.0, p99_us=900.0),
                 venue("BATY", market_share=0.25, taker_fee_mils=2.0, maker_rebate_mils=1.0, avg_us=150.0, p99_us=500.0),
                 venue("DARK", kind="dark", market_share=0.10, taker_fee_mils=5.0, avg_us=250.0, p99_us=800.0))


def synthetic_parents(day: MarketDay, n: int, seed: int, min_qty: int = 100, max_qty: int = 1500,
                      spacing_ns: int = 30_000_000_000, skip_open_ns: int = 30 * MINUTE_NS,
                      **order_fields: object) -> list[tuple[int, ParentOrder]]:
    if n <= 0 or not 100 <= min_qty <= max_qty:
        raise ValueError(f"need n > 0 and 100 <= min_qty <= max_qty, got {n}, {min_qty}, {max_qty}")
    rng = np.random.default_rng(seed)
    lo, hi = int(day.ts_ns[0]) + skip_open_ns, int(day.ts_ns[-1]) - 5 * MINUTE_NS
    if hi <= lo:
        raise ValueError(f"the day is too short for parents after {skip_open_ns} ns")
    times = np.sort(rng.uniform(lo, hi, size=n).astype(np.int64))
    sides = rng.integers(0, 2, size=n)
    qtys = np.exp(rng.uniform(math.log(min_qty), math.log(max_qty), size=n))
    out: list[tuple[int, ParentOrder]] = []
    last = -spacing_ns
    for k in range(n):
        t = max(int(times[k]), last + spacing_ns)
        last = t
        qty = max(100, int(round(qtys[k] / 100.0)) * 100)
        out.append((t, ParentOrder(parent_id=f"F{k + 1}", instrument_id=1, side="buy" if sides[k] == 0 else "sell",
                                   qty=qty, **order_fields)))   # type: ignore[arg-type]
    return out


@dataclass
class FlowResult:
    strategy: str
    reports: list[ExecutionReport]
    decision_ns: list[int]
    markouts_bps: list[float] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)    # (parent, why) not routed


def run_flow(synthetic: SyntheticVenues, strategy: str, parents: list[tuple[int, ParentOrder]], seed: int,
             impact: SquareRootImpact, rules: RuleVersion, markout_ns: int = 1_000_000_000,
             kills: tuple[tuple[str, int], ...] = (), touch_move_rate_per_s: float = 0.0) -> FlowResult:
    """Every parent in turn through a fresh replay of the same day (the same seed: the same latency
    draws for the same sends). kills: (venue, time) outages applied to the replay."""
    market = MultiVenueReplay(synthetic, seed=seed)
    for venue_id, at in kills:
        market.kill(venue_id, at)
    router = Router(synthetic.venues, rules=rules, impact=impact, market=market, touch_move_rate_per_s=touch_move_rate_per_s)
    result = FlowResult(strategy=strategy, reports=[], decision_ns=router.decision_ns)
    for t, parent in parents:
        market.advance_to(t)
        try:
            report = router.execute_routing_plan(router.route_order(parent, strategy))
        except RoutingError as exc:     # e.g. an empty book at arrival: said, and the flow goes on
            result.skipped.append((parent.parent_id, str(exc)))
            continue
        result.reports.append(report)
        market.advance_to(report.finished_ns + markout_ns)
        mid = market.snapshot(parent.instrument_id).nbbo(frozenset(market.killed)).mid
        if mid is None:
            continue
        sign = 1.0 if parent.side == "buy" else -1.0
        for f in report.fills:
            bps = sign * (mid - f.price) / mid * 1e4
            router.scores.record_markout(f.venue_id, bps)
            result.markouts_bps.append(bps)
    return result


@dataclass(frozen=True)
class CostSummary:
    """Share-weighted over every filled share of the flow, bps of each parent's arrival mid."""
    parents: int
    asked: int
    filled: int
    spread_bps: float
    impact_bps: float
    fees_bps: float
    children: int
    waves: int
    timeouts: int
    shortfall_bps: float      # per share asked, unfilled shares at their opportunity cost (ExecutionReport)

    @property
    def total_bps(self) -> float:
        return self.spread_bps + self.impact_bps + self.fees_bps


def summarize(reports: list[ExecutionReport]) -> CostSummary:
    filled = sum(r.filled_qty for r in reports)
    w = [r.filled_qty / filled if filled else 0.0 for r in reports]
    return CostSummary(
        parents=len(reports), asked=sum(r.parent.qty for r in reports), filled=filled,
        spread_bps=sum(x * r.cost.spread_bps for x, r in zip(w, reports)),
        impact_bps=sum(x * r.cost.impact_bps for x, r in zip(w, reports)),
        fees_bps=sum(x * r.cost.fees_bps for x, r in zip(w, reports)),
        children=sum(len(r.outcomes) for r in reports), waves=sum(len(r.plans) for r in reports),
        timeouts=sum(1 for r in reports for o in r.outcomes if o.state == "timed_out"),
        shortfall_bps=sum(r.shortfall_bps * r.parent.qty for r in reports) / max(1, sum(r.parent.qty for r in reports)))
