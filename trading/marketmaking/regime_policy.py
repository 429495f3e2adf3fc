"""Spread and skew by market regime, from the analytics room's detector.

The regime detector is trading/analytics/regime.py (Bayesian online change points, Adams and MacKay
2007): fed one mid return per bar, it reports a volatility regime (-1 low, 0 normal, +1 high) and a
trend regime (-1 down, 0 none, +1 up) for the current segment. This module turns them into the
quoter's adjustments:

- volatility: the half spread is multiplied by ``high_vol_widen`` in a high-volatility regime and by
  ``low_vol_narrow`` in a low one (the models already scale with sigma; this reacts to a regime
  change before the EWMA sigma has caught up with it);
- trend: the quotes' centre moves with the trend by ``trend_skew`` half spreads, so the maker sells
  less cheaply into a rise and buys less dearly into a fall (a trend is adverse selection in slow
  motion).

``probability`` is the posterior probability that no change point has happened since the current
segment began (the mass of run lengths that reach back to its start): how sure the detector is that
the regime it reports is still the one in force. Both are visible in the strategy's state.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from trading.analytics.regime import RegimeDetector, RegimeState
from trading.marketmaking.errors import ParameterError


@dataclass(frozen=True)
class RegimeView:
    vol_regime: int
    trend_regime: int
    probability: float
    widen: float
    skew_half_spreads: float
    bars: int


class RegimePolicy:
    """Bars of ``bar_s`` seconds of the mid; the detector starts once the volatility of a bar is
    known (``start(scale)``), since its prior is relative to the normal volatility."""

    def __init__(self, bar_s: float = 1.0, high_vol_widen: float = 1.5, low_vol_narrow: float = 0.8,
                 trend_skew: float = 0.5) -> None:
        for name, value in (("bar_s", bar_s), ("high_vol_widen", high_vol_widen),
                            ("low_vol_narrow", low_vol_narrow)):
            if not (math.isfinite(value) and value > 0):
                raise ParameterError(name, value, "must be > 0")
        if not (math.isfinite(trend_skew) and trend_skew >= 0):
            raise ParameterError("trend_skew", trend_skew, "must be >= 0")
        self.bar_s = bar_s
        self.high_vol_widen = high_vol_widen
        self.low_vol_narrow = low_vol_narrow
        self.trend_skew = trend_skew
        self.detector: RegimeDetector | None = None
        self.state: RegimeState | None = None
        self._view: RegimeView | None = None     # cached until the next bar closes
        self._bar_end: float | None = None
        self._bar_open: float | None = None
        self._last_mid: float | None = None
        self.bars = 0

    def start(self, scale: float) -> None:
        self.detector = RegimeDetector(scale=scale)

    def on_mid(self, t: float, mid: float) -> None:
        """A mid at time t; closes every bar that ended before t with the mid prevailing then."""
        if self._bar_end is None:
            self._bar_end, self._bar_open = t + self.bar_s, mid
        while self._bar_end is not None and t >= self._bar_end:
            close = self._last_mid if self._last_mid is not None else mid
            if self.detector is not None and self._bar_open is not None:
                self.state = self.detector.update(close - self._bar_open)
                self.bars += 1
                self._view = None
            self._bar_open = close
            self._bar_end += self.bar_s
        self._last_mid = mid

    def probability(self) -> float:
        if self.detector is None or self.state is None:
            return 0.0
        probs = self.detector.run_length_posterior()
        back = self.state.index - self.state.segment_start
        return float(probs[min(max(back, 0), len(probs) - 1):].sum())

    def view(self) -> RegimeView:
        if self._view is not None:
            return self._view
        s = self.state
        if s is None:
            return RegimeView(0, 0, 0.0, 1.0, 0.0, self.bars)
        widen = self.high_vol_widen if s.vol_regime > 0 else (self.low_vol_narrow if s.vol_regime < 0 else 1.0)
        self._view = RegimeView(s.vol_regime, s.trend_regime, self.probability(), widen,
                                self.trend_skew * s.trend_regime, self.bars)
        return self._view
