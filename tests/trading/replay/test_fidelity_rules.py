"""One hand-built scenario per rule of trading/replay/FIDELITY.md, through the real engine."""
from __future__ import annotations

import numpy as np
import pytest

from gateway.latency.histogram import LatencyHistogram
from gateway.latency.hlog import write_interval_log
from gateway.latency.snapshot import Snapshot
from gateway.latency.spec import HistogramSpec
from tests.trading.replay.scenario import (ADD, BUY, DELETE, EXECUTE, HIDDEN, MS, SELL, T0, Scripted, day,
                                           replay)
from trading.replay.latency import Banded, Constant, Empirical, activity
from trading.strategy.api import Strategy

P = 1_000_000   # 100.00 in LOBSTER units; tick 100


def test_order_joins_the_back_and_fills_after_the_orders_ahead():
    d = day([(T0, ADD, 1, 100, P, BUY), (T0 + 2 * MS, ADD, 2, 100, P, BUY),
             (T0 + 3 * MS, EXECUTE, 1, 50, P, BUY), (T0 + 4 * MS, EXECUTE, 1, 50, P, BUY),
             (T0 + 5 * MS, EXECUTE, 2, 60, P, BUY), (T0 + 6 * MS, ADD, 3, 100, P + 500, SELL)])
    s = Scripted({T0 + MS: [(BUY, P, 100)]})
    r = replay(d, s)
    assert [(f.ts_ns, f.price, f.qty, f.maker) for f in s.fills] == [(T0 + 5 * MS, P, 60, True)]
    assert r.counts["historical executions replayed as aggressive orders"] == 3


def test_order_at_a_better_price_fills_first():
    d = day([(T0, ADD, 1, 100, P, BUY), (T0 + 2 * MS, EXECUTE, 1, 30, P, BUY), (T0 + 3 * MS, ADD, 9, 10, P + 900, SELL)])
    s = Scripted({T0 + MS: [(BUY, P + 100, 100)]})
    r = replay(d, s)
    assert [(f.price, f.qty) for f in s.fills] == [(P + 100, 30)]
    assert r.ctx.position == 30


def test_order_ahead_in_the_queue_fills_first_and_the_named_order_by_the_rest():
    d = day([(T0, ADD, 7, 10, P + 500, SELL), (T0 + 2 * MS, ADD, 2, 100, P, BUY),
             (T0 + 3 * MS, EXECUTE, 2, 100, P, BUY), (T0 + 4 * MS, DELETE, 2, 60, P, BUY)])
    s = Scripted({T0 + MS: [(BUY, P, 60)]})
    r = replay(d, s)
    assert [(f.ts_ns, f.qty) for f in s.fills] == [(T0 + 3 * MS, 60)]
    # order 2 kept the 60 the execution spent on us: history's delete of its 60 finds them
    assert not any("refused" in k for k in r.counts), r.counts


def test_cancelled_then_executed_historical_order_is_counted():
    # our buy takes orders 1 and 2 whole; history then cancels 1 and executes 2: both messages
    # name orders that are gone from our book, and both are refused and counted
    d = day([(T0, ADD, 1, 100, P, SELL), (T0, ADD, 2, 50, P, SELL), (T0 + 2 * MS, DELETE, 1, 100, P, SELL),
             (T0 + 3 * MS, EXECUTE, 2, 50, P, SELL), (T0 + 4 * MS, ADD, 3, 100, P + 100, SELL)])
    s = Scripted({T0 + MS: [(BUY, P, 150)]})
    r = replay(d, s)
    assert [(f.price, f.qty, f.maker) for f in s.fills] == [(P, 100, False), (P, 50, False)]
    assert r.counts["historical CANCEL refused: REJ_UNKNOWN_ORDER"] == 1
    assert r.counts["historical EXECUTE refused: REJ_UNKNOWN_ORDER"] == 1
    assert r.ctx.ledger.fees == pytest.approx(150 * 0.003)


def test_historical_add_crossing_our_order_trades_with_it():
    d = day([(T0, ADD, 1, 100, P + 200, SELL), (T0 + 2 * MS, ADD, 2, 50, P, SELL), (T0 + 3 * MS, DELETE, 2, 50, P, SELL)])
    s = Scripted({T0 + MS: [(BUY, P + 100, 100)]})
    r = replay(d, s)
    assert [(f.price, f.qty, f.maker) for f in s.fills] == [(P + 100, 50, True)]
    assert r.counts["historical CANCEL refused: REJ_UNKNOWN_ORDER"] == 1


def test_hidden_execution_fills_the_strategy_order_inside_the_spread_only():
    d = day([(T0, ADD, 1, 100, P, BUY), (T0, ADD, 2, 100, P + 200, SELL),
             (T0 + 2 * MS, HIDDEN, 0, 30, P + 50, BUY),      # between ticks: our bid at P+100 is above it
             (T0 + 3 * MS, HIDDEN, 0, 400, P, BUY),          # more than we have: stops at order 1
             (T0 + 4 * MS, HIDDEN, 0, 100, P + 200, SELL),   # no order of ours on that side
             (T0 + 5 * MS, DELETE, 1, 100, P, BUY)])
    s = Scripted({T0 + MS: [(BUY, P + 100, 100)]})
    r = replay(d, s)
    assert [(f.ts_ns, f.price, f.qty) for f in s.fills] == [(T0 + 2 * MS, P + 100, 30), (T0 + 3 * MS, P + 100, 70)]
    assert r.counts["hidden executions offered to the strategy's orders"] == 2
    assert not any("refused" in k for k in r.counts), r.counts   # order 1 was never touched


def test_real_engine_fills_a_resting_order_when_the_market_trades_through_an_emptied_level():
    # the peer's L3 model leaves our bid unfilled here: its level emptied in history, and the
    # market then traded below it; in a real book our bid is the best bid and is hit
    d = day([(T0, ADD, 1, 100, P, BUY), (T0, ADD, 2, 100, P + 300, SELL),
             (T0 + 2 * MS, EXECUTE, 1, 100, P, BUY),         # history: the level at P empties
             (T0 + 3 * MS, ADD, 3, 100, P - 100, BUY),
             (T0 + 4 * MS, EXECUTE, 3, 40, P - 100, BUY)])    # the market trades through P
    s = Scripted({T0 + MS: [(BUY, P, 100)]})
    replay(d, s)
    # order 1 was ahead of ours, so the first execution is all its; the sell that trades at P-100
    # meets our bid at P first, as the best bid
    assert [(f.ts_ns, f.price, f.qty) for f in s.fills] == [(T0 + 4 * MS, P, 40)]


@pytest.mark.parametrize("order_ms, feed_ms", [(0, 0), (2, 0), (2, 5)])
def test_order_latency_shifts_the_fill_exactly(order_ms, feed_ms):
    d = day([(T0, ADD, 1, 100, P - 100, BUY), (T0 + 2 * MS, ADD, 5, 100, P, SELL),
             (T0 + 9 * MS, DELETE, 1, 100, P - 100, BUY)])
    s = Scripted({T0 + MS: [(BUY, P, 100)]})
    replay(d, s, order_latency=Constant(order_ms * MS), feed_latency=Constant(feed_ms * MS))
    arrive = T0 + MS + order_ms * MS
    fill_at = max(arrive, T0 + 2 * MS)          # rests first (maker) or takes order 5 on arrival (taker)
    assert [(f.ts_ns, f.maker) for f in s.fills] == [(fill_at, arrive < T0 + 2 * MS)]
    seen = [t for t, what, _ in s.seen if what == "fill"]
    assert seen == [fill_at + feed_ms * MS]


def test_feed_latency_delays_what_the_strategy_sees():
    class Watch(Strategy):
        def __init__(self) -> None:
            super().__init__()
            self.tops: list[tuple[int, int | None]] = []

        def on_start(self, ctx):  # type: ignore[no-untyped-def]
            ctx.set_timer(MS)      # every tick, changed or not

        def on_timer(self, ctx):  # type: ignore[no-untyped-def]
            self.tops.append((ctx.now, ctx.book.best_bid))

    d = day([(T0, ADD, 1, 100, P, BUY), (T0 + 3 * MS, ADD, 2, 100, P + 100, BUY), (T0 + 9 * MS, DELETE, 1, 100, P, BUY)])
    w = Watch()
    replay(d, w, feed_latency=Constant(2 * MS))
    tops = dict(w.tops)
    assert tops[T0 + 4 * MS] == P and tops[T0 + 5 * MS] == P + 100   # the add at +3 ms is seen at +5 ms


def test_computation_time_delays_the_order():
    d = day([(T0, ADD, 1, 100, P - 100, BUY), (T0 + 2 * MS, ADD, 5, 100, P, SELL),
             (T0 + 9 * MS, DELETE, 1, 100, P - 100, BUY)])
    fast, slow = Scripted({T0 + MS: [(BUY, P, 100)]}), Scripted({T0 + MS: [(BUY, P, 100)]})
    replay(d, fast, compute="none")
    # 3 ms per callback: on_start (at T0) ends at +3 ms by the strategy's clock, so the order it
    # plans for +1 ms leaves at +3 ms, after order 5 (+2 ms) rested: ours takes it instead of
    # being taken; the ack and the fill arrive together, and the strategy's clock inside on_fill
    # has on_accepted's 3 ms and its own 3 ms on it
    replay(d, slow, compute=3 * MS)
    assert [(f.ts_ns, f.maker) for f in fast.fills] == [(T0 + 2 * MS, True)]
    assert [(f.ts_ns, f.maker) for f in slow.fills] == [(T0 + 3 * MS, False)]
    assert [t for t, what, _ in slow.seen if what == "fill"] == [T0 + 9 * MS]


def test_strategy_that_raises_is_stopped_and_the_replay_goes_on():
    d = day([(T0, ADD, 1, 100, P - 100, BUY), (T0 + 5 * MS, ADD, 2, 100, P + 200, SELL),
             (T0 + 6 * MS, EXECUTE, 1, 100, P - 100, BUY)])
    s = Scripted({T0 + MS: [(BUY, P - 100, 100), (SELL, P + 300, 100)]}, raise_at=T0 + 3 * MS)
    r = replay(d, s)
    assert r.error is not None and "scripted failure" in r.error and "RuntimeError" in r.error
    assert r.ctx.orders == {} and r.ctx.sent["RUNTIME_CANCEL_ALL"] == 1 and r.ctx.sent["CANCEL_ALL"] == 0
    assert not s.fills                                    # cancelled before the execution at +6 ms
    assert r.engine_commands >= len(d) + 3                # the day replayed to its end


def test_activity_bands_pick_the_latency_by_message_rate():
    ts = np.array([0] + [2_000_000_000 + k for k in range(50)], dtype=np.int64)
    rate = activity(ts, np.array([500_000_000, 2_000_000_100]), 1_000_000_000)
    assert rate.tolist() == [1.0, 50.0]
    model = Banded(((10.0, Constant(1_000)), (float("inf"), Constant(90_000))))
    got = model.sample(np.random.default_rng(0), 2, rate)
    assert got.tolist() == [1_000, 90_000] and model.minimum == 1_000


def test_empirical_latency_from_a_venue_hlog(tmp_path):
    spec = HistogramSpec(1, 10**10, 3)
    hdr = spec.new_hdr()
    hdr.record_value(1_000, 900)
    hdr.record_value(50_000, 100)
    hist = LatencyHistogram.from_hdr("end_to_end", hdr)
    path = write_interval_log(tmp_path / "latency.hlog", [Snapshot(1.0, 2.0, (hist,))], start_s=1.0)
    model = Empirical.from_hlog(path)
    draws = model.sample(np.random.default_rng(7), 20_000)
    assert abs(float(np.mean(draws < 10_000)) - 0.9) < 0.01
    assert model.minimum == pytest.approx(1_000, rel=0.001) and model.percentile(99) == pytest.approx(50_000, rel=0.01)
    with pytest.raises(ValueError, match="no histogram"):
        Empirical.from_hlog(path, "nope")
