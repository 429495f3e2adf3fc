"""EXECUTE, REDUCE and SEED_LEVEL (ENGINE.md "Outside order flow") through the L3 feed on real
sockets: each book change is the ITCH-style message md_feed.h names for it (an 'E' on the executed
order, an 'X' or 'D' for a reduce, an 'A' under the seed id (1 << 63) | seq for anonymous level
liquidity), the subscriber's rebuilt book equals the engine's after every command, and the
publisher tracks every order those events name (no unknown orders, no level mismatches)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.marketdata.decoder import decode_packet
from tests.marketdata.session import Venue, book_mismatches, command_records
from tests.native.streams import Cmd, CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
SEED = 1 << 63
Feed = list[tuple[str, int, int]]   # (message type, order_ref, shares) of the order messages


@pytest.fixture
def venue() -> Iterator[Venue]:
    v = Venue("udp", multicast=False)
    yield v
    st = v.publisher.stats()
    assert st["level_mismatches"] == 0 and st["unknown_orders"] == 0 and st["stray_pending"] == 0, st
    v.close()


class Driver:
    """Steps one command at a time and returns the order messages it published."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.sub = venue.subscriber()
        self.s = CommandStream()
        for cmd in opening(self.s):
            self.step(cmd)

    def step(self, cmd: Cmd) -> Feed:
        first = self.venue.publisher.encoder.next_seq
        self.venue.step(command_records([cmd]))
        self.venue.sync(self.sub)
        diff = book_mismatches(self.venue.engine, self.sub.book, self.venue.instruments)
        assert not diff, diff
        self.sub.book.check()
        count = self.venue.publisher.encoder.next_seq - first
        out: Feed = []
        for pkt in self.venue.publisher.encoder.pack(first, count) if count else []:
            for m in decode_packet(pkt).messages:
                if m.type in ("ADD", "EXECUTED", "CANCEL", "DELETE", "TRADE"):
                    ref = int(m["order_ref"]) if m.type != "TRADE" else 0  # type: ignore[call-overload]
                    shares = int(m["shares"]) if m.type != "DELETE" else 0  # type: ignore[call-overload]
                    out.append((m.type, ref, shares))
        return out

    def feed_orders(self, side: int) -> list[tuple[int, int, int]]:
        return [(int(r["order_ref"]), int(r["price"]), int(r["shown"])) for r in self.sub.book.orders(1, side)]


def test_seed_level_adds_under_the_seed_id_and_a_negative_seed_cuts_it(venue: Venue) -> None:
    d = Driver(venue)
    d.step(d.s.limit(1, 1, BUY, 4, 9_990))
    seed = d.s.seed_level(1, BUY, 9_990, 6, account_id=3)
    sid = SEED | seed.seq
    assert d.step(seed) == [("ADD", sid, 6)]
    assert d.feed_orders(BUY) == [(1, 9_990, 4), (sid, 9_990, 6)]
    assert d.step(d.s.seed_level(1, BUY, 9_990, -2)) == [("CANCEL", sid, 2)]
    # the named order is never touched by a negative seed, however much is asked
    assert d.step(d.s.seed_level(1, BUY, 9_990, -50)) == [("DELETE", sid, 0)]
    assert d.feed_orders(BUY) == [(1, 9_990, 4)]


def test_execute_is_an_order_executed_on_the_named_order(venue: Venue) -> None:
    d = Driver(venue)
    d.step(d.s.limit(1, 7, SELL, 5, 10_010))
    d.step(d.s.limit(1, 8, SELL, 3, 10_010))
    assert d.step(d.s.execute(1, 8, 2, contra_account_id=2)) == [("EXECUTED", 8, 2)]
    assert d.feed_orders(SELL) == [(7, 10_010, 5), (8, 10_010, 1)]
    assert d.step(d.s.execute(1, 7, 50)) == [("EXECUTED", 7, 5)]   # clamped; the order is gone
    assert d.feed_orders(SELL) == [(8, 10_010, 1)]


def test_execute_of_an_iceberg_and_of_seeded_liquidity(venue: Venue) -> None:
    d = Driver(venue)
    d.step(d.s.limit(1, 1, SELL, 10, 10_010, flags=ENG.FLAG_ICEBERG, display_qty=4))
    d.step(d.s.limit(1, 2, SELL, 3, 10_010))
    # the peak executes, the refill is re-added at the back under the same ref
    assert d.step(d.s.execute(1, 1, 4)) == [("EXECUTED", 1, 4), ("ADD", 1, 4)]
    assert d.feed_orders(SELL) == [(2, 10_010, 3), (1, 10_010, 4)]
    seed = d.s.seed_level(1, BUY, 9_990, 5)
    d.step(seed)
    assert d.step(d.s.execute(1, SEED | seed.seq, 2)) == [("EXECUTED", SEED | seed.seq, 2)]
    assert d.feed_orders(BUY) == [(SEED | seed.seq, 9_990, 3)]


def test_reduce_is_an_order_cancel_then_a_delete(venue: Venue) -> None:
    d = Driver(venue)
    d.step(d.s.limit(1, 1, BUY, 10, 9_990))
    d.step(d.s.limit(1, 2, BUY, 10, 9_990))
    assert d.step(d.s.reduce(1, 1, 4)) == [("CANCEL", 1, 4)]
    assert d.feed_orders(BUY) == [(1, 9_990, 6), (2, 9_990, 10)]   # kept its place
    # an iceberg's reduce takes reserve first: no displayed change, no message
    d.step(d.s.limit(1, 3, BUY, 10, 9_980, flags=ENG.FLAG_ICEBERG, display_qty=2))
    assert d.step(d.s.reduce(1, 3, 5)) == []
    assert d.step(d.s.reduce(1, 1, 100)) == [("DELETE", 1, 0)]
    assert d.feed_orders(BUY) == [(2, 9_990, 10), (3, 9_980, 2)]
