"""Market making on several venues with one inventory.

``MultiVenueMarketMaker`` is one strategy object run by one runtime per venue (live:
multivenue_live.MultiVenueRunner, one LiveRunner per venue's engine); each runtime's Context names
its venue (``ctx.venue``). Per venue it keeps one MarketMakingStrategy (strategy.py) priced with
that venue's own terms (``VenueTerms``):

- fees: the venue's maker rebate and taker fee (the context's fee schedule, so its ledger books
  them and the maker's pricing counts the rebate in the edge of a quote);
- latency: the one-way latency of the venue's profile (``latency_us``, maker.py: each side moves
  away from the mid by sigma * sqrt(2 * latency), in whole ticks). Priced here; suffered too where
  the runtime applies it: live with ``MultiVenueRunner(delays=...)`` (multivenue_live.py), in
  replay by the routing replay's latency draws (multivenue_replay.py).

One inventory: every venue's maker quotes (skew and sizes) from the total position over all venues
(the sum of the venue contexts' positions), and the size a venue may quote on a side is capped by
the room the one limit leaves it:

    bid cap on venue v = max_inventory - total - (resting bids of every other venue)
    ask cap on venue v = max_inventory + total - (resting asks of every other venue)

where resting counts each order the contexts still hold (sent or acknowledged, cancels not yet
confirmed included). Invariant: total + all resting bids <= max_inventory (and likewise for asks)
after every decision, since each venue's new size is checked against all the others and a fill
only moves shares from resting to total; so even if every resting quote on every venue filled at
once, |total| stays within max_inventory. After a fill on one venue the others requote at once (the
skew moved).

P&L: each venue's decomposition (pnl.py, its own fills marked to its own mid) adds up exactly and
matches its context's ledger; ``report`` gives them per venue and their sum.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from gateway.venues.config import VenueSpec
from trading.marketmaking.errors import ParameterError
from trading.marketmaking.maker import ASK, BID
from trading.marketmaking.strategy import MarketMakingStrategy
from trading.strategy.api import BUY, Fill, OwnOrder, PublicTrade, Strategy
from trading.strategy.context import Context
from trading.strategy.ledger import FeeSchedule


@dataclass(frozen=True)
class VenueTerms:
    """What differs between venues for the maker: fees per share (currency; maker negative for a
    rebate) and the one-way latency, microseconds."""
    venue_id: str
    fees: FeeSchedule
    latency_us: float = 0.0

    @classmethod
    def from_spec(cls, spec: VenueSpec) -> VenueTerms:
        """From a venue of the multi-venue configuration (fees in mils, a positive rebate paid to
        the provider; latency its profile's average)."""
        return cls(spec.id, FeeSchedule(maker_per_share=-spec.fees.maker_rebate_mils / 10_000.0,
                                        taker_per_share=spec.fees.taker_fee_mils / 10_000.0), spec.latency.avg_us)


def lit_venue_terms(venues: Sequence[VenueSpec], wanted: Sequence[str]) -> list[VenueTerms]:
    """The terms of the wanted lit venues; ValueError naming a venue that is not one."""
    lit = {v.id: v for v in venues if v.type == "lit"}
    if not wanted:
        raise ValueError("venues: at least one lit venue is needed")
    for vid in wanted:
        if vid not in lit:
            raise ValueError(f"venue {vid!r} is not a lit venue of the configuration (lit: {', '.join(lit)})")
    if len(set(wanted)) != len(wanted):
        raise ValueError(f"venues: {list(wanted)} names a venue twice")
    return [VenueTerms.from_spec(lit[vid]) for vid in wanted]


class MultiVenueMarketMaker(Strategy):
    name: ClassVar[str] = "mm-venues"
    defaults: ClassVar[Mapping[str, Any]] = {k: v for k, v in MarketMakingStrategy.defaults.items()
                                             if k != "latency_us"}

    def __init__(self, venues: Sequence[VenueTerms], **params: Any) -> None:
        super().__init__(**params)
        if not venues:
            raise ParameterError("venues", list(venues), "at least one venue is needed")
        self.terms = {t.venue_id: t for t in venues}
        if len(self.terms) != len(venues):
            raise ParameterError("venues", [t.venue_id for t in venues], "names a venue twice")
        if int(self.params["hedge_threshold"]) or int(self.params["hedge_instrument"]):
            raise ParameterError("hedge_threshold", self.params["hedge_threshold"],
                                 "hedging is per venue's maker; with several venues it is not offered")
        if int(self.params["tiers"]) != 1:
            raise ParameterError("tiers", self.params["tiers"], "with several venues each quotes one tier")
        self.legs: dict[str, MarketMakingStrategy] = {}
        self.contexts: dict[str, Context] = {}
        self.max_abs_total = 0

    # ---- the one inventory --------------------------------------------------------------------
    @property
    def total(self) -> int:
        return sum(c.position for c in self.contexts.values())

    def _resting(self, venue: str, side: int) -> int:
        return sum(o.leaves_qty for o in self.contexts[venue].orders.values() if o.side == side)

    def _share(self, venue: str) -> None:
        """The venue's maker sees the total inventory and the room the others leave it."""
        leg = self.legs[venue]
        if leg.maker is None:
            return
        total, limit = self.total, int(self.params["max_inventory"])
        others = [v for v in self.contexts if v != venue]
        bids = sum(self._resting(v, BUY) for v in others)
        asks = sum(self._resting(v, 3 - BUY) for v in others)
        leg.maker.inventory = total
        leg.maker.size_cap = {BID: max(limit - total - bids, 0), ASK: max(limit + total - asks, 0)}

    def _leg(self, ctx: Context) -> MarketMakingStrategy:
        leg = self.legs.get(ctx.venue)
        if leg is None:
            raise ParameterError("venue", ctx.venue, f"is not one of this strategy's venues ({', '.join(self.terms)})")
        self._share(ctx.venue)
        return leg

    # ---- callbacks, per venue -----------------------------------------------------------------
    def on_start(self, ctx: Context) -> None:
        terms = self.terms.get(ctx.venue)
        if terms is None:
            raise ParameterError("venue", ctx.venue, f"is not one of this strategy's venues ({', '.join(self.terms)})")
        if ctx.venue in self.legs:
            raise ParameterError("venue", ctx.venue, "was started twice")
        if ctx.fees != terms.fees:
            raise ParameterError("venue", ctx.venue, f"its context's fees {ctx.fees} are not the venue's {terms.fees}")
        leg = MarketMakingStrategy(**{**self.params, "latency_us": terms.latency_us})
        leg.on_start(ctx)
        self.legs[ctx.venue] = leg
        self.contexts[ctx.venue] = ctx

    def on_book(self, ctx: Context) -> None:
        self._leg(ctx).on_book(ctx)

    def on_timer(self, ctx: Context) -> None:
        self._leg(ctx).on_timer(ctx)

    def on_trade(self, ctx: Context, trade: PublicTrade) -> None:
        self._leg(ctx).on_trade(ctx, trade)

    def on_phase(self, ctx: Context, phase: str, previous: str) -> None:
        self._leg(ctx).on_phase(ctx, phase, previous)

    def on_cancelled(self, ctx: Context, order: OwnOrder, reason: str) -> None:
        self._leg(ctx).on_cancelled(ctx, order, reason)

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        self._leg(ctx).on_rejected(ctx, order_id, reason)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        leg = self._leg(ctx)
        # the context booked the fill before this callback, so the total includes it; the maker
        # adds the fill to the inventory it holds, so it is given the total before the fill
        signed = fill.qty if fill.side == BUY else -fill.qty
        if leg.maker is not None:
            leg.maker.inventory = self.total - signed
        leg.on_fill(ctx, fill)
        self.max_abs_total = max(self.max_abs_total, abs(self.total))
        for venue, other in self.contexts.items():      # the skew moved: every other venue requotes
            if venue != ctx.venue and not other.stopped:
                self._share(venue)
                self.legs[venue].on_timer(other)

    def on_stop(self, ctx: Context) -> None:
        self._leg(ctx).on_stop(ctx)

    # ---- results ------------------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """Per venue its market-making report (decomposition, its check, its ledger), the total
        inventory and its largest absolute value, and the P&L summed over venues."""
        per_venue = {v: self.legs[v].report(c) for v, c in self.contexts.items()}
        return {
            "venues": per_venue, "inventory": self.total, "max_abs_inventory": self.max_abs_total,
            "max_inventory": int(self.params["max_inventory"]),
            "pnl_total": sum(r["pnl"]["total"] for r in per_venue.values()),
            "runtime_pnl_total": sum(r["runtime_pnl"] for r in per_venue.values()),
            "all_parts_add_up": all(r["pnl_parts_add_up"] and r["pnl_matches_runtime"] for r in per_venue.values()),
        }
