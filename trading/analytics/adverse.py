"""Spreads and adverse selection: effective and realised spreads, price impact, markouts.

For a trade at price p with sign D (+1 buyer-initiated, -1 seller-initiated), the mid m in force
just before it and the mid m_h in force h seconds after it (the last quote at or before t + h):

    effective spread   ES = 2 D (p - m) / m
    realised spread    RS = 2 D (p - m_h) / m          (what the liquidity provider keeps)
    price impact       PI = 2 D (m_h - m) / m = ES - RS   (what it loses to informed flow)
    markout (taker)    MO_h = D (m_h - p) / m          at each horizon h

all relative to the mid (multiply by 1e4 for basis points). Sources: the SEC Rule 605 definitions
and their decomposition in C. Huang and H. Stoll, "The Components of the Bid-Ask Spread: A General
Approach", Rev. Financial Studies 10(4), 1997, and R. Bessembinder and H. Kaufman, "A Comparison of
Trade Execution Costs for NYSE and NASDAQ-Listed Stocks", JFQA 32(3), 1997. The adverse-selection
component of the spread is mean(PI) / mean(ES) (the share of the effective spread that the price
moves against the provider within h).

m_h is defined only when the data reaches past t + h (some event has time > t + h); otherwise it is
NaN and that trade is left out of the means (documented: the day's last trades have no markout).
Trades whose pre-trade quote is not two-sided, or whose sign is 0, are left out too (counted).

``spreads`` is the batch form on MarketEvents; SpreadStream takes micro-batches of events and
resolves each trade's horizons as later events arrive, giving the same per-trade values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trading.analytics.errors import AnalyticsInputError, FloatArray, IntArray, check_scalar, check_sorted
from trading.analytics.events import MarketEvents


@dataclass(frozen=True)
class SpreadResult:
    trade_index: IntArray        # index of each trade in the events given
    effective: FloatArray        # ES per trade
    realised: FloatArray         # RS per trade at the main horizon (NaN past the data's end)
    impact: FloatArray           # PI per trade at the main horizon
    markouts: FloatArray         # [trades, horizons] MO_h
    horizons: tuple[float, ...]
    skipped: int                 # trades without a two-sided pre-trade quote or a sign

    def summary(self) -> dict[str, float]:
        """Means over the trades that have each value, and the adverse-selection share."""
        es = float(np.nanmean(self.effective)) if len(self.effective) else math.nan
        ok = np.isfinite(self.impact)
        pi = float(np.mean(self.impact[ok])) if ok.any() else math.nan
        es_ok = float(np.mean(self.effective[ok])) if ok.any() else math.nan
        out = {"effective": es, "realised": float(np.mean(self.realised[ok])) if ok.any() else math.nan,
               "impact": pi, "adverse_selection_share": pi / es_ok if ok.any() and es_ok != 0 else math.nan}
        for j, h in enumerate(self.horizons):
            col = self.markouts[:, j] if len(self.markouts) else np.zeros(0)
            fin = np.isfinite(col)
            out[f"markout_{h:g}s"] = float(np.mean(col[fin])) if fin.any() else math.nan
        return out


def _mid(bid: FloatArray, ask: FloatArray) -> FloatArray:
    ok = np.isfinite(bid) & np.isfinite(ask) & (bid < ask)
    out: FloatArray = np.where(ok, (np.where(ok, bid, 0) + np.where(ok, ask, 0)) / 2.0, np.nan)
    return out


def _check(horizon: float, horizons: tuple[float, ...]) -> tuple[float, ...]:
    check_scalar("horizon", horizon, positive=True)
    for h in horizons:
        check_scalar("horizons", h, positive=True)
    return (float(horizon),) + tuple(float(h) for h in horizons)


def spreads(events: MarketEvents, horizon: float = 5.0, markout_horizons: tuple[float, ...] = (1.0, 10.0, 60.0)) -> SpreadResult:
    """Batch spreads and markouts of every trade in a day of events (see the module docstring)."""
    hs = _check(horizon, markout_horizons)
    t = events.time
    if len(t) and not np.all(np.isfinite(t)):
        raise AnalyticsInputError("time: NaN or infinite")
    check_sorted("time", t)
    mid = _mid(events.bid, events.ask)
    # The mid in force after each event: carried forward over events without a two-sided quote.
    has = np.isfinite(mid)
    last = np.where(has, np.arange(len(t)), -1)
    np.maximum.accumulate(last, out=last)
    mid_ff = np.where(last >= 0, mid[np.maximum(last, 0)], np.nan)
    idx = np.flatnonzero(events.is_trade)
    idx = idx[idx > 0]
    pre = mid_ff[idx - 1]
    sign = events.trade_sign[idx]
    keep = np.isfinite(pre) & (sign != 0)
    skipped = int((~keep).sum()) + int(events.is_trade[0]) if len(t) else 0
    idx, pre, sign = idx[keep], pre[keep], sign[keep].astype(np.float64)
    price = events.trade_price[idx]
    after = np.empty((len(idx), len(hs)))
    for j, h in enumerate(hs):
        target = t[idx] + h
        pos = np.searchsorted(t, target, side="right") - 1      # last event at or before t + h
        defined = target < t[-1] if len(t) else np.zeros(0, bool)
        after[:, j] = np.where(defined, mid_ff[pos], np.nan)
    es = 2.0 * sign * (price - pre) / pre
    rs = 2.0 * sign * (price - after[:, 0]) / pre
    mo = sign[:, None] * (after[:, 1:] - price[:, None]) / pre[:, None]
    return SpreadResult(idx, es, rs, es - rs, mo, hs[1:], skipped)


class SpreadStream:
    """Streaming spreads: update_many(events) per micro-batch, finish() at the end of data.

    Trades wait until an event later than their last horizon arrives; ``result()`` returns every
    trade resolved so far (with NaN for horizons past the data at finish()). The open trades and
    the quote history they may still need are kept in numpy arrays, so a micro-batch costs a few
    vectorised passes whatever the number of trades in it."""

    def __init__(self, horizon: float = 5.0, markout_horizons: tuple[float, ...] = (1.0, 10.0, 60.0)) -> None:
        self.hs = _check(horizon, markout_horizons)
        self._offset = 0                          # global index of the next event
        self._mid = math.nan                      # mid in force after the last event
        self._last_time = -math.inf
        self._times = np.zeros(0)                 # event times and mids an open trade may need
        self._mids = np.zeros(0)
        self._open = np.zeros((0, 5))             # global index, time, price, sign, pre-trade mid
        self._done: list[FloatArray] = []         # resolved rows: index, price, sign, pre, mids at h
        self.skipped = 0
        self.effective_sum = 0.0                  # ES of every accepted trade, known at once
        self.effective_count = 0

    def effective_mean(self) -> float:
        """Mean effective spread of every trade seen so far (resolved or not)."""
        return self.effective_sum / self.effective_count if self.effective_count else math.nan

    def update_many(self, events: MarketEvents) -> None:
        n = len(events)
        if not n:
            return
        t = events.time
        if not np.all(np.isfinite(t)):
            raise AnalyticsInputError("time: NaN or infinite")
        check_sorted("time", t)
        if t[0] < self._last_time:
            raise AnalyticsInputError(f"time {t[0]!r} before the previous event's {self._last_time!r}")
        mid = _mid(events.bid, events.ask)
        has = np.isfinite(mid)
        last = np.where(has, np.arange(n), -1)
        np.maximum.accumulate(last, out=last)
        mid_ff = np.where(last >= 0, mid[np.maximum(last, 0)], self._mid)
        pre_all = np.concatenate([[self._mid], mid_ff[:-1]])
        idx = np.flatnonzero(events.is_trade)
        g = self._offset + idx
        pre = pre_all[idx]
        sign = events.trade_sign[idx]
        ok = (g > 0) & np.isfinite(pre) & (sign != 0)
        self.skipped += int((~ok).sum())
        rows = np.column_stack([g[ok], t[idx][ok], events.trade_price[idx][ok], sign[ok], pre[ok]]).astype(np.float64)
        self.effective_sum += float(np.sum(2.0 * rows[:, 3] * (rows[:, 2] - rows[:, 4]) / rows[:, 4]))
        self.effective_count += len(rows)
        self._open = np.concatenate([self._open, rows]) if len(self._open) else rows
        self._times = np.concatenate([self._times, t])
        self._mids = np.concatenate([self._mids, mid_ff])
        self._mid = float(mid_ff[-1])
        self._last_time = float(t[-1])
        self._offset += n
        self._resolve(final=False)

    def finish(self) -> None:
        """End of data: trades still open get NaN for the horizons the data does not reach."""
        self._resolve(final=True)

    def _resolve(self, final: bool) -> None:
        if len(self._open):
            hmax = max(self.hs)
            ready = len(self._open) if final else int(np.searchsorted(self._open[:, 1] + hmax, self._last_time, side="left"))
            if ready:
                rows = self._open[:ready]
                vals = np.empty((ready, 4 + len(self.hs)))
                vals[:, 0] = rows[:, 0]
                vals[:, 1:4] = rows[:, 2:5]
                for j, h in enumerate(self.hs):
                    target = rows[:, 1] + h
                    pos = np.searchsorted(self._times, target, side="right") - 1
                    vals[:, 4 + j] = np.where(target < self._last_time, self._mids[pos], np.nan)
                self._done.append(vals)
                self._open = self._open[ready:]
        # Keep only the history that an open trade's horizon may still need: from the last event
        # at or before the earliest open trade (the mid in force at any later target).
        horizon_start = self._open[0, 1] if len(self._open) else self._last_time
        cut = max(int(np.searchsorted(self._times, horizon_start, side="right")) - 1, 0)
        if cut:
            self._times = self._times[cut:]
            self._mids = self._mids[cut:]

    def result(self) -> SpreadResult:
        v = np.concatenate(self._done) if self._done else np.zeros((0, 4 + len(self.hs)))
        price, sign, pre, after = v[:, 1], v[:, 2], v[:, 3], v[:, 4:]
        es = 2.0 * sign * (price - pre) / pre
        rs = 2.0 * sign * (price - after[:, 0]) / pre
        mo = sign[:, None] * (after[:, 1:] - price[:, None]) / pre[:, None]
        return SpreadResult(v[:, 0].astype(np.int64), es, rs, es - rs, mo, self.hs[1:], self.skipped)
