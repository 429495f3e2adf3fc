"""Capacity fixed at eng_create runs out as a REJECTED event with the ENGINE.md reason, never a
crash, and comes back when orders and levels go away; eng_check holds after every step."""
from __future__ import annotations

import pytest

from native.records import type_name
from native.messages import CmdAckEvent, Event, RejectedEvent
from native.engine import Engine, EngineInvalidError
from native.records import OrdType, Phase, Reason, Side, Tif, command_from_dict


class Stream:
    def __init__(self, eng: Engine) -> None:
        self.eng, self.seq = eng, 0

    def __call__(self, kind: str, instrument_id: int = 1, **fields: int) -> list[Event]:
        self.seq += 1
        events = self.eng.submit([command_from_dict({"type": kind, "instrument_id": instrument_id, "seq": self.seq,
                                                     "ts_ns": 1_000 * self.seq, **fields})])
        self.eng.check()
        return events

    def open(self, instrument_id: int = 1) -> None:
        self("ADD_INSTRUMENT", instrument_id, tick_size=1, lot_size=1, reference_price=100, market_collar_ticks=10)
        self("SET_PHASE", instrument_id, phase=Phase.PRE_OPEN)
        self("SET_PHASE", instrument_id, phase=Phase.CONTINUOUS)

    def limit(self, order_id: int, side: int, price: int, qty: int = 1, tif: int = Tif.GTC) -> list[dict]:
        return self("NEW_ORDER", order_id=order_id, side=side, price=price, qty=qty, ord_type=OrdType.LIMIT, tif=tif)


def only_reject(events: list[dict]) -> int:
    assert len(events) == 1 and isinstance(events[0], RejectedEvent), events
    return events[0].reason


def test_order_pool_exhaustion_rejects_with_order_capacity_and_recovers_after_cancel() -> None:
    with Engine(max_orders=3, max_levels=10, max_instruments=1, max_accounts=1) as eng:
        s = Stream(eng)
        s.open()
        for i in range(3):
            assert type_name(s.limit(i + 1, Side.BUY, 90 + i)[0]) == "ACCEPTED"
        assert only_reject(s.limit(4, Side.SELL, 200)) == Reason.REJ_ORDER_CAPACITY
        # an IOC needs a slot while it aggresses, so it is refused too
        assert only_reject(s.limit(5, Side.SELL, 92, tif=Tif.IOC)) == Reason.REJ_ORDER_CAPACITY
        assert eng.stats()["orders_live"] == 3
        assert type_name(s("CANCEL", order_id=2)[0]) == "CANCELLED"
        assert type_name(s.limit(4, Side.SELL, 200)[0]) == "ACCEPTED"


def test_level_pool_exhaustion_rejects_resting_orders_at_new_prices_only() -> None:
    with Engine(max_orders=100, max_levels=2, max_instruments=1, max_accounts=1) as eng:
        s = Stream(eng)
        s.open()
        s.limit(1, Side.BUY, 90)
        s.limit(2, Side.SELL, 110)
        assert only_reject(s.limit(3, Side.BUY, 91)) == Reason.REJ_LEVEL_CAPACITY
        # an existing level still takes orders, and an IOC never needs a level
        assert type_name(s.limit(4, Side.BUY, 90)[-1]) == "BOOK_LEVEL"
        assert eng.depth(1, Side.BUY) == [(90, 2, 2)]
        ioc = s.limit(5, Side.BUY, 95, tif=Tif.IOC)
        assert [type_name(e) for e in ioc] == ["ACCEPTED", "CANCELLED"]
        assert ioc[1].reason == Reason.CXL_IOC_REMAINDER
        # a replace to a new price needs a level too, and is refused without changing the order
        assert only_reject(s("REPLACE", order_id=1, price=89, qty=1)) == Reason.REJ_LEVEL_CAPACITY
        assert eng.order(1)["price"] == 90
        s("CANCEL", order_id=2)
        assert type_name(s.limit(3, Side.BUY, 91)[0]) == "ACCEPTED"


def test_instrument_ids_beyond_capacity_are_refused() -> None:
    with Engine(max_orders=10, max_levels=10, max_instruments=2, max_accounts=1) as eng:
        s = Stream(eng)
        for iid, reason in ((0, Reason.REJ_INSTRUMENT_CAPACITY), (3, Reason.REJ_INSTRUMENT_CAPACITY)):
            ev = s("ADD_INSTRUMENT", iid, tick_size=1, lot_size=1, reference_price=100)
            assert only_reject(ev) == reason
        assert type_name(s("ADD_INSTRUMENT", 2, tick_size=1, lot_size=1, reference_price=100)[0]) == "CMD_ACK"
        assert only_reject(s("ADD_INSTRUMENT", 2, tick_size=1, lot_size=1, reference_price=100)) == \
            Reason.REJ_DUPLICATE_INSTRUMENT


def test_filling_the_whole_pool_then_emptying_it_keeps_every_invariant() -> None:
    n = 500
    with Engine(max_orders=n, max_levels=n, max_instruments=1, max_accounts=1) as eng:
        s = Stream(eng)
        s.open()
        for i in range(n):
            s.limit(i + 1, Side.BUY if i % 2 else Side.SELL, 1_000 - i // 2 if i % 2 else 2_000 + i // 2)
        assert eng.stats()["orders_live"] == n and eng.stats()["levels_live"] == n
        assert only_reject(s.limit(n + 1, Side.BUY, 1)) == Reason.REJ_ORDER_CAPACITY
        ev = s("MASS_CANCEL")
        assert isinstance(ev[-1], CmdAckEvent) and ev[-1].affected == n
        assert eng.stats()["orders_live"] == 0 and eng.stats()["levels_live"] == 0


@pytest.mark.parametrize("field", ["max_orders", "max_levels", "max_instruments", "max_accounts"])
def test_zero_capacity_is_an_invalid_config(field: str) -> None:
    caps = {"max_orders": 1, "max_levels": 1, "max_instruments": 1, "max_accounts": 1, field: 0}
    with pytest.raises(ValueError):
        Engine(**caps)


def test_capacity_beyond_the_engine_limits_is_refused_by_the_c_side() -> None:
    with pytest.raises(EngineInvalidError):
        Engine(max_orders=1, max_levels=1, max_instruments=1 << 21, max_accounts=1)
