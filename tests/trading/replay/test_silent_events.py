"""Own events that no callback of the strategy hears wake nothing (trading/replay/FIDELITY.md rule 8,
runtime.py Replay._set_silent_events): a fill of a strategy with no on_fill is taken at its next
wake-up, yet its P&L sample is at its delivery, marked at the strategy's view then; every such
event is taken before on_stop; the confirmation of a strategy's own cancel marks no timer that
ignores own cancels (Context.set_timer), and a quoting strategy that forgets an order when it
cancels it gives the same fills, positions and P&L at each fill either way. Each in both loops."""
from __future__ import annotations

from typing import Any

import pytest

from tests.trading.replay.conftest import AAPL, GOOG, sample
from tests.trading.replay.scenario import ADD, DELETE, EXECUTE, MS, T0, day
from trading.replay.data import BUY, SELL, Kind
from trading.replay.history import History, build_history
from trading.replay.latency import Constant
from trading.replay.lobster import load_lobster
from trading.replay.native_loop import NativeLoop
from trading.replay.results import to_json
from trading.replay.runtime import Replay, ReplayConfig, ReplayResult
from trading.strategy.api import Strategy
from trading.strategy.context import Context
from trading.strategy.examples import TouchQuoter

P = 10_000


class BidOnce(Strategy):
    """Bids 100 at the touch at its first tick (a 50 ms touch timer ignoring its own cancels, no
    own-event callback: its fills are silent); notes its ticks and what it sees at on_stop."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[tuple[int, int]] = []
        self.at_stop: tuple[Any, ...] = ()

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(50 * MS, on_touch_change=True, ignore_own_cancels=True)

    def on_timer(self, ctx: Context) -> None:
        self.ticks.append(((ctx.now - T0) // MS, ctx.position))
        if len(self.ticks) == 1 and ctx.book.best_bid is not None:
            ctx.buy(ctx.book.best_bid, 100)

    def on_stop(self, ctx: Context) -> None:
        self.at_stop = ((ctx.now - T0) // MS, ctx.position, ctx.ledger.realized, ctx.phase,
                        sorted((o.side, o.price, o.leaves_qty) for o in ctx.orders.values()))


def _bid_once_day(halt: bool = False) -> History:
    """Its bid (placed at 50 ms, on the book at 51 ms behind order 1) fills 50 at 60 ms (an
    execution of 150 against order 1) and 30 at 150 ms (an execution of order 4, behind it), the
    day's last message; the ask moves from
    P + 100 to P + 300 at 80 ms. halt: the instrument halts right after the first execution (the
    phase change is delivered with the fill) and reopens at 70 ms."""
    rows = [(T0, ADD, 1, 100, P, BUY), (T0, ADD, 2, 100, P + 100, SELL), (T0 + MS, ADD, 3, 100, P + 300, SELL),
            (T0 + 60 * MS, EXECUTE, 1, 150, P, BUY)]
    if halt:
        rows += [(T0 + 60 * MS, Kind.HALT, 0, 0, -1, BUY), (T0 + 70 * MS, Kind.HALT, 0, 0, 1, BUY)]
    rows += [(T0 + 80 * MS, DELETE, 2, 100, P + 100, SELL), (T0 + 85 * MS, ADD, 4, 100, P, BUY),
             (T0 + 150 * MS, EXECUTE, 4, 30, P, BUY)]
    return build_history(day(rows))


def _run(history: History, make: Any, loop: str, **config: Any) -> tuple[ReplayResult, Any]:
    strategy = make()
    cfg = {"order_latency": Constant(MS), "feed_latency": Constant(MS), "compute": "none", **config}
    return Replay(history, strategy, ReplayConfig(**cfg, loop=loop)).run(), strategy


@pytest.mark.parametrize("loop", ["python", "auto"])
def test_a_silent_fill_is_sampled_at_its_delivery_with_the_view_then_and_taken_before_on_stop(loop: str) -> None:
    r, s = _run(_bid_once_day(), BidOnce, loop)
    assert r.error is None
    assert [(f.qty, f.leaves_qty, f.price) for f in r.fills] == [(50, 50, P), (30, 20, P)]
    # each fill's sample at its delivery (engine time + 1 ms), marked at the mid it saw then: the
    # first with the ask at P + 100 (it moved to P + 300 at 80 ms, before the next tick at 100 ms);
    # the day's last sample, at its end (151 ms), is not a fill's
    at_fill = [(s_.ts_ns - T0, s_.position, s_.mid) for s_ in r.samples[:-1]
               if s_.ts_ns in (T0 + 61 * MS, T0 + 151 * MS)]
    assert at_fill == [(61 * MS, 50, P + 50), (151 * MS, 80, P + 150)]
    # its ticks: 50 ms (the first touch), 100 ms (its fill arrived at 61 ms, and the touch moved),
    # not 150 ms; the second fill, delivered after the day's last message, is taken before on_stop,
    # at the day's end (151 ms)
    assert s.ticks == [(50, 0), (100, 50)]
    assert s.at_stop == (151, 80, 0.0, "CONTINUOUS", [(BUY, P, 20)])
    assert r.end_ns == T0 + 151 * MS


def test_both_loops_give_the_same_run_when_a_phase_change_comes_with_a_silent_fill(monkeypatch: pytest.MonkeyPatch) -> None:
    """The halt is delivered with the first fill: the C loop's step that notes the fill stops at the
    phase change, which Python takes (RPL_STOP_NOTE), then notes the fill."""
    taken: list[int] = []
    take = NativeLoop.take_md_until

    def counting(self: NativeLoop, t: int, on_row: Any) -> None:
        taken.append(t)
        take(self, t, on_row)

    monkeypatch.setattr(NativeLoop, "take_md_until", counting)
    hist = _bid_once_day(halt=True)
    (ref, ref_s), (fast, fast_s) = _run(hist, BidOnce, "python"), _run(hist, BidOnce, "auto")
    assert T0 + 61 * MS in taken
    assert to_json(fast) == to_json(ref) and fast.samples == ref.samples and fast.wakeups == ref.wakeups
    assert (fast_s.ticks, fast_s.at_stop) == (ref_s.ticks, ref_s.at_stop)
    assert [f.qty for f in fast.fills] == [50, 30] and fast_s.at_stop[3] == "CONTINUOUS"


class UndeclaredQuoter(TouchQuoter):
    """The quoting strategy whose timer counts its own cancels' confirmations as own events."""

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(int(self.params["interval_ms"]) * 1_000_000, on_touch_change=True)


class Ticks:
    """Counts a quoting strategy's timer firings (a mixin before the strategy's class)."""
    fired = 0

    def on_timer(self, ctx: Context) -> None:
        self.fired += 1
        super().on_timer(ctx)  # type: ignore[misc]


class CountedQuoter(Ticks, TouchQuoter):
    pass


class CountedUndeclared(Ticks, UndeclaredQuoter):
    pass


def _at_fills(r: ReplayResult, feed_ns: int) -> list[tuple[int, int, float, float, float, float | None]]:
    """The P&L sample taken at each fill's delivery (its engine time + the feed latency)."""
    delivered = {f.ts_ns + feed_ns for f in r.fills}
    return [(s.ts_ns, s.position, s.realized, s.unrealized, s.fees, s.mid) for s in r.samples if s.ts_ns in delivered]


@pytest.mark.parametrize("data, interval_ms", [(AAPL, 10), (GOOG, 100)])
@pytest.mark.parametrize("loop", ["python", "auto"])
def test_ignoring_own_cancels_keeps_the_quoting_strategys_fills_and_pnl_at_each_fill(data: str, interval_ms: int,
                                                                                      loop: str) -> None:
    hist = build_history(load_lobster(sample(data)))
    lat = {"order_latency": Constant(50_000), "feed_latency": Constant(50_000)}
    declared, d = _run(hist, lambda: CountedQuoter(interval_ms=interval_ms), loop, **lat)
    undeclared, u = _run(hist, lambda: CountedUndeclared(interval_ms=interval_ms), loop, **lat)
    assert declared.fills == undeclared.fills and len(declared.fills) > 50
    assert declared.ctx.position == undeclared.ctx.position
    assert _at_fills(declared, 50_000) == _at_fills(undeclared, 50_000)
    assert len(_at_fills(declared, 50_000)) >= len({f.ts_ns for f in declared.fills})
    assert declared.samples[-1] == undeclared.samples[-1]      # the day's last, at its end
    # the ticks that fired only because a cancel's confirmation arrived are gone
    assert d.fired < u.fired and declared.wakeups < undeclared.wakeups


def test_ignore_own_cancels_needs_a_timer_that_skips_ticks() -> None:
    ctx = Context(1, 2)
    with pytest.raises(ValueError, match="ignore_own_cancels needs"):
        ctx.set_timer(MS, ignore_own_cancels=True)
    ctx.set_timer(MS, on_change_only=True, ignore_own_cancels=True)
    assert ctx.timers == [(MS, 1, True)]
