"""Kalman fusion against its static closed form and on sources with known noise; Dempster-Shafer
on hand-worked combinations, Zadeh's high-conflict example and the stated rule; bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.errors import AnalyticsInputError
from trading.analytics.fusion import (EvidenceStream, KalmanFusion, combine_evidence, fuse_prices,
                                      mass_from_score)


def test_static_case_equals_closed_form() -> None:
    rng = np.random.default_rng(1)
    r = np.array([0.04, 0.01, 0.25])
    src = rng.integers(0, 3, 300)
    y = 50 + rng.normal(0, np.sqrt(r[src]))
    m0, p0 = 49.0, 4.0
    res = fuse_prices(np.arange(300.0), src, y, 3, q=0.0, r0=r, m0=m0, p0=p0, estimate_noise=False)
    for n in (1, 10, 300):
        prec = 1 / p0 + np.sum(1 / r[src[:n]])
        mean = (m0 / p0 + np.sum(y[:n] / r[src[:n]])) / prec
        assert math.isclose(res.price[n - 1], mean, rel_tol=1e-12)
        assert math.isclose(res.variance[n - 1], 1 / prec, rel_tol=1e-10)


def test_online_noise_estimates_and_fusion_gain() -> None:
    """Three venues observe a random walk with known noise, one venue per step; the filter learns
    each R_i (averaged over the second half: the EW estimate itself fluctuates) and tracks the
    price better than the latest quote of any venue or of the best venue."""
    rng = np.random.default_rng(2)
    n = 30000
    q = 1e-4
    t = np.arange(n, dtype=float)
    m = 100 + np.cumsum(rng.normal(0, math.sqrt(q), n))
    true_r = np.array([1e-4, 4e-4, 2.5e-3])
    src = rng.integers(0, 3, n)
    y = m + rng.normal(0, np.sqrt(true_r[src]))
    res = fuse_prices(t, src, y, 3, q=q, r0=1e-3, noise_weight=0.002)
    np.testing.assert_allclose(np.mean(res.noise[n // 2:], axis=0), true_r, rtol=0.25)
    err = np.sqrt(np.mean((res.price[1000:] - m[1000:]) ** 2))
    latest_any = np.sqrt(np.mean((y[1000:] - m[1000:]) ** 2))
    best_idx = np.maximum.accumulate(np.where(src == 0, np.arange(n), 0))
    latest_best = np.sqrt(np.mean((y[best_idx][1000:] - m[1000:]) ** 2))
    assert err < 0.6 * latest_any and err < 0.8 * latest_best


def test_batch_equals_streaming() -> None:
    rng = np.random.default_rng(3)
    src = rng.integers(0, 2, 500)
    y = 10 + rng.normal(0, 0.1, 500)
    t = np.cumsum(rng.exponential(1, 500))
    batch = fuse_prices(t, src, y, 2, q=1e-3, r0=[0.01, 0.02])
    kf = KalmanFusion(2, q=1e-3, r0=[0.01, 0.02])
    got = [kf.update(float(a), int(b), float(c)) for a, b, c in zip(t, src, y)]
    assert [g[0] for g in got] == batch.price.tolist()
    assert [g[1] for g in got] == batch.variance.tolist()


def test_dempster_shafer_hand_worked() -> None:
    # m1 = (up .6, down .1, either .3), m2 = (.5, .3, .2):
    # K = .6*.3 + .1*.5 = .23; up = (.6*.5 + .6*.2 + .3*.5) / .77 = .57/.77; down = .14/.77; either = .06/.77
    res = combine_evidence([[0.6, 0.1, 0.3], [0.5, 0.3, 0.2]])
    np.testing.assert_allclose(res.mass, [0.57 / 0.77, 0.14 / 0.77, 0.06 / 0.77], rtol=1e-12)
    assert math.isclose(float(res.conflict), 0.23, rel_tol=1e-12) and not res.yager
    # Three sources: Dempster's rule is associative, so combining pairwise gives the same.
    m3 = [0.2, 0.5, 0.3]
    joint = combine_evidence([[0.6, 0.1, 0.3], [0.5, 0.3, 0.2], m3])
    pair = combine_evidence([res.mass.tolist(), m3])
    np.testing.assert_allclose(joint.mass, pair.mass, rtol=1e-12)


def test_high_conflict_rule() -> None:
    """Zadeh's example on two hypotheses: two sources almost certain of opposite directions.
    K = .99*.99 + .01*.01 = .9802. Dempster would say (.5, .5, 0): certain of nothing yet no
    ignorance. Above the limit Yager's rule keeps the conflict as ignorance."""
    m = [[0.99, 0.01, 0.0], [0.01, 0.99, 0.0]]
    dempster = combine_evidence(m, conflict_limit=1.0)
    np.testing.assert_allclose(dempster.mass, [0.5, 0.5, 0.0], rtol=1e-12)
    yager = combine_evidence(m)            # limit 0.8
    assert yager.yager and math.isclose(float(yager.conflict), 0.9802, rel_tol=1e-12)
    np.testing.assert_allclose(yager.mass, [0.0099, 0.0099, 0.9802], rtol=1e-12)
    total = combine_evidence([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])   # K = 1: always Yager
    np.testing.assert_allclose(total.mass, [0.0, 0.0, 1.0])
    # batch over time == streaming per instant
    series = np.array([m, [[0.6, 0.1, 0.3], [0.5, 0.3, 0.2]]])
    batch = combine_evidence(series)
    st = EvidenceStream()
    for i in range(2):
        np.testing.assert_array_equal(st.update(series[i]).mass, batch.mass[i])
    assert st.high_conflict_count == 1


def test_mass_from_score() -> None:
    m = mass_from_score(np.array([2.0, -1.0, 0.0]), 0.8)
    np.testing.assert_allclose(m.sum(axis=-1), 1.0)
    assert m[0, 0] > 0 and m[0, 1] == 0 and m[1, 1] > 0 and m[2, 2] == 1.0


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="sum to 1"):
        combine_evidence([[0.5, 0.5, 0.5], [0.2, 0.2, 0.6]])
    with pytest.raises(AnalyticsInputError, match="shape"):
        combine_evidence([0.5, 0.5, 0.0])
    with pytest.raises(AnalyticsInputError, match="NaN"):
        combine_evidence([[float("nan"), 0.5, 0.5], [0.2, 0.2, 0.6]])
    kf = KalmanFusion(2, q=0.0, r0=1.0)
    with pytest.raises(AnalyticsInputError, match="source"):
        kf.update(0.0, 5, 1.0)
    kf.update(1.0, 0, 1.0)
    with pytest.raises(AnalyticsInputError, match="before"):
        kf.update(0.5, 0, 1.0)
    with pytest.raises(AnalyticsInputError, match="r0"):
        KalmanFusion(2, q=0.0, r0=0.0)
    with pytest.raises(AnalyticsInputError, match="empty"):
        fuse_prices([], [], [], 1, 0.0, 1.0)
