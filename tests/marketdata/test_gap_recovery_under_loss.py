"""With a share of the live datagrams dropped, the subscriber detects every gap from the MoldUDP64
sequence numbers, recovers the missing messages from the retransmission server, and its book
equals the engine's after every command; a range the store no longer holds makes it resync from a
snapshot instead."""
from __future__ import annotations

import pytest

from tests.marketdata.session import Venue, book_mismatches, command_records
from tests.native.streams import seeded_stream


@pytest.mark.parametrize("transport,drop", [("udp", 0.2), ("udp", 0.5), ("zmq", 0.2)])
def test_subscriber_recovers_dropped_datagrams_and_matches_engine(transport: str, drop: float) -> None:
    seed = 31
    print(f"seed {seed} drop {drop}")
    venue = Venue(transport, drop_fraction=drop, seed=seed)
    try:
        sub = venue.subscriber()
        recs = command_records(seeded_stream(seed, 3000))
        for i in range(len(recs)):
            venue.step(recs[i:i + 1])
            venue.sync(sub)
            diff = book_mismatches(venue.engine, sub.book, venue.instruments)
            assert not diff, f"command {i}: {diff}"
        assert venue.publisher.dropped_packets > 100
        assert sub.recovered_messages > 0
        assert sub.book.stats()["gaps"] > 0
        assert sub.resyncs == 0
    finally:
        venue.close()


def test_gap_older_than_the_store_resyncs_from_snapshot() -> None:
    venue = Venue("udp", store_messages=4096, store_bytes=1 << 16)
    try:
        sub = venue.subscriber()
        recs = command_records(seeded_stream(41, 2500))
        for i in range(len(recs)):
            venue.step(recs[i:i + 1])
            if i < 2000:
                # the subscriber is away: it drains and discards what it missed
                while sub.source.recv(0.0) is not None:
                    pass
        venue.sync(sub)
        assert sub.resyncs == 1
        assert not book_mismatches(venue.engine, sub.book, venue.instruments)
    finally:
        venue.close()
