"""Pre-trade risk: max order qty, max notional (exact), price collar around the reference price,
per-account position limits (open orders included) and their order of evaluation."""
from __future__ import annotations

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
INT64_MAX = (1 << 63) - 1


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_max_order_qty_and_notional_refuse_larger_orders(make_engine):
    eng, s = _continuous(make_engine)
    risk = s.set_instrument_risk(1, 10, 50_000, INT64_MAX)
    ok = s.limit(1, 1, BUY, 5, 10_000)          # notional exactly 50 000
    too_big = s.limit(1, 2, BUY, 11, 1_000)
    too_rich = s.limit(1, 3, BUY, 5, 10_001)
    market = s.market(1, 4, BUY, 6)             # MARKET uses the reference price: 60 000
    assert eng.submit([risk, ok, too_big, too_rich, market]) == [
        ev.ack(risk), ev.accepted(ok), ev.level(ok, BUY, 10_000, 5, 1),
        ev.rejected(too_big, ENG.REJ_MAX_QTY), ev.rejected(too_rich, ENG.REJ_MAX_NOTIONAL),
        ev.rejected(market, ENG.REJ_MAX_NOTIONAL)]
    assert eng.instrument(1)["max_order_qty"] == 10


def test_notional_is_computed_without_overflow(make_engine):
    eng, s = _continuous(make_engine)
    risk = s.set_instrument_risk(1, INT64_MAX, INT64_MAX, INT64_MAX)
    huge = s.limit(1, 1, BUY, 1 << 62, 10_000)  # price * qty far beyond int64
    assert eng.submit([risk, huge]) == [ev.ack(risk), ev.rejected(huge, ENG.REJ_MAX_NOTIONAL)]


def test_price_collar_follows_the_last_trade_price(make_engine):
    eng, s = _continuous(make_engine)
    risk = s.set_instrument_risk(1, INT64_MAX, INT64_MAX, 5)
    inside, outside = s.limit(1, 1, SELL, 1, 10_005), s.limit(1, 2, SELL, 1, 10_006)
    assert eng.submit([risk, inside, outside]) == [
        ev.ack(risk), ev.accepted(inside), ev.level(inside, SELL, 10_005, 1, 1),
        ev.rejected(outside, ENG.REJ_PRICE_COLLAR)]
    eng.submit([s.limit(1, 3, BUY, 1, 10_005)])  # last trade 10005: the collar moves up
    again = s.limit(1, 4, SELL, 1, 10_006)
    assert eng.submit([again]) == [ev.accepted(again), ev.level(again, SELL, 10_006, 1, 1)]


def test_position_limit_counts_position_and_open_orders_of_that_side(make_engine):
    eng, s = _continuous(make_engine)
    limit = s.set_account_limit(1, 2, 10)
    eng.submit([limit, s.limit(1, 1, SELL, 4, 10_000, account_id=3),
                s.limit(1, 2, BUY, 4, 10_000, account_id=2),   # position 4
                s.limit(1, 3, BUY, 5, 9_990, account_id=2)])   # open buy 5
    assert eng.position(2, 1) == {"position": 4, "open_buy_qty": 5, "open_sell_qty": 0,
                                  "max_position": 10}
    over = s.limit(1, 4, BUY, 2, 9_990, account_id=2)          # 4 + 5 + 2 > 10
    at = s.limit(1, 5, BUY, 1, 9_990, account_id=2)            # 4 + 5 + 1 = 10
    sell = s.limit(1, 6, SELL, 14, 10_020, account_id=2)       # 14 - 4 = 10
    sell_over = s.limit(1, 7, SELL, 1, 10_020, account_id=2)   # 15 - 4 > 10
    assert eng.submit([over, at, sell, sell_over]) == [
        ev.rejected(over, ENG.REJ_POSITION_LIMIT), ev.accepted(at),
        ev.level(at, BUY, 9_990, 6, 2), ev.accepted(sell), ev.level(sell, SELL, 10_020, 14, 1),
        ev.rejected(sell_over, ENG.REJ_POSITION_LIMIT)]


def test_replace_is_risk_checked_with_its_new_quantity(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.set_account_limit(1, 1, 10), s.limit(1, 1, BUY, 8, 9_990, account_id=1)])
    up, ok = s.replace(1, 1, 9_990, 11), s.replace(1, 1, 9_990, 10)
    assert eng.submit([up, ok]) == [ev.rejected(up, ENG.REJ_POSITION_LIMIT),
                                    ev.replaced(ok, 1, 9_990, 10, 10, 0, account=1),
                                    ev.level(ok, BUY, 9_990, 10, 1)]


def test_kill_switch_is_checked_before_the_other_risk_limits(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.set_instrument_risk(1, 1, INT64_MAX, INT64_MAX), s.set_kill_switch(1, 1)])
    buy = s.limit(1, 1, BUY, 5, 10_000, account_id=1)
    assert eng.submit([buy]) == [ev.rejected(buy, ENG.REJ_KILL_SWITCH)]


def test_negative_risk_values_are_rejected_as_bad_config(make_engine):
    eng, s = _continuous(make_engine)
    risk = s.set_instrument_risk(1, -1, 0, 0)
    limit = s.set_account_limit(1, 1, -5)
    unknown = s.set_account_limit(4, 1, 5)
    assert eng.submit([risk, limit, unknown]) == [
        ev.rejected(risk, ENG.REJ_BAD_CONFIG), ev.rejected(limit, ENG.REJ_BAD_CONFIG),
        ev.rejected(unknown, ENG.REJ_UNKNOWN_INSTRUMENT)]
