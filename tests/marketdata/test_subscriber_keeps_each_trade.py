"""The subscriber keeps each trade the feed prints (FeedBook.keep_prints / take_prints, what a
strategy's on_trade over TCP is built from): over seeded random sessions on real sockets (auction
uncrosses, icebergs, halts; with and without lost datagrams recovered from the retransmission
server) the prints taken equal, one by one and in order, the engine's own TRADE events: trade id,
instrument, engine timestamp, price, quantity and aggressor side (none for an uncross). And a
buffer too small for the trades of one poll counts what it could not keep."""
from __future__ import annotations

import numpy as np
import pytest

from native import records
from tests.marketdata.session import Venue, command_records
from tests.native.streams import seeded_stream

_HDR = records.dtype_of("eng_evt_hdr_t")
_TRADE = records.dtype_of("eng_evt_trade_t")
_FIELDS = ("instrument_id", "ts_ns", "price", "qty", "aggressor_side")


def _engine_trades(events: np.ndarray) -> list[tuple[int, ...]]:
    trades = events[events.view(_HDR)["type"] == int(records.EvtType.TRADE)].view(_TRADE)
    return [(int(t["trade_id"]),) + tuple(int(t[f]) for f in _FIELDS) for t in trades]


def _prints(rows: np.ndarray) -> list[tuple[int, ...]]:
    return [(int(p["match_number"]),) + tuple(int(p[f]) for f in _FIELDS) for p in rows]


@pytest.mark.parametrize("seed,drop", [(21, 0.0), (33, 0.1)], ids=["no-loss", "loss-10pct"])
def test_prints_equal_the_engines_trades_one_by_one(seed: int, drop: float) -> None:
    venue = Venue("udp", multicast=False, drop_fraction=drop, seed=seed)
    try:
        sub = venue.subscriber()
        sub.book.keep_prints(1 << 16)
        recs = command_records(seeded_stream(seed, 4000))
        want: list[tuple[int, ...]] = []
        got: list[tuple[int, ...]] = []
        for start in range(0, len(recs), 100):
            events = venue.engine.submit_records(recs[start:start + 100])
            venue.publisher.publish(events)
            want += _engine_trades(events)
            venue.sync(sub)
            got += _prints(sub.book.take_prints())
            assert got == want, f"after command {start + 100}: first difference at trade " \
                f"{next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))}"
        assert len(want) > 100
        assert any(t[-1] == 0 for t in want), "the session should hold an auction uncross (no aggressor)"
        assert sub.book.stats()["prints_lost"] == 0
        assert int(sub.book.stats()["gaps"]) > 0 or drop == 0.0
    finally:
        venue.close()


def test_a_full_print_buffer_counts_what_it_could_not_keep() -> None:
    venue = Venue("udp", multicast=False)
    try:
        sub = venue.subscriber()
        sub.book.keep_prints(2)
        recs = command_records(seeded_stream(21, 3000))
        trades: list[tuple[int, ...]] = []
        for start in range(0, len(recs), 500):
            events = venue.engine.submit_records(recs[start:start + 500])
            venue.publisher.publish(events)
            trades += _engine_trades(events)
            if len(trades) > 2:
                break
        venue.sync(sub)
        kept = _prints(sub.book.take_prints())
        assert kept == trades[:2]
        assert sub.book.stats()["prints_lost"] == len(trades) - 2
        assert len(sub.book.take_prints()) == 0      # taken: nothing left
    finally:
        venue.close()


def test_no_prints_unless_asked_and_a_bad_capacity_is_refused() -> None:
    venue = Venue("udp", multicast=False)
    try:
        sub = venue.subscriber()
        venue.step(command_records(seeded_stream(21, 500)))
        venue.sync(sub)
        assert int(sub.book.instrument(1)["traded_qty"]) + int(sub.book.instrument(2)["traded_qty"]) > 0
        assert len(sub.book.take_prints()) == 0
        assert sub.book.stats()["prints_lost"] == 0
        for bad in (0, -1, 1 << 32):
            with pytest.raises(ValueError, match="capacity"):
                sub.book.keep_prints(bad)
    finally:
        venue.close()
