"""Timers that tick only when the strategy's touch moved (Context.set_timer(on_touch_change=True)):
the C copy of the book view that decides it (native/replay/rpl_view.c) against a dict model, and
the ticks that fire on a hand-built day in both loops (the reference loop in Python and the C loop,
which skips a quiet wake-up without entering Python)."""
from __future__ import annotations

import random
from typing import Any

import pytest

from native._venue import ffi, lib
from tests.trading.replay.scenario import ADD, DELETE, MS, T0, day
from trading.replay.history import build_history
from trading.replay.runtime import Replay, ReplayConfig
from trading.strategy.api import BUY, SELL, Strategy
from trading.strategy.context import TIMER_ON_CHANGE, TIMER_ON_TOUCH, Context
from trading.strategy.examples import TouchQuoter

INF = 1 << 62
P = 10_000


def test_the_c_book_view_keeps_the_best_of_each_side_as_a_dict_model() -> None:
    rng = random.Random(7)
    view = ffi.new("rpl_view_t *")
    model: dict[int, dict[int, int]] = {BUY: {}, SELL: {}}
    try:
        for _ in range(20_000):
            side = rng.choice((BUY, SELL))
            price = rng.randrange(90, 110) * 100
            qty = rng.choice((0, 0, rng.randrange(1, 500)))
            assert lib.rpl_view_set(view, side, price, qty) == 0
            if qty:
                model[side][price] = qty
            else:
                model[side].pop(price, None)
            assert lib.rpl_view_best(view, BUY, -INF) == max(model[BUY], default=-INF)
            assert lib.rpl_view_best(view, SELL, INF) == min(model[SELL], default=INF)
            if rng.random() < 0.05:     # every level, in order (the view finds them by a galloping search)
                assert _view_levels(view) == _model_levels(model)
        assert view.n[0] == len(model[BUY]) and view.n[1] == len(model[SELL])
        assert _view_levels(view) == _model_levels(model)
    finally:
        lib.rpl_view_free(view)
    assert view.n[0] == 0 and lib.rpl_view_best(view, BUY, -1) == -1


def _view_levels(view: Any) -> list[list[tuple[int, int]]]:
    """Each side of the C view as (price, qty), best first."""
    return [[(sign * view.lv[s][k].key, view.lv[s][k].qty) for k in reversed(range(view.n[s]))]
            for s, sign in ((0, 1), (1, -1))]


def _model_levels(model: dict[int, dict[int, int]]) -> list[list[tuple[int, int]]]:
    return [sorted(model[BUY].items(), reverse=True), sorted(model[SELL].items())]


class TouchWatcher(Strategy):
    """A 1 ms timer of the given kind; notes the time and touch at each tick; at its first tick
    places a bid far under the touch, and cancels it at its first tick from 7 ms on (the cancel
    is an own event that fires the next tick; the ack is not one for an on-touch-change timer)."""

    def __init__(self, kind: int) -> None:
        super().__init__()
        self.kind = kind
        self.ticks: list[tuple[int, Any, Any]] = []
        self.order_id = 0

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(MS, on_change_only=self.kind == TIMER_ON_CHANGE, on_touch_change=self.kind == TIMER_ON_TOUCH)

    def on_timer(self, ctx: Context) -> None:
        self.ticks.append(((ctx.now - T0) // MS, ctx.book.best_bid, ctx.book.best_ask))
        if len(self.ticks) == 1:
            self.order_id = ctx.buy(P - 300, 1)
        elif self.order_id and ctx.now >= T0 + 7 * MS:
            ctx.cancel(self.order_id)
            self.order_id = 0


def _ticks(kind: int, loop: str) -> tuple[list[tuple[int, Any, Any]], Any, Replay]:
    d = day([(T0, ADD, 1, 100, P - 100, BUY), (T0 + 3 * MS + MS // 2, ADD, 2, 50, P + 300, SELL),
             (T0 + 6 * MS + MS // 2, ADD, 3, 40, P, BUY), (T0 + 9 * MS + MS // 2, ADD, 4, 70, P + 100, SELL),
             (T0 + 12 * MS + MS // 2, DELETE, 2, 50, P + 300, SELL), (T0 + 20 * MS, ADD, 5, 10, P - 200, BUY)],
            levels=[(SELL, P + 100, 100)])
    s = TouchWatcher(kind)
    rp = Replay(build_history(d), s, ReplayConfig(compute="none", loop=loop))
    return s.ticks, rp.run(), rp


@pytest.mark.parametrize("loop", ["python", "auto"])
def test_a_touch_timer_fires_when_the_touch_moved_or_an_own_event_arrived(loop: str) -> None:
    ticks, r, _ = _ticks(TIMER_ON_TOUCH, loop)
    # 1 ms: first touch; 7 ms: the bid moved up; 8 ms: its cancel arrived. Its bid's ack (1 ms),
    # a deeper ask (3.5 ms), more at the best ask (9.5 ms), a deep ask gone (12.5 ms): no tick
    assert ticks == [(1, P - 100, P + 100), (7, P, P + 100), (8, P, P + 100)]
    assert r.error is None and r.ctx.sent["NEW"] == 1 and r.ctx.sent["CANCEL"] == 1 and not r.ctx.orders


@pytest.mark.parametrize("loop", ["python", "auto"])
def test_an_on_change_timer_fires_at_every_tick_after_a_delivery(loop: str) -> None:
    ticks, _, _ = _ticks(TIMER_ON_CHANGE, loop)
    # each tick after a delivery (the day ends with its last message, at 20 ms)
    assert [t[0] for t in ticks] == [1, 2, 4, 7, 8, 10, 13]


def test_both_loops_give_the_same_touch_timer_run() -> None:
    (ref_ticks, ref, _), (fast_ticks, fast, c_loop) = _ticks(TIMER_ON_TOUCH, "python"), _ticks(TIMER_ON_TOUCH, "auto")
    assert fast_ticks == ref_ticks and fast.samples == ref.samples and fast.wakeups == ref.wakeups
    # the quiet ticks (2 ms after its own bid's level and ack, 4, 10 and 13 ms) never entered
    # Python, nor did the ack, nor its cancel's confirmation (it has no on_cancelled: the
    # confirmation only marks the timer, whose 8 ms tick takes it); it woke at 1, 7 and 8 ms
    assert c_loop.loop is not None and c_loop.loop.quiet_skipped == 4
    assert fast.wakeups == 3
    assert fast.ctx.book.bids == ref.ctx.book.bids and fast.ctx.book.asks == ref.ctx.book.asks


class QuoterThatLooksAtTheEnd(TouchQuoter):
    """The quoting strategy (touch timer, silent acks) noting in on_stop what waited for a wake-up
    that never came: the book view quiet wake-ups took, the acks of its last orders."""

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.at_stop: tuple[Any, ...] = ()

    def on_stop(self, ctx: Context) -> None:
        self.at_stop = (ctx.now, dict(ctx.book.bids), dict(ctx.book.asks), ctx.book.traded_volume,
                        sorted((o.order_id, o.status, o.leaves_qty) for o in ctx.orders.values()))


@pytest.mark.parametrize("interval_ms", [1, 10, 100])
def test_both_loops_leave_the_strategy_the_same_view_at_the_end(interval_ms: int) -> None:
    from tests.trading.replay.conftest import AAPL, sample
    from trading.replay.lobster import load_lobster
    from trading.replay.results import to_json
    hist = build_history(load_lobster(sample(AAPL)))
    runs = []
    for loop in ("python", "auto"):
        s = QuoterThatLooksAtTheEnd(interval_ms=interval_ms)
        r = Replay(hist, s, ReplayConfig(compute="none", loop=loop)).run()
        runs.append((s.at_stop, to_json(r), r.wakeups))
    assert runs[0] == runs[1]
    assert runs[0][0][1] and runs[0][0][2]      # the view is not empty at the end
