"""Regime detector: the BOCPD recursion against a slow direct implementation, known switches found,
batch == streaming, bad input refused."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.errors import AnalyticsInputError
from trading.analytics.regime import RegimeDetector, detect_regimes


def slow_bocpd(xs: list[float], hazard: float) -> list[list[float]]:
    """Adams & MacKay's recursion written out with lists and math.lgamma, no truncation."""
    params = [(0.0, 1.0, 1.0, 1.0)]          # (mu, kappa, alpha, beta) per run length
    probs = [1.0]
    history = []
    for x in xs:
        preds = []
        for mu, k, a, b in params:
            nu = 2 * a
            s2 = b * (k + 1) / (a * k)
            logp = (math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi * s2)
                    - (nu + 1) / 2 * math.log(1 + (x - mu) ** 2 / (nu * s2)))
            preds.append(math.exp(logp))
        growth = [p * q * (1 - hazard) for p, q in zip(probs, preds)]
        cp = sum(p * q * hazard for p, q in zip(probs, preds))
        joint = [cp] + growth
        total = sum(joint)
        probs = [j / total for j in joint]
        params = [(0.0, 1.0, 1.0, 1.0)] + [((k * mu + x) / (k + 1), k + 1, a + 0.5, b + k * (x - mu) ** 2 / (2 * (k + 1)))
                                           for mu, k, a, b in params]
        history.append(probs)
    return history


def test_run_length_posterior_matches_direct_recursion() -> None:
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.normal(0, 1, 60), rng.normal(2, 0.5, 60)])
    expected = slow_bocpd(xs.tolist(), 1 / 50)
    det = RegimeDetector(1.0, hazard=1 / 50, max_run=300)
    for x, want in zip(xs, expected):
        det.update(float(x))
        np.testing.assert_allclose(det.run_length_posterior(), want, rtol=1e-9, atol=1e-300)


def _switching(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 1, 500), rng.normal(0, 3, 500), rng.normal(0.8, 1, 500),
                           rng.normal(0, 1, 800)])


@pytest.mark.parametrize("seed", [0, 2, 3, 5])
def test_known_switches_are_found(seed: int) -> None:
    res = detect_regimes(_switching(seed), scale=1.0)
    cps = res.changepoints.tolist()
    for true in (500, 1000, 1500):
        assert any(abs(c - true) <= 25 for c in cps), (true, cps)
    assert all(min(abs(c - t) for t in (500, 1000, 1500)) <= 25 for c in cps), cps
    # Regimes inside the segments (after a short detection delay).
    assert np.mean(res.vol_regime[540:990] == 1) > 0.95
    assert np.mean(res.vol_regime[50:490] == 0) > 0.9
    assert np.mean(res.trend_regime[1060:1490] == 1) > 0.95
    assert np.mean(res.trend_regime[1600:] == 0) > 0.9


def test_no_false_changes_on_stationary_noise() -> None:
    rng = np.random.default_rng(11)
    res = detect_regimes(rng.normal(0, 2.0, 3000), scale=2.0)
    assert len(res.changepoints) <= 1


def test_batch_equals_streaming_and_micro_batches() -> None:
    xs = _switching(1)[:1200] * 1e-4
    batch = detect_regimes(xs, scale=1e-4)
    det = RegimeDetector(1e-4)
    states = [det.update(float(x)) for x in xs]
    assert np.array_equal(batch.run_length, [s.run_length for s in states])
    assert np.array_equal(batch.sigma, [s.sigma for s in states])
    assert np.array_equal(batch.vol_regime, [s.vol_regime for s in states])
    assert det.changepoints == batch.changepoints.tolist()
    det2 = RegimeDetector(1e-4)
    parts = [det2.update_many(xs[i:i + 97]) for i in range(0, len(xs), 97)]
    assert np.array_equal(np.concatenate([p.mean for p in parts]), batch.mean)
    assert np.concatenate([p.changepoints for p in parts]).tolist() == batch.changepoints.tolist()
    flags = [s.new_segment for s in states]
    assert [i for i, f in enumerate(flags) if f] != [] or not len(batch.changepoints)


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="empty"):
        detect_regimes([], scale=1.0)
    with pytest.raises(AnalyticsInputError, match="NaN"):
        detect_regimes([0.1, float("nan")], scale=1.0)
    with pytest.raises(AnalyticsInputError, match="scale"):
        RegimeDetector(0.0)
    with pytest.raises(AnalyticsInputError, match="hazard"):
        RegimeDetector(1.0, hazard=1.5)
    det = RegimeDetector(1.0)
    with pytest.raises(AnalyticsInputError, match="not finite"):
        det.update(float("inf"))
