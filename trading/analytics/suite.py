"""The estimators run together over one instrument's market data: batch over a day, or streaming.

``analyze_day(events, config)`` (batch, numpy over the whole day) and ``StreamingAnalytics(config)``
(micro-batches of events as they arrive, from a replay or the live feed) run the same set with the
same rules and give the same summary (``summary()`` / ``values()``), which is what the live monitor
publishes and ``python -m trading analyze`` prints. The set, in the order the data flows:

1. trade signs: the feed's aggressor side where known, else Lee-Ready on the quote before the trade
   (classification.py);
2. per trade: VPIN over volume buckets with its CDF alert (vpin.py), Roll's spread (liquidity.py),
   effective/realised spreads and markouts (adverse.py);
3. per best-quote change: order-flow imbalance and its impact regression (ofi.py);
4. per time bar of ``bar_seconds`` (bars.py): Kyle's lambda and Amihud's ratio (liquidity.py),
   variance ratios and autocorrelations of the log mid (efficiency.py), the regime detector on the
   bars' log returns (regime.py), the Kalman efficient price from two sources, the bar's last mid
   and its trades' VWAP (fusion.py), the mid's deviation from it (efficiency.py), and a
   Dempster-Shafer combination of three direction signals per bar (signed volume and OFI, each
   scaled by its running RMS, with ``flow_reliability``; the regime's trend, with
   ``trend_reliability``) whose conflict is reported (fusion.py).

Scale-dependent parts start after ``warmup_bars`` bars with a usable mid: then the regime detector's
scale is the RMS of those bars' log returns, and the Kalman filter's q and R_0 come from their mid
changes (q = mean dP^2 / bar_seconds, R_0 = mean dP^2); the warm-up bars are then fed to both, so
their output covers the whole day. Both forms follow this rule, so they agree.

Alerts (``StreamingAnalytics.update`` returns them as they happen; ``analyze_day`` lists them all):
VPIN's CDF at or above ``vpin_alert_level``, a confirmed regime change, and a direction combination
whose conflict exceeded ``conflict_limit`` (Yager's rule used).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trading.analytics.adverse import SpreadStream, spreads
from trading.analytics.bars import BarBuilder, Bars, time_bars
from trading.analytics.classification import LeeReady, lee_ready
from trading.analytics.efficiency import Efficiency, EfficiencyStream
from trading.analytics.errors import AnalyticsInputError, FloatArray, check_scalar
from trading.analytics.events import MarketEvents
from trading.analytics.fusion import KalmanFusion, combine_evidence, mass_from_score
from trading.analytics.liquidity import AmihudStream, KyleLambdaStream, RollStream, roll_spread
from trading.analytics.ofi import OfiBars, OfiStream, ofi_bars, ofi_price_impact
from trading.analytics.ols import RunningOls
from trading.analytics.regime import RegimeDetector
from trading.analytics.vpin import VpinStream, check_params as vpin_params, vpin

VR_QS = (2, 10)
AC_LAGS = (1,)


@dataclass(frozen=True)
class SuiteConfig:
    bucket_volume: float                 # VPIN bucket size in shares (ELO: daily volume / 50)
    bar_seconds: float = 10.0
    vpin_window: int = 50
    vpin_alert_level: float = 0.99
    vpin_min_history: int = 50
    spread_horizon: float = 5.0
    markout_horizons: tuple[float, ...] = (1.0, 10.0, 60.0)
    warmup_bars: int = 60
    hazard: float = 1.0 / 250.0
    flow_reliability: float = 0.6
    trend_reliability: float = 0.6
    conflict_limit: float = 0.8

    def __post_init__(self) -> None:
        check_scalar("bucket_volume", self.bucket_volume, positive=True)
        check_scalar("bar_seconds", self.bar_seconds, positive=True)
        # VPIN's own checks, here too so a command line is refused before it attaches to an engine
        vpin_params(self.bucket_volume, self.vpin_window, self.vpin_alert_level, self.vpin_min_history)
        if self.warmup_bars < 2:
            raise AnalyticsInputError(f"warmup_bars: must be >= 2, got {self.warmup_bars!r}")


def default_bucket_volume(events: MarketEvents, buckets_per_day: int = 50) -> float:
    """ELO's choice: the day's traded volume / 50, in whole shares (so the day fills at least that
    many buckets); a batch look-ahead: the live monitor is given a number, e.g. yesterday's."""
    total = float(events.trade_size[events.is_trade].sum())
    if total <= 0:
        raise AnalyticsInputError("events: no traded volume, cannot size VPIN buckets")
    if buckets_per_day < 1:
        raise AnalyticsInputError(f"buckets_per_day: must be >= 1, got {buckets_per_day!r}")
    return float(max(math.floor(total / buckets_per_day), 1))


# ---- pieces shared by both forms -------------------------------------------------------------------

def _signed(events: MarketEvents, prior_bid: FloatArray, prior_ask: FloatArray, classify: Any) -> MarketEvents:
    """events with unknown trade signs filled by Lee-Ready (classify(prices, bids, asks))."""
    idx = np.flatnonzero(events.is_trade)
    if not len(idx):
        return events
    lr = classify(events.trade_price[idx], prior_bid[idx], prior_ask[idx])
    sign = events.trade_sign.copy()
    sign[idx] = np.where(sign[idx] != 0, sign[idx], lr)
    return MarketEvents(events.time, events.bid, events.bid_size, events.ask, events.ask_size,
                        events.is_trade, events.trade_price, events.trade_size, sign)


def _quotes_mask(ev: MarketEvents) -> Any:
    return np.isfinite(ev.bid) & np.isfinite(ev.ask) & (ev.bid < ev.ask)


class _Warmup:
    """Collects bars until warmup_bars with a usable mid change, then fixes the scales."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.logret: list[float] = []
        self.dmid: list[float] = []
        self.scale = math.nan
        self.var_mid = math.nan

    def add(self, log_return: float, mid_change: float) -> bool:
        """True when this bar completed the warm-up."""
        if not math.isnan(self.scale) or not (math.isfinite(log_return) and math.isfinite(mid_change)):
            return False
        self.logret.append(log_return)
        self.dmid.append(mid_change)
        if len(self.logret) < self.n:
            return False
        self.scale = max(math.sqrt(math.fsum(r * r for r in self.logret) / self.n), 1e-12)
        self.var_mid = max(math.fsum(d * d for d in self.dmid) / self.n, 1e-18)
        return True


@dataclass
class _BarStage:
    """Per-bar estimators in their streaming form; the batch form feeds it all bars at once, so the
    sequential models (regime, Kalman, evidence) run the same code in both."""

    config: SuiteConfig
    kyle: KyleLambdaStream = field(default_factory=KyleLambdaStream)
    amihud: AmihudStream = field(default_factory=AmihudStream)
    eff: EfficiencyStream = field(default_factory=lambda: EfficiencyStream(VR_QS, AC_LAGS))
    warm: _Warmup | None = None
    regime: RegimeDetector | None = None
    kalman: KalmanFusion | None = None
    pending: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    fused: float = math.nan
    deviation_sum: float = 0.0
    deviation_n: int = 0
    deviation_last: float = math.nan
    ss_flow: float = 0.0
    ss_ofi: float = 0.0
    n_evidence: int = 0
    conflict_sum: float = 0.0
    high_conflict: int = 0
    last_mass: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    trend: int = 0
    vol: int = 0
    sigma: float = math.nan
    changepoints: int = 0
    bars: int = 0
    ofi_queue: list[float] = field(default_factory=list)
    bar_queue: list[tuple[float, float, float, float, float, float]] = field(default_factory=list)
    history: list[tuple[float, float, float, int, int, float]] = field(default_factory=list)
    keep_history: bool = False           # the batch form keeps per-bar rows for plots

    def __post_init__(self) -> None:
        self.warm = _Warmup(self.config.warmup_bars)

    def add_bars(self, bars: Bars, alerts: list[dict[str, Any]]) -> None:
        if not len(bars):
            return
        ok = np.isfinite(bars.mid_change)                  # NaN before the first two-sided quote
        self.kyle.add_many(bars.signed_volume[ok], bars.mid_change[ok])
        fin = np.isfinite(bars.log_return)
        self.amihud.update_many(bars.log_return[fin], bars.dollar_volume[fin])
        logmid = np.log(bars.mid[np.isfinite(bars.mid)])
        self.eff.update_many(logmid)
        self.bars += len(bars)
        vwap = np.where(bars.volume > 0, bars.dollar_volume / np.where(bars.volume > 0, bars.volume, 1.0), np.nan)
        end = bars.start + self.config.bar_seconds
        for i in range(len(bars)):
            self.bar_queue.append((float(end[i]), float(bars.mid[i]), float(vwap[i]), float(bars.log_return[i]),
                                   float(bars.mid_change[i]), float(bars.signed_volume[i])))
        self._drain(alerts)

    def add_ofi(self, ofi: list[float], alerts: list[dict[str, Any]]) -> None:
        self.ofi_queue.extend(ofi)
        self._drain(alerts)

    def _drain(self, alerts: list[dict[str, Any]]) -> None:
        n = min(len(self.bar_queue), len(self.ofi_queue))
        if not n:
            return
        rows = np.array(self.bar_queue[:n], dtype=np.float64)
        ofi = np.array(self.ofi_queue[:n], dtype=np.float64)
        del self.bar_queue[:n]
        del self.ofi_queue[:n]
        # The sequential models bar by bar; trend[i] is the regime's trend after bar i (0 before
        # the detector starts).
        trend = np.zeros(n)
        for i in range(n):
            end, mid, vwap, logret, dmid = rows[i, :5].tolist()
            assert self.warm is not None
            if self.regime is None:
                self.pending.append((end, mid, vwap, logret, dmid))
                if self.warm.add(logret, dmid):
                    cfg = self.config
                    self.regime = RegimeDetector(self.warm.scale, hazard=cfg.hazard)
                    self.kalman = KalmanFusion(2, q=self.warm.var_mid / cfg.bar_seconds, r0=self.warm.var_mid)
                    for item in self.pending:
                        self._sequential(item, alerts)
                    self.pending = []
            else:
                self._sequential((end, mid, vwap, logret, dmid), alerts)
            trend[i] = self.trend
        # Direction evidence for the n bars at once: each flow scaled by its running RMS (causal).
        flow = rows[:, 5]
        k = self.n_evidence + np.arange(1, n + 1, dtype=np.float64)
        ss_flow = self.ss_flow + np.cumsum(flow * flow)
        ss_ofi = self.ss_ofi + np.cumsum(ofi * ofi)
        s_flow = np.where(ss_flow > 0, flow / np.sqrt(np.where(ss_flow > 0, ss_flow, 1.0) / k), 0.0)
        s_ofi = np.where(ss_ofi > 0, ofi / np.sqrt(np.where(ss_ofi > 0, ss_ofi, 1.0) / k), 0.0)
        cfg = self.config
        masses = np.stack([mass_from_score(s_flow, cfg.flow_reliability), mass_from_score(s_ofi, cfg.flow_reliability),
                           mass_from_score(trend, cfg.trend_reliability)], axis=1)
        comb = combine_evidence(masses, cfg.conflict_limit)
        self.ss_flow, self.ss_ofi = float(ss_flow[-1]), float(ss_ofi[-1])
        self.n_evidence += n
        self.conflict_sum += math.fsum(comb.conflict.tolist())
        self.last_mass = (float(comb.mass[-1, 0]), float(comb.mass[-1, 1]), float(comb.mass[-1, 2]))
        for i in np.flatnonzero(comb.yager).tolist():
            self.high_conflict += 1
            alerts.append({"alert": "direction_conflict", "time": float(rows[i, 0]), "conflict": float(comb.conflict[i])})

    def _sequential(self, item: tuple[float, float, float, float, float], alerts: list[dict[str, Any]]) -> None:
        end, mid, vwap, logret, _ = item
        assert self.regime is not None and self.kalman is not None
        if math.isfinite(logret):
            st = self.regime.update(logret)
            self.trend, self.vol, self.sigma = st.trend_regime, st.vol_regime, st.sigma
            if st.new_segment:
                self.changepoints += 1
                alerts.append({"alert": "regime_change", "time": end, "segment_start_bar": st.segment_start,
                               "vol_regime": st.vol_regime, "trend_regime": st.trend_regime})
        if math.isfinite(mid):
            self.fused, _ = self.kalman.update(end, 0, mid)
        if math.isfinite(vwap):
            self.fused, _ = self.kalman.update(end, 1, vwap)
        if math.isfinite(mid) and math.isfinite(self.fused) and self.fused > 0:
            dev = (mid - self.fused) / self.fused          # efficiency.price_deviation, one value
            self.deviation_sum += abs(dev)
            self.deviation_n += 1
            self.deviation_last = dev
        if self.keep_history:
            self.history.append((end, mid, self.fused, self.vol, self.trend, self.sigma))

    def values(self) -> dict[str, float]:
        kyle = self.kyle.fit()
        eff: Efficiency = self.eff.result()
        out = {"bars": float(self.bars), "kyle_lambda": kyle.slope, "kyle_r2": kyle.r2,
               "amihud": self.amihud.result().illiq,
               "regime_changes": float(self.changepoints), "vol_regime": float(self.vol),
               "trend_regime": float(self.trend), "regime_sigma": self.sigma,
               "fused_price": self.fused, "deviation_bps_last": 1e4 * self.deviation_last,
               "deviation_bps_mean_abs": 1e4 * self.deviation_sum / self.deviation_n if self.deviation_n else math.nan,
               "ds_up": self.last_mass[0], "ds_down": self.last_mass[1], "ds_either": self.last_mass[2],
               "ds_conflict_mean": self.conflict_sum / self.n_evidence if self.n_evidence else math.nan,
               "ds_high_conflict": float(self.high_conflict)}
        for q in VR_QS:
            out[f"variance_ratio_{q}"] = eff.variance_ratio[q]
        for lag in AC_LAGS:
            out[f"autocorrelation_{lag}"] = eff.autocorrelation[lag]
        return out


def _spread_values(res: Any) -> dict[str, float]:
    s = res.summary()
    out = {"effective_spread_bps": 1e4 * s["effective"], "realised_spread_bps": 1e4 * s["realised"],
           "price_impact_bps": 1e4 * s["impact"], "adverse_selection_share": s["adverse_selection_share"]}
    for h in res.horizons:
        out[f"markout_{h:g}s_bps"] = 1e4 * s[f"markout_{h:g}s"]
    return out


# ---- batch -------------------------------------------------------------------------------------------

@dataclass
class DayAnalysis:
    """Everything the batch run computed: the summary and the arrays the plots draw."""

    summary: dict[str, float]
    alerts: list[dict[str, Any]]
    bars: Bars
    ofi: OfiBars
    vpin_time: FloatArray
    vpin: FloatArray
    vpin_cdf: FloatArray
    regime: FloatArray           # per bar after the warm-up: end time, mid, fused, vol, trend, sigma
    markouts: FloatArray         # mean taker markout (relative) per horizon
    markout_horizons: tuple[float, ...]


def analyze_day(events: MarketEvents, config: SuiteConfig) -> DayAnalysis:
    """Batch: the whole set over one instrument's day (see the module docstring)."""
    if len(events) == 0:
        raise AnalyticsInputError("events: empty")
    t0 = float(events.time[0])
    prior_bid = np.concatenate([[np.nan], events.bid[:-1]])
    prior_ask = np.concatenate([[np.nan], events.ask[:-1]])
    ev = _signed(events, prior_bid, prior_ask, lee_ready)
    tr = ev.trades()
    alerts: list[dict[str, Any]] = []
    vp = vpin(tr.time, tr.trade_price, tr.trade_size, config.bucket_volume, config.vpin_window,
              config.vpin_alert_level, config.vpin_min_history)
    for i in np.flatnonzero(vp.alert):
        alerts.append({"alert": "vpin", "time": float(vp.time[i]), "vpin": float(vp.vpin[i]), "cdf": float(vp.cdf[i])})
    roll = roll_spread(tr.trade_price)
    sp = spreads(ev, config.spread_horizon, config.markout_horizons)
    q = ev.select(_quotes_mask(ev))
    if not len(q):
        raise AnalyticsInputError("events: no two-sided quote")
    ob = ofi_bars(q.time, q.bid, q.bid_size, q.ask, q.ask_size, config.bar_seconds, origin=t0)
    bars = time_bars(ev, config.bar_seconds, origin=t0)
    # OFI bars end at the last quote's bar; the events' bars may run further (trailing trades).
    ofi = np.concatenate([ob.ofi, np.zeros(max(len(bars) - len(ob.ofi), 0))])[:len(bars)]
    stage = _BarStage(config, keep_history=True)
    stage_alerts: list[dict[str, Any]] = []
    stage.add_bars(bars, stage_alerts)
    stage.add_ofi(ofi.tolist(), stage_alerts)
    ofit = ofi_price_impact(ob)
    summary = {"events": float(len(ev)), "trades": float(len(tr)),
               "classified_trades": float(np.count_nonzero(events.is_trade & (events.trade_sign == 0))),
               "vpin_buckets": float(len(vp.vpin)),
               "vpin_last": float(vp.vpin[-1]) if len(vp.vpin) else math.nan,
               "vpin_cdf_last": float(vp.cdf[-1]) if len(vp.cdf) else math.nan,
               "vpin_max": float(np.nanmax(vp.vpin)) if np.isfinite(vp.vpin).any() else math.nan,
               "vpin_alerts": float(vp.alert.sum()),
               "ofi_beta": ofit.slope, "ofi_r2": ofit.r2, "roll_spread": roll.spread}
    summary.update(_spread_values(sp))
    summary.update(stage.values())
    summary = {k: float(v) for k, v in summary.items()}
    alerts += stage_alerts
    alerts.sort(key=lambda a: float(a["time"]))
    mo = np.array([np.nanmean(c) if np.isfinite(c).any() else np.nan for c in sp.markouts.T])
    return DayAnalysis(summary, alerts, bars, ob, vp.time, vp.vpin, vp.cdf,
                       np.array(stage.history, dtype=np.float64).reshape(-1, 6), mo, sp.horizons)


# ---- streaming -------------------------------------------------------------------------------------------

class StreamingAnalytics:
    """The set in streaming form: update(events) per micro-batch (returns new alerts), finish() at
    the end of data, values() at any time (the same keys as analyze_day's summary)."""

    def __init__(self, config: SuiteConfig) -> None:
        self.config = config
        self.classifier = LeeReady()
        self.vpin = VpinStream(config.bucket_volume, config.vpin_window, config.vpin_alert_level,
                               config.vpin_min_history)
        self.roll = RollStream()
        self.spreads = SpreadStream(config.spread_horizon, config.markout_horizons)
        self.ofi: OfiStream | None = None
        self.bars: BarBuilder | None = None
        self.stage = _BarStage(config)
        self.events = 0
        self.trades = 0
        self.classified = 0
        self.vpin_alerts = 0
        self._bid = math.nan
        self._ask = math.nan
        self.finished = False

    def update(self, events: MarketEvents) -> list[dict[str, Any]]:
        if self.finished:
            raise AnalyticsInputError("streaming analytics: update after finish()")
        n = len(events)
        if not n:
            return []
        if self.bars is None:
            t0 = float(events.time[0])
            self.bars = BarBuilder(self.config.bar_seconds, origin=t0)
            self.ofi = OfiStream(self.config.bar_seconds, origin=t0)
        assert self.ofi is not None
        alerts: list[dict[str, Any]] = []
        prior_bid = np.concatenate([[self._bid], events.bid[:-1]])
        prior_ask = np.concatenate([[self._ask], events.ask[:-1]])
        self._bid, self._ask = float(events.bid[-1]), float(events.ask[-1])
        self.classified += int(np.count_nonzero(events.is_trade & (events.trade_sign == 0)))
        ev = _signed(events, prior_bid, prior_ask, self.classifier.update_many)
        tr = ev.trades()
        for b in self.vpin.update_many(tr.time, tr.trade_price, tr.trade_size):
            if b.alert:
                self.vpin_alerts += 1
                alerts.append({"alert": "vpin", "time": b.time, "vpin": b.vpin, "cdf": b.cdf})
        self.roll.update_many(tr.trade_price)
        self.spreads.update_many(ev)
        q = ev.select(_quotes_mask(ev))
        closed = self.ofi.update_many(q.time, q.bid, q.bid_size, q.ask, q.ask_size)
        self.stage.add_bars(self.bars.update_many(ev), alerts)
        self.stage.add_ofi([c[1] for c in closed], alerts)
        self.events += n
        self.trades += len(tr)
        return alerts

    def finish(self) -> list[dict[str, Any]]:
        """End of data: close the open bars and resolve the trades' horizons."""
        alerts: list[dict[str, Any]] = []
        if self.finished or self.bars is None:
            self.finished = True
            return alerts
        assert self.ofi is not None
        bars = self.bars.flush()
        closed = [c[1] for c in self.ofi.flush()]
        # OFI bars stop at the last two-sided quote's bar; later bars had no quote change.
        closed += [0.0] * max(len(self.stage.bar_queue) + len(bars) - len(self.stage.ofi_queue) - len(closed), 0)
        self.stage.add_bars(bars, alerts)
        self.stage.add_ofi(closed, alerts)
        self.spreads.finish()
        self.finished = True
        return alerts

    def values(self) -> dict[str, float]:
        """The current estimates (after finish(): the day's, equal to analyze_day's summary)."""
        ofit = self.ofi.regression.fit() if self.ofi is not None else RunningOls().fit()
        vb = self.vpin.buckets
        defined = [b.vpin for b in vb if not math.isnan(b.vpin)]
        out = {"events": float(self.events), "trades": float(self.trades), "classified_trades": float(self.classified),
               "vpin_buckets": float(len(vb)),
               "vpin_last": vb[-1].vpin if vb else math.nan, "vpin_cdf_last": vb[-1].cdf if vb else math.nan,
               "vpin_max": max(defined) if defined else math.nan, "vpin_alerts": float(self.vpin_alerts),
               "ofi_beta": ofit.slope, "ofi_r2": ofit.r2, "roll_spread": self.roll.result().spread}
        out.update(_spread_values(self.spreads.result()))
        # The effective spread is known at each trade: live, it covers trades whose horizons are
        # still open too (after finish() the same trades as the batch's).
        out["effective_spread_bps"] = 1e4 * self.spreads.effective_mean()
        out.update(self.stage.values())
        return {k: float(v) for k, v in out.items()}
