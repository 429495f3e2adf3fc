"""Over a long seeded random session on real sockets, the subscriber's rebuilt L3 and L2 books
equal the engine's displayed book after every command, and the publisher's own derivation agrees
with every BOOK_LEVEL event the engine emitted."""
from __future__ import annotations

import pytest

from tests.marketdata.session import MULTICAST_OK, MULTICAST_WHY, Venue, book_mismatches, command_records
from tests.native.streams import seeded_stream

SEEDS = (11, 12)
N_COMMANDS = 4000


def _run(venue: Venue, seed: int) -> None:
    sub = venue.subscriber()
    recs = command_records(seeded_stream(seed, N_COMMANDS))
    for i in range(len(recs)):
        venue.step(recs[i:i + 1])
        venue.sync(sub)
        diff = book_mismatches(venue.engine, sub.book, venue.instruments)
        assert not diff, f"seed {seed} command {i}: {diff}"
        sub.book.check()
    st = venue.publisher.stats()
    assert st["level_mismatches"] == 0 and st["unknown_orders"] == 0 and st["stray_pending"] == 0, st
    assert st["messages"] > N_COMMANDS // 2
    assert sub.book.stats()["gaps"] == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_udp_unicast_subscriber_book_equals_engine_after_every_command(seed: int) -> None:
    venue = Venue("udp", multicast=False)
    try:
        _run(venue, seed)
    finally:
        venue.close()


@pytest.mark.skipif(not MULTICAST_OK, reason=f"multicast unavailable here: {MULTICAST_WHY}")
def test_udp_multicast_subscriber_book_equals_engine_after_every_command() -> None:
    venue = Venue("udp", multicast=True)
    try:
        assert venue.publisher.udp_l3 is not None and venue.publisher.udp_l3.mode == "multicast"
        _run(venue, SEEDS[0] + 100)
    finally:
        venue.close()


def test_zmq_subscriber_book_equals_engine_after_every_command() -> None:
    venue = Venue("zmq")
    try:
        _run(venue, SEEDS[0] + 200)
    finally:
        venue.close()
