"""LOBSTER -> market-data events through the replay's loader: the first GOOG rows by hand, and bad
files refused with the loader's message."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from trading.analytics.errors import AnalyticsInputError
from trading.analytics.events import MarketEvents, load_lobster


def test_first_goog_rows(goog: MarketEvents) -> None:
    # message row 1: 34200.015105074,4,15818974,4,5794000,1  (a visible execution against a resting
    # buy: seller-initiated); orderbook row 1: 5802300,100,5794000,496
    assert math.isclose(goog.time[0], 34200.015105074, rel_tol=0, abs_tol=1e-9)
    assert goog.is_trade[0] and goog.trade_sign[0] == -1
    assert goog.trade_price[0] == 579.4 and goog.trade_size[0] == 4
    assert (goog.ask[0], goog.ask_size[0], goog.bid[0], goog.bid_size[0]) == (580.23, 100, 579.4, 496)
    # row 3: 34200.113246707,5,0,1,5795100,1 (hidden execution)
    assert goog.is_trade[2] and goog.trade_price[2] == 579.51 and goog.trade_sign[2] == -1
    assert len(goog.two_sided()) == len(goog)


def test_bad_files(tmp_path: Path) -> None:
    msg = tmp_path / "X_2012-06-21_34200000_57600000_message_1.csv"
    book = tmp_path / "X_2012-06-21_34200000_57600000_orderbook_1.csv"
    msg.write_text("34200.0,1,1,100,1000000,1\n34200.5,1,2,100,1000100,-1\n")
    book.write_text("1000100,100,1000000,100\n")
    with pytest.raises(AnalyticsInputError, match="rows but the message file has 2"):
        load_lobster(msg, book)
    book.write_text("1000100,100,1000000,100\n1000100,100,1000000,100\n")
    assert len(load_lobster(msg, book)) == 2
    msg.write_text("34200.0,1,1,100,1000000,1\n34100.5,1,2,100,1000100,-1\n")
    with pytest.raises(AnalyticsInputError, match="backwards"):
        load_lobster(msg, book)
    msg.write_text("hello,world\n")
    with pytest.raises(AnalyticsInputError, match="columns"):
        load_lobster(msg, book)
    with pytest.raises(AnalyticsInputError, match="no such file"):
        load_lobster(tmp_path / "missing_message_1.csv", book)
