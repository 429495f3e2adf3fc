"""Online estimators against simulated data with a known answer."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.estimation import IntensityFitter, VolatilityEstimator, fit_intensity


def test_volatility_recovers_sigma_from_irregular_updates() -> None:
    rng = np.random.default_rng(3)
    sigma = 0.05
    est = VolatilityEstimator(half_life_s=1e9)      # no decay: the plain realised variance
    t, mid = 0.0, 100.0
    for _ in range(20000):
        dt = rng.exponential(0.2)
        t += dt
        mid += sigma * math.sqrt(dt) * rng.standard_normal()
        est.update(t, mid)
    assert est.ready
    assert est.sigma() == pytest.approx(sigma, rel=0.03)


def test_volatility_refuses_time_going_backwards() -> None:
    est = VolatilityEstimator()
    est.update(10.0, 100.0)
    with pytest.raises(ValueError, match="backwards"):
        est.update(9.0, 100.0)
    with pytest.raises(ParameterError, match="half_life_s"):
        VolatilityEstimator(half_life_s=0.0)


def test_intensity_fit_recovers_A_and_k() -> None:
    rng = np.random.default_rng(11)
    A, k = 2.0, 30.0                                 # per second, per currency unit
    fitter = IntensityFitter(bucket_width=0.01, buckets=15)
    for _ in range(4000):                            # quotes resting 1..5 s at random distances
        d = rng.uniform(0.0, 0.15)
        secs = rng.uniform(1.0, 5.0)
        fitter.add_exposure(d, secs)
        centre = fitter.centres()[min(int(d / 0.01), 14)]
        for _ in range(rng.poisson(A * math.exp(-k * centre) * secs)):
            fitter.add_fill(d)
    fit = fitter.fit()
    assert fit is not None and fit.quality.converged
    assert abs(math.log(fit.A) - math.log(A)) < 4 * fit.quality.se_log_A
    assert abs(fit.k - k) < 4 * fit.quality.se_k
    assert fit.quality.p_value > 0.001              # the exponential shape is right here


def test_intensity_fit_flags_a_wrong_shape() -> None:
    # fills that fall like a power law, not an exponential: the deviance says so
    d = np.linspace(0.005, 0.3, 30)
    exposure = np.full(30, 2000.0)
    fills = np.round(exposure * 0.02 / d)
    fit = fit_intensity(d, exposure, fills)
    assert fit is not None
    assert fit.quality.p_value < 1e-6


def test_intensity_fit_waits_for_data() -> None:
    fitter = IntensityFitter(bucket_width=0.01)
    fitter.add_exposure(0.0, 10.0)
    fitter.add_fill(0.0)
    assert fitter.fit() is None
