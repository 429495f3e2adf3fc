"""Engine event records -> market-data events: best quotes rebuilt from BOOK_LEVEL events, trades
signed by their aggressor, other events and other instruments left out, bad records refused."""
from __future__ import annotations

import math

import numpy as np
import pytest

from native import records
from native._venue import lib
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.feed import EngineFeed

LEVEL, TRADE, ACCEPTED = int(lib.ENG_EVT_BOOK_LEVEL), int(lib.ENG_EVT_TRADE), int(lib.ENG_EVT_ACCEPTED)
BUY, SELL = int(lib.ENG_SIDE_BUY), int(lib.ENG_SIDE_SELL)


def _records(rows: list[dict[str, int]]) -> np.ndarray:
    out = np.zeros((len(rows), 96), dtype=np.uint8)
    for i, row in enumerate(rows):
        rec = np.zeros(1, dtype=records.EVT_DTYPES[row["type"]])
        for k, v in row.items():
            rec[k] = v
        out[i] = np.frombuffer(rec.tobytes(), dtype=np.uint8)
    return out


def _level(ins: int, side: int, price: int, qty: int, ts: int) -> dict[str, int]:
    return {"type": LEVEL, "instrument_id": ins, "ts_ns": ts, "side": side, "price": price, "qty": qty,
            "order_count": 1 if qty else 0}


def test_quotes_and_trades() -> None:
    raw = _records([
        _level(1, BUY, 9990, 50, 1_000_000_000),
        _level(1, SELL, 10010, 30, 1_000_000_000),
        {"type": ACCEPTED, "instrument_id": 1, "ts_ns": 2_000_000_000},
        _level(1, BUY, 9980, 70, 2_000_000_000),        # below the best: no quote change, no row
        {"type": TRADE, "instrument_id": 1, "ts_ns": 3_000_000_000, "price": 10010, "qty": 30,
         "aggressor_side": BUY},
        _level(1, SELL, 10010, 0, 3_000_000_000),       # the ask level is gone: one-sided book
        _level(2, BUY, 500, 1, 3_000_000_000),          # another instrument
    ])
    feed = EngineFeed(price_scale=100.0, instruments={1})
    out = feed.convert(raw)
    assert set(out) == {1}
    ev = out[1]
    assert ev.time.tolist() == [1.0, 1.0, 3.0, 3.0]
    assert ev.is_trade.tolist() == [False, False, True, False]
    assert ev.bid.tolist() == [99.9, 99.9, 99.9, 99.9]
    assert math.isnan(ev.ask[0]) and ev.ask[1] == 100.1 and ev.ask[2] == 100.1 and math.isnan(ev.ask[3])
    assert ev.trade_price[2] == 100.1 and ev.trade_size[2] == 30 and ev.trade_sign[2] == 1
    both = EngineFeed().convert(raw)
    assert set(both) == {1, 2}


def test_bad_records() -> None:
    with pytest.raises(AnalyticsInputError, match="bytes"):
        EngineFeed().convert(np.zeros((2, 40), dtype=np.uint8))
    with pytest.raises(AnalyticsInputError, match="price_scale"):
        EngineFeed(price_scale=0.0)
    assert EngineFeed().convert(np.zeros((0, 96), dtype=np.uint8)) == {}
