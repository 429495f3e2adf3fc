"""Latency models for replay: how long a strategy's command takes to reach the engine, and how
long the engine's events take to reach the strategy (FIDELITY.md, "Latency").

- ``Constant(ns)``: every message takes exactly ns.
- ``Empirical``: draws from a measured distribution, e.g. a histogram of this venue's own latency
  report (``python -m gateway report`` writes ``latency.hlog``; ``Empirical.from_hlog`` sums the
  chosen histogram over all intervals and samples its buckets by their counts, each bucket at its
  median value, by inverse transform on a seeded numpy Generator).
- ``Banded``: one model per band of market activity, activity being the number of historical
  messages in the trailing window divided by its length (messages per second), so latency can rise
  exactly when the market moves, as measured latency does.

``sample(rng, n, rate)`` returns n int64 latencies in ns (rate: messages/s at each, for Banded);
``minimum`` is a lower bound of every sample: the replay uses it to know how far the engine may
run ahead of the strategy without breaking causality. ``parse`` reads the command line's form.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

_UNITS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
MAX_DURATION_NS = 86_400 * 1_000_000_000    # a day: no latency, band window or compute charge is longer


class LatencyModel(Protocol):
    @property
    def minimum(self) -> int: ...

    def sample(self, rng: np.random.Generator, n: int, rate: np.ndarray | None = None) -> np.ndarray: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Constant:
    ns: int

    def __post_init__(self) -> None:
        if self.ns < 0:
            raise ValueError(f"latency must be >= 0 ns, got {self.ns}")

    @property
    def minimum(self) -> int:
        return self.ns

    def sample(self, rng: np.random.Generator, n: int, rate: np.ndarray | None = None) -> np.ndarray:
        return np.full(n, self.ns, dtype=np.int64)

    def describe(self) -> str:
        return f"constant {self.ns} ns"


@dataclass(frozen=True)
class Empirical:
    values_ns: np.ndarray      # int64, sorted ascending
    weights: np.ndarray        # float64, sums to 1
    source: str = "empirical"

    @classmethod
    def from_samples(cls, samples: Sequence[int] | np.ndarray, source: str = "samples") -> Empirical:
        values, counts = np.unique(np.asarray(samples, dtype=np.int64), return_counts=True)
        if len(values) == 0 or values[0] < 0:
            raise ValueError("an empirical latency needs at least one sample, all >= 0")
        return cls(values, counts / counts.sum(), source)

    @classmethod
    def from_hlog(cls, path: str | Path, histogram: str = "end_to_end") -> Empirical:
        """The named histogram of a venue latency log, all intervals added up."""
        from gateway.latency.errors import LatencyError
        from gateway.latency.hlog import read_interval_log
        try:
            log = read_interval_log(path)
        except (OSError, LatencyError) as exc:
            raise ValueError(f"{path}: cannot read the latency log: {exc}") from None
        counts = None
        spec = None
        for interval in log.intervals:
            if histogram not in interval.names:
                raise ValueError(f"{path}: no histogram {histogram!r} (has {', '.join(interval.names)})")
            h = interval.get(histogram)
            spec = h.spec
            counts = h.counts.copy() if counts is None else counts + h.counts
        if counts is None or spec is None or counts.sum() == 0:
            raise ValueError(f"{path}: histogram {histogram!r} recorded nothing")
        index = np.flatnonzero(counts)
        values = spec.median_value_at(index).astype(np.int64)
        weights = counts[index].astype(np.float64)
        return cls(values, weights / weights.sum(), f"{Path(path).name}#{histogram}")

    @property
    def minimum(self) -> int:
        return int(self.values_ns[0])

    def sample(self, rng: np.random.Generator, n: int, rate: np.ndarray | None = None) -> np.ndarray:
        return rng.choice(self.values_ns, size=n, p=self.weights).astype(np.int64)

    def percentile(self, q: float) -> int:
        cdf = np.cumsum(self.weights)
        return int(self.values_ns[min(len(cdf) - 1, int(np.searchsorted(cdf, q / 100.0)))])

    def describe(self) -> str:
        return f"empirical {self.source} (P50 {self.percentile(50)} ns, P99 {self.percentile(99)} ns)"


@dataclass(frozen=True)
class Banded:
    """bands: (upper bound of messages/s, model), ascending; the last bound may be inf."""
    bands: tuple[tuple[float, LatencyModel], ...]
    window_ns: int = 1_000_000_000

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("a banded latency needs at least one band")
        bounds = [b for b, _ in self.bands]
        if bounds != sorted(bounds) or bounds[-1] != float("inf"):
            raise ValueError("band bounds must ascend and the last must be inf")

    @property
    def minimum(self) -> int:
        return min(m.minimum for _, m in self.bands)

    def sample(self, rng: np.random.Generator, n: int, rate: np.ndarray | None = None) -> np.ndarray:
        rate = np.zeros(n) if rate is None else np.asarray(rate, dtype=np.float64)
        band = np.searchsorted(np.array([b for b, _ in self.bands]), rate, side="left")
        out = np.empty(n, dtype=np.int64)
        for k, (_, model) in enumerate(self.bands):
            mask = band == k
            if mask.any():
                out[mask] = model.sample(rng, int(mask.sum()), rate[mask])
        return out

    def describe(self) -> str:
        parts = [f"<= {b:g}/s: {m.describe()}" for b, m in self.bands]
        return f"banded by messages/s over {self.window_ns / 1e9:g} s ({'; '.join(parts)})"


def activity(ts_ns: np.ndarray, at_ns: np.ndarray, window_ns: int) -> np.ndarray:
    """Messages per second in (at - window, at] for each time in at_ns (ts_ns sorted)."""
    hi = np.searchsorted(ts_ns, at_ns, side="right")
    lo = np.searchsorted(ts_ns, np.asarray(at_ns) - window_ns, side="right")
    return (hi - lo) / (window_ns / 1e9)


def parse_duration(text: str) -> int:
    """'250us', '1ms', '40ns', '2s', or a bare number of ns: 0 up to a day ('nanus' or 'infs' was
    a traceback from int())."""
    t = text.strip().lower()
    for unit in sorted(_UNITS, key=len, reverse=True):
        if t.endswith(unit):
            number = t[: -len(unit)]
            break
    else:
        number, unit = t, "ns"
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (examples: 50us, 1ms, 200ns)") from None
    if not math.isfinite(value):
        raise ValueError(f"a duration must be a finite number: {text!r}")
    if value < 0:
        raise ValueError(f"a duration cannot be negative: {text!r}")
    if value * _UNITS[unit] > MAX_DURATION_NS:          # compared as a float: 1e300s would overflow int()
        raise ValueError(f"a duration is at most a day (86400s): {text!r}")
    return int(round(value * _UNITS[unit]))


def parse(text: str) -> LatencyModel:
    """'50us' (constant); 'hlog:PATH' or 'hlog:PATH#histogram' (empirical from a venue latency log);
    'band:WINDOW:RATE=SPEC/RATE=SPEC/inf=SPEC' (per activity band, SPEC a constant or hlog)."""
    t = text.strip()
    if t.startswith("hlog:"):
        path, _, name = t[5:].partition("#")
        return Empirical.from_hlog(path, name or "end_to_end")
    if t.startswith("band:"):
        window, sep, spec = t[5:].partition(":")
        if not sep:
            raise ValueError(f"banded latency: expected band:WINDOW:RATE=SPEC/..., got {text!r}")
        bands = []
        for part in spec.split("/"):
            bound, eq, model = part.partition("=")
            if not eq:
                raise ValueError(f"banded latency: {part!r} is not RATE=SPEC")
            try:
                limit = float(bound)
            except ValueError:
                raise ValueError(f"banded latency: {bound!r} is not a rate (messages/s) or inf") from None
            bands.append((limit, parse(model)))
        return Banded(tuple(bands), parse_duration(window))
    return Constant(parse_duration(t))
