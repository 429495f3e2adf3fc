"""bench/ab_rounds.py, the dashboard bench's open-vs-closed statistic, on simulated rounds with a
known answer: no effect is called within noise, a clear one is not, drifting baselines widen the
symmetric noise band rather than tilt it, the interval is the
bootstrap's (checked against a slow direct resampling loop), and it is deterministic for a seed."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from ab_rounds import compare, ratio_of_medians  # noqa: E402


def _rounds(rng: np.random.Generator, n: int, level: float, spread: float) -> list[float]:
    return list(level * np.exp(rng.normal(0.0, spread, n)))


def test_no_effect_is_within_noise_and_a_large_one_is_not() -> None:
    rng = np.random.default_rng(3)
    closed = _rounds(rng, 6, 100.0, 0.05)
    same = _rounds(rng, 5, 100.0, 0.05)
    c = compare(same, closed, seed=5)
    assert c.within_noise and c.effect.low <= 1.0 <= c.effect.high
    slower = _rounds(rng, 5, 160.0, 0.05)
    c = compare(slower, closed, seed=5)
    assert not c.within_noise and c.effect.low > 1.3 and c.noise.low < 1.0 < c.noise.high


def test_the_noise_band_is_symmetric_so_a_lopsided_noise_ratio_does_not_hide_or_invent_an_effect() -> None:
    # the closed rounds drift: the odd ones sit ~30% above the even ones (which half is the
    # numerator is arbitrary); an open condition equal to their overall median is within noise
    closed = [130.0, 100.0, 131.0, 99.0, 129.0, 101.0]
    c = compare([115.0, 116.0, 114.0], closed, seed=1)
    assert c.noise.value > 1.2 and c.band[0] < 1 / 1.2 and c.band[1] > 1.2
    assert c.within_noise
    assert c.band[0] == 1 / c.band[1]
    assert not compare([260.0, 255.0, 262.0], closed, seed=1).within_noise


def test_the_interval_is_the_percentile_bootstrap_computed_directly() -> None:
    a, b = np.array([10.0, 12.0, 11.0, 15.0]), np.array([9.0, 10.0, 13.0])
    fast = ratio_of_medians(a, b, 0.9, 3000, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    ia, ib = rng.integers(0, 4, (3000, 4)), rng.integers(0, 3, (3000, 3))
    slow = sorted(float(np.median([a[j] for j in ia[k]]) / np.median([b[j] for j in ib[k]])) for k in range(3000))
    assert fast.value == pytest.approx(np.median(a) / np.median(b))
    assert fast.low == pytest.approx(np.quantile(slow, 0.05)) and fast.high == pytest.approx(np.quantile(slow, 0.95))


def test_deterministic_for_a_seed_and_bad_input_refused() -> None:
    assert compare([1.0, 1.1], [1.0, 0.9, 1.05], seed=2) == compare([1.0, 1.1], [1.0, 0.9, 1.05], seed=2)
    with pytest.raises(ValueError, match="two baseline rounds"):
        compare([1.0], [1.0])
    with pytest.raises(ValueError, match="at least one round"):
        ratio_of_medians(np.array([]), np.array([1.0]), 0.9, 10, np.random.default_rng(0))
