"""A historical day of order-level messages, in one columnar shape whatever file it came from.

``MarketDay`` holds one row per message (numpy columns, source row numbers kept for error
messages), the instrument's grid, the book standing when the file starts (if known) and, for
LOBSTER, the published visible book after every message (used to take levels beyond the file's
depth from the file, as the LOBSTER README prescribes). Loaders (lobster.py, mbo.py) produce it;
``history.py`` turns it into engine commands. ``DataError`` names the file, the row and the
problem; nothing in a file is skipped silently.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class Kind(enum.IntEnum):
    """What one message does (LOBSTER's type numbers 1-7, plus a market-by-order modify)."""
    ADD = 1          # a new visible limit order
    REDUCE = 2       # partial cancel: `qty` shares off the order
    DELETE = 3       # the whole remaining order cancelled
    EXECUTE = 4      # visible execution against the order; side = the resting order's side
    HIDDEN = 5       # execution against hidden liquidity; side = the hidden order's side
    CROSS = 6        # auction cross print
    HALT = 7         # trading halt indicator (price -1 halt, 0 quoting, 1 resume)
    MODIFY = 8       # market-by-order modify: the order's new price and remaining qty


class DataError(ValueError):
    """A data file that cannot be replayed: names the file, the 1-based row and the problem."""

    def __init__(self, path: str | Path, row: int | None, problem: str) -> None:
        self.path, self.row, self.problem = str(path), row, problem
        where = f"{path}:{row}" if row is not None else str(path)
        super().__init__(f"{where}: {problem}")


def require_data_file(path: Path) -> None:
    """Raises DataError unless path is a regular file (a directory or a missing path says which)."""
    if path.is_file():
        return
    if path.is_dir():
        raise DataError(path, None, "a directory, not a data file (give a LOBSTER message CSV or an MBO CSV)")
    raise DataError(path, None, "no such file" if not path.exists() else "not a regular file")


BUY, SELL = 1, 2   # native.records.Side values (the engine's sides)


@dataclass
class MarketDay:
    """One instrument's messages, time ordered. Prices are in the engine's integer price unit."""

    path: Path
    symbol: str
    ts_ns: np.ndarray          # int64, non-decreasing
    kind: np.ndarray           # uint8, Kind
    order_id: np.ndarray       # uint64 (0: none)
    qty: np.ndarray            # int64
    price: np.ndarray          # int64
    side: np.ndarray           # uint8, BUY / SELL (0 for HALT / CROSS without one)
    row: np.ndarray            # int64, 1-based row in the source file
    tick_size: int = 100
    lot_size: int = 1
    price_scale: int = 10_000  # price units per currency unit (LOBSTER: 1/10000 USD)
    # levels resting before the first message: (side, price, qty), best first per side
    initial_levels: list[tuple[int, int, int]] = field(default_factory=list)
    # LOBSTER only: the published book after each message (rows aligned with the messages),
    # shape (n, 4 * depth): ask price, ask size, bid price, bid size per level
    visible_book: np.ndarray | None = None
    first_message: int = 0    # messages before this index are already in initial_levels
    notes: dict[str, int] = field(default_factory=dict)   # rows a loader accepted but carries no effect

    def __len__(self) -> int:
        return int(self.ts_ns.shape[0])

    @property
    def depth(self) -> int:
        return 0 if self.visible_book is None else self.visible_book.shape[1] // 4

    def check(self) -> None:
        """Vectorized checks every loader applies; raises DataError naming the first bad row."""
        def first_bad(mask: np.ndarray, problem: str) -> None:
            bad = np.flatnonzero(mask)
            if len(bad):
                i = int(bad[0])
                raise DataError(self.path, int(self.row[i]), problem.format(
                    ts=int(self.ts_ns[i]), prev=int(self.ts_ns[i - 1]) if i else 0, price=int(self.price[i]),
                    qty=int(self.qty[i]), kind=int(self.kind[i]), side=int(self.side[i]), tick=self.tick_size))
        n = len(self)
        if n == 0:
            raise DataError(self.path, None, "no messages")
        first_bad(np.diff(self.ts_ns, prepend=self.ts_ns[0]) < 0, "time goes backwards ({ts} ns after {prev} ns): rows must be sorted by time")
        known = np.isin(self.kind, [int(k) for k in Kind])
        first_bad(~known, "unknown message type {kind}")
        trading = np.isin(self.kind, [Kind.ADD, Kind.REDUCE, Kind.DELETE, Kind.EXECUTE, Kind.HIDDEN, Kind.MODIFY])
        first_bad(trading & (self.qty <= 0), "size {qty} must be positive")
        first_bad(trading & (self.price <= 0), "price {price} must be positive")
        # hidden executions may print between ticks (midpoint liquidity): only book prices must be on the grid
        on_book = trading & (self.kind != Kind.HIDDEN)
        first_bad(on_book & (self.price % self.tick_size != 0), "price {price} is off the tick grid ({tick})")
        first_bad(trading & (self.qty % self.lot_size != 0), "size {qty} is off the lot size")
        first_bad(trading & ~np.isin(self.side, [BUY, SELL]), "side {side} is neither buy nor sell")
