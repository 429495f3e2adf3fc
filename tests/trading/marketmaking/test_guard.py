"""The guard stops quoting on halts, breakers, crossed/locked/one-sided books and stale data, and
pulls the quotes in a toxic burst."""
from __future__ import annotations

import pytest

from trading.marketmaking.guard import MarketGuard, MarketState
from trading.marketmaking.markouts import MarkoutTracker
from trading.marketmaking.params import GuardParams

G = MarketGuard(GuardParams(stale_after_s=1.0, toxicity_widen=0.4, toxicity_pull=0.8))
OK = MarketState(now_s=10.0, last_update_s=9.9, best_bid=100, best_ask=102)


@pytest.mark.parametrize("state, reason", [
    (MarketState(10.0, 9.9, 100, 102, halted=True), "halted"),
    (MarketState(10.0, 9.9, 100, 102, breaker=True), "circuit breaker"),
    (MarketState(10.0, 9.9, 103, 102), "crossed book"),
    (MarketState(10.0, 9.9, 102, 102), "locked book"),
    (MarketState(10.0, 9.9, None, 102), "one-sided book"),
    (MarketState(10.0, 8.0, 100, 102), "stale data"),
])
def test_market_state_blocks(state: MarketState, reason: str) -> None:
    d = G.assess(state, toxicity=0.0, flow_imbalance=0.0, half_spread=0.01)
    assert not d.quote and d.reason == reason


def test_quiet_market_quotes_plain() -> None:
    d = G.assess(OK, toxicity=0.1, flow_imbalance=0.1, half_spread=0.01)
    assert d.quote and d.widen == 1.0 and d.skew == 0.0


def test_toxic_burst_widens_then_pulls() -> None:
    tracker = MarkoutTracker(horizons_s=(1.0, 5.0), window=10)
    t, mid, half_spread = 0.0, 100.0, 0.02
    tracker.on_mid(t, mid)
    decisions = []
    # a burst of informed sellers: each of our bids is hit, then the mid drops by a half spread
    for _ in range(12):
        tracker.on_fill(t, +1, mid - half_spread, 100)
        tracker.on_trade(-1, 100)
        mid -= 0.03
        tracker.on_mid(t + 0.5, mid)
        t += 2.0
        tracker.on_mid(t, mid)
        tox = tracker.toxicity(half_spread)
        decisions.append(G.assess(MarketState(t, t, 9990, 9992), tox, tracker.flow_imbalance(),
                                  half_spread))
    assert decisions[-1].quote is False and decisions[-1].reason.startswith("toxic flow")
    assert tracker.mean_markout(1.0) < 0
    assert tracker.flow_imbalance() == -1.0


def test_widening_between_thresholds_skews_with_the_flow() -> None:
    d = G.assess(OK, toxicity=0.6, flow_imbalance=-1.0, half_spread=0.02)
    assert d.quote and d.widen > 1.0 and d.skew < 0.0


def test_markouts_use_the_mid_prevailing_at_the_horizon() -> None:
    tr = MarkoutTracker(horizons_s=(1.0,))
    tr.on_mid(0.0, 100.0)
    tr.on_fill(0.0, -1, 100.01, 100)      # we sold at 100.01
    tr.on_mid(0.5, 100.05)                # the mid at t = 1 is this one
    tr.on_mid(3.0, 99.0)                  # arrives after the horizon: completes with 100.05
    assert tr.completed[0].values[1.0] == pytest.approx(-(100.05 - 100.01))


def test_toxicity_is_forgotten_after_its_memory() -> None:
    # a guard that pulled gets no new fills: the score must fall back or quoting never resumes
    tr = MarkoutTracker(horizons_s=(1.0,), window=10, memory_s=30.0)
    tr.on_mid(0.0, 100.0)
    for i in range(5):
        tr.on_fill(float(i), +1, 99.99, 100)
        tr.on_mid(i + 0.5, 99.90)
    tr.on_mid(10.0, 99.90)
    assert tr.markout_toxicity(0.01) == 1.0
    tr.on_mid(100.0, 99.90)
    assert tr.markout_toxicity(0.01) == 0.0
