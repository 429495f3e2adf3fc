"""Ledger.fill books the average-cost formula of trading/strategy/ledger.py to the bit: against a
plain transcription of the formula (abs, min and a direction factor, as the module docstring states
it), on seeded random fill sequences that open, add to, reduce, close and cross the position at
prices and sizes of several magnitudes; every field equal, every fee returned equal, and
Ledger.check holding after every fill."""
from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from trading.strategy.api import BUY, SELL
from trading.strategy.ledger import FeeSchedule, Ledger


@dataclass
class PlainLedger:
    """The formula written out directly (the independent computation)."""
    price_scale: int
    fees_schedule: FeeSchedule
    position: int = 0
    avg_price: float = 0.0
    realized: float = 0.0
    fees: float = 0.0
    cash: float = 0.0
    volume: int = 0
    maker_volume: int = 0

    def fill(self, side: int, price: int, qty: int, maker: bool) -> float:
        signed = qty if side == BUY else -qty
        fee = self.fees_schedule.fee(qty, maker)
        self.fees += fee
        self.cash -= signed * price / self.price_scale
        self.volume += qty
        self.maker_volume += qty if maker else 0
        pos = self.position
        if pos == 0 or (pos > 0) == (signed > 0):
            self.avg_price = (self.avg_price * abs(pos) + price * qty) / abs(pos + signed)
            self.position = pos + signed
            return fee
        closed = min(abs(pos), qty)
        direction = 1 if pos > 0 else -1
        self.realized += direction * (price - self.avg_price) * closed / self.price_scale
        self.position = pos + signed
        if self.position == 0:
            self.avg_price = 0.0
        elif (self.position > 0) != (pos > 0):
            self.avg_price = float(price)
        return fee


FIELDS = ("position", "avg_price", "realized", "fees", "cash", "volume", "maker_volume")


@pytest.mark.parametrize("seed, scale, price_range, max_qty", [
    (1, 10_000, (5_000_000, 6_000_000), 500), (2, 100, (1, 50), 3), (3, 1, (1, 10**12), 10**6),
    (4, 10_000, (1_000_000, 1_000_400), 100)])
def test_fills_book_the_formula_to_the_bit(seed: int, scale: int, price_range: tuple[int, int], max_qty: int) -> None:
    rng = random.Random(seed)
    fees = FeeSchedule(maker_per_share=-0.0021, taker_per_share=0.0029)
    led, plain = Ledger(scale, fees), PlainLedger(scale, fees)
    crossed = closed_flat = 0
    for _ in range(4000):
        # a bias per stretch, so the position wanders both ways and crosses zero
        side = BUY if rng.random() < (0.6 if (led.position <= 0) else 0.4) else SELL
        price, qty, maker = rng.randint(*price_range), rng.randint(1, max_qty), rng.random() < 0.7
        if rng.random() < 0.1 and led.position:       # close exactly, now and then
            side, qty = (SELL, led.position) if led.position > 0 else (BUY, -led.position)
        before = led.position
        assert led.fill(side, price, qty, maker) == plain.fill(side, price, qty, maker)
        assert [getattr(led, f) for f in FIELDS] == [getattr(plain, f) for f in FIELDS]
        crossed += before * led.position < 0
        closed_flat += before != 0 and led.position == 0
        led.check(float(price))
    assert crossed > 50 and closed_flat > 50, (crossed, closed_flat)


def test_the_fee_schedule_cannot_be_subclassed() -> None:
    """Ledger.fill computes FeeSchedule.fee inline: a subclass's own fee() would be ignored, so
    subclassing is refused."""
    with pytest.raises(TypeError, match="FeeSchedule is final"):
        type("Tiered", (FeeSchedule,), {})
