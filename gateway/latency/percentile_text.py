"""The standard HdrHistogram percentile distribution text (.hgrm), as Java writes it.

Follows AbstractHistogram.outputPercentileDistribution() and its PercentileIterator exactly, so the
usual plotters (HdrHistogram's plotFiles.html, HistogramLogAnalyzer) read the files. The
`hdrhistogram` package's own writer is not used because it deviates: its footer says "TotalCount"
where Java says "Total count" and formats the count as a float, it does not scale the standard
deviation, and its iterator does not truncate log2(...) to an integer when it sizes the percentile
steps, so its rows fall on other percentile levels than Java's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from gateway.latency.histogram import LatencyHistogram


@dataclass(frozen=True)
class PercentileRow:
    value_ns: int            # highest equivalent value of the bucket the level falls in
    percentile_level: float  # the iteration level, 0..100 (what the text prints, divided by 100)
    total_count: int         # count of values up to and including this bucket

    @property
    def inverted(self) -> float:
        """1/(1-p): the x coordinate HdrHistogram plots use. Infinite at 100%."""
        if self.percentile_level >= 100.0:
            return math.inf
        return 1.0 / (1.0 - self.percentile_level / 100.0)


def _next_level(level: float, ticks_per_half_distance: int) -> float:
    # Java: ticks * (long) Math.pow(2, (long) (Math.log(100 / (100 - level)) / Math.log(2)) + 1)
    halvings = int(math.log(100.0 / (100.0 - level)) / math.log(2))
    return level + 100.0 / float(ticks_per_half_distance * (2 ** (halvings + 1)))


def percentile_rows(hist: LatencyHistogram,
                    ticks_per_half_distance: int = 5) -> list[PercentileRow]:
    """The rows of Java's percentile iteration: at each non-empty bucket, one row per level the
    cumulative percentile has reached (while values remain beyond it), then a final row at 100%."""
    total = hist.total_count
    if total == 0:
        return []
    nonzero = np.flatnonzero(hist.counts)
    cumulative = np.cumsum(hist.counts[nonzero]).tolist()
    values = hist.spec.highest_value_at(nonzero).tolist()
    rows: list[PercentileRow] = []
    level = 0.0
    for value, count_to_here in zip(values, cumulative):
        while (100.0 * count_to_here) / total >= level:
            rows.append(PercentileRow(int(value), level, int(count_to_here)))
            level = _next_level(level, ticks_per_half_distance)
            if count_to_here >= total:
                break
        if count_to_here >= total:
            rows.append(PercentileRow(int(value), 100.0, int(total)))
            break
    return rows


def format_percentile_distribution(hist: LatencyHistogram, value_unit_scaling_ratio: float = 1000.0,
                                   ticks_per_half_distance: int = 5) -> str:
    """The text Java's outputPercentileDistribution(out, ticks, ratio) prints. Values are divided
    by value_unit_scaling_ratio (1000: the ns recorded become µs)."""
    sig = hist.spec.significant_figures
    out = ["%12s %14s %10s %14s\n\n" % ("Value", "Percentile", "TotalCount", "1/(1-Percentile)")]
    for row in percentile_rows(hist, ticks_per_half_distance):
        value = row.value_ns / value_unit_scaling_ratio
        if row.percentile_level != 100.0:
            out.append(f"%12.{sig}f %2.12f %10d %14.2f\n"
                       % (value, row.percentile_level / 100.0, row.total_count, row.inverted))
        else:
            out.append(f"%12.{sig}f %2.12f %10d\n"
                       % (value, row.percentile_level / 100.0, row.total_count))
    out.append(f"#[Mean    = %12.{sig}f, StdDeviation   = %12.{sig}f]\n"
               % (hist.mean_ns() / value_unit_scaling_ratio,
                  hist.stddev_ns() / value_unit_scaling_ratio))
    out.append(f"#[Max     = %12.{sig}f, Total count    = %12d]\n"
               % (hist.max_ns() / value_unit_scaling_ratio, hist.total_count))
    out.append("#[Buckets = %12d, SubBuckets     = %12d]\n"
               % (hist.spec.bucket_count, hist.spec.sub_bucket_count))
    return "".join(out)


def write_percentile_distribution(hist: LatencyHistogram, out: TextIO,
                                  value_unit_scaling_ratio: float = 1000.0,
                                  ticks_per_half_distance: int = 5) -> None:
    out.write(format_percentile_distribution(hist, value_unit_scaling_ratio,
                                             ticks_per_half_distance))
