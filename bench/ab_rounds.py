"""A/B comparison over interleaved rounds (a helper of bench/dashboard.py, not a bench itself).

A run alternates rounds B A B A ... B (B: the baseline condition, A: the treatment), so slow drift
of a shared machine (other work coming and going) falls on both conditions alike. Each round gives
one statistic (e.g. the P50 of its order round trips); the rounds, not the single samples, are the
units of comparison, since samples within a round share the same machine state.

- effect = median(A rounds) / median(B rounds), with a percentile-bootstrap interval (Efron and
  Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13: resample the A rounds and the B
  rounds with replacement, each group on its own, recompute the ratio; the interval is the
  (1-level)/2 and (1+level)/2 quantiles of those ratios);
- noise = the same ratio between two halves of the B rounds (alternate B rounds: B1 B3 B5 ... over
  B2 B4 B6 ...), with its own bootstrap interval: what "no treatment at all" looks like in this run;
- the noise band: [1/m, m] with m = max(noise.high, 1/noise.low), the largest departure from 1
  that two halves of identical rounds reach within their interval, either way (which half is the
  numerator is arbitrary, so the band is symmetric on the log scale);
- within noise: the effect's value lies inside the noise band: the treatment moved the statistic
  no further than doing nothing did. With few rounds, or on a loaded machine, the band is wide:
  the run prints it rather than claiming more; the effect's own interval says, in addition, whether
  the effect is told apart from 1 at all.

Deterministic for a seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ratio:
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    effect: Ratio            # median(A) / median(B)
    noise: Ratio             # median(B odd) / median(B even)
    band: tuple[float, float]
    within_noise: bool


def ratio_of_medians(a: np.ndarray, b: np.ndarray, level: float, resamples: int,
                     rng: np.random.Generator) -> Ratio:
    """median(a) / median(b) and its percentile-bootstrap interval (groups resampled apart)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both groups need at least one round")
    ra = np.median(a[rng.integers(0, len(a), (resamples, len(a)))], axis=1)
    rb = np.median(b[rng.integers(0, len(b), (resamples, len(b)))], axis=1)
    boot = ra / rb
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return Ratio(float(np.median(a) / np.median(b)), float(lo), float(hi))


def compare(treated: list[float], baseline: list[float], level: float = 0.9, resamples: int = 4000,
            seed: int = 1) -> Comparison:
    """treated: the A rounds' statistics; baseline: the B rounds' (at least 2), in run order."""
    if len(baseline) < 2:
        raise ValueError("the noise yardstick needs at least two baseline rounds")
    rng = np.random.default_rng(seed)
    effect = ratio_of_medians(np.asarray(treated), np.asarray(baseline), level, resamples, rng)
    b = np.asarray(baseline, dtype=float)
    noise = ratio_of_medians(b[0::2], b[1::2], level, resamples, rng)
    m = max(noise.high, 1.0 / noise.low, noise.value, 1.0 / noise.value)
    band = (1.0 / m, m)
    return Comparison(effect, noise, band, band[0] <= effect.value <= band[1])
