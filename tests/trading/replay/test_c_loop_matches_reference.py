"""The replay's C loop (native/replay/rpl_loop.c) against the reference loop in Python
(ReplayConfig(loop="python")): the same data, strategy and configuration give the same run, byte
for byte: fills, P&L samples, counts, engine commands and events, what the strategy saw and when.
Strategies cover each way into Python: timers (on-touch-change, on-change and plain, and a touch
timer beside a plain one), on_book, on_trade with the
book read inside it, the book's levels read now and then (the C loop's view applies them only when
read: trading/replay/native_loop.py LoopBookView), phases, fixed computation charges, hidden executions off, and a strategy that
raises mid-day. Own events no callback hears (silent: runtime.py Replay._set_silent_events): a strategy with and
without each of on_fill, on_cancelled, on_rejected, with and without ignore_own_cancels, busy with
its computation (an event that wakes and a silent one delivered together). The GOOG full day runs
the issue's quoting strategy (bench/replay.py's settings)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.trading.replay.conftest import AAPL, GOOG, sample
from trading.replay import native_loop
from trading.replay.history import History, build_history
from trading.replay.latency import Constant, Empirical
from trading.replay.lobster import load_lobster
from trading.replay.results import to_json
from trading.replay.runtime import ReplayConfig, ReplayResult, run_replay
from trading.strategy.api import Fill, PublicTrade, Strategy
from trading.strategy.context import Context, Limits
from trading.strategy.examples import TouchQuoter


class TouchChaser(Strategy):
    """Joins the best bid whenever it moves (cancelling the old order), sells into large prints;
    records what it sees, with the book as it stands inside on_trade."""
    defaults = {"fail_after": 0}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.last: int | None = None
        self.seen: list[tuple[Any, ...]] = []

    def on_book(self, ctx: Context) -> None:
        bid = ctx.book.best_bid
        self.seen.append((ctx.now, "book", bid, ctx.book.best_ask, ctx.book.bid_qty, ctx.book.traded_volume))
        if bid is None or bid == self.last:
            return
        self.last = bid
        for o in list(ctx.orders.values()):
            if o.status == "live":
                ctx.cancel(o.order_id)
        if abs(ctx.position) < 300:
            ctx.buy(bid, 100)
        if self.params["fail_after"] and len(self.seen) > self.params["fail_after"]:
            raise RuntimeError("chaser gave up")

    def on_trade(self, ctx: Context, trade: PublicTrade) -> None:
        self.seen.append((ctx.now, "trade", trade, ctx.book.best_bid, ctx.book.last_trade_price))
        if trade.qty > 300 and ctx.position > 0 and ctx.book.best_ask is not None:
            ctx.sell(ctx.book.best_ask, 100)

    def on_phase(self, ctx: Context, phase: str, previous: str) -> None:
        self.seen.append((ctx.now, "phase", phase, previous))

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.seen.append((ctx.now, "fill", fill))


class PlainTimer(TouchQuoter):
    """The quoting strategy on a timer that ticks whether or not anything arrived."""

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(int(self.params["interval_ms"]) * 1_000_000)


class ChangeQuoter(TouchQuoter):
    """The quoting strategy on a timer that skips only the ticks with nothing delivered."""

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(int(self.params["interval_ms"]) * 1_000_000, on_change_only=True)


class TouchAndPlain(TouchQuoter):
    """The quoting strategy's touch timer beside a plain 7 ms one (a wake-up with a plain tick is
    never quiet)."""

    def on_start(self, ctx: Context) -> None:
        super().on_start(ctx)
        ctx.set_timer(7_000_000)


class _BookRecorder(TouchQuoter):
    """The quoting strategy, counting its timer firings and keeping what it read of the book."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.fired = 0
        self.seen: list[tuple[Any, ...]] = []


class DepthReader(_BookRecorder):
    """The quoting strategy that reads the book's levels at every third firing only, so the C loop's
    view brings its level dicts up to date across several wake-ups (quiet ones included)."""

    def on_timer(self, ctx: Context) -> None:
        self.fired += 1
        book = ctx.book
        if self.fired % 3 == 0:
            self.seen.append((ctx.now, book.depth(1, 5), book.depth(2, 5), book.bid_qty, book.ask_qty, book.mid,
                              book.traded_volume, book.last_trade_price, len(book.bids), len(book.asks)))
        super().on_timer(ctx)


class TradeReader(_BookRecorder):
    """The quoting strategy that reads the printed volume and last price at every firing (the C
    loop's trade fold taken by the read) and the levels at every fourth only (the fold taken before
    the level set is emptied)."""

    def on_timer(self, ctx: Context) -> None:
        self.fired += 1
        book = ctx.book
        self.seen.append((ctx.now, book.traded_volume, book.last_trade_price))
        if self.fired % 4 == 0:
            self.seen.append((len(book.bids), book.traded_volume))
        super().on_timer(ctx)


class QuoterRaises(TouchQuoter):
    """The quoting strategy (no on_book: the C loop marks and fires its timers in one call) that
    raises at its 30th firing: the wake-ups after it only book its own events."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.fired = 0

    def on_timer(self, ctx: Context) -> None:
        self.fired += 1
        if self.fired == 30:
            raise RuntimeError("quoter gave up")
        super().on_timer(ctx)


class FillRaises(TouchQuoter):
    """The quoting strategy that raises in on_fill at its 5th fill: the strategy stops in the middle
    of a wake-up's own events, after the C hand-over settled that wake-up's timers (none fires)."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.fills = 0

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.fills += 1
        if self.fills == 5:
            raise RuntimeError("fill refused")
        super().on_fill(ctx, fill)


class ManyAcks(Strategy):
    """300 orders at start, far from the touch, each ack on on_accepted: more own events at one
    wake-up than the C loop hands over in one buffer (native_loop.py OWN_TAKE = 256)."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.seen: list[tuple[Any, ...]] = []

    def on_start(self, ctx: Context) -> None:
        for k in range(300):
            ctx.buy(1_000_000 + k * ctx.tick_size, 1)

    def on_accepted(self, ctx: Context, order: Any) -> None:
        self.seen.append((ctx.now, order.order_id, len(ctx.orders)))


class Replacer(TouchQuoter):
    """Quotes the touch like TouchQuoter but moves a quote with a replace (its price changes by the
    REPLACED event), and sizes it 100 or 200 in turn (the engine may refuse what the account
    limit forbids: a refused NEW leaves the context's orders)."""

    def on_timer(self, ctx: Context) -> None:
        bid, ask = ctx.book.best_bid, ctx.book.best_ask
        if bid is None or ask is None:
            return
        for side, price in ((1, bid), (2, ask)):
            mine = [o for o in ctx.orders.values() if o.side == side]
            if not mine:
                ctx.place(side, price, 100 + 100 * (ctx.sent["NEW"] % 2))
            elif mine[0].price != price and mine[0].status == "live":
                ctx.replace(mine[0].order_id, price=price)


class UndeclaredQuoter(TouchQuoter):
    """The quoting strategy without ignore_own_cancels: its own cancels' confirmations mark its timer."""

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(int(self.params["interval_ms"]) * 1_000_000, on_touch_change=True)


class HearsFills(TouchQuoter):
    """The quoting strategy with on_fill: its fills wake it; its cancels, acks and replaces do not."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.seen: list[tuple[Any, ...]] = []

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        self.seen.append((ctx.now, fill, ctx.position, len(ctx.orders), ctx.book.best_bid))


class HearsCancels(TouchQuoter):
    """The quoting strategy with on_cancelled: its cancels' confirmations wake it; its fills do not."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.seen: list[tuple[Any, ...]] = []

    def on_cancelled(self, ctx: Context, order: Any, reason: str) -> None:
        self.seen.append((ctx.now, order.order_id, reason, ctx.position))


class HearsRejects(Replacer):
    """Replacer (whose orders the account limit may refuse) with on_rejected: its rejects wake it;
    its fills, cancels and replaces do not."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.seen: list[tuple[Any, ...]] = []

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        self.seen.append((ctx.now, order_id, reason, len(ctx.orders)))


class ChangeQuoterIgnoringCancels(TouchQuoter):
    """The quoting strategy on an on-change timer that ignores its own cancels' confirmations (no
    silent events: an on-change timer hears them all)."""

    def on_start(self, ctx: Context) -> None:
        ctx.set_timer(int(self.params["interval_ms"]) * 1_000_000, on_change_only=True, ignore_own_cancels=True)


def _same(history: History, make: Any, **config: Any) -> ReplayResult:
    runs = []
    for loop in ("python", "auto"):
        strategy = make()
        r = run_replay(history, strategy, ReplayConfig(**config, loop=loop))
        runs.append((r, getattr(strategy, "seen", None)))
    (ref, ref_seen), (fast, fast_seen) = runs
    assert to_json(fast) == to_json(ref)
    assert fast.fills == ref.fills and fast.samples == ref.samples and fast.counts == ref.counts
    assert (fast.engine_commands, fast.engine_events, fast.end_ns, fast.error) == \
        (ref.engine_commands, ref.engine_events, ref.end_ns, ref.error)
    assert fast.ctx.sent == ref.ctx.sent and fast_seen == ref_seen
    # the book the result keeps (the C loop's view detached from the freed loop)
    fb, rb = fast.ctx.book, ref.ctx.book
    assert (fb.bids, fb.asks, fb.best_bid, fb.best_ask, fb.traded_volume, fb.last_trade_price) == \
        (rb.bids, rb.asks, rb.best_bid, rb.best_ask, rb.traded_volume, rb.last_trade_price)
    return fast


LAT = {"order_latency": Constant(20_000), "feed_latency": Constant(70_000)}


@pytest.mark.parametrize("make, config", [
    (lambda: TouchQuoter(interval_ms=10), {"compute": "none"}),
    (lambda: TouchQuoter(interval_ms=37), {**LAT, "compute": 30_000}),
    (lambda: TouchQuoter(interval_ms=50), {**LAT, "compute": "none", "hidden_executions": False}),
    (lambda: PlainTimer(interval_ms=20), {**LAT, "compute": 5_000}),
    (lambda: ChangeQuoter(interval_ms=10), {"compute": "none"}),
    (lambda: TouchAndPlain(interval_ms=10), {**LAT, "compute": 5_000}),
    (lambda: TouchChaser(), {**LAT, "compute": 5_000}),
    (lambda: TouchChaser(), {"compute": "none"}),
    (lambda: TouchChaser(fail_after=40), {**LAT, "compute": "none"}),
    (lambda: DepthReader(interval_ms=10), {**LAT, "compute": "none"}),
    (lambda: TradeReader(interval_ms=10), {**LAT, "compute": "none"}),
    (lambda: QuoterRaises(interval_ms=10), {**LAT, "compute": "none"}),
    (lambda: FillRaises(interval_ms=10), {**LAT, "compute": 3_000}),
    (lambda: ManyAcks(), {**LAT, "compute": "none"}),
    (lambda: Replacer(interval_ms=10), {**LAT, "compute": "none", "limits": Limits(max_position=300)}),
    (lambda: TouchQuoter(interval_ms=10), {"order_latency": Empirical.from_samples([5_000, 20_000, 90_000]),
                                           "feed_latency": Constant(30_000), "compute": "none", "seed": 7}),
    (lambda: UndeclaredQuoter(interval_ms=10), {**LAT, "compute": "none"}),
    (lambda: HearsFills(interval_ms=10), {**LAT, "compute": "none"}),
    (lambda: HearsFills(interval_ms=3), {**LAT, "compute": 400_000}),
    (lambda: HearsCancels(interval_ms=10), {**LAT, "compute": "none"}),
    (lambda: HearsCancels(interval_ms=3), {**LAT, "compute": 400_000}),
    (lambda: HearsRejects(interval_ms=10), {**LAT, "compute": "none", "limits": Limits(max_position=300)}),
    (lambda: ChangeQuoterIgnoringCancels(interval_ms=10), {**LAT, "compute": "none"}),
    (lambda: TouchQuoter(interval_ms=3), {**LAT, "compute": 400_000}),
], ids=["quote-0-latency", "quote-fixed-compute", "quote-no-hidden", "plain-timer", "on-change-timer",
        "touch-and-plain-timers", "chaser", "chaser-0-latency",
        "chaser-raises", "levels-read-now-and-then", "trades-read", "quoter-raises", "raises-in-on-fill",
        "300-acks-at-one-wake-up", "replaces-and-refused-orders", "drawn-order-latency",
        "own-cancels-undeclared", "hears-fills", "hears-fills-busy", "hears-cancels", "hears-cancels-busy",
        "hears-rejects", "on-change-timer-ignoring-own-cancels", "silent-events-busy"])
def test_the_c_loop_replays_the_aapl_sample_as_the_reference_loop(make: Any, config: dict[str, Any]) -> None:
    r = _same(build_history(load_lobster(sample(AAPL))), make, **config)
    assert r.ctx.sent["NEW"] > 0


def test_the_c_loop_replays_the_goog_day_with_the_quoting_strategy_as_the_reference_loop() -> None:
    r = _same(build_history(load_lobster(sample(GOOG))), lambda: TouchQuoter(size=100, interval_ms=100, max_position=500),
              order_latency=Constant(50_000), feed_latency=Constant(50_000), compute="none")
    assert len(r.fills) > 1000


def test_the_c_loops_book_view_is_fed_by_the_loop_only() -> None:
    from trading.replay.runtime import Replay
    replay = Replay(build_history(load_lobster(sample(AAPL))), TouchQuoter(), ReplayConfig(compute="none"))
    assert replay.ctx.book is replay.loop.book if replay.loop is not None else False
    with pytest.raises(TypeError, match="fed by the loop"):
        replay.ctx.book.apply(1, 100, 5)


def test_a_feed_latency_that_is_not_constant_runs_the_reference_loop() -> None:
    from trading.replay.runtime import Replay
    hist = build_history(load_lobster(sample(AAPL)))
    assert Replay(hist, TouchQuoter(), ReplayConfig(compute="none")).loop is not None
    assert Replay(hist, TouchQuoter(), ReplayConfig(compute="none", loop="python")).loop is None
    feed = Empirical.from_samples([10_000, 20_000, 90_000])
    assert Replay(hist, TouchQuoter(), ReplayConfig(compute="none", feed_latency=feed)).loop is None
    with pytest.raises(ValueError, match="loop must be"):
        Replay(hist, TouchQuoter(), ReplayConfig(loop="fast"))


@pytest.mark.parametrize("batch", [1, 4096])
def test_refused_history_commands_are_counted_however_the_c_loop_batches_them(batch: int,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """advance leaves refused history commands listed until REJECT_BATCH of them (or the run's
    end): counted every call or once at the end, the counts are the reference loop's."""
    monkeypatch.setattr(native_loop, "REJECT_BATCH", batch)
    r = _same(build_history(load_lobster(sample(AAPL))), lambda: TouchQuoter(interval_ms=10), compute="none")
    refused = {k: v for k, v in r.counts.items() if "refused" in k}
    assert refused and sum(refused.values()) >= 2, refused
