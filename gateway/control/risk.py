"""Post-trade risk analytics: VaR, drawdown, concentration, and edge-triggered limit alerts.

Pure functions of their inputs (no clock, no I/O), so the service can recompute them after every
fill and a replay yields the same alerts.

Conventions (units are the P&L units of pnl.py: price units x quantity units):
- A P&L change series is the period-on-period change of an account's equity, sampled on ENGINE
  time in fixed buckets by ``pnl_changes`` (equity only moves at fills and marks, so a bucket
  with no event repeats the previous value and contributes a change of 0).
- VaR is the one-period loss not exceeded with probability ``confidence``, reported as a
  positive number, floored at 0 (a quantile that is still a gain means "no loss at this level").
  * historical: the empirical quantile. With n changes sorted ascending, the VaR is minus the
    k-th smallest, k = ceil(n x (1 - confidence)) (at least 1): e.g. 100 changes at 95 % ->
    the 5th worst; 10 changes at 90 % -> the worst one. The confidence is read as the decimal
    written (0.95 is 19/20, not the float just above it), so k is counted exactly.
  * parametric (variance-covariance, normal): mean m and sample standard deviation s (n - 1)
    of the changes; VaR = z x s - m with z the standard normal quantile at ``confidence``
    (1.6449 at 95 %, 2.3263 at 99 %). One period; no sqrt-of-time scaling, no fat tails.
- Max drawdown: the largest fall of the equity curve from a previous peak (absolute, >= 0).
- Concentration: the largest single-instrument share of gross exposure, sum |exposure_i|.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from numbers import Real
from statistics import NormalDist
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from gateway.control.exact import exact_fraction

# ---- input checks ----------------------------------------------------------------------------


def _confidence(confidence: Any) -> Fraction:
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not math.isfinite(confidence):
        raise ValueError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")
    c = exact_fraction(confidence).limit_denominator(10**9)   # 0.95 -> 19/20: count k exactly
    if not 0 < c < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return c


def _series(name: str, values: Iterable[Any], window: int | None, min_len: int) -> list[Any]:
    vals = list(values)
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, Real):
            raise ValueError(f"{name}[{i}] is not a number: {v!r}")
        if not math.isfinite(v):
            raise ValueError(f"{name}[{i}] is {v!r}: NaN and infinities are not P&L values")
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, int) or window < min_len:
            raise ValueError(f"window must be an integer >= {min_len}, got {window!r}")
        vals = vals[-window:]
    if len(vals) < min_len:
        raise ValueError(f"{name} needs at least {min_len} value(s), got {len(vals)}")
    return vals


# ---- metrics ---------------------------------------------------------------------------------


def var_historical(pnl_changes: Iterable[Any], confidence: float = 0.99, window: int | None = None) -> float:
    """Historical VaR of the last ``window`` changes (all when None); see the module docstring."""
    c = _confidence(confidence)
    vals = sorted(_series("pnl_changes", pnl_changes, window, 1))
    k = max(1, math.ceil(len(vals) * (1 - c)))
    return max(0.0, -float(vals[k - 1]))


def var_parametric(pnl_changes: Iterable[Any], confidence: float = 0.99, window: int | None = None) -> float:
    """Normal (variance-covariance) VaR: z(confidence) x sample stdev - mean, floored at 0."""
    c = _confidence(confidence)
    vals = np.asarray([float(v) for v in _series("pnl_changes", pnl_changes, window, 2)], dtype=np.float64)
    mean = float(vals.mean())
    std = float(vals.std(ddof=1))
    z = NormalDist().inv_cdf(float(c))
    return max(0.0, z * std - mean)


def max_drawdown(equity_curve: Iterable[Any]) -> Any:
    """Largest peak-to-trough fall of an equity curve (values, or (ts_ns, value) pairs); 0 if none.

    Exact: ints or Fractions in give the same type out (no float rounding of engine units).
    """
    peak = None
    worst: Any = 0
    for i, point in enumerate(equity_curve):
        v = point[1] if isinstance(point, tuple) else point
        if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v):
            raise ValueError(f"equity_curve[{i}] is not a finite number: {point!r}")
        if peak is None or v > peak:
            peak = v
        elif peak - v > worst:
            worst = peak - v
    return worst


def concentration(positions: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> float:
    """Largest single-instrument share of gross exposure, in [0, 1]; 0.0 when nothing is held.

    ``positions``: instrument -> signed exposure (notional, e.g. PnlBook.exposures), or pairs.
    Long and short count alike (gross, not net): {A: 300, B: -100} -> 300 / 400 = 0.75.
    """
    items = list(positions.items()) if isinstance(positions, Mapping) else list(positions)
    gross: Any = 0
    largest: Any = 0
    for inst, x in items:
        if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(x):
            raise ValueError(f"exposure of instrument {inst!r} is not a finite number: {x!r}")
        gross += abs(x)
        largest = max(largest, abs(x))
    return 0.0 if gross == 0 else float(Fraction(largest) / Fraction(gross))


def pnl_changes(equity_points: Sequence[tuple[int | None, Any]], interval_ns: int,
                max_buckets: int = 1_000_000) -> list[Any]:
    """Equity points (ts_ns, equity) on engine time -> per-bucket changes of ``interval_ns``.

    Bucket b holds ts in [b x interval, (b + 1) x interval); its value is the last equity in it, a
    bucket with no point repeats the previous one. Changes run from the curve's first value (0 for
    an account's first fill; the oldest kept point when PnlBook's max_history dropped older ones)
    to the last bucket's close, so a curve within one bucket yields one change. Points without a
    ts are refused (no engine time). Only the last ``max_buckets`` buckets are returned (a long,
    quiet span of engine time costs no more than that).
    """
    if isinstance(interval_ns, bool) or not isinstance(interval_ns, int) or interval_ns <= 0:
        raise ValueError(f"interval_ns must be a positive integer, got {interval_ns!r}")
    if isinstance(max_buckets, bool) or not isinstance(max_buckets, int) or max_buckets <= 0:
        raise ValueError(f"max_buckets must be a positive integer, got {max_buckets!r}")
    if not equity_points:
        return []
    last_ts = None
    closes: dict[int, Any] = {}
    for i, (ts, v) in enumerate(equity_points):
        if ts is None:
            raise ValueError(f"equity point {i} has no engine ts_ns")
        if last_ts is not None and ts < last_ts:
            ts = last_ts                      # engine time never runs backwards (now = max)
        last_ts = ts
        closes[ts // interval_ns] = v
    last = max(closes)
    start = max(min(closes), last - max_buckets + 1)
    before = [b for b in closes if b < start]
    prev = closes[max(before)] if before else equity_points[0][1]
    out = []
    value = prev
    for b in range(start, last + 1):
        value = closes.get(b, value)
        out.append(value - prev)
        prev = value
    return out


# ---- limits and alerts -----------------------------------------------------------------------

# Metric names that limits apply to; a metric is compared as a non-negative magnitude.
LIMIT_METRICS = ("position", "notional", "loss", "var", "drawdown", "concentration")
# Extra metrics compute_metrics reports for display; never limited.
INFO_METRICS = ("var_historical", "var_parametric", "equity", "gross_exposure")


@dataclass(frozen=True)
class AccountLimits:
    """Post-trade limits of one account; None = not checked.

    position: largest |position| in any one instrument (lots); notional: gross exposure
    sum |pos x mark|; loss: -equity (P&L units); var: one-period VaR; drawdown: max drawdown;
    concentration: largest instrument share of gross exposure, a fraction in [0, 1].
    auto_kill: a breach of any of them asks the service to engage the account's kill switch.
    """
    position: int | None = None
    notional: float | None = None
    loss: float | None = None
    var: float | None = None
    drawdown: float | None = None
    concentration: float | None = None
    auto_kill: bool = False
    warn_fraction: float | None = None   # None: the monitor's

    @classmethod
    def from_config(cls, account: Any) -> "AccountLimits":
        """From a config account (gateway/control/config.py Account: var_limit, ..., 0 = no limit).

        ``max_position`` (engine-enforced; INT64_MAX = none) also becomes the post-trade position
        limit, so the monitor warns as an account approaches it.
        """
        kw: dict[str, Any] = {}
        for name, cfg_name in _CONFIG_NAMES.items():
            v = getattr(account, cfg_name, None)
            kw[name] = None if v is None or v == 0 or (name == "position" and v >= _INT64_MAX) else v
        kw["auto_kill"] = bool(getattr(account, "auto_kill", False))
        kw["warn_fraction"] = getattr(account, "warn_fraction", None)
        return cls(**kw)

    def __post_init__(self) -> None:
        for name in LIMIT_METRICS:
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or float(v) < 0:
                raise ValueError(f"limit {name} must be a finite number >= 0 or None, got {v!r}")
            if name == "concentration" and float(v) > 1:
                raise ValueError(f"limit concentration is a fraction in [0, 1], got {v!r}")
        if not isinstance(self.auto_kill, bool):
            raise ValueError(f"auto_kill must be true or false, got {self.auto_kill!r}")
        if self.warn_fraction is not None:
            _check_warn_fraction(self.warn_fraction)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Alert:
    level: str          # "warn" (value >= warn_fraction x limit) or "breach" (value > limit)
    account: Any
    metric: str
    value: Any
    limit: Any
    kill: bool = False  # breach with the account's auto kill switch on

    def as_dict(self) -> dict[str, Any]:
        v = self.value
        return {"level": self.level, "account": self.account, "metric": self.metric,
                "value": float(v) if isinstance(v, Fraction) else v, "limit": self.limit, "kill": self.kill}


# limit name here -> field name in the venue config (gateway/control/config.py Account) and in
# protocol.ACCOUNT_POST_TRADE_LIMITS / ACCOUNT_ENGINE_LIMITS, where 0 means "no limit".
_CONFIG_NAMES = {"position": "max_position", "notional": "notional_limit", "loss": "loss_limit",
                 "var": "var_limit", "drawdown": "drawdown_limit", "concentration": "concentration_limit"}
_FROM_CONFIG_NAME = {v: k for k, v in _CONFIG_NAMES.items()}
_INT64_MAX = 2**63 - 1


def _check_warn_fraction(wf: Any) -> Fraction:
    if isinstance(wf, bool) or not isinstance(wf, Real) or not math.isfinite(wf) or not 0 < float(wf) <= 1:
        raise ValueError(f"warn_fraction must be in (0, 1], got {wf!r}")
    return exact_fraction(wf).limit_denominator(10**9)


_OK, _WARN, _BREACH = 0, 1, 2
_LEVEL_NAME = {_WARN: "warn", _BREACH: "breach"}


@dataclass
class RiskMonitor:
    """Evaluates accounts' metrics against their limits; alerts are edge-triggered.

    ``limits``: account -> AccountLimits; ``default`` applies to an account without an entry.
    State per (account, metric) is ok / warn / breach: an alert is emitted only when the state
    rises (ok -> warn, ok -> breach, warn -> breach); an unchanged state repeats nothing; falling
    back (breach -> warn, or to ok below the warn threshold) emits nothing but re-arms, so the next
    rise alerts again. ``open_alerts()`` lists the current non-ok states.
    """
    limits: dict[Any, AccountLimits] = field(default_factory=dict)
    warn_fraction: float = 0.8
    default: AccountLimits | None = None
    _state: dict[tuple[Any, str], tuple[int, Alert | None]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        _check_warn_fraction(self.warn_fraction)
        self.limits = dict(self.limits)
        for acc, lim in self.limits.items():
            if not isinstance(lim, AccountLimits):
                raise ValueError(f"limits of account {acc!r} must be AccountLimits, got {type(lim).__name__}")

    def limits_for(self, account: Any) -> AccountLimits | None:
        return self.limits.get(account, self.default)

    def set_limit(self, account: Any, metric: str, value: Any) -> AccountLimits:
        """Change one limit (or auto_kill / warn_fraction) of an account; returns its new limits.

        ``metric`` is a name here ("var", None = no limit) or the config's ("var_limit",
        "max_position", where 0 means no limit, as in the venue configuration).
        """
        if metric in _FROM_CONFIG_NAME:
            metric, value = _FROM_CONFIG_NAME[metric], (None if value == 0 or value is None else value)
            if metric == "position" and value is not None and value >= _INT64_MAX:
                value = None
        if metric not in LIMIT_METRICS and metric not in ("auto_kill", "warn_fraction"):
            raise ValueError(f"unknown limit {metric!r}: expected one of {', '.join(LIMIT_METRICS)}, "
                             f"auto_kill, warn_fraction (or {', '.join(_FROM_CONFIG_NAME)})")
        base = self.limits_for(account) or AccountLimits()
        new = replace(base, **{metric: value})   # __post_init__ validates
        self.limits[account] = new
        return new

    def evaluate(self, account: Any, metrics: Mapping[str, Any]) -> list[Alert]:
        """Compare ``metrics`` (name -> value or None) with the account's limits; new alerts only."""
        for name, v in metrics.items():
            if name not in LIMIT_METRICS and name not in INFO_METRICS:
                raise ValueError(f"unknown metric {name!r}: expected one of {', '.join(LIMIT_METRICS + INFO_METRICS)}")
            if v is not None and (isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v)):
                raise ValueError(f"metric {name} must be a finite number or None, got {v!r}")
        lim = self.limits_for(account)
        if lim is None:
            return []
        wf = _check_warn_fraction(lim.warn_fraction if lim.warn_fraction is not None else self.warn_fraction)
        out = []
        for name in LIMIT_METRICS:
            limit = getattr(lim, name)
            value = metrics.get(name)
            if limit is None or value is None:
                continue
            if value > limit:
                state = _BREACH
            elif value > 0 and value >= wf * Fraction(limit):   # a limit of 0: nothing to approach
                state = _WARN
            else:
                state = _OK
            prev, _ = self._state.get((account, name), (_OK, None))
            alert = None
            if state != _OK:
                alert = Alert(_LEVEL_NAME[state], account, name, value, limit,
                              kill=state == _BREACH and lim.auto_kill)
                if state > prev:
                    out.append(alert)
            self._state[(account, name)] = (state, alert)
        return out

    def open_alerts(self, account: Any = None) -> list[Alert]:
        """The latest alert of every (account, metric) currently in warn or breach."""
        return [a for (acc, _), (st, a) in self._state.items()
                if st != _OK and a is not None and (account is None or acc == account)]


def compute_metrics(book: Any, account: Any, *, interval_ns: int, confidence: float = 0.99,
                    window: int | None = None, var_method: str = "historical") -> dict[str, Any]:
    """An account's metrics from a pnl.PnlBook, keyed as RiskMonitor.evaluate expects.

    VaR uses the equity changes per ``interval_ns`` of engine time (the last ``window``); it is
    None until there are enough of them (1 historical, 2 parametric). ``var`` is the one named by
    ``var_method`` ("historical" or "parametric"), the limit applies to it.
    """
    if var_method not in ("historical", "parametric"):
        raise ValueError(f"var_method must be 'historical' or 'parametric', got {var_method!r}")
    curve = book.equity_curve(account)
    changes = pnl_changes([p for p in curve if p[0] is not None], interval_ns)
    if window is not None:
        changes = changes[-window:]
    vh = var_historical(changes, confidence) if len(changes) >= 1 else None
    vp = var_parametric(changes, confidence) if len(changes) >= 2 else None
    exposures = book.exposures(account)
    positions = [abs(book.position(account, i)) for i in book.instruments(account)]
    equity = book.equity(account)
    gross = sum(abs(x) for x in exposures.values())
    return {
        "position": max(positions, default=0),
        "notional": gross,
        "loss": max(0, -equity),
        "var": vh if var_method == "historical" else vp,
        "drawdown": max_drawdown(curve),
        "concentration": concentration(exposures),
        "var_historical": vh,
        "var_parametric": vp,
        "equity": equity,
        "gross_exposure": gross,
    }


__all__ = ["AccountLimits", "Alert", "INFO_METRICS", "LIMIT_METRICS", "RiskMonitor", "compute_metrics",
           "concentration", "max_drawdown", "pnl_changes", "var_historical", "var_parametric"]
