"""Information fusion: a Kalman estimate of the efficient price from several sources, and
Dempster-Shafer combination of direction evidence with a stated rule for high conflict.

Efficient price (a Bayesian estimate; R. E. Kalman, "A New Approach to Linear Filtering and
Prediction Problems", J. Basic Engineering 82, 1960; the local-level model of A. C. Harvey,
"Forecasting, Structural Time Series Models and the Kalman Filter", 1989, ch. 3). The efficient
price m is a random walk, m(t + dt) = m(t) + w, w ~ N(0, q dt); source i (a venue's mid, trade
prices, another venue) observes y = m + v_i, v_i ~ N(0, R_i). Per observation:

    predict   P <- P + q dt
    update    v = y - m,  S = P + R_i,  K = P / S,  m <- m + K v,  P <- (1 - K) P

R_i is estimated online by covariance matching (R. K. Mehra, "Approaches to adaptive filtering",
IEEE Trans. Automatic Control 17(5), 1972): E[v^2] = P_prior + R_i, so with an exponentially
weighted mean V_i of v^2 (weight ``noise_weight`` on the newest), R_i = max(V_i - P_prior, r_min),
applied from the next observation of source i on (the current one uses the R_i it found). With
``estimate_noise=False`` the R_i stay as given; with q = 0 the filter then gives the static closed
form m = (m0/P0 + sum y_k/R_k) / (1/P0 + sum 1/R_k), P = 1 / (1/P0 + sum 1/R_k). The filter is
sequential by nature: ``fuse_prices`` (batch) runs the same recursion as KalmanFusion.update over
the arrays, so the two give the same values.

Dempster-Shafer (A. P. Dempster 1967; G. Shafer, "A Mathematical Theory of Evidence", 1976) on the
frame {up, down}: each signal gives masses (m(up), m(down), m(Theta)) summing to 1, Theta = "either"
(ignorance). The sources are combined jointly with the conjunctive rule through commonalities,
Q(up) = prod (m_i(up) + m_i(Theta)), Q(down) likewise, Q(Theta) = prod m_i(Theta):

    m(up) = Q(up) - Q(Theta),  m(down) = Q(down) - Q(Theta),  m(Theta) = Q(Theta),
    conflict K = 1 - m(up) - m(down) - m(Theta)       (the mass on the empty set)

Dempster's rule divides by 1 - K. High-conflict rule (stated): when K > ``conflict_limit`` (0.8 by
default) the normalisation is refused, because it turns near-total disagreement into confident
agreement (L. Zadeh's 1979 example), and Yager's rule is used instead: the conflict mass goes to
Theta (R. R. Yager, "On the Dempster-Shafer framework and new combination rules", Information
Sciences 41, 1987), so strong disagreement reads as ignorance. K = 1 always uses Yager's rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trading.analytics.errors import (AnalyticsInputError, FloatArray, as_float_array,
                                      check_same_length, check_scalar, check_sorted)


@dataclass(frozen=True)
class FusedPrice:
    price: FloatArray        # posterior mean after each observation
    variance: FloatArray     # posterior variance P
    noise: FloatArray        # [observations, sources]: R_i in force after each observation


class KalmanFusion:
    """Streaming efficient-price filter over several sources (see the module docstring).

    sources: number of sources; q: efficient-price variance per second (>= 0); r0: initial R_i (one
    value or one per source, > 0); m0, p0: prior mean and variance (p0 > 0; the first observation
    sets m0 when m0 is None, with P = R of that source)."""

    def __init__(self, sources: int, q: float, r0: Any, *, m0: float | None = None, p0: float = 1e12,
                 estimate_noise: bool = True, noise_weight: float = 0.01, r_min: float = 1e-12) -> None:
        if int(sources) < 1:
            raise AnalyticsInputError(f"sources: must be >= 1, got {sources!r}")
        self.q = check_scalar("q", q, nonnegative=True)
        r = np.broadcast_to(as_float_array("r0", r0, ndim=np.ndim(r0)), (int(sources),)).astype(np.float64)
        if np.any(r <= 0):
            raise AnalyticsInputError("r0: must be > 0")
        self.r = r.copy()
        self.v2 = r.copy()                 # EW mean of squared innovations, seeded with R
        self.estimate_noise = bool(estimate_noise)
        self.w = check_scalar("noise_weight", noise_weight, positive=True)
        if self.w > 1:
            raise AnalyticsInputError(f"noise_weight: must be <= 1, got {noise_weight!r}")
        self.r_min = check_scalar("r_min", r_min, positive=True)
        self.m = math.nan if m0 is None else check_scalar("m0", m0)
        self.p = check_scalar("p0", p0, positive=True)
        self.t = -math.inf

    def update(self, time: float, source: int, value: float) -> tuple[float, float]:
        """One observation; returns (posterior mean, posterior variance)."""
        if not (math.isfinite(time) and math.isfinite(value)):
            raise AnalyticsInputError(f"fusion: non-finite observation ({time!r}, {value!r})")
        if not 0 <= source < len(self.r):
            raise AnalyticsInputError(f"fusion: source {source!r} not in 0..{len(self.r) - 1}")
        if time < self.t:
            raise AnalyticsInputError(f"fusion: time {time!r} before the previous {self.t!r}")
        if math.isnan(self.m):
            self.m, self.p, self.t = float(value), float(self.r[source]), time
            return self.m, self.p
        if self.t != -math.inf:            # no time has passed before the first observation
            self.p += self.q * (time - self.t)
        self.t = time
        v = value - self.m
        r = self.r[source]
        k = self.p / (self.p + r)
        prior = self.p
        self.m += k * v
        self.p *= 1.0 - k
        if self.estimate_noise:
            self.v2[source] = (1.0 - self.w) * self.v2[source] + self.w * v * v
            self.r[source] = max(self.v2[source] - prior, self.r_min)
        return self.m, self.p

    def update_many(self, times: Any, sources: Any, values: Any) -> FusedPrice:
        t = as_float_array("times", times, allow_empty=True)
        x = as_float_array("values", values, allow_empty=True)
        s = np.asarray(sources, dtype=np.int64)
        check_same_length(times=t, sources=s, values=x)
        check_sorted("times", t)
        out_m = np.empty(len(t))
        out_p = np.empty(len(t))
        out_r = np.empty((len(t), len(self.r)))
        for i, (ti, si, xi) in enumerate(zip(t.tolist(), s.tolist(), x.tolist())):
            out_m[i], out_p[i] = self.update(ti, si, xi)
            out_r[i] = self.r
        return FusedPrice(out_m, out_p, out_r)


def fuse_prices(times: Any, sources: Any, values: Any, n_sources: int, q: float, r0: Any, **options: Any) -> FusedPrice:
    """Batch form: the filter over a day's observations (time-sorted; source index per row)."""
    t = as_float_array("times", times)
    return KalmanFusion(n_sources, q, r0, **options).update_many(t, sources, values)


# ---- Dempster-Shafer ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Combined:
    mass: FloatArray         # [..., 3]: m(up), m(down), m(Theta)
    conflict: FloatArray     # K
    yager: Any               # bool: True where the high-conflict rule was used


def _masses(masses: Any) -> FloatArray:
    m = np.asarray(masses, dtype=np.float64)
    if m.ndim < 2 or m.shape[-1] != 3:
        raise AnalyticsInputError(f"masses: expected shape [..., sources, 3], got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise AnalyticsInputError("masses: NaN or infinite")
    if np.any(m < 0) or not np.allclose(m.sum(axis=-1), 1.0, atol=1e-9):
        raise AnalyticsInputError("masses: each source's (up, down, either) must be >= 0 and sum to 1")
    return m


def combine_evidence(masses: Any, conflict_limit: float = 0.8) -> Combined:
    """Combine sources' masses, shape [..., sources, 3] (batch over any leading axes, e.g. time)."""
    m = _masses(masses)
    lim = check_scalar("conflict_limit", conflict_limit, nonnegative=True)
    q_theta = np.prod(m[..., 2], axis=-1)
    up = np.prod(m[..., 0] + m[..., 2], axis=-1) - q_theta
    down = np.prod(m[..., 1] + m[..., 2], axis=-1) - q_theta
    k = np.clip(1.0 - up - down - q_theta, 0.0, 1.0)
    yager = (k > lim) | (k >= 1.0)
    norm = np.where(yager, 1.0, 1.0 - k)
    out = np.stack([up / norm, down / norm, np.where(yager, q_theta + k, q_theta / norm)], axis=-1)
    return Combined(out, k, yager)


def mass_from_score(score: Any, reliability: float) -> FloatArray:
    """A signal's masses from a score (positive: up) and a reliability in [0, 1]:
    m(up) = r max(tanh(score), 0), m(down) = r max(-tanh(score), 0), m(Theta) = the rest."""
    s = as_float_array("score", score, allow_empty=True, ndim=np.ndim(score))
    r = check_scalar("reliability", reliability, nonnegative=True)
    if r > 1:
        raise AnalyticsInputError(f"reliability: must be <= 1, got {reliability!r}")
    th = np.tanh(s)
    up, down = r * np.maximum(th, 0.0), r * np.maximum(-th, 0.0)
    out: FloatArray = np.stack([up, down, 1.0 - up - down], axis=-1)
    return out


class EvidenceStream:
    """Streaming combination: update(masses of this instant's sources) -> Combined for that instant."""

    def __init__(self, conflict_limit: float = 0.8) -> None:
        self.conflict_limit = check_scalar("conflict_limit", conflict_limit, nonnegative=True)
        self.high_conflict_count = 0

    def update(self, masses: Any) -> Combined:
        res = combine_evidence(masses, self.conflict_limit)
        self.high_conflict_count += int(np.sum(res.yager))
        return res


def direction_scores(values: Any) -> FloatArray:
    """Standardise a signal by its own running scale (causal): x_t / sqrt(mean x_1..t^2)."""
    x = as_float_array("values", values, allow_empty=True)
    rms = np.sqrt(np.cumsum(x * x) / np.arange(1, len(x) + 1))
    out: FloatArray = np.where(rms > 0, x / np.where(rms > 0, rms, 1.0), 0.0)
    return out
