"""The subscriber's C book counts every share printed per instrument (EXECUTED and TRADE messages:
``FeedBook.instrument(i)["traded_qty"]``, what the router reports as a venue's traded volume to VWAP
and POV): over a seeded random session on real sockets it equals, after every hundred commands, the
shares of the engine's own TRADE events."""
from __future__ import annotations

import numpy as np

from native import records
from tests.marketdata.session import Venue, command_records
from tests.native.streams import seeded_stream

_HDR = records.dtype_of("eng_evt_hdr_t")
_TRADE = records.dtype_of("eng_evt_trade_t")


def test_subscriber_traded_qty_equals_the_engines_trades() -> None:
    venue = Venue("udp", multicast=False)
    try:
        sub = venue.subscriber()
        recs = command_records(seeded_stream(21, 3000))
        traded: dict[int, int] = {i: 0 for i in venue.instruments}
        for start in range(0, len(recs), 100):
            events = venue.engine.submit_records(recs[start:start + 100])
            venue.publisher.publish(events)
            trades = events[events.view(_HDR)["type"] == int(records.EvtType.TRADE)].view(_TRADE)
            for i in traded:
                traded[i] += int(np.sum(trades["qty"][trades["instrument_id"] == i]))
            venue.sync(sub)
            assert {i: int(sub.book.instrument(i)["traded_qty"]) for i in traded} == traded, f"after {start + 100}"
        assert sum(traded.values()) > 0
    finally:
        venue.close()
