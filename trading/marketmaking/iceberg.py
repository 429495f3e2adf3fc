"""Iceberg display size from the fill rate observed at the level.

An iceberg shows ``display`` shares and refills from its reserve when they are taken; each refill
goes to the back of the level (ENGINE.md, iceberg refill), so a display that is too small loses
priority again and again, and one that is too large shows the size the iceberg exists to hide. The
display is chosen so that one display lasts about ``refill_interval_s`` at the observed rate:

    display = clamp(lot * round(rate * refill_interval_s / lot), lot, total)

where ``rate`` (shares per second) is an exponentially weighted average of the volume traded at the
level, measured over the time the level was watched. With no observation yet the display is one lot.
"""
from __future__ import annotations

import math

from trading.marketmaking.errors import ParameterError


class FillRateMeter:
    """Shares traded per second at a level, EWMA with a half-life in seconds."""

    def __init__(self, half_life_s: float = 30.0) -> None:
        if not (math.isfinite(half_life_s) and half_life_s > 0):
            raise ParameterError("half_life_s", half_life_s, "must be > 0")
        self.half_life_s = half_life_s
        self._volume = 0.0
        self._time = 0.0
        self._last_t: float | None = None

    def observe(self, t: float, traded: float) -> None:
        """``traded`` shares traded at the level since the previous observation, now at time t."""
        if self._last_t is not None:
            dt = max(t - self._last_t, 0.0)
            decay = 0.5 ** (dt / self.half_life_s)
            self._volume = self._volume * decay + traded
            self._time = self._time * decay + dt
        self._last_t = t

    def rate(self) -> float:
        return self._volume / self._time if self._time > 0 else 0.0


def display_size(rate: float, refill_interval_s: float, lot: int, total: int) -> int:
    """The display size for an iceberg of ``total`` shares (whole lots, at least one lot)."""
    if lot < 1:
        raise ParameterError("lot", lot, "must be >= 1")
    if total < lot:
        raise ParameterError("total", total, f"must be at least one lot ({lot})")
    if not (math.isfinite(refill_interval_s) and refill_interval_s > 0):
        raise ParameterError("refill_interval_s", refill_interval_s, "must be > 0")
    lots = round(max(rate, 0.0) * refill_interval_s / lot)
    return int(min(max(lots, 1) * lot, total // lot * lot))
