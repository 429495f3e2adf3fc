"""What a routing strategy decides from: the parent and what is left of it, the market snapshot, the
venues that may be used now (and why the others may not), their scores, the impact model and the
Reg NMS values; plus the helpers every strategy shares (the limit price, each venue's takeable
levels, the all-in cost of a share at a venue)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from gateway.regnms.rules import RuleVersion, TickClass
from gateway.venues.config import VenueSpec
from trading.routing.impact import SquareRootImpact
from trading.routing.market import BUY, Level, MarketSnapshot, Nbbo, VenueBook, better
from trading.routing.plan import ParentOrder
from trading.routing.queue import QueueModel
from trading.routing.scores import VenueScoreboard


@dataclass
class RoutingContext:
    parent: ParentOrder
    remaining: int
    wave: int
    now_ns: int
    snapshot: MarketSnapshot
    venues: dict[str, VenueSpec]
    usable_lit: tuple[str, ...]
    usable_dark: tuple[str, ...]
    excluded: dict[str, str]          # venue -> why it may not be used now
    unprotected: frozenset[str]       # venues whose quotes Rule 611 does not protect now (self-help, stale)
    scores: VenueScoreboard
    impact: SquareRootImpact
    rules: RuleVersion
    books: dict[str, VenueBook]       # the snapshot's books by venue id
    taker_fee_units: dict[str, float]  # venue -> taker fee in price units a share (the router's constants)
    maker_rebate_units: dict[str, float]  # venue -> maker rebate in price units a share (> 0: paid to us)
    touch_models: dict[str, QueueModel]   # venue -> the queue model of its touch (passive children)
    market_touch: QueueModel              # the whole market's touch (a post alone at the best price)
    tick_class: TickClass = "penny"
    quote_life_ns: float = 1e9        # mean life of a top-of-book quote (fill-probability model)
    deadline_ns: int = 0              # the parent's horizon ends here
    arrival_touch: int | None = None  # the touch when the parent arrived (the collar's reference)
    notes: list[str] = field(default_factory=list)

    # the context of one decision never changes (snapshot and venues are fixed for it): what every
    # strategy asks for again and again is computed once
    @cached_property
    def side(self) -> int:
        return self.parent.side_code

    @cached_property
    def nbbo(self) -> Nbbo:
        return self.snapshot.nbbo(self.unprotected)

    @property
    def last_wave(self) -> bool:
        return self.wave >= self.parent.max_waves or self.now_ns >= self.deadline_ns - self.parent.wave_interval_ns

    def touch(self) -> int | None:
        """The best contra price (ask for a buy) over the usable and protected venues."""
        n = self.nbbo
        return n.ask if self.side == BUY else n.bid

    def mid(self) -> float | None:
        return self.nbbo.mid

    def limit_price(self) -> int | None:
        """The worst price any child may take: the parent's limit, else the arrival touch moved by the
        collar, rounded inwards to the tick grid (never a sub-penny price)."""
        return self._limit

    @cached_property
    def _limit(self) -> int | None:
        if self.parent.limit_price is not None:
            lim = self.parent.limit_price
        else:
            touch = self.arrival_touch if self.arrival_touch is not None else self.touch()
            if touch is None:
                return None
            move = touch * self.parent.collar_bps / 1e4
            lim = int(touch + move) if self.side == BUY else int(math.ceil(touch - move))
        tick = self.rules.min_increment(lim, self.tick_class)
        return lim - lim % tick if self.side == BUY else lim + (-lim) % tick

    @cached_property
    def _takeable(self) -> dict[str, list[Level]]:
        """Per venue, its contra levels within the limit, filled in as venues are asked for: every
        strategy, the Reg NMS gate and the cost estimate read them, so each is cut once a decision."""
        return {}

    def _cut(self, venue_id: str, limit: int | None) -> list[Level]:
        book = self.books.get(venue_id)
        if book is None or book.stale:
            return []
        levels = book.contra(self.side)
        if limit is None:
            return list(levels)
        n = 0
        if self.side == BUY:
            for lv in levels:
                if lv.price > limit:
                    break
                n += 1
        else:
            for lv in levels:
                if lv.price < limit:
                    break
                n += 1
        return list(levels[:n])

    def levels(self, venue_id: str, limit: int | None) -> list[Level]:
        """The venue's contra levels at or better than `limit`, best first (the caller must not
        change the list: at the decision's own limit it is the cached one)."""
        own = self._limit
        if limit == own or (limit is not None and own is not None and not better(self.side, own, limit)):
            cached = self._takeable.get(venue_id)
            if cached is None:
                cached = self._takeable[venue_id] = self._cut(venue_id, own)
            if limit is None or limit == own:
                return cached
            # a limit inside the decision's: a prefix of its levels
            return [lv for lv in cached if not better(self.side, limit, lv.price)]
        return self._cut(venue_id, limit)

    def fee_units(self, venue_id: str) -> float:
        """The venue's taker fee in price units a share (negative: a taker rebate)."""
        return self.taker_fee_units[venue_id]

    def signed(self, price: float) -> float:
        """Price as a cost to this side: higher is worse for a buyer, lower for a seller."""
        return price if self.side == BUY else -price
