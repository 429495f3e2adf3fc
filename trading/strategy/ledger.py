"""Position, cash and P&L of one strategy on one instrument, with the instrument's fee schedule.

Accounting (average-cost method, as most brokers' P&L statements use it): a fill that adds to the
position moves the average entry price to the quantity-weighted mean; a fill that reduces it
realises (fill price - average entry) x closed quantity (sign by side); a fill that crosses zero
does both. Unrealised P&L marks the open position at a mark price (the mid the strategy sees).
Fees come from the fee schedule per share: the maker rate when the strategy's order was resting,
the taker rate when it aggressed; a negative rate is a rebate (paid to the strategy). All money is
in currency units (prices divided by the instrument's price scale).

Check: realised + unrealised - fees equals cash + position x mark - fees, where cash is the
signed sum of fill notionals; ``Ledger.check`` asserts it (tests run it after every fill).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import final

BUY = 1


@final
@dataclass(frozen=True)
class FeeSchedule:
    """Per-share fees in currency units; negative = rebate. Defaults: a Nasdaq-like schedule
    (taker 0.30 cents a share, maker rebate 0.20 cents a share). Final: Ledger.fill applies
    ``fee`` inline (it runs per fill), so a subclass's own fee() would not be used."""
    maker_per_share: float = -0.0020
    taker_per_share: float = 0.0030

    def __init_subclass__(cls, **kwargs: object) -> None:
        raise TypeError("FeeSchedule is final: Ledger.fill computes its fee() inline")

    def fee(self, qty: int, maker: bool) -> float:
        return qty * (self.maker_per_share if maker else self.taker_per_share)

    @classmethod
    def parse(cls, text: str) -> FeeSchedule:
        """'maker=-0.002,taker=0.003' (either may be left out)."""
        values = {"maker": cls.maker_per_share, "taker": cls.taker_per_share}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in values:
                raise ValueError(f"fee schedule: expected maker=X,taker=Y, got {part!r}")
            try:
                values[key.strip()] = float(value)
            except ValueError:
                raise ValueError(f"fee schedule: {value!r} is not a number") from None
            if not math.isfinite(values[key.strip()]):     # a NaN fee made every P&L figure NaN
                raise ValueError(f"fee schedule: {key.strip()} must be a finite number, got {value.strip()!r}")
        return cls(values["maker"], values["taker"])


@dataclass
class Ledger:
    price_scale: int = 10_000
    fees_schedule: FeeSchedule = FeeSchedule()
    position: int = 0
    avg_price: float = 0.0        # average entry, price units
    realized: float = 0.0         # currency units
    fees: float = 0.0             # currency units paid (rebates negative)
    cash: float = 0.0             # currency units: - buys + sells
    volume: int = 0
    maker_volume: int = 0

    def fill(self, side: int, price: int, qty: int, maker: bool) -> float:
        """Books one fill; returns its fee. (Runs per own fill: the quantities' absolute values and
        the closed quantity are taken by comparison, not abs()/min() calls; every float operation
        is the formula's, in its order, so the figures are those of the plain formula to the bit.)"""
        signed = qty if side == BUY else -qty
        schedule = self.fees_schedule      # FeeSchedule.fee, inlined (the class is final)
        fee = qty * (schedule.maker_per_share if maker else schedule.taker_per_share)
        self.fees += fee
        self.cash -= signed * price / self.price_scale
        self.volume += qty
        if maker:
            self.maker_volume += qty
        pos = self.position
        new = pos + signed
        self.position = new
        if pos == 0 or (pos > 0) == (signed > 0):     # opens or adds: the weighted mean entry
            self.avg_price = (self.avg_price * (pos if pos >= 0 else -pos) + price * qty) / (new if new >= 0 else -new)
            return fee
        held = pos if pos > 0 else -pos
        closed = held if held < qty else qty
        if pos > 0:
            self.realized += (price - self.avg_price) * closed / self.price_scale
        else:
            self.realized += -1 * (price - self.avg_price) * closed / self.price_scale
        if new == 0:
            self.avg_price = 0.0
        elif (new > 0) != (pos > 0):
            self.avg_price = float(price)   # crossed zero: the rest opened at this price
        return fee

    def unrealized(self, mark: float | None) -> float:
        if self.position == 0 or mark is None:
            return 0.0
        return (mark - self.avg_price) * self.position / self.price_scale

    def total(self, mark: float | None) -> float:
        """realised + unrealised - fees, currency units."""
        return self.realized + self.unrealized(mark) - self.fees

    def check(self, mark: float) -> None:
        """The two ways of computing the P&L agree (to rounding)."""
        by_cash = self.cash + self.position * mark / self.price_scale - self.fees
        assert abs(by_cash - self.total(mark)) < 1e-6 * max(1.0, abs(by_cash)), (by_cash, self.total(mark))
