"""The notebook API: OrderFlowAnalyzer returns plain dataclasses for an instrument and a window,
and refuses an unknown instrument or an empty window with a clear message."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from tests.trading.tca.conftest import REFERENCE, S, T0
from trading.tca.analyzer import OrderFlowAnalyzer
from trading.tca.errors import NoData, UnknownInstrument


def test_analyze_order_flow_returns_plain_data(small_day: str) -> None:
    rep = OrderFlowAnalyzer(small_day, REFERENCE).analyze_order_flow("TEST", timedelta(hours=1))
    assert dataclasses.is_dataclass(rep) and dataclasses.is_dataclass(rep.costs)
    # 10 orders (maker 1, 2, 3, 4, 5; taker 10, 11, 12; algo 20, 21), 5 trades of 260 shares
    assert (rep.orders, rep.executions, rep.shares) == (10, 5, 260)
    assert rep.notional == pytest.approx(26_003.0)
    assert {q.name for q in rep.quality} == {"fill rate, market orders", "fill rate, limit orders",
                                             "price improvement", "market impact", "implementation shortfall"}
    assert all(q.how for q in rep.quality)
    assert {s.key for s in rep.by_strategy} == {"mm", "taker", "algo"}
    assert len(rep.order_rows) == 10 and rep.order_rows[0]["symbol"] == "TEST"


def test_window_restricts_the_flow(small_day: str) -> None:
    an = OrderFlowAnalyzer(small_day, REFERENCE)
    end = datetime.fromtimestamp((T0 + 25 * S) / 1e9, tz=timezone.utc)
    # 15 s .. 25 s: order 11, and the maker's order 4 (accepted at 3 s) that it traded with
    rep = an.analyze_order_flow("TEST", timedelta(seconds=10), end=end)
    assert (rep.orders, rep.executions, rep.shares) == (2, 1, 60)


def test_unknown_instrument_and_empty_window(small_day: str) -> None:
    an = OrderFlowAnalyzer(small_day, REFERENCE)
    with pytest.raises(UnknownInstrument, match="unknown instrument 'MSFT'; known: TEST"):
        an.analyze_order_flow("MSFT", timedelta(hours=1))
    with pytest.raises(NoData, match="no orders between"):
        an.analyze_order_flow("TEST", timedelta(hours=1), end=datetime(2020, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="window must be positive"):
        an.analyze_order_flow("TEST", timedelta(0))
