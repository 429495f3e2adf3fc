"""Self-trade prevention: the aggressor's mode decides when it meets a resting order of its own
non-zero STP group; no trade is ever printed between them."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _book(make_engine):
    """Asks at 10000: id1 4 lots (group 5, account 1), then id2 6 lots (no group, account 2)."""
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s) + [s.limit(1, 1, SELL, 4, 10_000, stp_group=5, account_id=1),
                             s.limit(1, 2, SELL, 6, 10_000, account_id=2)])
    return eng, s


def _buy(s, mode, qty=5):
    return s.limit(1, 9, BUY, qty, 10_000, stp_group=5, stp_mode=mode, account_id=3)


def test_cancel_resting_cancels_the_own_group_order_and_keeps_matching(make_engine):
    eng, s = _book(make_engine)
    buy = _buy(s, ENG.STP_CANCEL_RESTING)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.cancelled(buy, 1, ENG.CXL_STP, 4, account=1),
        ev.level(buy, SELL, 10_000, 6, 1),
        ev.trade(buy, 1, 9, 2, 10_000, 5, 0, 1, BUY, buy_account=3, sell_account=2),
        ev.level(buy, SELL, 10_000, 1, 1),
    ]


def test_cancel_aggressing_cancels_the_aggressor_and_leaves_the_book(make_engine):
    eng, s = _book(make_engine)
    buy = _buy(s, ENG.STP_CANCEL_AGGRESSING)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.cancelled(buy, 9, ENG.CXL_STP, 5, account=3)]
    assert eng.depth(1, SELL) == [(10_000, 10, 2)]


def test_cancel_both_cancels_resting_then_aggressor(make_engine):
    eng, s = _book(make_engine)
    buy = _buy(s, ENG.STP_CANCEL_BOTH)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.cancelled(buy, 1, ENG.CXL_STP, 4, account=1),
        ev.level(buy, SELL, 10_000, 6, 1),
        ev.cancelled(buy, 9, ENG.CXL_STP, 5, account=3),
    ]


def test_decrement_reduces_both_by_the_smaller_quantity_then_trades_on(make_engine):
    eng, s = _book(make_engine)
    buy = _buy(s, ENG.STP_DECREMENT, qty=7)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.cancelled(buy, 1, ENG.CXL_STP, 4, 0, account=1),
        ev.level(buy, SELL, 10_000, 6, 1),
        ev.cancelled(buy, 9, ENG.CXL_STP, 4, 3, account=3),
        ev.trade(buy, 1, 9, 2, 10_000, 3, 0, 3, BUY, buy_account=3, sell_account=2),
        ev.level(buy, SELL, 10_000, 3, 1),
    ]


def test_decrement_of_a_larger_resting_order_leaves_it_live_in_place(make_engine):
    eng, s = _book(make_engine)
    buy = _buy(s, ENG.STP_DECREMENT, qty=3)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.cancelled(buy, 1, ENG.CXL_STP, 3, 1, account=1),
        ev.level(buy, SELL, 10_000, 7, 2),
        ev.cancelled(buy, 9, ENG.CXL_STP, 3, 0, account=3),
    ]
    assert [o["order_id"] for o in eng.orders(1, SELL)] == [1, 2]


def test_orders_of_different_groups_or_mode_none_trade_normally(make_engine):
    eng, s = _book(make_engine)
    buy = s.limit(1, 9, BUY, 2, 10_000, stp_group=5, stp_mode=ENG.STP_NONE, account_id=1)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 9, 1, 10_000, 2, 0, 2, BUY, buy_account=1, sell_account=1),
        ev.level(buy, SELL, 10_000, 8, 2),
    ]


def test_unknown_stp_mode_is_rejected(make_engine):
    eng, s = _book(make_engine)
    buy = _buy(s, 5)
    assert eng.submit([buy]) == [ev.rejected(buy, ENG.REJ_BAD_STP_MODE)]
