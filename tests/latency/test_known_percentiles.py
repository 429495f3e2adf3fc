"""Known inputs give the known percentiles, the same as the hdrhistogram package's."""
from __future__ import annotations

import numpy as np

from gateway.latency import HistogramSpec, LatencyHistogram

PERCENTILES = (0.0, 1.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0)


def _hist_of(values: list[int], spec: HistogramSpec) -> LatencyHistogram:
    hdr = spec.new_hdr()
    for v in values:
        assert hdr.record_value(v)
    return LatencyHistogram.from_hdr("h", hdr)


def test_one_to_ten_thousand_gives_hdrhistograms_bucket_bounds():
    hist = _hist_of(list(range(1, 10001)), HistogramSpec(1, 10_000_000_000, 3))
    got = hist.percentiles_ns((50.0, 99.0, 100.0))
    # 5000 lies in [4096, 8192) where buckets are 4 wide, 9900 in [8192, 16384) (8 wide):
    # HdrHistogram reports the highest value equivalent to the one at the percentile.
    assert got == {50.0: 5003, 99.0: 9903, 100.0: 10007}
    assert hist.total_count == 10000


def test_values_below_two_thousand_are_exact_with_three_figures():
    values = [100] * 50 + [200] * 49 + [1500]
    hist = _hist_of(values, HistogramSpec())
    assert hist.percentiles_ns((50.0, 99.0, 100.0)) == {50.0: 100, 99.0: 200, 100.0: 1500}


def test_percentiles_match_the_package_recording_the_same_values(rng):
    spec = HistogramSpec()
    values = np.maximum(rng.lognormal(np.log(3000), 1.0, 20000), 1).astype(np.int64)
    hdr = spec.new_hdr()
    for v in values.tolist():
        hdr.record_value(v)
    hist = _hist_of(values.tolist(), spec)
    got = hist.percentiles_ns(PERCENTILES)
    for p in PERCENTILES:
        assert got[p] == hdr.get_value_at_percentile(p), p
    assert hist.max_ns() == hdr.get_max_value()
    assert abs(hist.mean_ns() - hdr.get_mean_value()) < 1e-6 * hdr.get_mean_value()
    assert abs(hist.stddev_ns() - hdr.get_stddev()) < 1e-6 * hdr.get_stddev()


def test_empty_histogram_reports_zeros():
    hist = LatencyHistogram.empty("idle", HistogramSpec())
    assert hist.percentiles_ns((50.0, 100.0)) == {50.0: 0, 100.0: 0}
    assert hist.total_count == 0 and hist.max_ns() == 0 and hist.mean_ns() == 0.0
