"""The market maker as a strategy on the runtime (trading/strategy): the same class live and in replay.

``MarketMakingStrategy`` (``--strategy mm``) wraps maker.MarketMaker: the runtime's callbacks feed
it (book changes, public trades, own fills, cancels, rejects, a timer for the stale-data check) and
its intents become the context's orders: a quote side is one GTC post-only limit order, moved by
``ctx.replace`` (same price and a smaller size keeps time priority) or pulled by ``ctx.cancel``; a
hedge is an IOC at the touch.

Parameters (``--param name=value``): the quoting parameters of params.py by their flat names
(model, gamma, sigma, A, k, horizon_s, tau_s, lot, max_inventory, quote_size,
price_threshold_ticks, size_threshold_lots, stale_after_s, toxicity_widen, toxicity_pull,
widen_max, latency_us: the one-way latency to the venue, which moves each side away from the mid
by sigma * sqrt(2 * latency) in whole ticks), gamma, sigma and k per currency unit (converted to price units here), where 0 for
sigma, A or k means "estimate online" and 0 for horizon_s the rolling horizon; status_s (> 0: a JSON status line every status_s seconds for the ops shell); plus tiers and tier_step_ticks (quotes at several depths, sizes by tiers.py's allocation),
hedge_threshold (shares, 0: no hedging), hedge_instrument (0: hedge in the quoted instrument; else
an instrument the context follows, e.g. ``--other-instrument 2`` live), hedge_ratio (shares of the
hedge instrument per share held; 0: estimated from both mids, hedging.py), regime (1: spreads by regime), iceberg_refill_s (> 0: each
quote is an iceberg whose display lasts about that long at its side's observed fill rate,
iceberg.py, EWMA half-life iceberg_half_life_s; 0: quotes show their whole size), timer_ms
(the stale-data check) and sample_s (the report's path: mid, quotes, inventory, P&L).
The tick comes from the instrument (ctx.tick_size), the fees from the instrument's fee schedule
(ctx.fees: the maker rate, negative for a rebate, enters the pricing). Everything is validated in
on_start, before the first order: an impossible value raises ParameterError naming the field.

``report()`` after a run: the P&L decomposition (pnl.py; with a hedge instrument, the hedge leg's
spread and carry and its fees in it), its check against the runtime's own ledgers (every instrument
the strategy traded, each marked at its own last mid), markouts, inventory path extremes, fit
quality, regime and the hedge.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, ClassVar, Mapping

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.hedging import HedgeConfig
from trading.marketmaking.iceberg import FillRateMeter, display_size
from trading.marketmaking.maker import ASK, BID, Intent, MakerConfig, MarketMaker
from trading.marketmaking.params import FeeParams, MarketMakerParams
from trading.marketmaking.refresh import Action
from trading.strategy.api import BUY, SELL, Fill, OwnOrder, ParamError, PublicTrade, Strategy
from trading.strategy.context import Context

_NS = 1e-9
_OPTIONAL_ZERO = ("sigma", "A", "k", "horizon_s")


class MarketMakingStrategy(Strategy):
    name: ClassVar[str] = "mm"
    defaults: ClassVar[Mapping[str, Any]] = {
        "model": "as", "gamma": 0.1, "sigma": 0.0, "A": 0.0, "k": 0.0, "horizon_s": 0.0,
        "tau_s": 60.0, "lot": 100, "max_inventory": 1000, "quote_size": 100,
        "price_threshold_ticks": 1, "size_threshold_lots": 1, "stale_after_s": 5.0,
        "toxicity_widen": 0.6, "toxicity_pull": 0.95, "widen_max": 3.0,
        "hedge_threshold": 0, "hedge_instrument": 0, "hedge_ratio": 1.0, "regime": 1, "timer_ms": 1000, "sample_s": 1.0,
        "tiers": 1, "tier_step_ticks": 1, "status_s": 0.0,
        "iceberg_refill_s": 0.0, "iceberg_half_life_s": 30.0, "latency_us": 0.0,
    }

    # read afresh at each decision, so `strategy set ID gamma=0.2,quote_size=200` (the ops shell)
    # takes effect at the next quote; the rest shapes state built in on_start (the lot and tick
    # grid, tiers, hedging, icebergs, timers) and needs a restart
    live_params: ClassVar[frozenset[str]] = frozenset({
        "gamma", "sigma", "A", "k", "max_inventory", "quote_size", "price_threshold_ticks",
        "size_threshold_lots", "stale_after_s", "toxicity_widen", "toxicity_pull", "widen_max", "latency_us"})

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.maker: MarketMaker | None = None
        self.order_of_side: dict[tuple[int, int], int] = {}      # (BID/ASK, tier) -> live order id
        self.side_of_order: dict[int, tuple[int, int]] = {}
        self.hedge_orders: set[int] = set()
        self.hedge_instrument = 0                 # set in on_start: 0, or the cross hedge's instrument
        # one row per sample_s of simulated time: (ts_ns, mid, own bid, own ask, inventory, P&L)
        self.path: list[tuple[int, float, int | None, int | None, int, float]] = []
        self._next_sample_ns = 0
        self._next_status_ns = 0
        self.blocked_until_ns = 0           # quoting stopped by the venue (kill switch, halt) until then
        self.block_kind = ""
        self.fill_rate: dict[int, FillRateMeter] = {}   # per side (BID/ASK): own passive fills per second

    # ---- set-up -------------------------------------------------------------------------------
    def build_params(self, tick: int, price_scale: int) -> MarketMakerParams:
        """The validated quoting parameters in engine price units (ParameterError names the first
        impossible one). gamma, sigma and k are given per currency unit and converted here:
        gamma / scale, sigma * scale, k / scale (A is per second, unchanged)."""
        p = self.params
        pairs = {name: str(p[name]) for name in (
            "model", "tau_s", "lot", "max_inventory", "quote_size", "price_threshold_ticks",
            "size_threshold_lots", "stale_after_s", "toxicity_widen", "toxicity_pull", "widen_max")}
        gamma = float(p["gamma"])
        if not gamma > 0:
            raise ParameterError("gamma", gamma, "must be > 0")
        pairs["gamma"] = str(gamma / price_scale)
        unit = {"sigma": float(price_scale), "A": 1.0, "k": 1.0 / price_scale, "horizon_s": 1.0}
        for name in _OPTIONAL_ZERO:
            value = float(p[name])
            if value < 0:
                raise ParameterError(name, value, "must be > 0, or 0 to estimate / use the default")
            pairs[name] = "none" if value == 0 else repr(value * unit[name])
        pairs["tick"] = str(tick)
        return MarketMakerParams.from_strings(pairs)

    def priced_params(self, ctx: Context) -> MarketMakerParams:
        """build_params with the instrument's fees in price units per share: the maker rebate moves
        the quotes (quoting.py), so each venue's schedule prices its own quotes."""
        return dataclasses.replace(self.build_params(ctx.tick_size, ctx.price_scale), fees=FeeParams(
            maker_rebate=-ctx.fees.maker_per_share * ctx.price_scale,
            taker_fee=max(ctx.fees.taker_per_share, 0.0) * ctx.price_scale)).validate()

    def check_live_change(self) -> None:
        """The quoting parameters' own checks on a tick of 1 and a price scale of 1 (every check
        is on the sign or the order of values, so the instrument's grid cannot change the verdict),
        and latency_us >= 0: a live change the maker would refuse is refused before it is sent."""
        try:
            self.build_params(1, 1).validate()
        except ParameterError as exc:
            raise ParamError(str(exc)) from None
        if not float(self.params["latency_us"]) >= 0:
            raise ParamError(f"latency_us={self.params['latency_us']!r}: must be >= 0")

    def on_params(self, ctx: Context, changed: Mapping[str, Any]) -> None:
        """A live change (the ops shell's `strategy set`): the maker requotes from its next
        decision with the new parameters; its estimators, markouts and ledger go on."""
        if self.maker is not None:
            self.maker.retune(self.priced_params(ctx), float(self.params["latency_us"]) * 1e-6)

    def on_start(self, ctx: Context) -> None:
        params = self.priced_params(ctx)
        p = self.params
        if int(p["timer_ms"]) < 1:
            raise ParameterError("timer_ms", p["timer_ms"], "must be >= 1")
        if int(p["hedge_threshold"]) < 0:
            raise ParameterError("hedge_threshold", p["hedge_threshold"], "must be >= 0 (0: no hedging)")
        hedge = self.hedge_config(ctx, params.grid.lot)
        scale = ctx.price_scale
        hedge_fees = ctx.instrument(self.hedge_instrument).fees if self.hedge_instrument else ctx.fees
        self.maker = MarketMaker(MakerConfig(
            params=params, maker_rebate_units=round(-ctx.fees.maker_per_share * scale),
            taker_fee_units=round(ctx.fees.taker_per_share * scale), hedge=hedge,
            hedge_taker_fee_units=round(hedge_fees.taker_per_share * scale),
            latency_s=float(p["latency_us"]) * 1e-6,
            use_regime=bool(int(p["regime"])), price_scale=float(scale), tiers=int(p["tiers"]),
            tier_step_ticks=int(p["tier_step_ticks"])), ctx.instrument_id)
        if float(p["iceberg_refill_s"]) < 0:
            raise ParameterError("iceberg_refill_s", p["iceberg_refill_s"], "must be >= 0 (0: no icebergs)")
        self.fill_rate = {side: FillRateMeter(float(p["iceberg_half_life_s"])) for side in (BID, ASK)}
        ctx.set_timer(int(p["timer_ms"]) * 1_000_000)

    def hedge_config(self, ctx: Context, lot: int) -> HedgeConfig | None:
        """The hedger's configuration from hedge_threshold, hedge_instrument and hedge_ratio, or
        None without hedging; ParameterError naming the field for a ratio that is not finite, an
        instrument the strategy does not follow (or with another price scale), or a hedge
        instrument without a threshold. Sets self.hedge_instrument (0: no cross hedge)."""
        p = self.params
        threshold, instrument, ratio = int(p["hedge_threshold"]), int(p["hedge_instrument"]), float(p["hedge_ratio"])
        if not math.isfinite(ratio) or ratio < 0:
            raise ParameterError("hedge_ratio", ratio, "must be a finite ratio > 0, or 0 to estimate it")
        self.hedge_instrument = 0
        if instrument not in (0, ctx.instrument_id):
            if instrument not in ctx.instruments:
                followed = ", ".join(str(i) for i in ctx.instruments)
                raise ParameterError("hedge_instrument", instrument,
                                     f"is not an instrument this strategy follows (followed: {followed})")
            other = ctx.instrument(instrument)
            if other.price_scale != ctx.price_scale:
                raise ParameterError("hedge_instrument", instrument,
                                     f"has price scale {other.price_scale}, the quoted one {ctx.price_scale}")
            if threshold <= 0:
                raise ParameterError("hedge_threshold", threshold, "must be >= 1 share with a hedge_instrument")
            self.hedge_instrument = instrument
        if threshold <= 0:
            return None
        state = ctx.instrument(self.hedge_instrument) if self.hedge_instrument else ctx.instruments[ctx.instrument_id]
        return HedgeConfig(threshold=threshold, hedge_instrument=self.hedge_instrument,
                           beta=(ratio or None) if self.hedge_instrument else 1.0, hedge_lot=lot,
                           taker_fee=state.fees.taker_per_share, tick=state.tick_size / state.price_scale)

    def on_other_book(self, ctx: Context, instrument_id: int) -> None:
        if self.maker is not None and instrument_id == self.hedge_instrument:
            book = ctx.instrument(instrument_id).book
            self.maker.on_hedge_book(ctx.now * _NS, book.best_bid, book.best_ask, own_touch=self.market_touch(ctx))

    def on_phase(self, ctx: Context, phase: str, previous: str) -> None:
        """The venue's trading phase: anything but continuous trading (a halt, the reopening
        auction, the close) pulls the quotes at once and keeps them off until trading resumes."""
        if phase != "CONTINUOUS":
            self._block(ctx, "halt", until_ns=1 << 62)
        elif self.block_kind == "halt" and self.blocked_until_ns > ctx.now:
            self.blocked_until_ns = ctx.now
            ctx.log(f"quoting resumes: {previous} -> {phase}")
            self.on_book(ctx)

    def display_qty(self, ctx: Context, side: int, qty: int) -> int:
        """The iceberg display of a quote of qty on side (0: show it all), from the side's fill rate."""
        refill, lot = float(self.params["iceberg_refill_s"]), int(self.params["lot"])
        if refill <= 0 or qty < 2 * lot:
            return 0
        meter = self.fill_rate[side]
        meter.observe(ctx.now / 1e9, 0.0)
        shown = display_size(meter.rate(), refill, lot, qty)
        return shown if shown < qty else 0

    # ---- callbacks ----------------------------------------------------------------------------
    def _maker(self) -> MarketMaker:
        if self.maker is None:
            raise RuntimeError("MarketMakingStrategy: on_start has not run")
        return self.maker

    @staticmethod
    def market_touch(ctx: Context) -> tuple[int | None, int | None]:
        """Best bid and ask of everyone else: the book as delivered, less the strategy's own
        resting quantity at each price. A maker that priced off its own quotes would chase them."""
        mine: dict[tuple[int, int], int] = {}
        for o in ctx.orders.values():
            if o.status == "live" and o.tif != "IOC":     # what it shows: an iceberg only its display
                shown = min(o.display_qty, o.leaves_qty) if o.display_qty else o.leaves_qty
                mine[(o.side, o.price)] = mine.get((o.side, o.price), 0) + shown
        if not mine:
            return ctx.book.best_bid, ctx.book.best_ask
        touch: list[int | None] = []
        for side, levels, reverse, top in ((BUY, ctx.book.bids, True, ctx.book.best_bid),
                                           (SELL, ctx.book.asks, False, ctx.book.best_ask)):
            if top is None or levels[top] > mine.get((side, top), 0):
                touch.append(top)          # the usual case: someone else is at the best price
                continue
            best = None
            for price in sorted(levels, reverse=reverse):
                if levels[price] > mine.get((side, price), 0):
                    best = price
                    break
            touch.append(best)
        return touch[0], touch[1]

    def _blocked(self, ctx: Context) -> tuple[bool, bool]:
        """(halted, breaker) as the venue last told us: a refusal for the phase (a halt) or for the
        kill switch, and a cancel by the kill switch, stop quoting at once and for stale_after_s
        seconds; then the maker tries again (and stops again if the venue still refuses)."""
        if ctx.now >= self.blocked_until_ns:
            return False, False
        return self.block_kind == "halt", self.block_kind == "kill switch"

    def _block(self, ctx: Context, kind: str, until_ns: int | None = None) -> None:
        self.block_kind = kind
        self.blocked_until_ns = ctx.now + int(float(self.params["stale_after_s"]) * 1e9) if until_ns is None else until_ns
        ctx.log(f"quoting stopped: {kind}")
        halted, breaker = self._blocked(ctx)
        bid, ask = self.market_touch(ctx)
        self._send(ctx, self._maker().on_book(ctx.now * _NS, bid, ask, halted=halted, breaker=breaker))

    def on_book(self, ctx: Context) -> None:
        mm = self._maker()
        bid, ask = self.market_touch(ctx)
        halted, breaker = self._blocked(ctx)
        self._send(ctx, mm.on_book(ctx.now * _NS, bid, ask, halted=halted, breaker=breaker))
        self._sample(ctx)
        self._status(ctx)

    def _status(self, ctx: Context) -> None:
        """Live operation: one JSON line of state every status_s seconds on stdout, which the
        control plane's strategy manager keeps as the strategy's log (``strategy list`` shows the
        last line in the ops shell): inventory, P&L parts, regime and its probability, toxicity."""
        every = float(self.params["status_s"])
        if every <= 0 or ctx.now < self._next_status_ns or self.maker is None:
            return
        self._next_status_ns = ctx.now + int(every * 1e9)
        snap = self.maker.snapshot()
        line = {k: snap[k] for k in ("inventory", "reason", "bid", "ask", "regime", "toxicity", "pnl")}
        print(json.dumps(line, default=str), flush=True)

    def _sample(self, ctx: Context) -> None:
        if ctx.now < self._next_sample_ns or self.maker is None:
            return
        mm = self.maker
        self._next_sample_ns = ctx.now + int(float(self.params["sample_s"]) * 1e9)
        b = mm.ledger.breakdown()
        bid, ask = mm.shown(BID), mm.shown(ASK)
        self.path.append((ctx.now, 0.0 if b.final_mid2 == 0 else b.final_mid2 / 2.0,
                          None if bid is None else int(bid[0]), None if ask is None else int(ask[0]),
                          mm.inventory, b.total2 / 2.0 / ctx.price_scale))

    def on_timer(self, ctx: Context) -> None:
        mm = self._maker()
        halted, breaker = self._blocked(ctx)
        mm.halted, mm.breaker = halted, breaker
        self._send(ctx, mm.on_timer(ctx.now * _NS))
        self._sample(ctx)
        self._status(ctx)

    def on_trade(self, ctx: Context, trade: PublicTrade) -> None:
        if trade.aggressor in (BUY, SELL):
            self._maker().on_trade(ctx.now * _NS, trade.price, trade.qty, 1 if trade.aggressor == BUY else -1)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        mm = self._maker()
        hedge = fill.order_id in self.hedge_orders
        if hedge and self.hedge_instrument and fill.instrument_id == self.hedge_instrument:
            mm.on_hedge_leg_fill(ctx.now * _NS, 1 if fill.side == BUY else -1, fill.price, fill.qty)
            if fill.leaves_qty == 0:
                self._forget(fill.order_id)
            return
        side = BID if fill.side == BUY else ASK
        tier = self.side_of_order.get(fill.order_id, (side, 0))[1]
        mm.on_fill(ctx.now * _NS, side, fill.price, fill.qty, passive=fill.maker, hedge=hedge, tier=tier)
        if fill.maker and not hedge and self.fill_rate:
            self.fill_rate[side].observe(ctx.now / 1e9, float(fill.qty))
        if fill.leaves_qty == 0:
            self._forget(fill.order_id)

    def on_cancelled(self, ctx: Context, order: OwnOrder, reason: str) -> None:
        self._gone(order.order_id)
        if "KILL_SWITCH" in reason:
            self._block(ctx, "kill switch")

    def on_rejected(self, ctx: Context, order_id: int, reason: str) -> None:
        if "KILL_SWITCH" in reason or reason.endswith("REJ_PHASE"):
            self._gone_or_resync(ctx, order_id)
            self._block(ctx, "kill switch" if "KILL_SWITCH" in reason else "halt")
            return
        self._gone_or_resync(ctx, order_id)

    def _gone_or_resync(self, ctx: Context, order_id: int) -> None:
        order = ctx.orders.get(order_id)
        key = self.side_of_order.get(order_id)
        if order is not None and key is not None:
            # a refused REPLACE leaves the order as it was (ENGINE.md): follow the book, not the intent
            self._maker().resync(key[0], key[1], order.price, order.leaves_qty)
            return
        self._gone(order_id)

    def on_stop(self, ctx: Context) -> None:
        mm = self._maker()
        mm.markouts.flush(ctx.now * _NS)

    # ---- intents to orders --------------------------------------------------------------------
    def _forget(self, order_id: int) -> None:
        self.hedge_orders.discard(order_id)
        key = self.side_of_order.pop(order_id, None)
        if key is not None and self.order_of_side.get(key) == order_id:
            del self.order_of_side[key]

    def _gone(self, order_id: int) -> None:
        mm = self._maker()
        if order_id in self.hedge_orders:
            mm.on_order_gone(0, hedge=True)
        key = self.side_of_order.get(order_id)
        if key is not None and self.order_of_side.get(key) == order_id:
            mm.on_order_gone(key[0], tier=key[1])
        self._forget(order_id)

    def _send(self, ctx: Context, intents: list[Intent]) -> None:
        for it in intents:
            side = BUY if it.side == BID else SELL
            if it.action == "hedge":
                oid = ctx.place(side, it.price, it.qty, tif="IOC", instrument=self.hedge_instrument or None)
                self.hedge_orders.add(oid)
                continue
            key = (it.side, it.tier)
            live = self.order_of_side.get(key)
            if it.action is Action.CANCEL:
                if live is not None:
                    ctx.cancel(live)
                continue
            if it.action is Action.REPLACE and live is not None and live in ctx.orders:
                ctx.replace(live, it.price, it.qty)
                continue
            if live is not None:
                ctx.cancel(live)
                self._forget(live)
            oid = ctx.place(side, it.price, it.qty, tif="GTC", post_only=True,
                            display_qty=self.display_qty(ctx, it.side, it.qty))
            self.order_of_side[key] = oid
            self.side_of_order[oid] = key

    # ---- results ------------------------------------------------------------------------------
    def report(self, ctx: Context) -> dict[str, Any]:
        """The run's market-making results; ``pnl_check`` compares the decomposition's total with
        the runtime's ledger (both marked at the last mid)."""
        mm = self._maker()
        b = mm.ledger.breakdown()
        parts = b.as_currency(float(ctx.price_scale))
        runtime_total = ctx.ledger.total(b.final_mid2 / 2.0) if b.final_mid2 else 0.0
        by_instrument = {ctx.instrument_id: runtime_total}
        if self.hedge_instrument:
            leg = ctx.instrument(self.hedge_instrument).ledger
            by_instrument[self.hedge_instrument] = leg.total(b.hedge_leg_mid2 / 2.0 if b.hedge_leg_mid2 else None)
            runtime_total += by_instrument[self.hedge_instrument]
        snap = mm.snapshot()
        return {
            "pnl": parts, "pnl_parts_add_up": b.check(), "runtime_pnl_by_instrument": by_instrument,
            "hedge": snap["hedge"],
            "runtime_pnl": runtime_total, "pnl_matches_runtime": abs(runtime_total - parts["total"]) < 1e-6,
            # the mark of both: the last two-sided mid the maker saw (its view, after feed latency)
            "mark": b.final_mid2 / 2.0 / float(ctx.price_scale) if b.final_mid2 else None,
            "passive_fills": b.passive_fills, "hedge_fills": b.hedge_fills, "volume": b.passive_volume,
            "position": b.position, "max_abs_inventory": mm.max_abs_inventory,
            "max_inventory": mm.params.limits.max_inventory,
            "markouts": snap["markouts"], "sigma": snap["sigma"], "A": snap["A"], "k": snap["k"],
            "fit": snap["fit"], "regime": snap["regime"], "toxicity": snap["toxicity"],
            "quote_updates": mm.quote_updates, "reason_at_end": mm.reason,
        }
