"""Coordinated-omission correction for load generators (Gil Tene's term).

A closed-loop load generator that waits for each reply stops sending while the venue stalls, so the
stall is measured once instead of by every request that should have been sent meanwhile. Knowing the
intended interval between requests, HdrHistogram adds those missing samples: for a value v it also
records v - k * interval for every k >= 1 while that stays >= interval (Java
AbstractHistogram.recordValueWithExpectedInterval, HdrHistogram_c hdr_record_corrected_values; the C
recorder's hdr_hist_record_corrected does the same). Note: the `hdrhistogram` package's
record_corrected_value() records one extra sample below the interval (for v=10, interval=3 it gives
10, 7, 4, 1 where Java gives 10, 7, 4), so this module does not call it.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from hdrh.histogram import HdrHistogram

from gateway.latency.errors import LayoutError
from gateway.latency.histogram import LatencyHistogram


def corrected_values(value_ns: int, expected_interval_ns: int) -> list[int]:
    """The value and the samples a stalled generator omitted, Java's order."""
    values = [value_ns]
    if expected_interval_ns <= 0 or value_ns <= expected_interval_ns:
        return values
    missing = value_ns - expected_interval_ns
    while missing >= expected_interval_ns:
        values.append(missing)
        missing -= expected_interval_ns
    return values


def record_corrected(hdr: HdrHistogram, value_ns: int, expected_interval_ns: int,
                     count: int = 1) -> bool:
    """Records value_ns with the correction into an `hdrhistogram` histogram. False (and nothing
    synthesized) when the value is out of the histogram's range."""
    if not hdr.record_value(value_ns, count):
        return False
    for missing in corrected_values(value_ns, expected_interval_ns)[1:]:
        hdr.record_value(missing, count)
    return True


def corrected_copy(hist: LatencyHistogram, expected_interval_ns: int) -> LatencyHistogram:
    """Java copyCorrectedForCoordinatedOmission(): the histogram an uncorrected recording would
    have been with the correction, treating each bucket's values as its highest equivalent value (as
    Java's addWhileCorrectingForCoordinatedOmission does).
    Overflow and underflow counts carry over unchanged."""
    if expected_interval_ns <= 0:
        raise LayoutError(f"expected interval {expected_interval_ns} ns: must be > 0")
    if hist.corrected:
        raise LayoutError(f"histogram {hist.name!r} is already corrected "
                          f"(interval {hist.co_expected_interval_ns} ns)")
    spec = hist.spec
    counts = np.zeros(spec.counts_len, dtype=np.int64)
    nonzero = np.flatnonzero(hist.counts)
    probe = spec.new_hdr()
    for index, value in zip(nonzero.tolist(), spec.highest_value_at(nonzero).tolist()):
        for v in corrected_values(int(value), expected_interval_ns):
            counts[probe.get_counts_array_index(v)] += hist.counts[index]
    return replace(hist, counts=counts, co_expected_interval_ns=expected_interval_ns)
