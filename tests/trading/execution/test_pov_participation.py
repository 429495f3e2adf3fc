"""A POV parent's participation is its shares over the market's during its own interval, from its
arrival to the fill that completes it: volume the market trades after it is done is not in it (the
demo once printed 3.4 % for a parent that had taken 4.4 % of the volume while it traded)."""
from __future__ import annotations

from trading.execution.strategy import ExecutionStrategy
from trading.strategy.api import Fill
from trading.strategy.context import Context


def test_market_volume_stops_at_the_completing_fill() -> None:
    now = [1_000_000_000]
    ctx = Context(instrument_id=1, account_id=2, tick_size=100, clock=lambda: now[0])
    strategy = ExecutionStrategy(algo="POV", side=1, qty=300, duration_s=600.0, target_participation=0.05,
                                 min_participation=0.02, max_participation=0.10, decision_ms=50)
    strategy.on_start(ctx)
    ctx.book.apply(1, 1_000_000, 500)
    ctx.book.apply(2, 1_000_100, 500)
    strategy.on_timer(ctx)                      # arrival: the parent starts working at this volume
    assert strategy.state == "working"
    ctx.book.trade(1_000_100, 5_000)            # the market trades 5,000 (its 300 included) ...
    now[0] += 10_000_000
    strategy.on_fill(ctx, Fill(now[0], 1, 1, 1_000_100, 300, 0, False, 0.9))
    ctx.book.trade(1_000_100, 20_000)           # ... and 20,000 more after the parent is filled
    now[0] += 50_000_000
    strategy.on_timer(ctx)                      # the decision that sees it done
    report = strategy.report(ctx)
    assert report["state"] == "done"
    assert report["market_volume"] == 5_000
    assert report["participation"] == 300 / 5_000
