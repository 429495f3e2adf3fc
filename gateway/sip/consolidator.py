"""The consolidated quote: each venue's best bid and offer (its protected quote) in, the national
best bid and offer out.

Invariant: after every update, the NBBO's bid is the highest bid of any venue's current quote and
its ask the lowest ask (None where no venue quotes that side); the size at each is the sum over
the venues quoting that price, and the venues are listed in configuration order. A venue's quote
replaces its previous one whole (the feed gives full top-of-book state after each event). Locked
and crossed NBBOs are reported as such (market_state), never hidden: Rule 610(d) forbids venues to
display them, and the consolidator is how that is seen.
"""
from __future__ import annotations

from collections.abc import Sequence

import msgspec

from gateway.regnms.checks import AwayQuote, MarketState, market_state


class VenueQuote(msgspec.Struct, frozen=True):
    """One venue's protected quote in one instrument (None: nothing displayed on that side)."""
    venue: str
    bid: int | None = None
    bid_size: int = 0
    ask: int | None = None
    ask_size: int = 0


class Nbbo(msgspec.Struct, frozen=True):
    instrument_id: int
    bid: int | None
    bid_size: int
    bid_venues: list[str]
    ask: int | None
    ask_size: int
    ask_venues: list[str]
    state: MarketState


def best(instrument_id: int, quotes: Sequence[VenueQuote]) -> Nbbo:
    """The NBBO of these venue quotes (see the module's invariant)."""
    bids = [q.bid for q in quotes if q.bid is not None]
    asks = [q.ask for q in quotes if q.ask is not None]
    bid = max(bids) if bids else None
    ask = min(asks) if asks else None
    at_bid = [q for q in quotes if bid is not None and q.bid == bid]
    at_ask = [q for q in quotes if ask is not None and q.ask == ask]
    return Nbbo(instrument_id, bid, sum(q.bid_size for q in at_bid), [q.venue for q in at_bid],
                ask, sum(q.ask_size for q in at_ask), [q.venue for q in at_ask], market_state(bid, ask))


class Consolidator:
    """The current quote of every venue per instrument and the NBBO made of them."""

    def __init__(self, venues: Sequence[str]) -> None:
        self.venues = list(venues)
        self._quotes: dict[int, dict[str, VenueQuote]] = {}
        self.unreachable: set[str] = set()     # self-help (self_help.py): not protected elsewhere

    def update(self, instrument_id: int, quote: VenueQuote) -> bool:
        """Takes a venue's new quote; True if it differs from the one it replaces."""
        if quote.venue not in self.venues:
            raise KeyError(f"quote from unknown venue {quote.venue!r}")
        per_venue = self._quotes.setdefault(instrument_id, {})
        if per_venue.get(quote.venue) == quote:
            return False
        per_venue[quote.venue] = quote
        return True

    def protected(self, instrument_id: int) -> list[VenueQuote]:
        """Every venue's current quote, in configuration order (an empty quote where none came)."""
        per_venue = self._quotes.get(instrument_id, {})
        return [per_venue.get(v, VenueQuote(v)) for v in self.venues]

    def nbbo(self, instrument_id: int) -> Nbbo:
        return best(instrument_id, self.protected(instrument_id))

    def best_excluding(self, instrument_id: int, venue: str) -> Nbbo:
        """The best of every other venue's quote, less those of unreachable venues (self-help):
        what Rule 611 protects on `venue`."""
        return best(instrument_id, [q for q in self.protected(instrument_id)
                                    if q.venue != venue and q.venue not in self.unreachable])

    def away(self, instrument_id: int, venue: str) -> AwayQuote:
        others = self.best_excluding(instrument_id, venue)
        return AwayQuote(others.bid, others.ask)
