"""Bad input through the Python API: every malformed request becomes a REJECTED with the right
reason (never a crash), and a command that is not a Struct or does not fit the layout raises
before anything runs."""
from __future__ import annotations

import msgspec
import pytest

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine, **capacity):
    eng, s = make_engine(**capacity), CommandStream()
    eng.submit(opening(s, tick_size=5, lot_size=10, reference_price=5_000))
    return eng, s


@pytest.mark.parametrize("order, reason", [
    (dict(instrument_id=3), ENG.REJ_UNKNOWN_INSTRUMENT),
    (dict(qty=0), ENG.REJ_BAD_QTY),
    (dict(qty=-10), ENG.REJ_BAD_QTY),
    (dict(qty=15), ENG.REJ_OFF_LOT),
    (dict(price=5_001), ENG.REJ_OFF_TICK),
    (dict(price=0), ENG.REJ_BAD_PRICE),
    (dict(price=-5), ENG.REJ_BAD_PRICE),
    (dict(side=0), ENG.REJ_BAD_SIDE),
    (dict(side=3), ENG.REJ_BAD_SIDE),
    (dict(ord_type=9), ENG.REJ_BAD_ORDER_TYPE),
    (dict(tif=0), ENG.REJ_BAD_TIF),
    (dict(account_id=8), ENG.REJ_BAD_ACCOUNT),
    (dict(order_id=0), ENG.REJ_DUPLICATE_ORDER_ID),
    (dict(stop_price=5_000), ENG.REJ_BAD_STOP_PRICE),
    (dict(ord_type=ENG.ORD_STOP_LIMIT, stop_price=5_002), ENG.REJ_OFF_TICK),
    (dict(ord_type=ENG.ORD_STOP, stop_price=5_000), ENG.REJ_BAD_PRICE),
    (dict(flags=ENG.FLAG_ICEBERG, display_qty=5), ENG.REJ_OFF_LOT),
    (dict(qty=0, price=5_001), ENG.REJ_BAD_QTY),  # first failure wins
])
def test_invalid_new_order_is_rejected_with_its_reason(make_engine, order, reason):
    eng, s = _continuous(make_engine)
    fields = dict(instrument_id=1, order_id=1, side=BUY, qty=10, price=5_000) | order
    cmd = s.new_order(**fields)
    assert eng.submit([cmd]) == [ev.rejected(cmd, reason)]
    assert eng.order(1) is None


def test_unknown_order_id_in_cancel_and_replace_is_rejected(make_engine):
    eng, s = _continuous(make_engine)
    cancel, replace = s.cancel(1, 42), s.replace(1, 42, 5_000, 10)
    assert eng.submit([cancel, replace]) == [ev.rejected(cancel, ENG.REJ_UNKNOWN_ORDER),
                                             ev.rejected(replace, ENG.REJ_UNKNOWN_ORDER)]


def test_live_order_id_cannot_be_reused_until_the_order_is_gone(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 10, 4_990)])
    dup = s.limit(1, 1, SELL, 10, 5_010)
    cancel = s.cancel(1, 1)
    reuse = s.limit(1, 1, SELL, 10, 5_010)
    assert eng.submit([dup, cancel, reuse]) == [
        ev.rejected(dup, ENG.REJ_DUPLICATE_ORDER_ID),
        ev.cancelled(cancel, 1, ENG.CXL_USER, 10), ev.level(cancel, BUY, 4_990, 0, 0),
        ev.accepted(reuse), ev.level(reuse, SELL, 5_010, 10, 1)]


def test_order_capacity_exhausted_is_rejected_and_frees_up_again(make_engine):
    eng, s = _continuous(make_engine, max_orders=2)
    eng.submit([s.limit(1, 1, BUY, 10, 4_990), s.limit(1, 2, BUY, 10, 4_990)])
    full = s.limit(1, 3, BUY, 10, 4_990)
    cancel = s.cancel(1, 1)
    again = s.limit(1, 3, BUY, 10, 4_990)
    assert eng.submit([full, cancel, again]) == [
        ev.rejected(full, ENG.REJ_ORDER_CAPACITY),
        ev.cancelled(cancel, 1, ENG.CXL_USER, 10), ev.level(cancel, BUY, 4_990, 10, 1),
        ev.accepted(again), ev.level(again, BUY, 4_990, 20, 2)]


def test_level_capacity_exhausted_rejects_only_orders_needing_a_new_level(make_engine):
    eng, s = _continuous(make_engine, max_levels=2)
    eng.submit([s.limit(1, 1, BUY, 10, 4_990), s.limit(1, 2, SELL, 10, 5_010)])
    new_level = s.limit(1, 3, BUY, 10, 4_995)
    same_level = s.limit(1, 4, BUY, 10, 4_990)
    ioc = s.limit(1, 5, BUY, 10, 4_995, tif=ENG.TIF_IOC)
    move = s.replace(1, 1, 4_985, 10)
    assert eng.submit([new_level, same_level, ioc, move]) == [
        ev.rejected(new_level, ENG.REJ_LEVEL_CAPACITY),
        ev.accepted(same_level), ev.level(same_level, BUY, 4_990, 20, 2),
        ev.accepted(ioc), ev.cancelled(ioc, 5, ENG.CXL_IOC_REMAINDER, 10),
        ev.rejected(move, ENG.REJ_LEVEL_CAPACITY)]


def test_instrument_capacity_and_bad_instrument_config_are_rejected(make_engine):
    eng, s = make_engine(max_instruments=2), CommandStream()
    zero, beyond = s.add_instrument(0), s.add_instrument(3)
    ok, dup = s.add_instrument(2), s.add_instrument(2)
    bad_tick, off_grid = s.add_instrument(1, tick_size=0), s.add_instrument(1, tick_size=3,
                                                                            reference_price=10)
    assert eng.submit([zero, beyond, ok, dup, bad_tick, off_grid]) == [
        ev.rejected(zero, ENG.REJ_INSTRUMENT_CAPACITY),
        ev.rejected(beyond, ENG.REJ_INSTRUMENT_CAPACITY), ev.ack(ok),
        ev.rejected(dup, ENG.REJ_DUPLICATE_INSTRUMENT), ev.rejected(bad_tick, ENG.REJ_BAD_CONFIG),
        ev.rejected(off_grid, ENG.REJ_BAD_CONFIG)]
    assert eng.instrument(1) is None


def test_sequence_number_must_increase(make_engine):
    eng, s = _continuous(make_engine)
    first = s.limit(1, 1, BUY, 10, 4_990)
    replayed = msgspec.structs.replace(first, order_id=2)
    assert eng.submit([first, replayed]) == [ev.accepted(first),
                                             ev.level(first, BUY, 4_990, 10, 1),
                                             ev.rejected(replayed, ENG.REJ_BAD_SEQUENCE)]


def test_unknown_command_type_is_rejected_with_its_raw_type(make_engine):
    eng, s = _continuous(make_engine)
    cmd = s.raw(77, 1)
    assert eng.submit([cmd]) == [ev.rejected(cmd, ENG.REJ_UNKNOWN_COMMAND)]


def test_malformed_command_raises_before_any_effect(make_engine):
    eng, s = _continuous(make_engine)
    good = s.limit(1, 1, BUY, 10, 4_990)
    with pytest.raises(TypeError):
        eng.submit([good, {"type": "CANCEL", "instrument_id": 1, "seq": 100, "order_id": 1}])
    with pytest.raises(OverflowError):
        eng.submit([good, msgspec.structs.replace(s.cancel(1, 1), order_id=-1)])
    with pytest.raises(ValueError):
        eng.submit([good, msgspec.structs.replace(s.cancel(1, 1), order_id="1")])
    assert eng.depth(1, BUY) == []
