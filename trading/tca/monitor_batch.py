"""The per-batch arithmetic of the best-execution monitor (monitor.py), vectorised over a batch of
events while giving the numbers the event-by-event loop gave, bit for bit:

- ``BatchMids``: the mid of an instrument before any event of the batch (after every earlier
  event), from the mids after each BOOK_LEVEL event (bbo.LevelBook) and the mid carried from the
  batches before;
- ``running_sum``: start + v_0 + v_1 + ... added one at a time in order (np.add.accumulate is the
  sequential recurrence out[i] = out[i-1] + v[i]; np.sum's pairwise order would round
  differently), so a running total fed by batches equals the one a `+=` per event kept;
- ``resolve_at``: the event at which each waiting markout is resolved: the first event stamped
  after its horizon, behind every markout queued before it (first in, first out).
"""
from __future__ import annotations

import numpy as np

from native import records
from trading.tca import codes
from trading.tca.bbo import LevelBook


class BatchMids:
    """Mids of a batch: ``before(iid, k)`` is instrument iid's mid before event k of the batch
    (NaN before its first quote or with a side empty)."""

    def __init__(self, books: dict[int, LevelBook], carried: dict[int, float], recs: np.ndarray,
                 types: np.ndarray, insts: np.ndarray) -> None:
        self.carried = carried
        self.pos: dict[int, np.ndarray] = {}      # event indices of an instrument's BOOK_LEVEL events
        self.mid: dict[int, np.ndarray] = {}      # its mid after each of them
        book = np.flatnonzero(types == codes.EVT_BOOK_LEVEL)
        if len(book) == 0:
            return
        bl = recs[book].view(records.EVT_DTYPES[codes.EVT_BOOK_LEVEL])
        iids = insts[book]
        for iid in np.unique(iids).tolist():
            m = iids == iid
            levels = books.get(iid)
            if levels is None:
                levels = books[iid] = LevelBook()
            bid, ask = levels.apply(bl["side"][m], bl["price"][m], bl["qty"][m])
            self.pos[iid] = book[m]
            self.mid[iid] = np.where((bid != 0) & (ask != 0), (bid + ask) / 2.0, np.nan)

    def before(self, iids: np.ndarray, ks: np.ndarray) -> np.ndarray:
        out = np.full(len(ks), np.nan)
        for iid in np.unique(iids).tolist():
            m = iids == iid
            carried = self.carried.get(iid, np.nan)
            pos = self.pos.get(iid)
            if pos is None:
                out[m] = carried
                continue
            j = np.searchsorted(pos, ks[m], side="left") - 1
            out[m] = np.where(j >= 0, self.mid[iid][np.maximum(j, 0)], carried)
        return out

    def commit(self) -> None:
        """Carries each instrument's mid after the batch into the next one."""
        for iid, mids in self.mid.items():
            self.carried[iid] = float(mids[-1])


def running_sum(start: float, values: np.ndarray) -> float:
    """start + values[0] + values[1] + ..., one addition at a time in order."""
    if len(values) == 0:
        return start
    return float(np.add.accumulate(np.concatenate(([start], np.asarray(values, np.float64))))[-1])


def resolve_at(due: np.ndarray, queued_at: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """For markouts waiting in queue order (due: horizon ns; queued_at: the event that queued it,
    -1 for one carried from an earlier batch), the batch event before which each is resolved: the
    first event after the one that queued it stamped later than its horizon, and never before the
    markout ahead of it (the queue is first in, first out). len(ts) where none is (still waiting)."""
    n = len(ts)
    if len(due) == 0:
        return np.zeros(0, np.int64)
    if n and bool(np.all(ts[1:] >= ts[:-1])):
        # stamps in order: the events stamped later than a horizon are a suffix of the batch
        first = np.maximum(np.searchsorted(ts, due, side="right"), queued_at + 1)
        return np.minimum(np.maximum.accumulate(first), n)
    out = np.empty(len(due), np.int64)     # stamps going back inside the batch: searched one by one
    prev = 0
    for i, (d, q) in enumerate(zip(due.tolist(), queued_at.tolist())):
        start = max(prev, q + 1)
        later = np.flatnonzero(ts[start:] > d) if start < n else np.zeros(0, np.int64)
        prev = out[i] = start + int(later[0]) if len(later) else n
    return out
