"""Silent own events booked in C (native/replay/rpl_ledger.h, trading/replay/booked.py).

rpl_ledger_fill against Ledger.fill, bit for bit, over thousands of random fills (partial closes,
positions crossing zero, maker and taker, rebates); and the C loop, which books a silent strategy's
fills, acks and cancels itself, against the reference loop in Python (which books them through the
context), byte for byte, with strategies whose fills are partial, cross zero, take liquidity, pay
taker fees and earn maker rebates, and one that raises mid-run."""
from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from native._venue import ffi, lib
from tests.trading.replay.conftest import AAPL, sample
from tests.trading.replay.test_c_loop_matches_reference import LAT, _same
from trading.replay import booked as booked_module
from trading.replay.history import build_history
from trading.replay.lobster import load_lobster
from trading.strategy.context import Context, Limits
from trading.strategy.examples import TouchQuoter
from trading.strategy.ledger import FeeSchedule, Ledger


def _bits(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Floats as their 8 bytes (0.0 and -0.0 differ; NaN equals itself), ints as they are."""
    return tuple(struct.pack("<d", v) if isinstance(v, float) else v for v in values)


@pytest.mark.parametrize("seed, scale, maker_rate, taker_rate", [
    (1, 10_000, -0.0020, 0.0030), (2, 100, -0.0031, 0.0029), (3, 10_000, 0.0007, -0.0001), (4, 1, 0.1, 0.3)])
def test_the_c_ledger_books_fills_as_ledger_fill_to_the_bit(seed: int, scale: int, maker_rate: float,
                                                             taker_rate: float) -> None:
    rng = random.Random(seed)
    py = Ledger(scale, FeeSchedule(maker_rate, taker_rate))
    c = ffi.new("rpl_ledger_t *")
    crossings = 0
    for _ in range(5000):
        # mostly against the position, so that it often closes and crosses zero
        side = (2 if py.position > 0 else 1) if rng.random() < 0.6 else rng.choice((1, 2))
        price = rng.randrange(1, 10_000_000)
        qty = rng.choice((1, 7, 100, 250, 333, rng.randrange(1, 5000)))
        maker = rng.random() < 0.6
        before = py.position
        assert lib.rpl_ledger_exact(c, scale, price, qty)
        fee_c = lib.rpl_ledger_fill(c, maker_rate, taker_rate, scale, side, price, qty, int(maker))
        fee_py = py.fill(side, price, qty, maker)
        crossings += (before > 0 > py.position) or (before < 0 < py.position)
        assert _bits((fee_c,)) == _bits((fee_py,))
        assert _bits(tuple(getattr(c, name) for name in booked_module._LEDGER_FIELDS)) == \
            _bits(booked_module.ledger_fields(py))
    assert crossings > 300


def test_a_fill_beyond_exact_doubles_is_left_to_python() -> None:
    c = ffi.new("rpl_ledger_t *")
    assert lib.rpl_ledger_exact(c, 10_000, 10_000_000, 100)
    assert not lib.rpl_ledger_exact(c, 10_000, 1 << 40, 1 << 20)     # price x qty reaches 2^53
    assert not lib.rpl_ledger_exact(c, 0, 100, 1)


class Flipper(TouchQuoter):
    """Quotes the touch in sizes that fill in parts and flip the position across zero, and every
    fifth firing takes the other side's best price (a taker fill) with an order that may rest for
    the rest. No on_fill: its fills, acks and cancels are silent."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.fired = 0

    def on_timer(self, ctx: Context) -> None:
        self.fired += 1
        book = ctx.book
        bid, ask = book.best_bid, book.best_ask
        if bid is None or ask is None:
            return
        if self.fired % 5 == 0:
            if ctx.position <= 0:
                ctx.buy(ask, 150 + 100 * (self.fired % 3))
            else:
                ctx.sell(bid, 150 + 100 * (self.fired % 3))
            return
        if self.params.get("raise_at") and self.fired == self.params["raise_at"]:
            raise RuntimeError("flipper gave up")
        super().on_timer(ctx)


class Keeper(Flipper):
    """Flipper that, at each firing, notes what its context holds (position, ledger, fill count,
    every order's fields) and keeps every order object it was given, whose fields it notes again
    at on_stop (an order gone from ctx.orders is still the strategy's object: its status done)."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.seen: list[tuple[Any, ...]] = []
        self.kept: dict[int, Any] = {}

    def on_timer(self, ctx: Context) -> None:
        led = ctx.ledger
        self.seen.append((ctx.now, ctx.position, led.avg_price, led.realized, led.fees, led.cash, led.volume,
                          led.maker_volume, ctx.fill_count, ctx.rejects, ctx.placed_qty,
                          [tuple(vars(o).items()) for o in ctx.orders.values()]))
        super().on_timer(ctx)
        self.kept.update(ctx.orders)

    def on_stop(self, ctx: Context) -> None:
        self.seen.append(tuple(tuple(vars(o).items()) for o in self.kept.values()))


class KeeperHearsAcks(Keeper):
    """Keeper with on_accepted: its acks wake it (the C loop hands them to Python, which books
    them and turns booking in C on again), its fills stay silent."""

    def on_accepted(self, ctx: Context, order: Any) -> None:
        self.seen.append((ctx.now, "ack", order.order_id, ctx.position, ctx.fill_count, len(ctx.orders)))


class ManyAcksAndFills(KeeperHearsAcks):
    """300 orders at its first firing, every third one through the touch (it fills at once):
    more own events at one wake-up than one hand-over buffer holds (native_loop.py OWN_TAKE)."""

    def on_timer(self, ctx: Context) -> None:
        if self.fired == 0 and ctx.book.best_ask is not None:
            for k in range(300):
                ctx.buy(ctx.book.best_ask + 5 * ctx.tick_size if k % 3 == 0 else ctx.book.best_ask - 50 * ctx.tick_size, 1)
        super().on_timer(ctx)


class FlipperRaises(Flipper):
    defaults = {**Flipper.defaults, "raise_at": 33}


def _count_booked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list whose one item counts the changes the C loop booked, as the hand-overs take them."""
    booked = [0]
    taker = booked_module.BookedEvents._taker

    def counting_taker(self: booked_module.BookedEvents) -> Any:
        take = taker(self)

        def counting(fills: list[Any], samples: list[Any]) -> int | None:
            booked[0] += int(self._counts[0])
            return take(fills, samples)
        return counting

    monkeypatch.setattr(booked_module.BookedEvents, "_taker", counting_taker)
    return booked


@pytest.mark.parametrize("make, config", [
    (lambda: Flipper(size=300, interval_ms=10, max_position=700), {**LAT, "compute": "none"}),
    (lambda: Flipper(size=300, interval_ms=10, max_position=700),
     {**LAT, "compute": 20_000, "fees": FeeSchedule(maker_per_share=-0.0031, taker_per_share=0.0029)}),
    (lambda: Flipper(size=120, interval_ms=3, max_position=400), {**LAT, "compute": 400_000}),
    (lambda: FlipperRaises(size=300, interval_ms=10, max_position=700), {**LAT, "compute": "none"}),
    (lambda: Flipper(size=300, interval_ms=10, max_position=700),
     {**LAT, "compute": "none", "limits": Limits(max_position=350)}),
    (lambda: Keeper(size=300, interval_ms=10, max_position=700), {**LAT, "compute": "none"}),
    (lambda: Keeper(size=300, interval_ms=10, max_position=700), {"compute": "none", "limits": Limits(max_position=350)}),
    (lambda: KeeperHearsAcks(size=300, interval_ms=10, max_position=700), {**LAT, "compute": "none"}),
    (lambda: ManyAcksAndFills(size=300, interval_ms=10, max_position=700), {**LAT, "compute": "none"}),
], ids=["partial-fills-crossing-zero", "rebates-and-fixed-compute", "busy", "raises-mid-run", "refused-orders",
        "what-the-context-holds", "what-the-context-holds-0-latency-refused", "acks-heard",
        "300-acks-and-fills-at-one-wake-up"])
def test_silent_fills_booked_in_c_give_the_reference_loops_run(make: Any, config: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    booked = _count_booked(monkeypatch)
    r = _same(build_history(load_lobster(sample(AAPL))), make, **config)
    assert booked[0] > 0                                  # the C loop did book events
    assert any(f.leaves_qty > 0 for f in r.fills)         # partial fills
    assert any(f.maker for f in r.fills) and any(not f.maker for f in r.fills)
    positions = [s.position for s in r.samples]
    assert any(p > 0 for p in positions) and any(p < 0 for p in positions)
    if "raise_at" in make().params:
        assert r.error is not None and "flipper gave up" in r.error
    fees = config.get("fees")
    if fees is not None and fees.maker_per_share < 0:
        assert any(f.fee < 0 for f in r.fills)


@pytest.mark.parametrize("capacity", [2, 3, 5])
def test_a_full_hand_over_leaves_the_rest_to_python_with_the_same_run(capacity: int,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for a few changes per hand-over, the C loop stops booking when it is full (the
    event goes to Python, which books it and turns booking on again with its ledger): the run is
    still the reference loop's."""
    monkeypatch.setattr(booked_module, "CAPACITY", capacity)
    booked = _count_booked(monkeypatch)
    r = _same(build_history(load_lobster(sample(AAPL))), lambda: Keeper(size=300, interval_ms=10, max_position=700),
              **LAT, compute="none")
    assert booked[0] > 0 and len(r.fills) > 20
