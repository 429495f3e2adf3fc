"""The Fill a strategy's on_fill gets (a NamedTuple, built per own fill with tuple.__new__ in
Context._own_fill): its fields by name in their order, immutable, equal, hashed and printed by
its fields, the primary instrument by default; and the one apply_record builds from a TRADE record
is the one the keyword constructor builds."""
from __future__ import annotations

import pickle

import pytest

from native.messages import AcceptedEvent, TradeEvent
from tests.trading.strategy.test_event_decoder import _record
from trading.strategy.api import BUY, SELL, Fill
from trading.strategy.context import Context


def test_fill_fields_equality_repr_and_immutability() -> None:
    f = Fill(ts_ns=5, order_id=9, side=BUY, price=101, qty=30, leaves_qty=70, maker=True, fee=-0.06)
    assert Fill._fields == ("ts_ns", "order_id", "side", "price", "qty", "leaves_qty", "maker", "fee",
                            "instrument_id")
    assert (f.ts_ns, f.order_id, f.side, f.price, f.qty, f.leaves_qty, f.maker, f.fee, f.instrument_id) == \
        (5, 9, BUY, 101, 30, 70, True, -0.06, 0)
    assert repr(f) == ("Fill(ts_ns=5, order_id=9, side=1, price=101, qty=30, leaves_qty=70, maker=True, "
                       "fee=-0.06, instrument_id=0)")
    same = Fill(5, 9, BUY, 101, 30, 70, True, -0.06, 0)
    assert f == same and hash(f) == hash(same) and f != f._replace(qty=31)
    with pytest.raises(AttributeError):
        f.qty = 1      # type: ignore[misc]
    assert pickle.loads(pickle.dumps(f)) == f


def test_apply_record_builds_the_fill_the_constructor_builds() -> None:
    got: list[Fill] = []
    ctx = Context(4, 2, invoke=lambda name, *args: got.append(args[0]) if name == "on_fill" else None)
    ctx.add_instrument(6)
    bid, ask = ctx.place(BUY, 100, 10), ctx.place(SELL, 105, 10, instrument=6)
    for oid in (bid, ask):
        ctx.apply_record(_record(AcceptedEvent(order_id=oid)), 0)
    ctx.apply_record(_record(TradeEvent(ts_ns=7, buy_order_id=bid, sell_order_id=1, price=100, qty=4,
                                        buy_leaves_qty=6, buy_account_id=2, sell_account_id=0, aggressor_side=SELL)), 0)
    ctx.apply_record(_record(TradeEvent(ts_ns=8, buy_order_id=1, sell_order_id=ask, price=105, qty=10,
                                        sell_leaves_qty=0, buy_account_id=0, sell_account_id=2, aggressor_side=BUY)), 0)
    fee = ctx.fees.maker_per_share
    assert got == [Fill(ts_ns=7, order_id=bid, side=BUY, price=100, qty=4, leaves_qty=6, maker=True, fee=4 * fee,
                        instrument_id=4),
                   Fill(ts_ns=8, order_id=ask, side=SELL, price=105, qty=10, leaves_qty=0, maker=True, fee=10 * fee,
                        instrument_id=6)]
    assert all(type(f) is Fill for f in got)
    assert ctx.orders[bid].leaves_qty == 6 and ctx.orders[bid].filled_qty == 4 and ask not in ctx.orders
    assert ctx.positions == {4: 4, 6: -10} and ctx.fill_count == 2
