"""Markouts of the market maker's own fills and a simple toxicity score of the flow hitting it.

Markout of a fill at horizon h: side * (mid(t_fill + h) - fill price) per share, side +1 for a buy,
-1 for a sell: positive when the fill was worth having, negative when the counterparty knew better
(adverse selection). mid(t + h) is the mid prevailing at t + h, that is the last mid observed at or
before it, so a markout completes when the first update after t + h arrives (or at ``flush``).

Toxicity (0..1), the adverse-selection guard's input, is the larger of two plain measures:
- markout toxicity: the mean adverse markout at the shortest horizon over the last ``window`` fills
  of the last ``memory_s`` seconds, in units of the model's half spread (losing a whole half spread
  on average scores 1): the model's, before the guard's widening, so that what the guard does with
  the score does not change the score (a widening that lowered it would flip back and forth). The memory matters: a guard that pulls its quotes gets no new fills, so
  without it the score would never fall and the quotes would stay pulled for the rest of the day;
- flow imbalance: |buy volume - sell volume| / total over the last ``window`` public trades (one-sided
  aggressive flow is the classic sign of informed trading; VPIN, Easley, Lopez de Prado and O'Hara
  2012, is the bucketed version of the same idea).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Markout:
    t: float
    side: int
    price: float
    qty: int
    values: dict[float, float] = field(default_factory=dict)   # horizon -> markout per share


class MarkoutTracker:
    def __init__(self, horizons_s: tuple[float, ...], window: int = 50, memory_s: float = 60.0) -> None:
        self.horizons = tuple(sorted(horizons_s))
        self.window = window
        self.memory_s = memory_s
        self._pending: deque[Markout] = deque()
        self.completed: list[Markout] = []
        self._recent_short: deque[tuple[float, float]] = deque()     # (fill time, markout)
        self._short_sum = 0.0
        self._trades: deque[tuple[int, int]] = deque()
        self._trade_total = 0           # running sums over the window (O(1) per event)
        self._trade_signed = 0
        self._last_mid: float | None = None

    def on_fill(self, t: float, side: int, price: float, qty: int) -> None:
        self._pending.append(Markout(t, side, price, qty))

    def on_trade(self, aggressor_side: int, qty: int) -> None:
        """A public trade: aggressor_side +1 buyer-initiated, -1 seller-initiated."""
        self._trades.append((aggressor_side, qty))
        self._trade_total += qty
        self._trade_signed += aggressor_side * qty
        if len(self._trades) > self.window:
            s, q = self._trades.popleft()
            self._trade_total -= q
            self._trade_signed -= s * q

    def on_mid(self, t: float, mid: float) -> None:
        """A new mid at time t: completes the horizons that ended before t with the previous mid."""
        if self._last_mid is not None and self._pending:
            prev = self._last_mid
            for m in self._pending:
                for h in self.horizons:
                    if h not in m.values and m.t + h < t:
                        m.values[h] = m.side * (prev - m.price)
                        if h == self.horizons[0]:
                            self._recent_short.append((m.t, m.values[h]))
                            self._short_sum += m.values[h]
                            if len(self._recent_short) > self.window:
                                self._short_sum -= self._recent_short.popleft()[1]
            while self._pending and len(self._pending[0].values) == len(self.horizons):
                self.completed.append(self._pending.popleft())
        while self._recent_short and self._recent_short[0][0] < t - self.memory_s:
            self._short_sum -= self._recent_short.popleft()[1]
        self._last_mid = mid

    def flush(self, t_end: float) -> None:
        """End of data at t_end: complete the horizons that ended by then with the last mid (the
        one prevailing at t + h); a horizon past t_end gets no markout (the data never reached
        it: the last mid is not the mid h after the fill), so it is left out of mean_markout."""
        if self._last_mid is not None:
            for m in self._pending:
                for h in self.horizons:
                    if m.t + h <= t_end:
                        m.values.setdefault(h, m.side * (self._last_mid - m.price))
            self.completed.extend(self._pending)
            self._pending.clear()

    def has_markout(self, horizon: float) -> bool:
        """Whether some completed fill has a markout at this horizon."""
        return any(horizon in m.values for m in self.completed)

    def mean_markout(self, horizon: float) -> float:
        """Share-weighted mean markout of completed fills at a horizon (0.0 when none)."""
        num = sum(m.values[horizon] * m.qty for m in self.completed if horizon in m.values)
        den = sum(m.qty for m in self.completed if horizon in m.values)
        return num / den if den else 0.0

    def markout_toxicity(self, half_spread: float) -> float:
        if not self._recent_short or half_spread <= 0:
            return 0.0
        adverse = -self._short_sum / len(self._recent_short)
        return min(max(adverse / half_spread, 0.0), 1.0)

    def flow_imbalance(self) -> float:
        """Signed: +1 all buyer-initiated, -1 all seller-initiated (0.0 with no trades)."""
        if not self._trade_total:
            return 0.0
        return self._trade_signed / self._trade_total

    def toxicity(self, half_spread: float) -> float:
        return max(self.markout_toxicity(half_spread), abs(self.flow_imbalance()))
