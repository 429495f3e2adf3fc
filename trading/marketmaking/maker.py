"""The market maker: market data and own fills in, order intents out, independent of the runtime.

``MarketMaker`` holds everything a market-making strategy decides with: the quoter (AS or GLFT),
the online estimators (sigma from the mid, A and k from the public trades), the regime policy
(trading/analytics' detector), the markout tracker and guard, the hedger and the P&L ledger. The
strategy adapter (strategy.py, on trading/strategy's API) and the benchmark feed it:

    on_book(t, best_bid, best_ask, halted, breaker) -> intents   the touch changed (or the phase)
    on_trade(t, price, qty, aggressor_side)                      a public trade
    on_fill(t, side, price, qty, passive, hedge)                 one of our orders traded
    on_order_gone(side)                                          our quote on that side is gone
    on_timer(t) -> intents                                       time passed (stale-data check)
    on_hedge_book(t, best_bid, best_ask)                         the hedge instrument's touch
    on_hedge_leg_fill(t, side, price, qty)                       a hedge filled in that instrument

With a hedge in another instrument (``hedge.hedge_instrument``), the hedge intents are orders in
that instrument, its fills move the hedge position (not the inventory, which stays the quoted
instrument's and drives the quotes' skew and limits) and are booked to the P&L ledger's hedge leg;
an estimated hedge ratio is fed both mids on a grid of ``hedge_sample_s`` seconds (sampling on
every event of two asynchronous books would bias the covariance to zero: the Epps effect).

Intents say what to send: NEW / REPLACE / CANCEL of the quote on a side and tier, or a HEDGE (an IOC
at the touch). With ``tiers`` > 1 each side rests one order per tier, tier i ``tier_step_ticks * i``
ticks behind the model's price, and the sizes come from the mean-variance allocation of tiers.py
(recomputed every ``tier_refresh_s``): the edge of a tier is its distance plus the rebate less the
adverse selection measured by the markouts, its risk the inventory it would leave. Prices are engine price units (integers), sizes shares. The maker assumes an intent is
carried out (its live view moves at once) and learns otherwise from on_order_gone; that keeps one
intent per side in flight, which is what a real engine's one reply per command allows.
"""
from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.estimation import IntensityFit, MarketIntensityFitter, VolatilityEstimator
from trading.marketmaking.guard import GuardDecision, MarketGuard, MarketState
from trading.marketmaking.hedging import HedgeConfig, Hedger
from trading.marketmaking.markouts import MarkoutTracker
from trading.marketmaking.params import MarketMakerParams
from trading.marketmaking.pnl import PnlLedger
from trading.marketmaking.quoting import MarketInputs, Quoter, Side, TargetQuote
from trading.marketmaking.refresh import Action, decide
from trading.marketmaking.regime_policy import RegimePolicy
from trading.marketmaking.tiers import TierInputs, allocate, to_lots

BID, ASK = 1, -1


class Intent(NamedTuple):
    side: int                 # +1 bid (buy), -1 ask (sell)
    action: Action | str      # Action, or "hedge"
    price: int = 0            # engine price units
    qty: int = 0
    keeps_priority: bool = False
    tier: int = 0             # 0: the quote at the model's price; i: i steps behind it


@dataclass(frozen=True)
class MakerConfig:
    """What the maker needs beyond the quoting parameters. price_scale: engine price units per
    currency unit (LOBSTER 10000), used only for reports. Fees are integer price units per share."""
    params: MarketMakerParams
    maker_rebate_units: int = 0
    taker_fee_units: int = 0
    hedge: HedgeConfig | None = None
    use_regime: bool = True
    regime_bar_s: float = 1.0
    sigma_half_life_s: float = 120.0
    sigma_sample_s: float = 1.0
    min_fit_fills: int = 30
    price_scale: float = 1.0
    tiers: int = 1
    tier_step_ticks: int = 1
    tier_refresh_s: float = 5.0
    tier_hold_s: float = 30.0
    hedge_taker_fee_units: int | None = None    # the hedge instrument's taker fee (None: taker_fee_units)
    hedge_sample_s: float = 1.0
    # one-way latency to the venue, seconds: each side moves away from the mid by sigma * sqrt(2 *
    # latency) (the mid's standard deviation over a quote's way there and a cancel's way back),
    # rounded to whole ticks (so latencies far below the tick's worth of volatility change nothing)
    latency_s: float = 0.0

    def validate(self) -> None:
        if self.tiers < 1:
            raise ParameterError("tiers", self.tiers, "must be >= 1")
        if self.tier_step_ticks < 1:
            raise ParameterError("tier_step_ticks", self.tier_step_ticks, "must be >= 1")
        for name in ("tier_refresh_s", "tier_hold_s", "regime_bar_s", "sigma_half_life_s", "price_scale",
                     "hedge_sample_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ParameterError(name, v, "must be > 0")
        if not (math.isfinite(self.latency_s) and self.latency_s >= 0):
            raise ParameterError("latency_s", self.latency_s, "must be >= 0 seconds")
        if self.maker_rebate_units < -10**9 or self.taker_fee_units < 0:
            raise ParameterError("taker_fee_units", self.taker_fee_units, "must be >= 0")


class MarketMaker:
    def __init__(self, config: MakerConfig, instrument: int = 1) -> None:
        config.validate()
        self.config = config
        self.params = config.params.validate()
        self.quoter = Quoter(self.params)
        self.tick = self.params.grid.tick
        self.guard = MarketGuard(self.params.guard)
        self.vol = VolatilityEstimator(half_life_s=config.sigma_half_life_s, sample_s=config.sigma_sample_s)
        self.intensity = MarketIntensityFitter(bucket_width=self.tick / 2.0, buckets=24)
        self.fit: IntensityFit | None = None
        self.regime = RegimePolicy(bar_s=config.regime_bar_s) if config.use_regime else None
        self.markouts = MarkoutTracker(self.params.guard.markout_horizons_s)
        horizons = self.params.guard.markout_horizons_s
        self.ledger = PnlLedger(horizons[len(horizons) // 2], config.maker_rebate_units,
                                config.taker_fee_units)
        self.hedger = Hedger(config.hedge, instrument) if config.hedge is not None else None
        self.live: dict[int, Side | None] = {BID: None, ASK: None}
        self.deep: dict[tuple[int, int], Side | None] = {
            (side, i): None for side in (BID, ASK) for i in range(1, config.tiers)}
        self.tier_sizes: dict[int, list[int]] = {}      # side -> shares per tier (tiers > 1)
        self._capped: dict[int, list[int]] = {}
        self._anchor: dict[int, int | None] = {BID: None, ASK: None}
        self._tiers_at = -math.inf
        self.hedge_in_flight = False
        self.cross_hedge = config.hedge is not None and config.hedge.hedge_instrument not in (0, instrument)
        self.hedge_position = 0          # shares held in the hedge instrument (cross hedge only)
        self.hedge_bid: int | None = None
        self.hedge_ask: int | None = None
        self._next_ratio_sample = -math.inf
        self.inventory = 0
        # shares a side may quote at most (set by a coordinator of several venues: the room their
        # one inventory limit leaves this venue), None: no cap beyond the maker's own limits
        self.size_cap: dict[int, int] | None = None
        self.t0: float | None = None
        self.last_book_t = 0.0
        self.best_bid: int | None = None
        self.best_ask: int | None = None
        self.halted = False
        self.breaker = False
        self.last_target: TargetQuote | None = None
        self.last_decision: GuardDecision | None = None
        self.reason = "no data yet"
        self.max_abs_inventory = 0
        self.quote_updates = 0
        self._fit_countdown = 0

    # ---- inputs -------------------------------------------------------------------------------
    def on_book(self, t: float, best_bid: int | None, best_ask: int | None,
                halted: bool = False, breaker: bool = False) -> list[Intent]:
        if self.t0 is None:
            self.t0 = t
        self.halted, self.breaker = halted, breaker
        elapsed = t - self.last_book_t if self.best_bid is not None else 0.0
        self.best_bid, self.best_ask = best_bid, best_ask
        self.last_book_t = t
        if best_bid is not None and best_ask is not None and best_bid < best_ask:
            mid = 0.5 * (best_bid + best_ask)
            self.vol.update(t, mid)
            self.intensity.observe(elapsed)
            if self.regime is not None:
                if self.regime.detector is None and self.vol.ready:
                    self.regime.start(max(self.vol.sigma() * math.sqrt(self.regime.bar_s), self.tick / 4))
                self.regime.on_mid(t, mid)
            self.markouts.on_mid(t, mid)
            self.ledger.on_mid(t, best_bid, best_ask)
            self._sample_ratio(t)
        return self._requote(t)

    def on_hedge_book(self, t: float, best_bid: int | None, best_ask: int | None,
                      own_touch: tuple[int | None, int | None] | None = None) -> None:
        """The hedge instrument's touch (a cross hedge only; the next requote acts on it).
        own_touch: the quoted instrument's touch as it stands now, where its on_book may not have
        run yet for a change at the same instant (a runtime delivers the other book first): the
        ratio's sample then pairs the two books as they are, not the hedge's with a stale one."""
        self.hedge_bid, self.hedge_ask = best_bid, best_ask
        if best_bid is not None and best_ask is not None and best_bid < best_ask:
            self.ledger.on_leg_mid(best_bid, best_ask)
            self._sample_ratio(t, own_touch)

    def _sample_ratio(self, t: float, own_touch: tuple[int | None, int | None] | None = None) -> None:
        """Both mids into the hedge-ratio estimator, at most once per hedge_sample_s."""
        if not self.cross_hedge or self.hedger is None or t < self._next_ratio_sample:
            return
        bb, ba = own_touch if own_touch is not None else (self.best_bid, self.best_ask)
        hb, ha = self.hedge_bid, self.hedge_ask
        if hb is None or ha is None or bb is None or ba is None or hb >= ha or bb >= ba:
            return
        self.hedger.estimator.update(0.5 * (bb + ba), 0.5 * (hb + ha))
        self._next_ratio_sample = t + self.config.hedge_sample_s

    def on_hedge_leg_fill(self, t: float, side: int, price: int, qty: int) -> None:
        """A fill of a hedge order in the hedge instrument: the hedge position and the leg's P&L."""
        fee = self.config.hedge_taker_fee_units
        self.ledger.on_leg_fill(side, price, qty, self.config.taker_fee_units if fee is None else fee)
        self.hedge_position += side * qty
        self.hedge_in_flight = False
        if self.hedger is not None and self.ledger.leg_mid2 is not None:
            self.hedger.realised_cost(side, qty, price / self.config.price_scale,
                                      self.ledger.leg_mid2 / 2.0 / self.config.price_scale)

    def on_trade(self, t: float, price: int, qty: int, aggressor_side: int) -> None:
        self.markouts.on_trade(aggressor_side, qty)
        if self.best_bid is not None and self.best_ask is not None:
            mid = 0.5 * (self.best_bid + self.best_ask)
            self.intensity.on_trade(abs(price - mid))
            self._fit_countdown -= 1
            if self._fit_countdown <= 0:       # refit every 50 trades: Newton is not free
                self.fit = self.intensity.fit(min_fills=self.config.min_fit_fills)
                self._fit_countdown = 50

    def retune(self, params: MarketMakerParams, latency_s: float | None = None) -> None:
        """New quoting parameters while running (a live change): the quoter, the guard and the
        limits use them from the next decision on; the estimators, markouts, ledger, hedger and the
        live quotes go on (the next refresh moves the quotes by the usual thresholds). The tick,
        the lot and the markout horizons shape that state, so they must stay as they are."""
        params = params.validate()
        old = self.params
        for name, was, now in (("tick", old.grid.tick, params.grid.tick), ("lot", old.grid.lot, params.grid.lot),
                               ("markout_horizons_s", old.guard.markout_horizons_s,
                                params.guard.markout_horizons_s)):
            if was != now:
                raise ParameterError(name, now, f"cannot change while the maker runs (was {was!r})")
        if latency_s is not None and not latency_s >= 0:
            raise ParameterError("latency_us", latency_s * 1e6, "must be >= 0")
        self.config = dataclasses.replace(self.config, params=params,
                                          latency_s=self.config.latency_s if latency_s is None else latency_s)
        self.params = params
        self.quoter = Quoter(params)
        self.guard = MarketGuard(params.guard)

    def on_fill(self, t: float, side: int, price: int, qty: int, passive: bool = True,
                hedge: bool = False, tier: int = 0) -> None:
        self.inventory += side * qty
        self.max_abs_inventory = max(self.max_abs_inventory, abs(self.inventory))
        self.ledger.on_fill(t, side, price, qty, passive=passive, hedge=hedge)
        if hedge:
            self.hedge_in_flight = False
            if self.hedger is not None and self.ledger.mid2 is not None:
                self.hedger.realised_cost(side, qty, price / self.config.price_scale,
                                          self.ledger.mid2 / 2.0 / self.config.price_scale)
            return
        self.markouts.on_fill(t, side, float(price), qty)
        live = self.live[side] if tier == 0 else self.deep.get((side, tier))
        if live is not None:
            left = live.size - qty
            rest = Side(live.price_ticks, left) if left > 0 else None
            if tier == 0:
                self.live[side] = rest
            else:
                self.deep[(side, tier)] = rest

    def on_order_gone(self, side: int, hedge: bool = False, tier: int = 0) -> None:
        if hedge:
            self.hedge_in_flight = False
        elif tier == 0:
            self.live[side] = None
        else:
            self.deep[(side, tier)] = None

    def resync(self, side: int, tier: int, price: int, size: int) -> None:
        """The order on (side, tier) is really at ``price`` (price units) for ``size``: a command
        about it was refused, so the view the maker assumed is corrected to the book's."""
        live = Side(int(round(price / self.tick)), size) if size > 0 else None
        if tier == 0:
            self.live[side] = live
        else:
            self.deep[(side, tier)] = live

    def on_timer(self, t: float) -> list[Intent]:
        return self._requote(t)

    # ---- decisions ----------------------------------------------------------------------------
    def market_inputs(self) -> MarketInputs | None:
        m = self.params.model
        sigma = m.sigma if m.sigma is not None else (self.vol.sigma() if self.vol.ready else None)
        A = m.A if m.A is not None else (self.fit.A if self.fit is not None else None)
        k = m.k if m.k is not None else (self.fit.k if self.fit is not None else None)
        if sigma is None or A is None or k is None or sigma <= 0 or A <= 0 or k <= 0:
            return None
        return MarketInputs(sigma=sigma, A=A, k=k)

    def _pull(self, reason: str) -> list[Intent]:
        self.reason = reason
        out = []
        for side in (BID, ASK):
            if self.live[side] is not None:
                out.append(Intent(side, Action.CANCEL))
                self.live[side] = None
        for (side, tier), live in self.deep.items():
            if live is not None:
                out.append(Intent(side, Action.CANCEL, tier=tier))
                self.deep[(side, tier)] = None
        self.quote_updates += len(out)
        return out

    def _requote(self, t: float) -> list[Intent]:
        bb, ba = self.best_bid, self.best_ask
        half_spread = 0.5 * (ba - bb) if bb is not None and ba is not None else 0.0
        if self.last_target is not None:
            # The model's half spread, not the one quoted: the quoted one includes the guard's own
            # widening, and toxicity measured against it fed back (widen -> lower toxicity ->
            # narrow -> higher toxicity -> widen: a REPLACE per flip, each flip woken by the last
            # one's REPLACED; 4.85 M replaces on the first 8,000 GOOG messages).
            half_spread = self.last_target.model_half_spread
        state = MarketState(now_s=t, last_update_s=self.last_book_t,
                            best_bid=None if bb is None else int(bb // self.tick),
                            best_ask=None if ba is None else -int(-ba // self.tick),
                            halted=self.halted, breaker=self.breaker)
        rv = self.regime.view() if self.regime is not None else None
        decision = self.guard.assess(state, self.markouts.toxicity(half_spread),
                                     self.markouts.flow_imbalance(), half_spread,
                                     regime_widen=rv.widen if rv else 1.0,
                                     regime_skew=(rv.skew_half_spreads * half_spread) if rv else 0.0)
        self.last_decision = decision
        if not decision.quote:
            return self._pull(decision.reason)
        inputs = self.market_inputs()
        if inputs is None:
            return self._pull("estimating sigma, A, k")
        assert bb is not None and ba is not None and self.t0 is not None
        target = self.quoter.target(0.5 * (bb + ba), self.inventory, t - self.t0, inputs,
                                    best_bid_ticks=state.best_bid, best_ask_ticks=state.best_ask,
                                    widen=decision.widen, skew=decision.skew)
        if self.config.tiers > 1:
            target = self._size_tiers(t, target, inputs)
        target = self._venue_terms(target, inputs)
        self.last_target = target
        self.reason = "quoting"
        out: list[Intent] = []
        for side, want in ((BID, target.bid), (ASK, target.ask)):
            d = decide(self.live[side], want, self.params.refresh, self.params.grid.lot)
            if d.action is Action.KEEP:
                continue
            if d.action is Action.CANCEL:
                out.append(Intent(side, Action.CANCEL))
                self.live[side] = None
            else:
                out.append(Intent(side, d.action, int(round(d.price_ticks * self.tick)), d.size,
                                  d.keeps_priority))
                self.live[side] = Side(d.price_ticks, d.size)
        if self.config.tiers > 1:
            out += self._requote_tiers(target)
        self.quote_updates += len(out)
        if self.hedger is not None and not self.hedge_in_flight:
            h = (self.hedger.check(self.inventory, self.hedge_bid, self.hedge_ask, self.hedge_position)
                 if self.cross_hedge else self.hedger.check(self.inventory, bb, ba))
            if h is not None:
                self.hedge_in_flight = True
                out.append(Intent(h.side, "hedge", h.limit_ticks, h.qty))
        return out

    def _venue_terms(self, target: TargetQuote, inputs: MarketInputs) -> TargetQuote:
        """The venue's latency pad (MakerConfig.latency_s) and the coordinator's size cap."""
        pad = int(round(inputs.sigma * math.sqrt(2.0 * self.config.latency_s) / self.tick))
        cap, lot = self.size_cap, self.params.grid.lot
        sides: list[Side | None] = []
        for side, want in ((BID, target.bid), (ASK, target.ask)):
            if want is not None and pad:
                want = want._replace(price_ticks=want.price_ticks - side * pad)
            if want is not None and cap is not None:
                size = min(want.size, cap.get(side, 0)) // lot * lot
                want = want._replace(size=size) if size > 0 else None
            sides.append(want)
        return target._replace(bid=sides[0], ask=sides[1])

    def _allocate_tiers(self, target: TargetQuote, inputs: MarketInputs) -> None:
        """Sizes per tier and side from tiers.allocate; adverse selection per share from the mean
        markout at the middle horizon (a loss is a positive cost), the same at every depth."""
        cfg, p = self.config, self.params
        step = cfg.tier_step_ticks * self.tick
        horizons = self.markouts.horizons
        adverse = max(-self.markouts.mean_markout(horizons[len(horizons) // 2]), 0.0)
        for side, base in ((BID, target.model_bid_distance), (ASK, target.model_ask_distance)):
            room = p.limits.max_inventory - side * self.inventory
            if room < p.grid.lot:
                self.tier_sizes[side] = [0] * cfg.tiers
                continue
            first = max(base, self.tick / 2.0)
            inp = TierInputs(distances=tuple(first + i * step for i in range(cfg.tiers)),
                             adverse=(adverse,) * cfg.tiers, A=inputs.A, k=inputs.k, sigma=inputs.sigma,
                             horizon_s=cfg.tier_refresh_s, hold_s=cfg.tier_hold_s,
                             rebate=float(cfg.maker_rebate_units),
                             # the models count inventory in clips: per share, gamma / quote_size
                             risk_aversion=p.model.gamma / p.limits.quote_size,
                             cap=float(p.limits.quote_size), total=float(room))
            self.tier_sizes[side] = to_lots(allocate(inp, iterations=500).sizes, p.grid.lot)

    def _size_tiers(self, t: float, target: TargetQuote, inputs: MarketInputs) -> TargetQuote:
        """Refreshes the allocation when due and caps it by the room the inventory leaves now (a
        side's tiers filled together never pass max_inventory); tier 0 takes its allocated size."""
        if t - self._tiers_at >= self.config.tier_refresh_s or not self.tier_sizes:
            self._allocate_tiers(target, inputs)
            self._tiers_at = t
        lim = self.params.limits.max_inventory
        self._capped = {}
        # deeper tiers hang off the model's tier-0 price even when tier 0 itself gets no size
        self._anchor = {BID: None if target.bid is None else target.bid.price_ticks,
                        ASK: None if target.ask is None else target.ask.price_ticks}
        for side in (BID, ASK):
            room = max(lim - side * self.inventory, 0)
            capped = []
            for size in self.tier_sizes.get(side, [0] * self.config.tiers):
                take = min(size, room)
                capped.append(take)
                room -= take
            self._capped[side] = capped
        bid = target.bid._replace(size=self._capped[BID][0]) if target.bid is not None else None
        ask = target.ask._replace(size=self._capped[ASK][0]) if target.ask is not None else None
        return target._replace(bid=bid if bid is not None and bid.size > 0 else None,
                               ask=ask if ask is not None and ask.size > 0 else None)

    def _requote_tiers(self, target: TargetQuote) -> list[Intent]:
        out: list[Intent] = []
        step = self.config.tier_step_ticks
        for side in (BID, ASK):
            sizes = self._capped[side]
            top = self._anchor[side]
            for tier in range(1, self.config.tiers):
                size = sizes[tier] if tier < len(sizes) else 0
                want = None
                if top is not None and size > 0:
                    want = Side(top - side * step * tier, size)
                key = (side, tier)
                d = decide(self.deep[key], want, self.params.refresh, self.params.grid.lot)
                if d.action is Action.KEEP:
                    continue
                if d.action is Action.CANCEL:
                    out.append(Intent(side, Action.CANCEL, tier=tier))
                    self.deep[key] = None
                else:
                    out.append(Intent(side, d.action, int(round(d.price_ticks * self.tick)), d.size,
                                      d.keeps_priority, tier))
                    self.deep[key] = Side(d.price_ticks, d.size)
        return out

    # ---- what an operator sees ----------------------------------------------------------------
    def shown(self, side: int) -> tuple[float, int] | None:
        """(price in price units, size) of the tier-0 quote on a side, or None."""
        live = self.live[side]
        return None if live is None else (live.price_ticks * self.tick, live.size)

    def snapshot(self) -> dict[str, Any]:
        inputs = self.market_inputs()
        rv = self.regime.view() if self.regime is not None else None
        b = self.ledger.breakdown()
        fit = self.fit
        return {
            "inventory": self.inventory, "max_abs_inventory": self.max_abs_inventory,
            "reason": self.reason,
            "bid": self.shown(BID), "ask": self.shown(ASK),
            "sigma": None if inputs is None else inputs.sigma,
            "A": None if inputs is None else inputs.A, "k": None if inputs is None else inputs.k,
            "fit": None if fit is None else {"fills": fit.quality.fills, "se_k": fit.quality.se_k,
                                              "p_value": fit.quality.p_value},
            "regime": None if rv is None else {"vol": rv.vol_regime, "trend": rv.trend_regime,
                                               "probability": rv.probability, "widen": rv.widen},
            "toxicity": None if self.last_decision is None else self.last_decision.toxicity,
            "pnl": b.as_currency(self.config.price_scale),
            # None at a horizon no fill has reached (not a measured zero)
            "markouts": {h: self.markouts.mean_markout(h) / self.config.price_scale
                         if self.markouts.has_markout(h) else None for h in self.markouts.horizons},
            "quote_updates": self.quote_updates,
            "hedge": None if self.hedger is None else {
                "instrument": self.hedger.config.hedge_instrument or None, "position": self.hedge_position,
                "ratio": self.hedger.ratio(), "correlation": self.hedger.estimator.correlation(),
                "shares_hedged": self.hedger.hedged_shares,
                "booked_cost": self.hedger.booked_cost},
        }
