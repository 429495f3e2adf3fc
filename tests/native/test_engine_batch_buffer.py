"""eng_submit's own event buffer grows in the middle of a command that emits more events than it
holds (a mass cancel of many orders), losing nothing and keeping the order of events."""
from __future__ import annotations

import numpy as np

from native.messages import AddInstrument, BookLevelEvent, CmdAckEvent, EndOfDay, ExpiredEvent, SetPhase
from native.engine import Engine
from native.records import CMD_DTYPES, EVT_DTYPES, CmdType, EvtType, OrdType, Side, Tif, decode_events, encode_commands


def test_one_command_with_tens_of_thousands_of_events_comes_back_whole() -> None:
    n = 30_000
    head = encode_commands([
        AddInstrument(instrument_id=1, seq=1, tick_size=1, lot_size=1, reference_price=5_000),
        SetPhase(instrument_id=1, seq=2, phase=1),
    ])
    adds = np.zeros(n, dtype=head.dtype)
    v = adds.view(CMD_DTYPES[CmdType.NEW_ORDER])
    ids = np.arange(1, n + 1)
    v["type"], v["instrument_id"], v["seq"], v["order_id"] = CmdType.NEW_ORDER, 1, ids + 2, ids
    v["side"] = np.where(ids % 2 == 0, Side.BUY, Side.SELL)
    v["price"] = np.where(ids % 2 == 0, 4_000 - ids % 500, 6_000 + ids % 500)
    v["qty"], v["ord_type"], v["tif"] = 1, OrdType.LIMIT, Tif.DAY
    with Engine(max_orders=n, max_levels=2_000, max_instruments=1, max_accounts=1) as eng:
        out = eng.submit_records(np.concatenate([head, adds]))
        assert len(out) == 3 + 2 * n  # CMD_ACK; PHASE, CMD_ACK; ACCEPTED + BOOK_LEVEL per order
        events = eng.submit([EndOfDay(instrument_id=1, seq=n + 3)])
        eng.check()
        assert eng.stats()["orders_live"] == 0
    assert len(events) == 2 * n + 1
    expired = [e.order_id for e in events if isinstance(e, ExpiredEvent)]
    assert len(expired) == n and len(set(expired)) == n
    assert isinstance(events[-1], CmdAckEvent) and events[-1].affected == n
    # book order: all bids (best first) before all asks
    sides = [e.side for e in events if isinstance(e, BookLevelEvent)]
    assert sides == sorted(sides)
    assert isinstance(decode_events(out[-1:])[0], BookLevelEvent)
    assert out.view(EVT_DTYPES[EvtType.ACCEPTED])["type"][3] == EvtType.ACCEPTED
