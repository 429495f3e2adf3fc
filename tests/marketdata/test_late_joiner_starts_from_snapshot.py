"""A subscriber that joins mid-session starts from a snapshot stamped with the sequence number it
reflects, applies the live feed from there, and its book equals the engine's after every later
command; a subscriber that joined at the start agrees with it throughout."""
from __future__ import annotations

import pytest

from tests.marketdata.session import MULTICAST_OK, MULTICAST_WHY, Venue, book_mismatches, command_records
from tests.native.streams import seeded_stream

# Two subscribers at once need a fan-out transport: multicast or ZeroMQ (unicast reaches one socket).
TRANSPORTS = [pytest.param("udp", marks=pytest.mark.skipif(not MULTICAST_OK,
                                                          reason=f"multicast unavailable: {MULTICAST_WHY}")),
              "zmq"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_late_joiner_rebuilds_from_snapshot_then_live_feed(transport: str) -> None:
    venue = Venue(transport, multicast=True)
    try:
        early = venue.subscriber()
        recs = command_records(seeded_stream(51, 3000))
        half = len(recs) // 2
        for i in range(half):
            venue.step(recs[i:i + 1])
        venue.sync(early)
        published = venue.publisher.encoder.next_seq - 1
        late = venue.subscriber(late_join=True)
        assert late.snapshot_seq == published
        assert not book_mismatches(venue.engine, late.book, venue.instruments)
        assert late.book.known_instruments() == venue.instruments
        for i in range(half, len(recs)):
            venue.step(recs[i:i + 1])
            venue.sync(late)
            venue.sync(early)
            assert not book_mismatches(venue.engine, late.book, venue.instruments), f"command {i}"
            assert not book_mismatches(venue.engine, early.book, venue.instruments), f"command {i}"
        assert late.book.stats()["skipped"] >= 0 and late.resyncs == 1
    finally:
        venue.close()
