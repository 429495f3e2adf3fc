"""Phases and halts reach the strategy (on_phase, ctx.phase) in replay, after the feed latency,
in order with the market data; an order sent while halted is refused by the engine."""
from __future__ import annotations

from tests.trading.replay.scenario import ADD, MS, T0, day
from trading.replay.data import BUY, SELL, Kind
from trading.replay.history import build_history
from trading.replay.latency import Constant
from trading.replay.runtime import ReplayConfig, run_replay
from trading.strategy.api import Strategy
from trading.strategy.context import Context

P = 5_800_000


class PhaseWatcher(Strategy):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, str, str, str | None]] = []
        self.rejected: list[str] = []

    def on_phase(self, ctx: Context, phase: str, previous: str) -> None:
        self.seen.append((ctx.now, phase, previous, ctx.phase))
        if phase == "HALTED":
            ctx.buy(P - 100, 100)             # refused: the instrument is halted

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        self.rejected.append(reason)


def test_halt_and_reopening_reach_the_strategy_after_the_feed_latency():
    d = day([(T0, ADD, 1, 100, P, BUY), (T0 + 2 * MS, ADD, 2, 100, P + 100, SELL),
             (T0 + 5 * MS, Kind.HALT, 0, 0, -1, BUY), (T0 + 9 * MS, Kind.HALT, 0, 0, 1, BUY),
             (T0 + 12 * MS, ADD, 3, 100, P - 100, BUY)])
    w = PhaseWatcher()
    r = run_replay(build_history(d), w, ReplayConfig(feed_latency=Constant(MS), order_latency=Constant(MS),
                                                     compute="none"))
    assert r.error is None
    # the day's opening (the replay's set-up opens the instrument at the first message), the halt,
    # the reopening: each seen 1 ms (the feed latency) after the engine's time
    assert [(t, phase, prev) for t, phase, prev, _ in w.seen] == [
        (T0 + MS, "PRE_OPEN", "CLOSED"), (T0 + MS, "CONTINUOUS", "PRE_OPEN"),
        (T0 + 6 * MS, "HALTED", "CONTINUOUS"), (T0 + 10 * MS, "PRE_OPEN", "HALTED"),
        (T0 + 10 * MS, "CONTINUOUS", "PRE_OPEN")]
    assert all(phase == now for _, phase, _, now in w.seen)     # ctx.phase is the new phase in the callback
    assert r.ctx.phase == "CONTINUOUS"
    assert w.rejected and all("PHASE" in reason or "HALT" in reason for reason in w.rejected), w.rejected


class Iceberg(Strategy):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[int] = []

    def on_start(self, ctx: Context) -> None:
        self.order = ctx.buy(P, 100, display_qty=30)
        ctx.set_timer(MS)

    def on_timer(self, ctx: Context) -> None:
        self.shown.append(ctx.book.bids.get(P, 0))


def test_iceberg_shows_its_display_size_and_fills_its_whole_size():
    d = day([(T0, ADD, 1, 100, P + 500, SELL), (T0 + 3 * MS, ADD, 2, 50, P, SELL),
             (T0 + 6 * MS, ADD, 3, 60, P, SELL)])
    s = Iceberg()
    r = run_replay(build_history(d), s, ReplayConfig(compute="none"))
    assert r.error is None
    assert s.shown[:2] == [30, 30]                      # 30 of 100 shown, the rest hidden
    # the add of 50 at +3 ms trades with it: 30 shown, then 20 of the refill; the add of 60 at +6 ms
    # takes the 50 left (the order is done) and rests with 10
    assert sum(f.qty for f in r.fills) == 100 and r.fills[-1].leaves_qty == 0
    assert [f.qty for f in r.fills if f.ts_ns == T0 + 3 * MS] == [30, 20]
    ctx = r.ctx
    try:
        ctx.stopped = False
        ctx.buy(P, 100, display_qty=100)
    except ValueError as exc:
        assert "display_qty must be in 1..qty-1" in str(exc)
    else:
        raise AssertionError("a display size of the whole order was accepted")
