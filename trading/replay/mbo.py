"""Market-by-order CSV in Databento's MBO layout (the second replay format) as a MarketDay.

Columns read by name from the header (others are ignored): ``ts_event`` (or ``ts_recv``) as
integer ns since the epoch or ISO-8601, ``action`` (A add, C cancel of ``size`` shares, M modify
to a new price and size, F fill of a resting order, T trade print, R clear book, N none),
``side`` (B bid, A ask, N none), ``price`` (a decimal in currency units, or Databento's integer
fixed point of 1e-9), ``size``, ``order_id``, optional ``symbol``. T rows print a trade without
changing the book (their resting side's F rows carry the fills); R is accepted only before the
first add; N rows carry nothing. Each skipped row is counted in ``MarketDay.notes``.
"""
from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from trading.replay.data import BUY, SELL, DataError, Kind, MarketDay, require_data_file

_ACTIONS = {"A": Kind.ADD, "C": Kind.REDUCE, "M": Kind.MODIFY, "F": Kind.EXECUTE, "T": Kind.CROSS}
_REQUIRED = ("action", "side", "price", "size", "order_id")
FIXED_POINT = 1_000_000_000


def _ts(value: str) -> int:
    if value.isdigit():
        return int(value)
    return int(np.datetime64(value.rstrip("Z"), "ns").astype(np.int64))


def _price(value: str, price_scale: int) -> int:
    if "." in value or "e" in value.lower():
        units = Decimal(value) * price_scale
        if units != units.to_integral_value():
            raise ValueError(f"price {value} is finer than 1/{price_scale}")
        return int(units)
    fixed = int(value)
    step = FIXED_POINT // price_scale
    if fixed % step:
        raise ValueError(f"fixed-point price {value} is finer than 1/{price_scale}")
    return fixed // step


def load_mbo(path: str | Path, tick_size: int = 100, price_scale: int = 10_000) -> MarketDay:
    """Reads one instrument's MBO CSV; DataError names the file, row and problem."""
    path = Path(path)
    require_data_file(path)
    cols: dict[str, list[int]] = {k: [] for k in ("ts", "kind", "order_id", "qty", "price", "side", "row")}
    symbol = path.stem
    skipped: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise DataError(path, None, "empty file")
        index = {name.strip(): k for k, name in enumerate(header)}
        ts_found = index.get("ts_event", index.get("ts_recv"))
        missing = [c for c in _REQUIRED if c not in index] + ([] if ts_found is not None else ["ts_event"])
        if missing or ts_found is None:
            raise DataError(path, 1, f"header lacks column(s) {', '.join(missing)}")
        ts_col: int = ts_found
        added = False
        for number, fields in enumerate(reader, start=2):
            if len(fields) != len(header):
                raise DataError(path, number, f"expected {len(header)} columns, found {len(fields)}")
            action = fields[index["action"]].strip()
            if action == "N" or (action == "R" and not added):
                skipped[action] = skipped.get(action, 0) + 1
                continue
            if action == "R":
                raise DataError(path, number, "book clear (R) after the first add is not supported")
            if action not in _ACTIONS:
                raise DataError(path, number, f"unknown action {action!r}")
            side_code = fields[index["side"]].strip()
            side = {"B": BUY, "A": SELL}.get(side_code)
            if side is None and action != "T":
                raise DataError(path, number, f"side {side_code!r} is neither B nor A")
            try:
                ts = _ts(fields[ts_col].strip())
                price = _price(fields[index["price"]].strip(), price_scale)
                qty = int(fields[index["size"]])
                order_id = int(fields[index["order_id"]])
            except (ValueError, InvalidOperation) as exc:
                raise DataError(path, number, f"bad value: {exc}") from None
            if order_id < 0:
                raise DataError(path, number, f"order id {order_id} is negative")
            if "symbol" in index and fields[index["symbol"]]:
                symbol = fields[index["symbol"]]
            added = added or action == "A"
            for key, v in (("ts", ts), ("kind", int(_ACTIONS[action])), ("order_id", order_id), ("qty", qty),
                           ("price", price), ("side", side or 0), ("row", number)):
                cols[key].append(v)
    day = MarketDay(path=path, symbol=symbol, ts_ns=np.asarray(cols["ts"], dtype=np.int64),
                    kind=np.asarray(cols["kind"], dtype=np.uint8), order_id=np.asarray(cols["order_id"], dtype=np.uint64),
                    qty=np.asarray(cols["qty"], dtype=np.int64), price=np.asarray(cols["price"], dtype=np.int64),
                    side=np.asarray(cols["side"], dtype=np.uint8), row=np.asarray(cols["row"], dtype=np.int64),
                    tick_size=tick_size, price_scale=price_scale)
    day.notes.update({f"rows skipped ({a})": n for a, n in skipped.items()})
    prints = day.kind == Kind.CROSS
    day.side[prints] = 0
    # a trade print's price and size still have to be sane, but it needs no side
    day.check()
    return day
