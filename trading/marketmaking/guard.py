"""The adverse-selection and market-state guard: when to widen, skew or pull the quotes.

``MarketGuard.assess`` looks at the market state first; any of these pulls both sides at once:
a halted instrument or a tripped circuit breaker (from the control plane or the engine's phase),
a crossed book (best bid > best ask) or a locked one (equal), a missing side, and stale data (no
book update for ``stale_after_s``). Then at toxicity (markouts.py) at or above ``toxicity_pull``
the quotes are pulled; between ``toxicity_widen`` and ``toxicity_pull`` the spread widens linearly
up to ``widen_max`` times and the quotes skew with the one-sided flow (up when buyers take, down
when sellers take: quoting into informed flow is what adverse selection costs).

The regime detector (trading/analytics when it lands) enters through ``regime_widen`` and
``regime_skew``: a caller that has a regime passes its multiplier and skew, and they compose with
the guard's.
"""
from __future__ import annotations

from typing import NamedTuple

from trading.marketmaking.params import GuardParams


class MarketState(NamedTuple):
    """The market as the strategy sees it. Prices in ticks (None: that side is empty)."""
    now_s: float
    last_update_s: float
    best_bid: int | None
    best_ask: int | None
    halted: bool = False
    breaker: bool = False


class GuardDecision(NamedTuple):
    quote: bool
    reason: str          # why not, or "ok"
    widen: float = 1.0
    skew: float = 0.0    # price units, added to both quotes' centre
    toxicity: float = 0.0


def market_block(state: MarketState, stale_after_s: float) -> str | None:
    """The reason the market state forbids quoting, or None."""
    if state.halted:
        return "halted"
    if state.breaker:
        return "circuit breaker"
    if state.best_bid is None or state.best_ask is None:
        return "one-sided book"
    if state.best_bid > state.best_ask:
        return "crossed book"
    if state.best_bid == state.best_ask:
        return "locked book"
    if state.now_s - state.last_update_s > stale_after_s:
        return "stale data"
    return None


class MarketGuard:
    def __init__(self, params: GuardParams) -> None:
        params.validate()
        self.params = params

    def assess(self, state: MarketState, toxicity: float, flow_imbalance: float,
               half_spread: float, regime_widen: float = 1.0,
               regime_skew: float = 0.0) -> GuardDecision:
        block = market_block(state, self.params.stale_after_s)
        if block is not None:
            return GuardDecision(False, block, toxicity=toxicity)
        p = self.params
        if toxicity >= p.toxicity_pull:
            return GuardDecision(False, f"toxic flow ({toxicity:.2f} >= {p.toxicity_pull})",
                                 toxicity=toxicity)
        widen, skew = 1.0, 0.0
        if toxicity > p.toxicity_widen:
            span = max(p.toxicity_pull - p.toxicity_widen, 1e-12)
            x = (toxicity - p.toxicity_widen) / span
            widen = 1.0 + (p.widen_max - 1.0) * x
            skew = flow_imbalance * half_spread * x
        return GuardDecision(True, "ok", widen=widen * regime_widen, skew=skew + regime_skew,
                             toxicity=toxicity)
