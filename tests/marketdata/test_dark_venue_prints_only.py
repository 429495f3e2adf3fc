"""A dark midpoint instrument through the L3 feed on real sockets (ENGINE.md "Dark midpoint
instruments"): its orders never appear (no 'A', 'X', 'D' or depth), each midpoint trade is one 'P'
print at the midpoint (half-tick included) with the resting side, and the publisher still knows
every order the engine names (no unknown orders, no stray pending orders)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.marketdata.decoder import decode_packet
from tests.marketdata.session import Venue, command_records
from tests.native.streams import Cmd, CommandStream
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
BID, ASK, MID = 1_000_000, 1_000_100, 1_000_050
ORDER_MESSAGES = ("ADD", "EXECUTED", "CANCEL", "DELETE", "REPLACE", "TRADE")


@pytest.fixture
def venue() -> Iterator[Venue]:
    v = Venue("udp", multicast=False)
    yield v
    st = v.publisher.stats()
    assert st["level_mismatches"] == 0 and st["unknown_orders"] == 0 and st["stray_pending"] == 0, st
    v.close()


def _step(venue: Venue, sub, cmd: Cmd) -> list[tuple[str, int, int, str]]:
    """Publishes one command's events; (type, price, shares, side) of its order messages."""
    first = venue.publisher.encoder.next_seq
    venue.step(command_records([cmd]))
    venue.sync(sub)
    for side in (BUY, SELL):  # the rebuilt book stays empty: nothing dark is ever displayed
        assert len(sub.book.orders(1, side)) == 0 and len(sub.book.depth(1, side, 10)) == 0
    count = venue.publisher.encoder.next_seq - first
    out = []
    for pkt in venue.publisher.encoder.pack(first, count) if count else []:
        for m in decode_packet(pkt).messages:
            if m.type in ORDER_MESSAGES:
                assert m.type == "TRADE", f"a dark venue published {m.type}"
                out.append((m.type, int(m["price"]), int(m["shares"]), chr(int(m["side"]))))  # type: ignore[call-overload]
    return out


def test_dark_orders_never_show_and_each_midpoint_trade_prints_once(venue: Venue) -> None:
    sub, s = venue.subscriber(), CommandStream(first_ts_ns=10**9)
    for cmd in (s.add_dark_instrument(1, tick_size=100, reference_price=BID),
                s.set_phase(1, ENG.PHASE_PRE_OPEN), s.set_phase(1, ENG.PHASE_CONTINUOUS),
                s.nbbo(1, BID, ASK)):
        _step(venue, sub, cmd)
    assert _step(venue, sub, s.peg(1, 1, SELL, 300, account_id=1)) == []
    assert _step(venue, sub, s.peg(1, 2, BUY, 100, account_id=2)) == [("TRADE", MID, 100, "S")]
    assert _step(venue, sub, s.peg(1, 3, BUY, 500, limit=BID, account_id=3)) == []  # mid above its limit
    assert _step(venue, sub, s.nbbo(1, BID - 200, ASK - 200)) == [("TRADE", MID - 200, 200, " ")]
    assert _step(venue, sub, s.cancel(1, 3)) == []
    assert venue.engine.orders(1, BUY) == [] and venue.engine.orders(1, SELL) == []  # all traded or gone
    assert sub.book.instrument(1)["traded_qty"] == 300      # the prints are the venue's traded volume
