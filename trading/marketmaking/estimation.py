"""Online estimation of the quoting models' market parameters.

VolatilityEstimator: sigma from mid returns, sigma^2 = sum (dS)^2 / sum dt over an exponentially
weighted window (the realised-variance estimator of an arithmetic Brownian motion, ds = sigma dW:
E[(dS)^2] = sigma^2 dt). Time-weighted, so irregular book updates count by the time they span. The
mid is sampled at most every ``sample_s`` seconds (sparse sampling): a mid that lives on a tick grid
and bounces between bid and ask adds a noise variance per return that does not shrink with dt, so
tick-by-tick returns overstate sigma (Zhang, Mykland and Ait-Sahalia 2005); sampling less often
makes the noise small against sigma^2 * sample_s.

IntensityFitter: A and k of the fill intensity lambda(delta) = A exp(-k delta) (Avellaneda-Stoikov
2008, section 2.2), fitted by Poisson maximum likelihood. The strategy reports, per bucket of
distance from the mid, how long it had a quote there (exposure, seconds) and how many fills it got;
fills in bucket i are Poisson(lambda(delta_i) * exposure_i), so the log-likelihood

    l(a, k) = sum_i n_i (a - k delta_i) - exp(a - k delta_i) e_i,      a = ln A,

is concave in (a, k); Newton's method finds the maximum. The fit's quality is reported as the
deviance against the saturated model (its chi-square p-value in ``FitQuality``), the standard errors
from the observed information, and the number of fills behind it. Each estimator takes plain floats
and no clock: the caller passes the time, so replay and live give the same numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trading.marketmaking.errors import ParameterError

FloatArray = npt.NDArray[np.float64]


class VolatilityEstimator:
    """EWMA realised volatility of the mid, per sqrt(second). half_life_s: the weight of a return
    halves after this much time."""

    def __init__(self, half_life_s: float = 60.0, min_time_s: float = 1.0, sample_s: float = 0.0) -> None:
        if not (math.isfinite(half_life_s) and half_life_s > 0):
            raise ParameterError("half_life_s", half_life_s, "must be > 0")
        if not (math.isfinite(sample_s) and sample_s >= 0):
            raise ParameterError("sample_s", sample_s, "must be >= 0")
        self.half_life_s = half_life_s
        self.sample_s = sample_s
        self.min_time_s = min_time_s
        self._sum_sq = 0.0
        self._sum_dt = 0.0
        self._last_mid: float | None = None
        self._last_t: float | None = None

    def update(self, t: float, mid: float) -> None:
        """A mid observed at time t (seconds, non-decreasing)."""
        if self._last_mid is not None and self._last_t is not None:
            dt = t - self._last_t
            if dt < 0:
                raise ValueError(f"time went backwards: {t} < {self._last_t}")
            if dt < self.sample_s:
                return          # keep the sample's start; the mid at its end is what counts
            if dt > 0 or mid != self._last_mid:
                decay = 0.5 ** (dt / self.half_life_s)
                d = mid - self._last_mid
                self._sum_sq = self._sum_sq * decay + d * d
                self._sum_dt = self._sum_dt * decay + dt
        self._last_mid, self._last_t = mid, t

    @property
    def ready(self) -> bool:
        return self._sum_dt >= self.min_time_s and self._sum_sq > 0

    def sigma(self) -> float:
        """Current estimate; 0.0 until ``ready``."""
        if not self.ready:
            return 0.0
        return math.sqrt(self._sum_sq / self._sum_dt)


@dataclass(frozen=True)
class FitQuality:
    """How far to trust an intensity fit: fills and buckets behind it, standard errors of ln A and
    k, the deviance against the saturated Poisson model and its chi-square p-value (a small p-value
    says the exponential shape does not describe the fills), and whether Newton converged."""
    fills: int
    buckets: int
    se_log_A: float
    se_k: float
    deviance: float
    p_value: float
    converged: bool


@dataclass(frozen=True)
class IntensityFit:
    A: float
    k: float
    quality: FitQuality


class IntensityFitter:
    """Accumulates exposure and fills per distance bucket; ``fit()`` gives A, k and the quality."""

    def __init__(self, bucket_width: float, buckets: int = 20) -> None:
        if not (math.isfinite(bucket_width) and bucket_width > 0):
            raise ParameterError("bucket_width", bucket_width, "must be > 0")
        if buckets < 2:
            raise ParameterError("buckets", buckets, "must be >= 2")
        self.bucket_width = bucket_width
        self.exposure = np.zeros(buckets)
        self.fills = np.zeros(buckets)

    def _bucket(self, distance: float) -> int:
        return min(max(int(distance / self.bucket_width), 0), self.exposure.size - 1)

    def add_exposure(self, distance: float, seconds: float) -> None:
        """A quote rested ``seconds`` at ``distance`` (>= 0) from the mid."""
        self.exposure[self._bucket(distance)] += seconds

    def add_fill(self, distance: float) -> None:
        self.fills[self._bucket(distance)] += 1.0

    def centres(self) -> FloatArray:
        out: FloatArray = (np.arange(self.exposure.size, dtype=np.float64) + 0.5) * self.bucket_width
        return out

    def fit(self, min_fills: int = 20) -> IntensityFit | None:
        """The maximum-likelihood A, k; None while fewer than ``min_fills`` fills or fewer than two
        buckets with exposure (the slope is not identified)."""
        return fit_intensity(self.centres(), self.exposure, self.fills, min_fills)


def _chi2_sf(x: float, dof: int) -> float:
    """Upper tail of the chi-square distribution (Wilson-Hilferty normal approximation)."""
    if dof <= 0:
        return 1.0
    z = ((x / dof) ** (1.0 / 3.0) - (1.0 - 2.0 / (9.0 * dof))) / math.sqrt(2.0 / (9.0 * dof))
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def fit_intensity(delta: FloatArray, exposure: FloatArray, fills: FloatArray,
                  min_fills: int = 20) -> IntensityFit | None:
    """Poisson MLE of lambda(delta) = A exp(-k delta) from per-bucket exposure and fill counts."""
    use = exposure > 0
    d, e, n = delta[use], exposure[use], fills[use]
    if d.size < 2 or n.sum() < min_fills:
        return None
    # start from the least-squares line through log rates (buckets with fills)
    has = n > 0
    if has.sum() >= 2:
        slope, intercept = np.polyfit(d[has], np.log(n[has] / e[has]), 1)
        theta = np.array([intercept, -slope])
    else:
        theta = np.array([math.log(n.sum() / e.sum()), 0.0])
    converged = False
    info = np.eye(2)
    for _ in range(100):
        mu = np.exp(theta[0] - theta[1] * d) * e
        grad = np.array([np.sum(n - mu), np.sum(-(n - mu) * d)])
        info = np.array([[np.sum(mu), -np.sum(mu * d)], [-np.sum(mu * d), np.sum(mu * d * d)]])
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return None
        # halve the step while the likelihood does not improve (keeps Newton monotone)
        ll = float(np.sum(n * (theta[0] - theta[1] * d) - mu))
        scale = 1.0
        while scale > 1e-6:
            cand = theta + scale * step
            mu_c = np.exp(cand[0] - cand[1] * d) * e
            if float(np.sum(n * (cand[0] - cand[1] * d) - mu_c)) >= ll - 1e-12:
                break
            scale *= 0.5
        theta = theta + scale * step
        if float(np.max(np.abs(scale * step))) < 1e-10:
            converged = True
            break
    mu = np.exp(theta[0] - theta[1] * d) * e
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > 0, n * np.log(n / mu), 0.0)
    deviance = float(2.0 * np.sum(term - (n - mu)))
    try:
        cov = np.linalg.inv(info)
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    except np.linalg.LinAlgError:
        se = np.array([math.inf, math.inf])
    dof = int(d.size) - 2
    quality = FitQuality(fills=int(n.sum()), buckets=int(d.size), se_log_A=float(se[0]),
                         se_k=float(se[1]), deviance=deviance, p_value=_chi2_sf(deviance, dof),
                         converged=converged)
    return IntensityFit(A=float(math.exp(theta[0])), k=float(theta[1]), quality=quality)


class MarketIntensityFitter(IntensityFitter):
    """A and k from the public trades, no own orders needed (the calibration of Gueant, "The
    Financial Mathematics of Market Liquidity", 2016, chapter 10): a quote resting at distance delta
    from the mid is reached by every trade that executes at delta or further. Every bucket is exposed
    all the time (``observe``), and a trade at distance d counts one fill in every bucket whose
    centre is within d (``on_trade``). The counts of the buckets are then nested, not independent,
    so the Poisson fit is a composite likelihood: A and k stay consistent, the standard errors and
    the deviance p-value are optimistic and are reported as such."""

    def __init__(self, bucket_width: float, buckets: int = 20) -> None:
        super().__init__(bucket_width, buckets)
        self._centres = self.centres()
        self._time = 0.0

    def observe(self, seconds: float) -> None:
        if seconds > 0:
            self._time += seconds      # every bucket is exposed alike: one scalar per event

    def on_trade(self, distance: float) -> None:
        reach = int(np.searchsorted(self._centres, distance, side="right"))
        self.fills[:reach] += 1.0

    def fit(self, min_fills: int = 20) -> IntensityFit | None:
        self.exposure[:] = self._time
        return super().fit(min_fills)
