"""The best bid and offer after each BOOK_LEVEL event of one instrument, through the C pass of
native/tca/tca_bbo.c (the contract is in tca_bbo.h): each side's live prices in a sorted array
owned here, the best at one end. One LevelBook per instrument; it keeps its levels between calls,
so the live monitor feeds it batch by batch and the batch analysis feeds it the whole day.

Equivalent to the dict-per-side rebuild it replaced (a level is live while its displayed quantity
is > 0; the best bid is the highest live bid, the best ask the lowest live ask, 0 when a side is
empty); tests/trading/tca/test_bbo.py checks it against that direct computation."""
from __future__ import annotations

from typing import Any

import numpy as np

from native._venue import ffi, lib

_START_CAPACITY = 256


class LevelBook:
    """One instrument's live price levels (both sides), fed in journal order by ``apply``."""

    def __init__(self) -> None:
        self._prices = [np.zeros(_START_CAPACITY, np.int64), np.zeros(_START_CAPACITY, np.int64)]
        self._sides: Any = ffi.new("tca_levels_t[2]")
        for k in range(2):
            self._bind(k, 0)

    def _bind(self, k: int, count: int) -> None:
        lv = self._sides[k]
        lv.prices = ffi.cast("int64_t *", ffi.from_buffer(self._prices[k]))
        lv.count = count
        lv.capacity = len(self._prices[k])

    def _grow(self, k: int) -> None:
        count = int(self._sides[k].count)
        bigger = np.zeros(2 * len(self._prices[k]), np.int64)
        bigger[:count] = self._prices[k][:count]
        self._prices[k] = bigger
        self._bind(k, count)

    def apply(self, side: np.ndarray, price: np.ndarray, qty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Applies level updates (side 1 = bid, else ask; qty 0 removes the level) in order;
        returns (best bid, best ask) after each update, 0 for an empty side."""
        s = np.ascontiguousarray(side, np.uint8)
        p = np.ascontiguousarray(price, np.int64)
        q = np.ascontiguousarray(qty, np.int64)
        n = len(s)
        bid, ask = np.zeros(n, np.int64), np.zeros(n, np.int64)
        done = 0
        while done < n:
            done += int(lib.tca_bbo_apply(
                ffi.addressof(self._sides, 0), ffi.addressof(self._sides, 1),
                ffi.cast("const uint8_t *", ffi.from_buffer(s[done:])),
                ffi.cast("const int64_t *", ffi.from_buffer(p[done:])),
                ffi.cast("const int64_t *", ffi.from_buffer(q[done:])), n - done,
                ffi.cast("int64_t *", ffi.from_buffer(bid[done:])),
                ffi.cast("int64_t *", ffi.from_buffer(ask[done:]))))
            if done < n:           # that update's side is full: grow it, go on from there
                self._grow(0 if s[done] == 1 else 1)
        return bid, ask

    def best(self) -> tuple[int, int]:
        """(best bid, best ask) now, 0 for an empty side."""
        b, a = self._sides[0], self._sides[1]
        return (int(self._prices[0][b.count - 1]) if b.count else 0,
                int(self._prices[1][0]) if a.count else 0)
