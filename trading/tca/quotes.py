"""The venue's best bid and offer over time, rebuilt from the event journal's BOOK_LEVEL events.

One venue today: this BBO stands in for the NBBO wherever a measure says "NBBO" (price
improvement, effective spread, Rule 605). A BOOK_LEVEL event carries the displayed aggregate of one
price level after a change (native/ENGINE.md, "Level events"); the best bid is the highest price
with displayed quantity, the best ask the lowest. The series keeps one row per BOOK_LEVEL event:
(seq, ts_ns, bid, ask), 0 for an empty side.

Two lookups, both binary searches on an instrument's series (its columns cached on first use):
- ``bid_ask_before_seq(s)``: the quote in force when command s arrived (after every event of
  commands < s): the "quote at receipt" of an order accepted by command s.
- ``mid_at_time(t)``: the mid after every event stamped <= t: markouts and realised spreads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trading.tca.bbo import LevelBook

QUOTE_DTYPE = np.dtype([("seq", "<u8"), ("ts", "<i8"), ("bid", "<i8"), ("ask", "<i8")])


@dataclass(frozen=True)
class QuoteSeries:
    """One instrument's BBO after each BOOK_LEVEL event, in journal order."""
    rows: np.ndarray   # QUOTE_DTYPE
    cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def _columns(self) -> None:
        if "bid" not in self.cache:
            self.cache["seq"] = np.ascontiguousarray(self.rows["seq"])
            self.cache["bid"] = np.append(self.rows["bid"], 0)       # [-1] -> 0: nothing quoted yet
            self.cache["ask"] = np.append(self.rows["ask"], 0)

    def bid_ask_before_seq(self, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The quote in force when each command seq arrived (after every event of the commands
        before it), as (bid, ask) arrays; 0 where that side was empty."""
        self._columns()
        pos = np.searchsorted(self.cache["seq"], np.asarray(seqs, np.uint64), side="left") - 1
        return self.cache["bid"][pos], self.cache["ask"][pos]

    def mid_at_time(self, ts: np.ndarray) -> np.ndarray:
        """The mid after every event stamped <= ts (NaN before the first quote or with a side empty)."""
        if "mid" not in self.cache:
            self.cache["ts"] = np.ascontiguousarray(self.rows["ts"])
            self.cache["mid"] = np.append(mid_of(self.rows), np.nan)   # [-1] -> NaN
        pos = np.searchsorted(self.cache["ts"], np.asarray(ts, np.int64), side="right") - 1
        out: np.ndarray = self.cache["mid"][pos]
        return out


def mid_of(q: np.ndarray) -> np.ndarray:
    """Midpoint in price units (float); NaN unless both sides are present."""
    both = (q["bid"] > 0) & (q["ask"] > 0)
    return np.where(both, (q["bid"] + q["ask"]) / 2.0, np.nan)


def rebuild(instrument: np.ndarray, seq: np.ndarray, ts: np.ndarray, side: np.ndarray,
            price: np.ndarray, qty: np.ndarray) -> dict[int, QuoteSeries]:
    """BOOK_LEVEL columns (journal order) -> {instrument id: QuoteSeries}: per instrument, the
    best bid and ask after each event from bbo.LevelBook (the live levels of each side; the best
    bid is the highest live bid, the best ask the lowest live ask, 0 when a side is empty)."""
    out: dict[int, QuoteSeries] = {}
    order = np.argsort(instrument, kind="stable")
    bounds = np.flatnonzero(np.diff(instrument[order])) + 1
    for group in np.split(order, bounds):
        if len(group) == 0:
            continue
        bid, ask = LevelBook().apply(side[group], price[group], qty[group])
        rows = np.zeros(len(group), dtype=QUOTE_DTYPE)
        rows["seq"] = seq[group]
        rows["ts"] = ts[group]
        rows["bid"] = bid
        rows["ask"] = ask
        out[int(instrument[group[0]])] = QuoteSeries(rows)
    return out


def first_reaching(series: QuoteSeries, after_seq: np.ndarray, limit: np.ndarray, buy: np.ndarray) -> np.ndarray:
    """For each order (a limit price, a side, and the seq of the command that accepted it): the
    time of the first quote after that command whose opposite side is at or through the limit
    (a buy's ask <= limit, a sell's bid >= limit), 0 where none is.

    Vectorised first passage: a sparse table holds the minimum ask (maximum bid) over every
    power-of-two run of quotes, and all orders descend it together (binary lifting): from the
    first quote after the order, skip each run of 2^k quotes that never reaches the limit,
    k from high to low; the quote after the last skip is the first one that does."""
    rows = series.rows
    n = len(rows)
    out = np.zeros(len(limit), np.int64)
    if n == 0 or len(limit) == 0:
        return out
    big = np.iinfo(np.int64).max
    ask = np.where(rows["ask"] > 0, rows["ask"], big)          # an empty ask never reaches a buy
    neg_bid = np.where(rows["bid"] > 0, -rows["bid"].astype(np.int64), big)   # nor an empty bid a sell
    start = np.searchsorted(rows["seq"], np.asarray(after_seq, np.uint64), side="right")
    for side_buy, values in ((True, ask), (False, neg_bid)):
        sel = np.flatnonzero(buy == side_buy)
        if len(sel) == 0:
            continue
        target = limit[sel].astype(np.int64) if side_buy else -limit[sel].astype(np.int64)
        levels = [values]                                       # levels[k][i] = min(values[i : i + 2^k])
        while (1 << len(levels)) <= n:
            prev, half = levels[-1], 1 << (len(levels) - 1)
            levels.append(np.minimum(prev[:-half], prev[half:]))
        pos = start[sel].copy()
        for k in range(len(levels) - 1, -1, -1):
            lv = levels[k]
            ok = pos < len(lv)
            skip = np.zeros(len(pos), bool)
            skip[ok] = lv[pos[ok]] > target[ok]
            pos[skip] += 1 << k
        hit = pos < n
        hit[hit] = values[pos[hit]] <= target[hit]
        out[sel[hit]] = rows["ts"][pos[hit]]
    return out
