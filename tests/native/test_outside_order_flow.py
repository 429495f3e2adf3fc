"""EXECUTE, REDUCE and SEED_LEVEL (ENGINE.md "Outside order flow"), on both implementations:
an execution of a named resting order prints a TRADE with positions and last price and triggers
stops; quantities clamp to what is there; seeded liquidity rests, trades like any order and is the
only quantity a negative seed removes."""
from __future__ import annotations

from native.messages import NewOrder
from native.records import type_name
from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
SEED = 1 << 63


def _continuous(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s))
    return eng, s


def test_execute_prints_a_trade_against_the_named_order_with_positions_and_last_price(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990, account_id=2), s.limit(1, 2, BUY, 4, 9_990, account_id=1)])
    ex = s.execute(1, 2, 3, contra_account_id=5)   # the second in the queue, named
    assert eng.submit([ex]) == [
        ev.trade(ex, 1, buy=2, sell=0, price=9_990, qty=3, buy_leaves=1, sell_leaves=0, aggressor=SELL,
                 buy_account=1, sell_account=5),
        ev.level(ex, BUY, 9_990, 6, 2), ev.ack(ex)]
    assert eng.position(1, 1)["position"] == 3 and eng.position(5, 1)["position"] == -3
    assert eng.position(1, 1)["open_buy_qty"] == 1
    assert eng.instrument(1)["last_trade_price"] == 9_990
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [1, 2]   # order 2 keeps its place


def test_execute_clamps_to_the_leaves_and_removes_the_order(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 7, SELL, 5, 10_010)])
    ex = s.execute(1, 7, 50, contra_account_id=3)
    assert eng.submit([ex]) == [
        ev.trade(ex, 1, buy=0, sell=7, price=10_010, qty=5, buy_leaves=0, sell_leaves=0, aggressor=BUY,
                 buy_account=3, sell_account=0),
        ev.level(ex, SELL, 10_010, 0, 0), ev.ack(ex)]
    assert eng.order(7) is None
    again = s.execute(1, 7, 1)
    assert eng.submit([again]) == [ev.rejected(again, ENG.REJ_UNKNOWN_ORDER)]


def test_execute_of_an_iceberg_takes_the_peak_then_refills_at_the_back(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 10, 10_010, flags=ENG.FLAG_ICEBERG, display_qty=4),
                s.limit(1, 2, SELL, 3, 10_010)])
    ex = s.execute(1, 1, 4)
    assert eng.submit([ex]) == [
        ev.trade(ex, 1, buy=0, sell=1, price=10_010, qty=4, buy_leaves=0, sell_leaves=6, aggressor=BUY),
        ev.level(ex, SELL, 10_010, 7, 2), ev.ack(ex)]
    assert [o["order_id"] for o in eng.orders(1, SELL)] == [2, 1]


def test_execute_moves_the_last_price_and_triggers_stops(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 5, 10_010), s.limit(1, 2, SELL, 5, 10_020),
                s.new_order(1, 3, BUY, 2, ord_type=ENG.ORD_STOP, stop_price=10_010, tif=ENG.TIF_IOC)])
    ex = s.execute(1, 1, 1)
    events = eng.submit([ex])
    assert [type_name(e) for e in events] == ["TRADE", "BOOK_LEVEL", "TRIGGERED", "TRADE", "BOOK_LEVEL", "CMD_ACK"]
    assert events[3].buy_order_id == 3 and events[3].qty == 2


def test_execute_rejections_in_order(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit([s.add_instrument(1, lot_size=10), s.set_phase(1, ENG.PHASE_PRE_OPEN),
                s.limit(1, 1, BUY, 20, 9_990),
                s.new_order(1, 2, SELL, 10, ord_type=ENG.ORD_STOP, stop_price=9_000)])
    cases = [(s.execute(1, 9, 10), ENG.REJ_UNKNOWN_ORDER), (s.execute(1, 2, 10), ENG.REJ_NOT_RESTING),
             (s.execute(1, 1, 0), ENG.REJ_BAD_QTY), (s.execute(1, 1, 5), ENG.REJ_OFF_LOT),
             (s.execute(1, 1, 10, contra_account_id=8), ENG.REJ_BAD_ACCOUNT),
             (s.execute(1, 1, 10), ENG.REJ_PHASE)]
    for cmd, reason in cases:
        assert eng.submit([cmd]) == [ev.rejected(cmd, reason)], reason


def test_reduce_takes_a_quantity_off_in_place_and_cancels_at_zero(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_990, account_id=2), s.limit(1, 2, BUY, 3, 9_990)])
    red = s.reduce(1, 1, 2)
    assert eng.submit([red]) == [ev.replaced(red, 1, 9_990, 3, 3, 1, account=2),
                                 ev.level(red, BUY, 9_990, 6, 2), ev.ack(red)]
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [1, 2]
    gone = s.reduce(1, 1, 100)
    assert eng.submit([gone]) == [ev.cancelled(gone, 1, ENG.CXL_USER, 3, account=2),
                                  ev.level(gone, BUY, 9_990, 3, 1), ev.ack(gone, 1)]
    assert eng.position(2, 1)["open_buy_qty"] == 0


def test_seed_rests_anonymous_liquidity_that_trades_like_any_order(make_engine):
    eng, s = _continuous(make_engine)
    seed = s.seed_level(1, SELL, 10_010, 7, account_id=3)
    acc = NewOrder(instrument_id=1, seq=seed.seq, ts_ns=seed.ts_ns, order_id=SEED | seed.seq, price=10_010,
                   qty=7, account_id=3, side=SELL, ord_type=ENG.ORD_LIMIT, tif=ENG.TIF_GTC)
    assert eng.submit([seed]) == [ev.accepted(acc), ev.level(seed, SELL, 10_010, 7, 1), ev.ack(seed)]
    buy = s.limit(1, 1, BUY, 2, 10_010, tif=ENG.TIF_IOC)
    events = eng.submit([buy])
    assert events[1].sell_order_id == SEED | seed.seq and events[1].sell_account_id == 3
    assert eng.position(3, 1)["position"] == -2


def test_negative_seed_removes_only_seeded_quantity_newest_first(make_engine):
    eng, s = _continuous(make_engine)
    first = s.seed_level(1, BUY, 9_990, 4)
    eng.submit([first, s.limit(1, 1, BUY, 5, 9_990)])
    second = s.seed_level(1, BUY, 9_990, 3)
    eng.submit([second])
    cut = s.seed_level(1, BUY, 9_990, -5)
    assert eng.submit([cut]) == [
        ev.cancelled(cut, SEED | second.seq, ENG.CXL_USER, 3), ev.level(cut, BUY, 9_990, 9, 2),
        ev.replaced(cut, SEED | first.seq, 9_990, 2, 2, 1), ev.level(cut, BUY, 9_990, 7, 2),
        ev.ack(cut, 1)]
    more = s.seed_level(1, BUY, 9_990, -50)   # a shortfall is not an error; order 1 is never touched
    assert eng.submit([more])[-1] == ev.ack(more, 1)
    assert eng.depth(1, BUY) == [(9_990, 5, 1)]
    nothing = s.seed_level(1, BUY, 9_000, -5)
    assert eng.submit([nothing]) == [ev.ack(nothing)]


def test_seed_rejections(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, SELL, 5, 10_010)])
    cases = [(s.seed_level(9, BUY, 9_990, 1), ENG.REJ_UNKNOWN_INSTRUMENT),
             (s.seed_level(1, BUY, 9_990, 1, account_id=8), ENG.REJ_BAD_ACCOUNT),
             (s.seed_level(1, 0, 9_990, 1), ENG.REJ_BAD_SIDE),
             (s.seed_level(1, BUY, 9_990, 0), ENG.REJ_BAD_QTY),
             (s.seed_level(1, BUY, 0, 1), ENG.REJ_BAD_PRICE),
             (s.seed_level(1, BUY, 10_010, 1), ENG.REJ_WOULD_CROSS)]
    for cmd, reason in cases:
        assert eng.submit([cmd]) == [ev.rejected(cmd, reason)], reason


def test_seed_is_allowed_before_the_open_and_may_cross_in_pre_open(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit([s.add_instrument(1)])
    closed = s.seed_level(1, BUY, 10_010, 5)
    assert eng.submit([closed])[-1] == ev.ack(closed)
    eng.submit([s.set_phase(1, ENG.PHASE_PRE_OPEN)])
    crossing = s.seed_level(1, SELL, 10_000, 5)
    assert eng.submit([crossing])[-1] == ev.ack(crossing)
