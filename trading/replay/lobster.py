"""LOBSTER message files (and their order-book files) as a MarketDay.

Format (LOBSTER README, ../shared/data/README.md): message rows ``time,type,order_id,size,price,
direction`` with time in seconds after midnight (decimal, up to ns), type 1-7, price in USD x 10000,
direction 1 buy / -1 sell (for executions the side of the resting order). The order-book file of
the same name (``_message_N`` -> ``_orderbook_N``), when present, gives the visible book after each
message: its first row seeds the book (the first message is already in it) and later rows supply
levels that come into view from beyond the file's depth. Parsing is numpy's; a file numpy refuses
is scanned row by row to name the first bad row and why.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from trading.replay.data import BUY, SELL, DataError, Kind, MarketDay, require_data_file

DUMMY_ASK, DUMMY_BID = 9_999_999_999, -9_999_999_999
_MESSAGE_NAME = re.compile(r"^(?P<symbol>[A-Za-z0-9.]+)_.*_message_(?P<depth>\d+)")


def _diagnose(path: Path, columns: int) -> DataError:
    """The first row that is not `columns` numbers."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for number, fields in enumerate(csv.reader(f), start=1):
            if len(fields) != columns:
                return DataError(path, number, f"expected {columns} columns, found {len(fields)}")
            for k, value in enumerate(fields, start=1):
                try:
                    float(value)
                except ValueError:
                    return DataError(path, number, f"column {k} is not a number: {value[:40]!r}")
    return DataError(path, None, "unreadable as numeric CSV")


def _read_numeric(path: Path, columns: int | None) -> np.ndarray:
    require_data_file(path)
    if path.stat().st_size == 0:
        raise DataError(path, None, "empty file")
    try:
        data = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline()
        raise _diagnose(path, columns or len(first.split(","))) from None
    if columns is not None and data.shape[1] != columns:
        raise DataError(path, 1, f"expected {columns} columns, found {data.shape[1]}")
    if not np.all(np.isfinite(data)):
        row = int(np.flatnonzero(~np.all(np.isfinite(data), axis=1))[0]) + 1
        raise DataError(path, row, "not a finite number")
    return data


def orderbook_path_for(message_path: Path) -> Path | None:
    """The order-book file that belongs to a message file, if it exists beside it."""
    name = message_path.name
    if "_message_" not in name:
        return None
    candidate = message_path.with_name(name.replace("_message_", "_orderbook_", 1))
    return candidate if candidate.is_file() else None


def load_lobster(path: str | Path, orderbook: str | Path | None | bool = True, tick_size: int = 100) -> MarketDay:
    """Reads a LOBSTER message file. orderbook: True finds the companion order-book file (optional),
    a path names it (required), False/None replays the messages alone (the book starts empty)."""
    path = Path(path)
    msgs = _read_numeric(path, 6)
    match = _MESSAGE_NAME.match(path.name)
    symbol = match.group("symbol") if match else path.stem
    ts = np.round(msgs[:, 0] * 1e9).astype(np.int64)
    kind = msgs[:, 1].astype(np.int64)
    direction = msgs[:, 5].astype(np.int64)
    rows = np.arange(1, len(msgs) + 1, dtype=np.int64)
    for col, name in ((1, "type"), (2, "order id"), (3, "size"), (4, "price"), (5, "direction")):
        bad = np.flatnonzero(msgs[:, col] != np.round(msgs[:, col]))
        if len(bad):
            raise DataError(path, int(bad[0]) + 1, f"{name} {msgs[bad[0], col]} is not an integer")
    bad = np.flatnonzero(~np.isin(direction, [1, -1]))
    if len(bad):
        raise DataError(path, int(bad[0]) + 1, f"direction {direction[bad[0]]} is neither 1 nor -1")
    bad = np.flatnonzero((kind < 1) | (kind > 7))
    if len(bad):
        raise DataError(path, int(bad[0]) + 1, f"unknown message type {kind[bad[0]]} (LOBSTER types are 1-7)")
    bad = np.flatnonzero(msgs[:, 2] < 0)
    if len(bad):
        raise DataError(path, int(bad[0]) + 1, f"order id {int(msgs[bad[0], 2])} is negative")
    day = MarketDay(path=path, symbol=symbol, ts_ns=ts, kind=kind.astype(np.uint8),
                    order_id=msgs[:, 2].astype(np.uint64), qty=msgs[:, 3].astype(np.int64),
                    price=msgs[:, 4].astype(np.int64),
                    side=np.where(direction > 0, BUY, SELL).astype(np.uint8), row=rows, tick_size=tick_size)
    halt = kind == Kind.HALT
    day.side[halt | (kind == Kind.CROSS)] = 0
    day.check()
    book_path = orderbook_path_for(path) if orderbook is True else (Path(orderbook) if orderbook else None)
    if book_path is not None:
        book = _read_numeric(book_path, None)
        if book.shape[1] % 4:
            raise DataError(book_path, 1, f"an order-book row has 4 x levels columns, found {book.shape[1]}")
        if len(book) != len(msgs):
            raise DataError(book_path, None, f"{len(book)} rows but the message file has {len(msgs)}")
        day.visible_book = book.astype(np.int64)
        day.initial_levels = levels_of(day.visible_book[0])
        for s, p, _ in day.initial_levels:
            if p % tick_size:
                raise DataError(book_path, 1, f"price {p} is off the tick grid ({tick_size})")
        day.first_message = 1   # orderbook row 1 already includes message 1
    return day


def levels_of(row: np.ndarray) -> list[tuple[int, int, int]]:
    """(side, price, qty) of the real (non-dummy, non-empty) levels of one order-book row, asks
    then bids, best first."""
    out: list[tuple[int, int, int]] = []
    n = len(row) // 4
    for side, pc, qc, dummy in ((SELL, 0, 1, DUMMY_ASK), (BUY, 2, 3, DUMMY_BID)):
        for k in range(n):
            p, q = int(row[4 * k + pc]), int(row[4 * k + qc])
            if q > 0 and p != dummy:
                out.append((side, p, q))
    return out
