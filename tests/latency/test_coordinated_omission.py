"""Coordinated-omission correction follows HdrHistogram (Java/C) in both the C recorder and
Python, and reports say whether figures are corrected."""
from __future__ import annotations

import numpy as np

from gateway.latency import HistogramSpec, LatencyRegion, summarize
from gateway.latency.hlog import read_interval_log
from gateway.latency.omission import corrected_copy, corrected_values, record_corrected


def test_corrected_values_are_javas_record_value_with_expected_interval():
    assert corrected_values(10, 3) == [10, 7, 4]
    assert corrected_values(3, 3) == [3]
    assert corrected_values(10, 0) == [10]
    assert corrected_values(1000, 100) == [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100]


def test_the_package_records_one_more_sample_than_java():
    spec = HistogramSpec()
    package, ours = spec.new_hdr(), spec.new_hdr()
    package.record_corrected_value(10, 3)
    record_corrected(ours, 10, 3)
    assert package.get_total_count() == 4 and ours.get_total_count() == 3


def test_c_corrected_recording_equals_python_and_marks_the_histogram():
    region = LatencyRegion.create_anonymous(names=("rtt", "rtt_corrected"))
    values = np.array([500, 800, 120_000, 600, 2_000_000, 700], dtype=np.int64)
    interval_ns = 10_000
    region.recorder("rtt").record_values(values)
    region.recorder("rtt_corrected").record_corrected_values(values, interval_ns)
    snap = region.snapshot()
    expected = region.spec.new_hdr()
    for v in values.tolist():
        record_corrected(expected, v, interval_ns)
    corrected = snap.get("rtt_corrected")
    assert np.array_equal(corrected.counts, np.ctypeslib.as_array(expected.counts).astype(np.int64))
    assert corrected.co_expected_interval_ns == interval_ns
    assert corrected.total_count == 6 + 11 + 199
    # the uncorrected recording, corrected afterwards, gives the same distribution to within the
    # histogram's precision (the copy works from bucket values, as Java's does, not raw values)
    copied = corrected_copy(snap.get("rtt"), interval_ns)
    assert copied.total_count == corrected.total_count
    a, b = copied.percentiles_ns((50.0, 99.0)), corrected.percentiles_ns((50.0, 99.0))
    assert all(abs(a[p] - b[p]) <= 2e-3 * b[p] for p in a)


def test_reports_label_corrected_and_uncorrected_figures(tmp_path):
    region = LatencyRegion.create_anonymous(names=("rtt", "rtt_corrected"))
    region.recorder("rtt").record_values([1000, 50_000])
    region.recorder("rtt_corrected").record_corrected_values([1000, 50_000], 10_000)
    summary = summarize(region, tmp_path, out=None)
    assert summary.figures("rtt").coordinated_omission == "not corrected for coordinated omission"
    assert summary.figures("rtt_corrected").coordinated_omission == \
        "corrected for coordinated omission (expected interval 10000 ns)"
    assert "corrected for coordinated omission (expected interval 10000 ns)" in summary.table()
    assert any("CO-corrected" in s.label for s in summary.plot_series["percentiles"])
    back = read_interval_log(summary.files["hlog"]).intervals[0]   # the log keeps the marking
    assert back.get("rtt_corrected").co_expected_interval_ns == 10_000
