"""LIMIT orders in continuous trading: resting, price-time priority, trading at the passive price."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_limit_order_that_does_not_cross_rests_and_reports_its_level(make_engine):
    eng, s = _continuous(make_engine)
    buy = s.limit(1, 1, BUY, 10, 9_999, account_id=3)
    assert eng.submit([buy]) == [ev.accepted(buy), ev.level(buy, BUY, 9_999, 10, 1)]
    assert eng.depth(1, BUY) == [(9_999, 10, 1)]
    assert eng.depth(1, SELL) == []
    assert eng.position(3, 1) == {"position": 0, "open_buy_qty": 10, "open_sell_qty": 0,
                                  "max_position": (1 << 63) - 1}


def test_crossing_limit_trades_at_passive_prices_in_price_then_time_priority(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 5, 10_001, account_id=1),
                s.limit(1, 2, SELL, 5, 10_001, account_id=2),
                s.limit(1, 3, SELL, 5, 10_002, account_id=1)])
    buy = s.limit(1, 4, BUY, 12, 10_002, account_id=3)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 4, 1, 10_001, 5, 7, 0, BUY, buy_account=3, sell_account=1),
        ev.level(buy, SELL, 10_001, 5, 1),
        ev.trade(buy, 2, 4, 2, 10_001, 5, 2, 0, BUY, buy_account=3, sell_account=2),
        ev.level(buy, SELL, 10_001, 0, 0),
        ev.trade(buy, 3, 4, 3, 10_002, 2, 0, 3, BUY, buy_account=3, sell_account=1),
        ev.level(buy, SELL, 10_002, 3, 1),
    ]
    assert eng.depth(1, SELL) == [(10_002, 3, 1)]
    assert eng.depth(1, BUY) == []
    assert eng.order(4) is None
    assert eng.position(3, 1)["position"] == 12
    assert eng.position(1, 1) == {"position": -7, "open_buy_qty": 0, "open_sell_qty": 3,
                                  "max_position": (1 << 63) - 1}
    assert eng.instrument(1)["last_trade_price"] == 10_002
    assert eng.instrument(1)["has_last_trade"] == 1


def test_partially_filled_limit_rests_its_remainder_at_its_own_price(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 5, 10_000)])
    buy = s.limit(1, 2, BUY, 8, 10_003)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 2, 1, 10_000, 5, 3, 0, BUY),
        ev.level(buy, SELL, 10_000, 0, 0),
        ev.level(buy, BUY, 10_003, 3, 1),
    ]
    info = eng.order(2)
    assert (info["leaves_qty"], info["shown_qty"], info["price"]) == (3, 3, 10_003)


def test_sell_limit_walks_bids_from_the_highest_price_down(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 4, 9_998), s.limit(1, 2, BUY, 4, 10_000),
                s.limit(1, 3, BUY, 4, 9_999)])
    assert eng.depth(1, BUY) == [(10_000, 4, 1), (9_999, 4, 1), (9_998, 4, 1)]
    sell = s.limit(1, 4, SELL, 6, 9_999)
    assert eng.submit([sell]) == [
        ev.accepted(sell),
        ev.trade(sell, 1, 2, 4, 10_000, 4, 0, 2, SELL),
        ev.level(sell, BUY, 10_000, 0, 0),
        ev.trade(sell, 2, 3, 4, 9_999, 2, 2, 0, SELL),
        ev.level(sell, BUY, 9_999, 2, 1),
    ]
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [3, 1]
