"""Regime-driven spreads: on a simulated mid whose volatility triples at a known time, the policy
(the analytics room's detector underneath) reports the high-volatility regime after the switch and
widens; a known drift gives a trend regime and a skew with it. Accuracy stated in the asserts."""
from __future__ import annotations

import numpy as np
import pytest

from trading.marketmaking.errors import ParameterError
from trading.marketmaking.regime_policy import RegimePolicy


def _walk(policy: RegimePolicy, sigmas: list[tuple[int, float, float]], seed: int) -> list[tuple[int, float]]:
    """Feed 10 mids a second; sigmas: (seconds, sigma per sqrt(s), drift per s) segments.
    Returns (vol regime, widen) after each second."""
    rng = np.random.default_rng(seed)
    mid, t, out = 100.0, 0.0, []
    policy.start(scale=0.01)            # one second's normal sd
    for seconds, sigma, drift in sigmas:
        for _ in range(seconds):
            for _ in range(10):
                t += 0.1
                mid += drift * 0.1 + sigma * np.sqrt(0.1) * rng.standard_normal()
                policy.on_mid(t, mid)
            v = policy.view()
            out.append((v.vol_regime, v.widen))
    return out


def test_volatility_switch_recovered_and_widens() -> None:
    policy = RegimePolicy(bar_s=1.0, high_vol_widen=1.5)
    seen = _walk(policy, [(300, 0.01, 0.0), (300, 0.03, 0.0)], seed=4)
    before = [v for v, _ in seen[50:300]]
    after = [v for v, _ in seen[330:]]          # 30 s allowed for the detector to confirm
    assert sum(v == 1 for v in before) / len(before) <= 0.05
    assert sum(v == 1 for v in after) / len(after) >= 0.90
    assert seen[-1][1] == 1.5
    assert 0.0 < policy.view().probability <= 1.0


def test_trend_skews_with_the_drift() -> None:
    policy = RegimePolicy(bar_s=1.0, trend_skew=0.5)
    _walk(policy, [(200, 0.01, 0.0), (200, 0.01, 0.01)], seed=5)
    v = policy.view()
    assert v.trend_regime == 1 and v.skew_half_spreads == pytest.approx(0.5)


def test_bad_policy_parameters() -> None:
    with pytest.raises(ParameterError, match="bar_s"):
        RegimePolicy(bar_s=0.0)
    with pytest.raises(ParameterError, match="trend_skew"):
        RegimePolicy(trend_skew=-1.0)
