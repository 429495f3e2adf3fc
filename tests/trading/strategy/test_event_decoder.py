"""The strategy runtime's per-record event decoder gives the same Structs as native.records'
bulk decoder, on every event of a replayed LOBSTER sample (trades, book levels, rejects, acks)
and on records of a type the layout does not know; Context.apply_record (records, no Structs)
books each own event type as apply_event does."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from native import records
from native.engine import Engine
from native.messages import (AcceptedEvent, CancelledEvent, CmdType, Event, ExpiredEvent, Reason, RejectedEvent,
                             ReplacedEvent, TradeEvent)
from tests.trading.replay.conftest import AAPL, sample
from trading.replay.history import MAX_ACCOUNTS, build_history
from trading.replay.lobster import load_lobster
from trading.strategy.context import Context
from trading.strategy.decode import decode_event_records, field_picker


def test_per_record_decoder_matches_the_bulk_decoder():
    hist = build_history(load_lobster(sample(AAPL)))
    recs = hist.records.copy()
    recs.view(records.dtype_of("eng_cmd_hdr_t"))["seq"] = np.arange(1, len(recs) + 1, dtype=np.uint64)
    with Engine(max_orders=1 << 14, max_levels=1 << 12, max_instruments=1, max_accounts=MAX_ACCOUNTS) as eng:
        events = eng.submit_records(recs)
    types = set(events.view(records.dtype_of("eng_evt_hdr_t"))["type"].tolist())
    assert {1, 3, 4, 8} <= types, types
    odd = events[:2].copy()
    odd.view(records.dtype_of("eng_evt_hdr_t"))["type"] = 250    # unknown type: the bulk decoder's UnknownEvent
    for batch in (events, odd):
        assert decode_event_records(batch.tobytes(), len(batch)) == records.decode_events(batch)


def _record(ev: Event) -> bytes:
    """The engine's 96-byte record of an event Struct (the layout's dtype, every field set)."""
    rec = np.zeros(1, dtype=records.RECORD_DTYPE)
    view = rec.view(records.EVT_DTYPES[type(ev).CODE])
    for name in ev.__struct_fields__:
        view[name] = getattr(ev, name)
    view["type"] = type(ev).CODE
    return rec.tobytes()


def _own_events(ctx: Context) -> list[Event]:
    """One of each own event type about the context's orders a, b, c (and one of someone else's)."""
    a, b, c = ctx.buy(100, 10), ctx.sell(105, 20), ctx.buy(99, 5)
    return [AcceptedEvent(ts_ns=1, order_id=a), AcceptedEvent(ts_ns=1, order_id=b),
            TradeEvent(ts_ns=2, buy_order_id=a, sell_order_id=9, price=100, qty=4, buy_leaves_qty=6,
                       buy_account_id=ctx.account_id, sell_account_id=1, aggressor_side=2),
            TradeEvent(ts_ns=3, buy_order_id=8, sell_order_id=b, price=105, qty=20, sell_leaves_qty=0,
                       buy_account_id=1, sell_account_id=ctx.account_id, aggressor_side=1),
            ReplacedEvent(ts_ns=4, order_id=a, price=101, leaves_qty=3),
            CancelledEvent(ts_ns=5, order_id=a, cancelled_qty=1, leaves_qty=2, reason=int(Reason.CXL_USER)),
            CancelledEvent(ts_ns=6, order_id=a, cancelled_qty=2, leaves_qty=0, reason=int(Reason.CXL_USER)),
            RejectedEvent(ts_ns=7, order_id=c, cmd_type=int(CmdType.NEW_ORDER), reason=int(Reason.REJ_BAD_QTY)),
            ExpiredEvent(ts_ns=8, order_id=12345, expired_qty=1),
            TradeEvent(ts_ns=9, buy_order_id=7, sell_order_id=6, price=100, qty=1, buy_account_id=1,
                       sell_account_id=1)]


def test_apply_record_books_every_own_event_type_as_apply_event() -> None:
    """Context.apply_record (the C loop's records, only the needed fields unpacked) leaves the
    context as apply_event does with the decoded Structs: orders, ledger, counters and callbacks."""
    states = []
    for by_record in (False, True):
        calls: list[tuple[Any, ...]] = []
        ctx = Context(1, 2, invoke=lambda name, *args: calls.append((name, *args)))
        events = _own_events(ctx)
        codes = [ctx.apply_record(_record(ev) * 2, 96) if by_record else ctx.apply_event(ev) for ev in events]
        if by_record:
            assert codes == [type(ev).CODE for ev in events]
        led = ctx.ledger
        states.append((calls, ctx.orders, ctx.rejects, ctx.rejected_new, ctx.fill_count,
                       (led.position, led.realized, led.fees, led.cash, led.volume, led.maker_volume)))
    assert states[0] == states[1]
    calls = states[0][0]
    assert [c[0] for c in calls] == ["on_accepted", "on_accepted", "on_fill", "on_fill", "on_cancelled", "on_rejected"]


def test_field_picker_refuses_names_out_of_order_or_unknown() -> None:
    code = TradeEvent.CODE
    assert field_picker(code, ("price", "qty")).unpack_from(_record(TradeEvent(price=7, qty=3))) == (7, 3)
    with pytest.raises(ValueError, match="record order"):
        field_picker(code, ("qty", "price"))
    with pytest.raises(ValueError, match="record order"):
        field_picker(code, ("price", "nope"))
