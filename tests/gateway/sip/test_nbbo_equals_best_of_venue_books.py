"""Property: after every event of random multi-venue order flow, the consolidator's NBBO equals the
best of the venues' own books. Each venue is a real in-process engine whose events go out through
the market-data publisher on a real ZeroMQ socket; the consolidator rebuilds each venue's book from
those packets exactly as the `sip` process does (FeedConsolidator.on_packet), and the truth it is
compared with is each engine's own book (Engine.depth), computed directly here."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings, strategies as st

from gateway.marketdata.book import BUY, SELL
from gateway.marketdata.transport import ZmqSender
from gateway.sip.consolidator import Consolidator
from gateway.sip.process import FeedConsolidator, VenueFeed
from tests.marketdata.session import Venue, command_records
from tests.native.streams import streams

VENUES = ("LITA", "LITB", "LITC")
INSTRUMENTS = (1, 2, 3)


def drain(venue: Venue, core: FeedConsolidator, feed: VenueFeed) -> None:
    """Feeds every packet the venue published into the consolidator (heartbeats flush the tail)."""
    want = venue.publisher.encoder.next_seq
    for _ in range(1000):
        if feed.subscriber.book.next_seq >= want:
            return
        packet = feed.subscriber.source.recv(0.01)   # type: ignore[attr-defined]
        if packet is None:
            venue.publisher.heartbeat()
            continue
        core.on_packet(feed, packet, 0)
    raise AssertionError(f"{feed.venue}: feed stuck at seq {feed.subscriber.book.next_seq} of {want}")


def direct_nbbo(venues: list[Venue], inst: int) -> tuple:
    """(bid, bid size, bid venues, ask, ask size, ask venues) from the engines' own books."""
    tops = []
    for name, v in zip(VENUES, venues):
        if v.engine.instrument(inst) is None:
            tops.append((name, None, 0, None, 0))
            continue
        bids, asks = v.engine.depth(inst, BUY, 1), v.engine.depth(inst, SELL, 1)
        tops.append((name, bids[0][0] if bids else None, bids[0][1] if bids else 0,
                     asks[0][0] if asks else None, asks[0][1] if asks else 0))
    bid = max((t[1] for t in tops if t[1] is not None), default=None)
    ask = min((t[3] for t in tops if t[3] is not None), default=None)
    return (bid, sum(t[2] for t in tops if bid is not None and t[1] == bid), [t[0] for t in tops if bid is not None and t[1] == bid],
            ask, sum(t[4] for t in tops if ask is not None and t[3] == ask), [t[0] for t in tops if ask is not None and t[3] == ask])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(streams(min_ops=20, max_ops=60), min_size=3, max_size=3), st.randoms(use_true_random=False))
def test_nbbo_equals_the_best_of_the_venues_books_after_each_event(flows, rnd):
    venues = [Venue("zmq") for _ in VENUES]
    publisher = ZmqSender(f"ipc:///tmp/venue-sip-test-{os.getpid()}")
    try:
        feeds = {name: VenueFeed(name, list(INSTRUMENTS), v.subscriber()) for name, v in zip(VENUES, venues)}
        core = FeedConsolidator(feeds, publisher, Consolidator(VENUES))
        pending = [list(command_records(f)) for f in flows]
        while any(pending):
            i = rnd.choice([k for k, p in enumerate(pending) if p])
            venues[i].step(pending[i].pop(0).reshape(1))
            drain(venues[i], core, feeds[VENUES[i]])
            for inst in INSTRUMENTS:
                got = core.consolidator.nbbo(inst)
                assert (got.bid, got.bid_size, got.bid_venues, got.ask, got.ask_size, got.ask_venues) == \
                    direct_nbbo(venues, inst), f"instrument {inst} after a command on {VENUES[i]}"
                want_state = ("empty" if got.bid is None and got.ask is None else "one_sided"
                              if got.bid is None or got.ask is None else "normal" if got.bid < got.ask
                              else "locked" if got.bid == got.ask else "crossed")
                assert got.state == want_state
        assert core.seq > 0
    finally:
        publisher.close()
        for v in venues:
            v.close()
