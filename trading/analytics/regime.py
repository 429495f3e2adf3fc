"""Volatility and trend regimes by Bayesian online change-point detection, fitted online.

Source: R. P. Adams and D. J. C. MacKay, "Bayesian Online Changepoint Detection" (2007,
arXiv:0710.3742), with the Normal-Gamma conjugate model of K. P. Murphy, "Conjugate Bayesian analysis
of the Gaussian distribution" (2007), section 7.6. Returns are taken as Gaussian with a mean and a
variance that are constant within a segment and redrawn from the prior at a change point.

The recursion, for the run length r_t (observations since the last change) and a constant hazard H:

    pi_t(r)        = StudentT(x_t; nu=2 a_r, loc=m_r, scale^2 = b_r (k_r + 1) / (a_r k_r))
    P(r_t=r+1, x)  = P(r_{t-1}=r, x_{1:t-1}) pi_t(r) (1 - H)          (growth)
    P(r_t=0, x)    = sum_r P(r_{t-1}=r, x_{1:t-1}) pi_t(r) H             (change point)
    P(r_t | x_1:t) = P(r_t, x_1:t) / sum_r P(r_t, x_1:t)
    m' = (k m + x) / (k + 1),  k' = k + 1,  a' = a + 1/2,  b' = b + k (x - m)^2 / (2 (k + 1))

with the prior (m0, k0, a0, b0) = (0, 1, 1, 1) on x / scale. The run-length distribution is truncated
at ``max_run`` entries: the last entry absorbs every run of max_run - 1 observations or more, and its
statistics then become an exponential window of about max_run observations (kappa and alpha stop
growing; beta is shrunk by alpha / (alpha + 1/2) at each step), so one step costs O(max_run) whatever
the day's length.

From the posterior this module reads, at every step:

- the MAP run length r* (r_t = r: the last r observations form the current run, so it began at
  t - r + 1). A change point is *confirmed* when, for ``confirm`` consecutive steps, the posterior
  probability that the run began at least ``min_run`` observations after the last confirmed change
  point is >= ``p_confirm``; the new segment start is then t - r* + 1. A start that flickers for a
  step or two on an outlier is never reported. ``changepoints`` lists the confirmed starts;
- the segment's posterior mean m and standard deviation sigma = scale * sqrt(b / a) under r*;
- the volatility regime: +1 (high) when sigma > vol_ratio * scale, -1 (low) when
  sigma < scale / vol_ratio, 0 otherwise (``scale`` is the caller's "normal" volatility per step);
- the trend regime: the sign of m when |m| / (sigma / sqrt(r*)) > trend_t and the segment holds at
  least ``min_run`` observations, else 0.

Online use (e.g. the market maker, one call per bar of log mid returns)::

    detector = RegimeDetector(scale=typical_return_sd)     # e.g. yesterday's 1 s return sd
    for r in returns:                                       # as each bar closes
        state = detector.update(r)                          # RegimeState, O(max_run)
        if state.vol_regime > 0: widen_quotes()
        if state.new_segment: print("regime change at step", state.segment_start)

``detect_regimes(returns, scale)`` is the batch form over a day's array; it gives exactly the values
of ``update`` called on each element in turn (``update_many`` is the same on a micro-batch). NaN or
infinite returns are refused (AnalyticsInputError): a missing bar must be dropped or given as 0 by
the caller, who knows which is right.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln  # type: ignore[import-untyped]

from trading.analytics.errors import AnalyticsInputError, FloatArray, IntArray, as_float_array, check_scalar

# Prior of the Normal-Gamma model on standardised observations x / scale.
PRIOR_MEAN = 0.0
PRIOR_KAPPA = 1.0
PRIOR_ALPHA = 1.0
PRIOR_BETA = 1.0


@dataclass(frozen=True)
class RegimeState:
    """What the detector believes after observation number ``index`` (0-based)."""

    index: int
    run_length: int             # MAP run length r*: observations in the current segment minus one
    expected_run_length: float  # posterior mean of the run length
    segment_start: int          # last confirmed change point (0 before the first one)
    new_segment: bool           # True on the step that confirmed a new change point
    mean: float                 # current segment's posterior mean, in the units of the input
    sigma: float                # current segment's posterior standard deviation, input units
    vol_regime: int             # -1 low, 0 normal, +1 high volatility
    trend_regime: int           # -1 down, 0 none, +1 up


@dataclass(frozen=True)
class RegimeSeries:
    """The batch output: one entry per observation (fields as in RegimeState) and the change points."""

    run_length: IntArray
    expected_run_length: FloatArray
    segment_start: IntArray
    mean: FloatArray
    sigma: FloatArray
    vol_regime: IntArray
    trend_regime: IntArray
    changepoints: IntArray      # confirmed segment starts, increasing


class RegimeDetector:
    """Streaming Bayesian online change-point detector with volatility and trend regimes.

    scale: the "normal" standard deviation of one input step (> 0); the prior and the volatility
    regime thresholds are relative to it. hazard: prior probability of a change at each step
    (1/expected segment length). max_run: run lengths kept. vol_ratio (> 1), trend_t (> 0),
    min_run and confirm: see the module docstring.
    """

    def __init__(self, scale: float, *, hazard: float = 1.0 / 250.0, max_run: int = 300,
                 vol_ratio: float = 1.5, trend_t: float = 3.0, min_run: int = 5, confirm: int = 5,
                 p_confirm: float = 0.99) -> None:
        self.scale = check_scalar("scale", scale, positive=True)
        self.hazard = check_scalar("hazard", hazard, positive=True)
        if self.hazard >= 1.0:
            raise AnalyticsInputError(f"hazard: must be < 1, got {hazard!r}")
        if int(max_run) < 2:
            raise AnalyticsInputError(f"max_run: must be >= 2, got {max_run!r}")
        self.vol_ratio = check_scalar("vol_ratio", vol_ratio, positive=True)
        if self.vol_ratio <= 1.0:
            raise AnalyticsInputError(f"vol_ratio: must be > 1, got {vol_ratio!r}")
        self.trend_t = check_scalar("trend_t", trend_t, positive=True)
        if int(min_run) < 2 or int(confirm) < 1:
            raise AnalyticsInputError(f"min_run must be >= 2 and confirm >= 1, got {min_run!r}, {confirm!r}")
        self.p_confirm = check_scalar("p_confirm", p_confirm, positive=True)
        if self.p_confirm > 1.0:
            raise AnalyticsInputError(f"p_confirm: must be <= 1, got {p_confirm!r}")
        self.max_run = int(max_run)
        self.min_run = int(min_run)
        self.confirm = int(confirm)
        # Per run-length constants: kappa and alpha depend only on r, so the t density's gamma terms
        # are computed once.
        r = np.arange(self.max_run, dtype=np.float64)
        self._kappa = PRIOR_KAPPA + r
        self._alpha = PRIOR_ALPHA + r / 2.0
        nu = 2.0 * self._alpha
        self._half_nu1 = (nu + 1.0) / 2.0
        self._nu = nu
        self._logc = gammaln((nu + 1.0) / 2.0) - gammaln(nu / 2.0) - 0.5 * np.log(nu * np.pi)
        self._fac = (self._kappa + 1.0) / (self._alpha * self._kappa)
        self._index = r
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next observation is index 0 and starts a segment."""
        # Run-length posterior P(r_t = r | x_1:t) and the per-run statistics, r = 0..n-1, in
        # buffers of max_run entries (probabilities, renormalised every step; a run length whose
        # probability underflows to 0 is simply impossible from then on).
        self._n = 1
        self._r = np.zeros(self.max_run)
        self._r[0] = 1.0
        self._mu = np.zeros(self.max_run)
        self._mu[0] = PRIOR_MEAN
        self._beta = np.zeros(self.max_run)
        self._beta[0] = PRIOR_BETA
        self._t = -1
        self._segment_start = 0
        self._candidate_count = 0
        self._changepoints: list[int] = []

    @property
    def changepoints(self) -> list[int]:
        """Confirmed change points so far (indices of the first observation of each new segment)."""
        return list(self._changepoints)

    def run_length_posterior(self) -> FloatArray:
        """P(r_t = r | x_1:t) for r = 0..len-1 after the last update (truncated at max_run)."""
        return self._r[:self._n].copy()

    def update(self, x: float) -> RegimeState:
        """Take one observation (finite float) and return the state after it."""
        if not math.isfinite(x):
            raise AnalyticsInputError(f"regime: observation {self._t + 1} is not finite: {x!r}")
        z = float(x) / self.scale
        n = self._n
        mu, beta = self._mu[:n], self._beta[:n]
        kappa = self._kappa[:n]
        s2 = beta * self._fac[:n]
        dev = z - mu
        pred = np.exp(self._logc[:n] - 0.5 * np.log(s2) - self._half_nu1[:n] * np.log1p(dev * dev / (self._nu[:n] * s2)))
        joint = self._r[:n] * pred
        cp = float(joint.sum()) * self.hazard
        grow_mu = mu + dev / (kappa + 1.0)
        grow_beta = beta + kappa * dev * dev / (2.0 * (kappa + 1.0))
        if n < self.max_run:
            self._r[1:n + 1] = joint * (1.0 - self.hazard)
            self._mu[1:n + 1] = grow_mu
            self._beta[1:n + 1] = grow_beta
            n += 1
        else:
            # Truncation: the last entry absorbs runs of max_run - 1 and longer; it keeps the
            # statistics of whichever of its two inflows carries more mass. kappa and alpha stay
            # at their last values, so the absorbed run's statistics become an exponential window
            # of about max_run observations: beta is shrunk by alpha / (alpha + 1/2) to keep
            # beta / alpha a variance estimate.
            last_mu, last_beta = float(grow_mu[n - 1]), float(grow_beta[n - 1])
            keep_last = joint[n - 1] > joint[n - 2]
            absorbed = (joint[n - 2] + joint[n - 1]) * (1.0 - self.hazard)
            self._r[1:n] = joint[:n - 1] * (1.0 - self.hazard)
            self._mu[1:n] = grow_mu[:n - 1]
            self._beta[1:n] = grow_beta[:n - 1]
            self._r[n - 1] = absorbed
            if keep_last:
                a_last = float(self._alpha[n - 1])
                self._mu[n - 1] = last_mu
                self._beta[n - 1] = last_beta * (a_last / (a_last + 0.5))
        self._r[0] = cp
        self._mu[0] = PRIOR_MEAN
        self._beta[0] = PRIOR_BETA
        self._r[:n] /= self._r[:n].sum()
        self._n = n
        self._t += 1
        return self._state()

    def update_many(self, xs: Any) -> RegimeSeries:
        """update() on each element of xs in order; the states as arrays (changepoints: those
        confirmed during this call)."""
        arr = as_float_array("returns", xs, allow_empty=True)
        before = len(self._changepoints)
        states = [self.update(float(v)) for v in arr]
        return _series(states, self._changepoints[before:])

    def _state(self) -> RegimeState:
        t = self._t
        probs = self._r[:self._n]
        r_map = int(np.argmax(probs))
        expected = float(np.dot(probs, self._index[:self._n]))
        # r_t = r: the last r observations form the current run, so it began at t - r + 1. The
        # absorbing last entry (runs of max_run - 1 and longer) never proposes a new start.
        # P(a change after the last confirmed one): the mass on runs that began at least min_run
        # observations after segment_start (the absorbing last entry never counts).
        shorter = min(t - self._segment_start - self.min_run + 2, self.max_run - 1, len(probs))
        p_change = float(probs[:shorter].sum()) if shorter > 0 else 0.0
        self._candidate_count = self._candidate_count + 1 if p_change >= self.p_confirm else 0
        new_segment = False
        if self._candidate_count >= self.confirm and r_map < self.max_run - 1:
            # r_t = r: the last r observations form the current run, which began at t - r + 1.
            start = t - r_map + 1
            if start > self._segment_start:
                self._segment_start = start
                self._changepoints.append(start)
                self._candidate_count = 0
                new_segment = True
        mean = float(self._mu[r_map]) * self.scale
        sigma = math.sqrt(float(self._beta[r_map]) / float(self._alpha[r_map])) * self.scale
        vol = 1 if sigma > self.vol_ratio * self.scale else (-1 if sigma < self.scale / self.vol_ratio else 0)
        count = r_map
        trend = 0
        if count >= self.min_run and sigma > 0.0:
            tstat = mean / (sigma / math.sqrt(count))
            trend = 1 if tstat > self.trend_t else (-1 if tstat < -self.trend_t else 0)
        return RegimeState(index=t, run_length=r_map, expected_run_length=expected,
                           segment_start=self._segment_start, new_segment=new_segment, mean=mean,
                           sigma=sigma, vol_regime=vol, trend_regime=trend)


def _series(states: list[RegimeState], changepoints: list[int]) -> RegimeSeries:
    return RegimeSeries(
        run_length=np.array([s.run_length for s in states], dtype=np.int64),
        expected_run_length=np.array([s.expected_run_length for s in states], dtype=np.float64),
        segment_start=np.array([s.segment_start for s in states], dtype=np.int64),
        mean=np.array([s.mean for s in states], dtype=np.float64),
        sigma=np.array([s.sigma for s in states], dtype=np.float64),
        vol_regime=np.array([s.vol_regime for s in states], dtype=np.int64),
        trend_regime=np.array([s.trend_regime for s in states], dtype=np.int64),
        changepoints=np.array(changepoints, dtype=np.int64))


def detect_regimes(returns: Any, scale: float, **options: Any) -> RegimeSeries:
    """Batch form: regimes of a whole array of returns (one per bar), same values as streaming.

    returns: 1-d finite floats, may not be empty. scale and options: as RegimeDetector.
    """
    arr = as_float_array("returns", returns)
    return RegimeDetector(scale, **options).update_many(arr)
