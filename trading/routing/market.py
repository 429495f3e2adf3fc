"""What the router sees of the market at one instant: each venue's book (lit venues: price levels,
best first; dark venues: nothing, they publish no quotes), the protected quotes (each lit venue's
best bid and offer, Rule 600(b)(71)) and the NBBO built from them.

Sides use the engine's numbers (BUY 1, SELL 2); prices the engine's integer unit.
"""
from __future__ import annotations

import msgspec

BUY, SELL = 1, 2
SIDE_NAMES = {BUY: "buy", SELL: "sell"}
SIDES = {"buy": BUY, "sell": SELL}


class Level(msgspec.Struct, frozen=True, array_like=True):
    price: int
    qty: int


class VenueBook(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's visible book. stale: its feed has stopped (its quotes are not protected)."""
    venue_id: str
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()
    stale: bool = False

    def contra(self, side: int) -> tuple[Level, ...]:
        """The levels an order of `side` takes from: asks for a buy, bids for a sell."""
        return self.asks if side == BUY else self.bids

    def top(self, side: int) -> Level | None:
        """The best level of `side`'s own side (bids for BUY)."""
        levels = self.bids if side == BUY else self.asks
        return levels[0] if levels else None


class Nbbo(msgspec.Struct, frozen=True, kw_only=True):
    bid: int | None
    bid_qty: int
    ask: int | None
    ask_qty: int

    @property
    def mid(self) -> float | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2.0

    @property
    def locked_or_crossed(self) -> bool:
        return self.bid is not None and self.ask is not None and self.bid >= self.ask


def better(side: int, a: int, b: int) -> bool:
    """Whether price `a` is better than `b` for a taker of `side` (lower ask for a buy)."""
    return a < b if side == BUY else a > b


class MarketSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    ts_ns: int
    instrument_id: int
    books: tuple[VenueBook, ...]

    def book(self, venue_id: str) -> VenueBook | None:
        return next((b for b in self.books if b.venue_id == venue_id), None)

    def protected(self, taker_side: int, excluded: frozenset[str] = frozenset()) -> dict[str, Level]:
        """Each lit venue's best contra quote that Rule 611 protects from a taker of `taker_side`:
        stale books and `excluded` venues (self-help, Rule 611(b)(1): not answering) are left out."""
        out: dict[str, Level] = {}
        for b in self.books:
            levels = b.contra(taker_side)
            if levels and not b.stale and b.venue_id not in excluded:
                out[b.venue_id] = levels[0]
        return out

    def nbbo(self, excluded: frozenset[str] = frozenset()) -> Nbbo:
        bids = self.protected(SELL, excluded).values()
        asks = self.protected(BUY, excluded).values()
        bid = max((lv.price for lv in bids), default=None)
        ask = min((lv.price for lv in asks), default=None)
        return Nbbo(bid=bid, bid_qty=sum(lv.qty for lv in bids if lv.price == bid),
                    ask=ask, ask_qty=sum(lv.qty for lv in asks if lv.price == ask))
