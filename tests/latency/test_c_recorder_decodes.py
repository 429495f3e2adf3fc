"""Counts recorded by the C recorder decode in Python to exactly what the hdrhistogram package
records for the same values: same count array, total, every percentile, max and mean."""
from __future__ import annotations

import numpy as np

from gateway.latency import HistogramSpec, LatencyHistogram, LatencyRegion

from tests.latency.conftest import lognormal_ns

PERCENTILES = (0.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0)


def _package_hist(spec: HistogramSpec, values: np.ndarray):
    hdr = spec.new_hdr()
    for v in values.tolist():
        assert hdr.record_value(v)
    return hdr


def test_c_counts_equal_package_counts_for_the_same_values(rng, stage_region):
    values = np.concatenate([lognormal_ns(rng, 30000, 800, 1.2), np.arange(0, 5000, 7),
                             np.array([0, 1, 2047, 2048, 4095, 4096, 9_999_999_999])])
    stage_region.recorder("end_to_end").record_values(values)
    hist = stage_region.snapshot().get("end_to_end")
    hdr = _package_hist(stage_region.spec, values)

    assert np.array_equal(hist.counts, np.ctypeslib.as_array(hdr.counts).astype(np.int64))
    assert hist.total_count == hdr.get_total_count() == values.size
    decoded = hist.to_hdr()
    for p in PERCENTILES:
        assert decoded.get_value_at_percentile(p) == hdr.get_value_at_percentile(p), p
    assert hist.percentiles_ns(PERCENTILES) == {p: hdr.get_value_at_percentile(p)
                                                for p in PERCENTILES}
    assert hist.max_ns() == hdr.get_max_value()
    assert decoded.get_min_value() == hdr.get_min_value()
    assert abs(hist.mean_ns() - hdr.get_mean_value()) <= 1e-9 * hdr.get_mean_value()


def test_other_parameters_decode_the_same(rng):
    spec = HistogramSpec(lowest_discernible_value=16, highest_trackable_value=3_600_000_000,
                         significant_figures=2)
    region = LatencyRegion.create_anonymous(spec, names=("rtt",))
    values = lognormal_ns(rng, 20000, 50_000, 2.0)
    values = values[values <= 3_600_000_000]
    region.recorder(0).record_values(values)
    hist = region.snapshot().get("rtt")
    hdr = _package_hist(spec, values)
    assert np.array_equal(hist.counts, np.ctypeslib.as_array(hdr.counts).astype(np.int64))
    assert hist.percentiles_ns(PERCENTILES) == {p: hdr.get_value_at_percentile(p)
                                                for p in PERCENTILES}


def test_out_of_range_values_are_counted_apart_not_dropped(stage_region):
    spec = stage_region.spec
    top = int(spec.highest_value_at(np.array([spec.counts_len - 1]))[0])
    stage_region.recorder(0).record_values([5, top, top + 1, 10 * top, -3, -1])
    hist = stage_region.snapshot().hists[0]
    assert hist.total_count == 2                      # 5 and the highest representable value
    assert hist.overflow_count == 2 and hist.overflow_max_ns == 10 * top
    assert hist.underflow_count == 2


def test_recording_intervals_in_ticks_converts_with_the_region_clock(stage_region):
    from gateway.latency.clock import ticks_to_ns
    rec = stage_region.recorder("receive_to_decode")
    start = 1_000_000
    ends = [start + d for d in (0, 10, 1000, 123_456)]
    for end in ends:
        rec.record_interval(start, end)
    rec.record_interval(start, start - 1)             # end before start: an underflow
    hist = stage_region.snapshot().get("receive_to_decode")
    expected = LatencyHistogram.empty("x", stage_region.spec).to_hdr()
    for end in ends:
        expected.record_value(ticks_to_ns(end - start))
    assert np.array_equal(hist.counts, np.ctypeslib.as_array(expected.counts).astype(np.int64))
    assert hist.underflow_count == 1


def test_index_arithmetic_matches_the_package_for_every_bucket():
    spec = HistogramSpec()
    hdr = spec.new_hdr()
    idx = np.arange(spec.counts_len)
    low, high = spec.lowest_value_at(idx), spec.highest_value_at(idx)
    for i in list(range(0, spec.counts_len, 97)) + [spec.counts_len - 1]:
        assert low[i] == hdr.get_value_from_index(i)
        assert high[i] == hdr.get_highest_equivalent_value(int(low[i]))
        assert hdr.get_counts_array_index(int(low[i])) == i
