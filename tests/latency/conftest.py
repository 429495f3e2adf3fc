"""Shared fixtures: the process clock chosen once, fixed-seed value sets, a stage region."""
from __future__ import annotations

import numpy as np
import pytest

from gateway.latency import HistogramSpec, LatencyRegion, init_clock

SEED = 20240611


@pytest.fixture(scope="session", autouse=True)
def process_clock():
    return init_clock()


@pytest.fixture
def rng() -> np.random.Generator:
    print(f"seed {SEED}")
    return np.random.default_rng(SEED)


def lognormal_ns(rng: np.random.Generator, n: int, median_ns: float, sigma: float) -> np.ndarray:
    return np.maximum(rng.lognormal(np.log(median_ns), sigma, n), 0).astype(np.int64)


@pytest.fixture
def stage_region() -> LatencyRegion:
    return LatencyRegion.create_anonymous(HistogramSpec())
