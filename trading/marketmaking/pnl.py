"""The market maker's P&L, decomposed so that the parts add up to the total exactly.

Everything is kept in integers: prices in the engine's price units, quantities in shares, the mid
doubled (bid + ask) so that a half-tick mid stays integral, fees and rebates as integer price units
per share. For fill i (side s_i = +1 buy, -1 sell, qty n_i, price p_i, at time t_i), with m(t) the
mid prevailing at t, h the markout horizon and m_T the final mid:

    spread capture      sum over passive fills  s_i n_i (m(t_i) - p_i)
    adverse selection   sum over passive fills  s_i n_i (m(t_i + h) - m(t_i))      (the markout)
    inventory P&L       sum over passive fills  s_i n_i (m_T - m(t_i + h))
    hedging             sum over hedge fills    s_i n_i (m_T - p_i)                 (crossing + carry)
    fees and rebates    + rebate per passive share, - taker fee per aggressive share

and the sum telescopes to sum s_i n_i (m_T - p_i) + fees = cash + position * m_T + fees, the total
P&L marked to the final mid.

A hedge in another instrument (the hedge leg, with g(t) its mid and g_T its final mid) adds, per
hedge-leg fill j (side s_j, qty n_j, price q_j, its taker fee in the fees):

    hedge-leg spread    sum s_j n_j (g(t_j) - q_j)       (what crossing its spread cost)
    hedge-leg carry     sum s_j n_j (g_T - g(t_j))       (the leg's P&L from its mid's moves)

which telescope to the leg's cash + position * g_T, so the total is the P&L of both instruments,
each marked to its own final mid (both in the same price units: same price scale). ``Breakdown.check()`` recomputes the total from cash and position
directly and compares (integers: equal or not). Markouts that have not reached their horizon at the
end are completed with the final mid (they then count fully as adverse selection, nothing as
inventory).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Breakdown:
    """Amounts in price units x shares, doubled (divide by 2 for price units x shares)."""
    spread_capture2: int
    adverse_selection2: int
    inventory2: int
    hedging2: int
    fees2: int
    total2: int
    cash2: int
    position: int
    final_mid2: int
    passive_fills: int
    hedge_fills: int
    passive_volume: int
    hedge_leg_spread2: int = 0     # the hedge instrument's leg (zero without one)
    hedge_leg_carry2: int = 0
    hedge_leg_cash2: int = 0
    hedge_leg_position: int = 0
    hedge_leg_mid2: int = 0

    def parts_sum2(self) -> int:
        return (self.spread_capture2 + self.adverse_selection2 + self.inventory2 + self.hedging2 + self.fees2
                + self.hedge_leg_spread2 + self.hedge_leg_carry2)

    def check(self) -> bool:
        """The parts add up to the total, and the total is cash + position at the final mid (both
        instruments' where there is a hedge leg)."""
        leg = self.hedge_leg_cash2 + self.hedge_leg_position * self.hedge_leg_mid2
        return self.parts_sum2() == self.total2 == self.cash2 + self.position * self.final_mid2 + leg + self.fees2

    def as_currency(self, price_scale: float) -> dict[str, float]:
        """The parts in currency (price units / price_scale per unit, e.g. 10000 for LOBSTER)."""
        f = 0.5 / price_scale
        return {"spread_capture": self.spread_capture2 * f, "adverse_selection": self.adverse_selection2 * f,
                "inventory": self.inventory2 * f, "hedging": self.hedging2 * f, "fees": self.fees2 * f,
                "hedge_leg_spread": self.hedge_leg_spread2 * f, "hedge_leg_carry": self.hedge_leg_carry2 * f,
                "total": self.total2 * f}


@dataclass
class _Pending:
    t: float
    side: int
    qty: int
    mid2: int


class PnlLedger:
    def __init__(self, horizon_s: float, maker_rebate: int = 0, taker_fee: int = 0) -> None:
        self.horizon_s = horizon_s
        self.maker_rebate = maker_rebate
        self.taker_fee = taker_fee
        self.mid2: int | None = None
        self.cash2 = 0
        self.position = 0
        self.spread2 = 0
        self.adverse2 = 0
        self.hedge_notional2 = 0    # sum s n (-2 p) of hedge fills; marked at the end
        self.hedge_position = 0
        self.fees2 = 0
        self.passive_fills = 0
        self.hedge_fills = 0
        self.passive_volume = 0
        # the hedge leg in another instrument: its mid (doubled), cash, position, crossing cost and
        # sum s n g(t) of its fills (the carry is position * g_T less that)
        self.leg_mid2: int | None = None
        self.leg_cash2 = 0
        self.leg_position = 0
        self.leg_spread2 = 0
        self.leg_entry2 = 0
        self._pending: deque[_Pending] = deque()
        self._done: list[tuple[int, int, int]] = []   # (side, qty, mid2 at t + h)

    def on_mid(self, t: float, bid: int, ask: int) -> None:
        """The touch changed at time t: markouts whose horizon ended before t use the previous mid."""
        if self.mid2 is not None:
            while self._pending and self._pending[0].t + self.horizon_s < t:
                p = self._pending.popleft()
                self.adverse2 += p.side * p.qty * (self.mid2 - p.mid2)
                self._done.append((p.side, p.qty, self.mid2))
        self.mid2 = bid + ask

    def on_fill(self, t: float, side: int, price: int, qty: int, passive: bool, hedge: bool = False) -> None:
        if self.mid2 is None:
            raise ValueError("a fill before any mid: feed on_mid first")
        self.cash2 -= 2 * side * qty * price
        self.position += side * qty
        self.fees2 += 2 * qty * (self.maker_rebate if passive else -self.taker_fee)
        if hedge or not passive:
            self.hedge_notional2 -= 2 * side * qty * price
            self.hedge_position += side * qty
            self.hedge_fills += 1
            return
        self.spread2 += side * qty * (self.mid2 - 2 * price)
        self.passive_fills += 1
        self.passive_volume += qty
        self._pending.append(_Pending(t, side, qty, self.mid2))

    def on_leg_mid(self, bid: int, ask: int) -> None:
        """The hedge instrument's touch changed."""
        self.leg_mid2 = bid + ask

    def on_leg_fill(self, side: int, price: int, qty: int, fee_units: int) -> None:
        """A fill of the hedge leg (another instrument): fee_units is its fee per share in price
        units (the taker fee; negative for a rebate)."""
        if self.leg_mid2 is None:
            raise ValueError("a hedge-leg fill before any hedge-instrument mid: feed on_leg_mid first")
        self.leg_cash2 -= 2 * side * qty * price
        self.leg_position += side * qty
        self.leg_spread2 += side * qty * (self.leg_mid2 - 2 * price)
        self.leg_entry2 += side * qty * self.leg_mid2
        self.fees2 -= 2 * qty * fee_units
        self.hedge_fills += 1

    def breakdown(self) -> Breakdown:
        """The decomposition marked to the current mid (pending markouts completed with it)."""
        if self.mid2 is None:
            return Breakdown(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        m = self.mid2
        adverse = self.adverse2 + sum(p.side * p.qty * (m - p.mid2) for p in self._pending)
        inventory = sum(s * q * (m - mh) for s, q, mh in self._done)
        hedging = self.hedge_notional2 + self.hedge_position * m
        g = self.leg_mid2 if self.leg_mid2 is not None else 0
        carry = self.leg_position * g - self.leg_entry2
        total = self.spread2 + adverse + inventory + hedging + self.fees2 + self.leg_spread2 + carry
        return Breakdown(spread_capture2=self.spread2, adverse_selection2=adverse, inventory2=inventory,
                         hedging2=hedging, fees2=self.fees2, total2=total, cash2=self.cash2,
                         position=self.position, final_mid2=m, passive_fills=self.passive_fills,
                         hedge_fills=self.hedge_fills, passive_volume=self.passive_volume,
                         hedge_leg_spread2=self.leg_spread2, hedge_leg_carry2=carry,
                         hedge_leg_cash2=self.leg_cash2, hedge_leg_position=self.leg_position,
                         hedge_leg_mid2=g)
