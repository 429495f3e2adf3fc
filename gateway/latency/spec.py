"""HdrHistogram's bucket arithmetic on whole count arrays (numpy), for one parameter set.

Owns the mapping between a counts-array index and the values it stands for, exactly as Java's
AbstractHistogram and the C recorder (native/hdr/hdr_recorder.h) compute it, so count arrays copied
out of shared memory, decoded from logs, or built by the `hdrhistogram` package are interchangeable.
Invariant: HistogramSpec(l, h, s).counts_len == hdrh.histogram.HdrHistogram(l, h, s).counts_len.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hdrh.histogram import HdrHistogram

from gateway.latency.errors import LayoutError

# The venue's default: 1 ns resolution up to 10 s with 3 significant figures (25,600 counts,
# 200 KiB per histogram). Anything slower than 10 s is an outage, counted as overflow.
DEFAULT_LOWEST_NS = 1
DEFAULT_HIGHEST_NS = 10_000_000_000
DEFAULT_SIGNIFICANT_FIGURES = 3


@dataclass(frozen=True)
class HistogramSpec:
    """The three constructor arguments of an HdrHistogram and what they derive (Java's names)."""

    lowest_discernible_value: int = DEFAULT_LOWEST_NS
    highest_trackable_value: int = DEFAULT_HIGHEST_NS
    significant_figures: int = DEFAULT_SIGNIFICANT_FIGURES
    unit_magnitude: int = field(init=False)
    sub_bucket_half_count_magnitude: int = field(init=False)
    sub_bucket_count: int = field(init=False)
    sub_bucket_half_count: int = field(init=False)
    bucket_count: int = field(init=False)
    counts_len: int = field(init=False)

    def __post_init__(self) -> None:
        low, high, sig = (self.lowest_discernible_value, self.highest_trackable_value,
                          self.significant_figures)
        if low < 1 or high < 2 * low or not 1 <= sig <= 5:
            raise LayoutError(f"histogram parameters lowest={low} highest={high} "
                              f"significant_figures={sig}: need lowest >= 1, highest >= 2 * lowest "
                              "and 1 <= significant_figures <= 5")
        reference = HdrHistogram(low, high, sig)
        for name in ("unit_magnitude", "sub_bucket_half_count_magnitude", "sub_bucket_count",
                     "sub_bucket_half_count", "bucket_count", "counts_len"):
            object.__setattr__(self, name, int(getattr(reference, name)))

    def new_hdr(self) -> HdrHistogram:
        """An empty `hdrhistogram` histogram with these parameters."""
        return HdrHistogram(self.lowest_discernible_value, self.highest_trackable_value,
                            self.significant_figures)

    def index_bucket(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bucket index, sub-bucket index) of each counts index (Java valueFromIndex's split)."""
        index = np.asarray(index, dtype=np.int64)
        bucket = (index >> self.sub_bucket_half_count_magnitude) - 1
        sub = (index & (self.sub_bucket_half_count - 1)) + self.sub_bucket_half_count
        low = bucket < 0
        sub = np.where(low, sub - self.sub_bucket_half_count, sub)
        bucket = np.where(low, 0, bucket)
        return bucket, sub

    def lowest_value_at(self, index: np.ndarray) -> np.ndarray:
        """The lowest value each counts index stands for (Java valueFromIndex)."""
        bucket, sub = self.index_bucket(index)
        lowest: np.ndarray = sub << (bucket + self.unit_magnitude)
        return lowest

    def highest_value_at(self, index: np.ndarray) -> np.ndarray:
        """The highest value each counts index stands for (highestEquivalentValue)."""
        bucket, sub = self.index_bucket(index)
        shift = bucket + self.unit_magnitude
        highest: np.ndarray = (sub << shift) + (np.int64(1) << shift) - 1
        return highest

    def median_value_at(self, index: np.ndarray) -> np.ndarray:
        """The value mean and standard deviation use for each index (medianEquivalentValue)."""
        bucket, sub = self.index_bucket(index)
        shift = bucket + self.unit_magnitude
        median: np.ndarray = (sub << shift) + ((np.int64(1) << shift) >> 1)
        return median

    def to_dict(self) -> dict[str, int]:
        return {"lowest_discernible_value": self.lowest_discernible_value,
                "highest_trackable_value": self.highest_trackable_value,
                "significant_figures": self.significant_figures}
