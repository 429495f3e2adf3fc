"""From a model's optimal distances to the prices and sizes a market maker sends.

Quoter.target() takes the mid, the inventory (shares), the time and the current adjustments (spread
multiplier and skew from the regime and the adverse-selection guard) and returns the bid and the
ask as integer price ticks and share sizes, or None for a side that is not quoted:

- the model (params.model.model): "as" (avellaneda_stoikov.py, finite horizon when horizon_s is set,
  else the rolling horizon tau_s) or "glft" (glft.py closed form, inventory bound Q =
  max_inventory / quote_size clips). Inventory enters the models in clips of quote_size shares;
- fees: a fill earns the distance plus the maker rebate, so maximising A e^{-k d}(1 - e^{-gamma(d +
  rebate - p)}) moves the optimal distance d by -rebate on each side (GLFT's derivation with the
  rebate added to the spread term); a negative rebate (a maker fee) widens by its amount;
- adjustments: half the spread is multiplied by ``widen`` (>= 1) around the model's centre, and the
  centre moves by ``skew`` price units;
- prices are rounded away from the mid onto the tick grid (bid down, ask up) and kept passive: the
  bid at most one tick below the best ask, the ask at least one tick above the best bid;
- sizes: quote_size, cut so that a full fill keeps |inventory| <= max_inventory, in whole lots; a
  side whose size rounds to zero is not quoted.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from trading.marketmaking.avellaneda_stoikov import ModelQuote, as_quote
from trading.marketmaking.errors import ParameterError
from trading.marketmaking.glft import glft_quote
from trading.marketmaking.params import MarketMakerParams


class Side(NamedTuple):
    price_ticks: int
    size: int


class TargetQuote(NamedTuple):
    bid: Side | None
    ask: Side | None
    reservation: float          # price units
    model_bid_distance: float   # price units, after fees and adjustments
    model_ask_distance: float
    # the model's own half spread (price units), before the guard's widening and skew and the
    # rebate: what the adverse-selection guard measures toxicity against (maker.py)
    model_half_spread: float


class MarketInputs(NamedTuple):
    """What the quoter needs from the market: sigma, A and k (given, or from the estimators)."""
    sigma: float
    A: float
    k: float


class Quoter:
    """Stateless apart from its validated parameters; one per instrument."""

    def __init__(self, params: MarketMakerParams) -> None:
        self.params = params.validate()
        p = self.params
        self.tick = p.grid.tick
        self.lot = p.grid.lot
        self.clip = p.limits.quote_size
        self.Q = p.limits.max_inventory // p.limits.quote_size

    def model_quote(self, mid: float, inventory: int, t: float, m: MarketInputs) -> ModelQuote:
        for name, value in (("sigma", m.sigma), ("A", m.A), ("k", m.k)):
            if not (math.isfinite(value) and value > 0):
                raise ParameterError(name, value, "must be > 0 (given or estimated) before quoting")
        mp = self.params.model
        q = inventory / self.clip
        if mp.model == "glft":
            return glft_quote(mid, int(round(q)), self.Q, mp.gamma, m.sigma, m.A, m.k)
        tau = mp.tau_s if mp.horizon_s is None else max(mp.horizon_s - t, 0.0)
        return as_quote(mid, q, mp.gamma, m.sigma, m.k, tau)

    def target(self, mid: float, inventory: int, t: float, m: MarketInputs,
               best_bid_ticks: int | None = None, best_ask_ticks: int | None = None,
               widen: float = 1.0, skew: float = 0.0) -> TargetQuote:
        mq = self.model_quote(mid, inventory, t, m)
        rebate = self.params.fees.maker_rebate
        half = 0.5 * (mq.bid_distance + mq.ask_distance) * widen
        centre = 0.5 * (mq.ask_distance - mq.bid_distance) + skew
        d_bid = half - centre - rebate
        d_ask = half + centre - rebate
        bid_px = math.floor((mid - d_bid) / self.tick + 1e-9)
        ask_px = math.ceil((mid + d_ask) / self.tick - 1e-9)
        if best_ask_ticks is not None:
            bid_px = min(bid_px, best_ask_ticks - 1)
        if best_bid_ticks is not None:
            ask_px = max(ask_px, best_bid_ticks + 1)
        if ask_px <= bid_px:        # both rounded onto the same tick: step the ask up
            ask_px = bid_px + 1
        lim = self.params.limits
        bid_size = min(self.clip, lim.max_inventory - inventory) // self.lot * self.lot
        ask_size = min(self.clip, lim.max_inventory + inventory) // self.lot * self.lot
        bid = Side(bid_px, bid_size) if mq.bid_ok and bid_size > 0 and bid_px > 0 else None
        # a price is at least one tick: far out of the money (a huge reservation skew) there is no quote
        ask = Side(ask_px, ask_size) if mq.ask_ok and ask_size > 0 and ask_px > 0 else None
        return TargetQuote(bid=bid, ask=ask, reservation=mq.reservation,
                           model_bid_distance=d_bid, model_ask_distance=d_ask,
                           model_half_spread=0.5 * (mq.bid_distance + mq.ask_distance))
