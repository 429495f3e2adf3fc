"""One latency histogram as the venue keeps it: HdrHistogram counts plus what they cannot hold.

Owns the conversions between a count array (from shared memory or a log) and the `hdrhistogram`
package's HdrHistogram, and the percentile figures reports quote. Invariants: counts are
non-negative int64 of length spec.counts_len; total_count == counts.sum(); values are ns; values
outside the range are in overflow_count / underflow_count, never in counts and never lost.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from hdrh.histogram import HdrHistogram

from gateway.latency.errors import LayoutError
from gateway.latency.spec import HistogramSpec

# The percentiles every table and summary quotes; 100.0 is the maximum.
SUMMARY_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)


@dataclass(frozen=True)
class LatencyHistogram:
    name: str
    spec: HistogramSpec
    counts: np.ndarray
    overflow_count: int = 0
    overflow_max_ns: int = 0
    underflow_count: int = 0
    co_expected_interval_ns: int = 0   # > 0: recorded with coordinated-omission correction

    def __post_init__(self) -> None:
        counts = np.ascontiguousarray(self.counts, dtype=np.int64)
        if counts.shape != (self.spec.counts_len,):
            raise LayoutError(f"histogram {self.name!r}: {counts.shape} counts, "
                              f"the parameters need ({self.spec.counts_len},)")
        if counts.size and counts.min() < 0:
            raise LayoutError(f"histogram {self.name!r}: negative counts")
        counts.setflags(write=False)
        object.__setattr__(self, "counts", counts)

    @property
    def total_count(self) -> int:
        return int(self.counts.sum())

    @property
    def corrected(self) -> bool:
        return self.co_expected_interval_ns > 0

    def correction_label(self) -> str:
        """How the figures treat coordinated omission, in words fit for a chart legend."""
        if self.corrected:
            return (f"corrected for coordinated omission (expected interval "
                    f"{self.co_expected_interval_ns} ns)")
        return "not corrected for coordinated omission"

    def renamed(self, name: str) -> LatencyHistogram:
        return replace(self, name=name)

    def to_hdr(self) -> HdrHistogram:
        """An `hdrhistogram` HdrHistogram holding exactly these counts (same bucket layout, so
        each index's lowest value records into that same index)."""
        hdr = self.spec.new_hdr()
        nonzero = np.flatnonzero(self.counts)
        for index, value in zip(nonzero.tolist(), self.spec.lowest_value_at(nonzero).tolist()):
            hdr.record_value(int(value), int(self.counts[index]))
        return hdr

    @classmethod
    def from_hdr(cls, name: str, hdr: HdrHistogram, *, overflow_count: int = 0,
                 overflow_max_ns: int = 0, underflow_count: int = 0,
                 co_expected_interval_ns: int = 0) -> LatencyHistogram:
        spec = HistogramSpec(int(hdr.lowest_trackable_value), int(hdr.highest_trackable_value),
                             int(hdr.significant_figures))
        raw = np.ctypeslib.as_array(hdr.counts)
        counts = np.zeros(spec.counts_len, dtype=np.int64)
        counts[:min(raw.size, spec.counts_len)] = raw[:spec.counts_len]
        return cls(name, spec, counts, overflow_count, overflow_max_ns, underflow_count,
                   co_expected_interval_ns)

    @classmethod
    def empty(cls, name: str, spec: HistogramSpec) -> LatencyHistogram:
        return cls(name, spec, np.zeros(spec.counts_len, dtype=np.int64))

    def percentiles_ns(self, percentiles: tuple[float, ...] = SUMMARY_PERCENTILES
                       ) -> dict[float, int]:
        """Value at each percentile, as the `hdrhistogram` package computes it (highest equivalent
        value of the first bucket reaching round(p% of the count)); 100.0 gives the maximum.
        All zero when the histogram is empty."""
        if self.total_count == 0:
            return {p: 0 for p in percentiles}
        values = self.to_hdr().get_percentile_to_value_dict(list(percentiles))
        return {p: int(values[p]) for p in percentiles}

    def max_ns(self) -> int:
        """The highest equivalent value of the highest non-empty bucket (Java getMaxValue())."""
        nonzero = np.flatnonzero(self.counts)
        if nonzero.size == 0:
            return 0
        return int(self.spec.highest_value_at(nonzero[-1:])[0])

    def mean_ns(self) -> float:
        """Java getMean(): the count-weighted median equivalent value of each bucket."""
        total = self.total_count
        if total == 0:
            return 0.0
        nonzero = np.flatnonzero(self.counts)
        medians = self.spec.median_value_at(nonzero).astype(np.float64)
        return float(np.sum(medians * self.counts[nonzero].astype(np.float64)) / total)

    def stddev_ns(self) -> float:
        """Java getStdDeviation(), around mean_ns()."""
        total = self.total_count
        if total == 0:
            return 0.0
        mean = self.mean_ns()
        nonzero = np.flatnonzero(self.counts)
        deviation = self.spec.median_value_at(nonzero).astype(np.float64) - mean
        return float(np.sqrt(np.sum(deviation * deviation * self.counts[nonzero]) / total))

    def plus(self, other: LatencyHistogram) -> LatencyHistogram:
        """The histogram of both sets of values (same parameters required)."""
        if other.spec != self.spec:
            raise LayoutError(f"cannot add histograms with parameters {other.spec.to_dict()} "
                              f"and {self.spec.to_dict()}")
        return replace(self, counts=self.counts + other.counts,
                       overflow_count=self.overflow_count + other.overflow_count,
                       overflow_max_ns=max(self.overflow_max_ns, other.overflow_max_ns),
                       underflow_count=self.underflow_count + other.underflow_count)

    def minus(self, earlier: LatencyHistogram) -> LatencyHistogram:
        """The values recorded since `earlier`, a snapshot of the same histogram. Counts only grow,
        so a negative difference means the histogram was re-initialized in between: an error.
        overflow_max_ns stays cumulative (a maximum cannot be differenced)."""
        if earlier.spec != self.spec:
            raise LayoutError(f"histogram {self.name!r}: snapshots with different parameters")
        counts = self.counts - earlier.counts
        if (counts < 0).any() or self.overflow_count < earlier.overflow_count or \
                self.underflow_count < earlier.underflow_count:
            raise LayoutError(f"histogram {self.name!r}: counts went down between snapshots "
                              "(the region was re-initialized)")
        return replace(self, counts=counts,
                       overflow_count=self.overflow_count - earlier.overflow_count,
                       underflow_count=self.underflow_count - earlier.underflow_count)
