"""The seed example: a market buy sweeping the AAPL ask side at the best prices, checked event by
event, with eng_check after every step (price unit 1/10000 USD, tick 100)."""
from __future__ import annotations

from native.records import type_name
from native.messages import BookLevelEvent, Command, Event, TradeEvent
from native.records import command_from_dict, to_dict
from native.engine import Engine
from native.records import CmdType, EvtType, OrdType, Phase, Side, Tif

AAPL = 1

ASKS = [(1_500_100, [200, 200]), (1_500_200, [150, 150, 150, 150]), (1_500_300, [250]), (1_500_400, [800])]
BIDS = [(1_499_900, [200, 200, 100]), (1_499_800, [150] * 5), (1_499_700, [150, 150]), (1_499_600, [200])]


class Seq:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, kind: str, instrument_id: int = AAPL, **fields: int) -> Command:
        self.n += 1
        return command_from_dict({"type": kind, "instrument_id": instrument_id, "seq": self.n,
                                  "ts_ns": 1_000 * self.n, **fields})


def step(eng: Engine, cmd: Command) -> list[Event]:
    events = eng.submit([cmd])
    eng.check()
    return events


def seeded_book() -> tuple[Engine, Seq, int]:
    eng = Engine(max_orders=1_000, max_levels=100, max_instruments=4, max_accounts=8)
    s = Seq()
    step(eng, s("ADD_INSTRUMENT", tick_size=100, lot_size=1, reference_price=1_500_000, market_collar_ticks=50))
    step(eng, s("SET_PHASE", phase=Phase.PRE_OPEN))
    step(eng, s("SET_PHASE", phase=Phase.CONTINUOUS))
    oid = 0
    for side, levels in ((Side.SELL, ASKS), (Side.BUY, BIDS)):
        for price, sizes in levels:
            for qty in sizes:
                oid += 1
                ev = step(eng, s("NEW_ORDER", order_id=oid, side=side, price=price, qty=qty, ord_type=OrdType.LIMIT,
                                 tif=Tif.GTC, account_id=1))
                assert [type_name(e) for e in ev] == ["ACCEPTED", "BOOK_LEVEL"]
    return eng, s, oid


def test_seed_book_depth_matches_the_example() -> None:
    eng, _, _ = seeded_book()
    assert eng.depth(AAPL, Side.SELL) == [(p, sum(q), len(q)) for p, q in ASKS]
    assert eng.depth(AAPL, Side.BUY) == [(p, sum(q), len(q)) for p, q in BIDS]
    assert eng.depth(AAPL, Side.SELL)[:2] == [(1_500_100, 400, 2), (1_500_200, 600, 4)]


def test_market_buy_600_fills_400_at_150_01_and_200_at_150_02() -> None:
    eng, s, oid = seeded_book()
    events = step(eng, s("NEW_ORDER", order_id=oid + 1, side=Side.BUY, qty=600, ord_type=OrdType.MARKET,
                         tif=Tif.IOC, account_id=2))
    kinds = [type_name(e) for e in events]
    assert kinds == ["ACCEPTED"] + ["TRADE", "BOOK_LEVEL"] * 4
    trades = [e for e in events if isinstance(e, TradeEvent)]
    assert [(t.price, t.qty) for t in trades] == [(1_500_100, 200), (1_500_100, 200), (1_500_200, 150),
                                                         (1_500_200, 50)]
    assert [t.trade_id for t in trades] == [1, 2, 3, 4]
    assert all(t.aggressor_side == Side.BUY and t.buy_order_id == oid + 1 for t in trades)
    assert [t.buy_leaves_qty for t in trades] == [400, 200, 50, 0]
    assert trades[-1].sell_leaves_qty == 100
    filled = sum(t.qty for t in trades)
    notional = sum(t.price * t.qty for t in trades)
    # volume-weighted average 90008/600 = 150.01333 USD (150.015 is the plain mean of the two prices)
    assert filled == 600 and notional == 400 * 1_500_100 + 200 * 1_500_200 == 900_080_000
    levels = [(e.price, e.qty, e.order_count) for e in events if isinstance(e, BookLevelEvent)]
    assert levels == [(1_500_100, 200, 1), (1_500_100, 0, 0), (1_500_200, 450, 3), (1_500_200, 400, 3)]
    assert eng.depth(AAPL, Side.SELL)[0] == (1_500_200, 400, 3)
    assert eng.position(2, AAPL)["position"] == 600
    assert eng.position(1, AAPL)["position"] == -600
    assert eng.instrument(AAPL)["last_trade_price"] == 1_500_200


def test_seed_events_are_plain_ints_with_enum_values() -> None:
    eng, s, oid = seeded_book()
    ev = step(eng, s("CANCEL", order_id=1))
    assert type_name(ev[0]) == EvtType.CANCELLED.name and ev[0].reason == 400
    assert all(type(v) is int for e in ev for k, v in to_dict(e).items() if k != "type")
    assert int(CmdType.CANCEL) == 2
