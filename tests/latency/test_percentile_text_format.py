"""The percentile distribution text parses with a reader of the standard format, and its rows and
footer state the histogram's own percentiles, mean, max and layout."""
from __future__ import annotations

import math

import numpy as np

from gateway.latency import HistogramSpec, LatencyHistogram
from gateway.latency.percentile_text import format_percentile_distribution, percentile_rows

from tests.latency.hgrm_reader import parse
from tests.latency.conftest import lognormal_ns


def _hist(values: np.ndarray) -> LatencyHistogram:
    hdr = HistogramSpec().new_hdr()
    for v in values.tolist():
        hdr.record_value(v)
    return LatencyHistogram.from_hdr("h", hdr)


def _value_at_level(sorted_values: np.ndarray, level: float, hdr) -> int:
    # Java's percentile iteration stops at the first bucket whose cumulative count reaches the
    # level: the ceil(level% of n)-th smallest value, reported as its highest equivalent value.
    k = max(1, math.ceil(level / 100.0 * sorted_values.size - 1e-9))
    return hdr.get_highest_equivalent_value(int(sorted_values[k - 1]))


def test_text_parses_and_states_the_histograms_percentiles(rng):
    values = lognormal_ns(rng, 50000, 2000, 1.0)
    hist = _hist(values)
    parsed = parse(format_percentile_distribution(hist, 1000.0))
    sorted_values = np.sort(values)
    hdr = hist.to_hdr()
    assert parsed.rows[0][1] == 0.0 and parsed.rows[-1][1] == 1.0
    assert [r[1] for r in parsed.rows[:7]] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.55]
    for value_us, p, count, inverted in parsed.rows[:-1]:
        assert math.isclose(value_us * 1000.0, _value_at_level(sorted_values, p * 100, hdr),
                            abs_tol=0.5)
        assert count == int(np.searchsorted(sorted_values, value_us * 1000.0 + 0.5))
        assert math.isclose(inverted, 1.0 / (1.0 - p), rel_tol=1e-2, abs_tol=0.01)
    assert parsed.rows[-1][0] * 1000.0 == hist.max_ns()
    assert parsed.total_count == values.size == parsed.rows[-1][2]
    assert math.isclose(parsed.mean, hdr.get_mean_value() / 1000.0, abs_tol=5e-4)
    assert math.isclose(parsed.stddev, hdr.get_stddev() / 1000.0, abs_tol=5e-4)
    assert math.isclose(parsed.max, hdr.get_max_value() / 1000.0, abs_tol=5e-4)
    assert (parsed.buckets, parsed.sub_buckets) == (hdr.bucket_count, hdr.sub_bucket_count)


def test_levels_step_like_javas_percentile_iterator():
    hist = _hist(np.arange(1, 100001))
    levels = [r.percentile_level for r in percentile_rows(hist)]
    # 5 ticks per half distance: 10% steps to 50%, 5% to 75%, 2.5% to 87.5%, ...
    assert levels[:12] == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 77.5]
    assert levels[-1] == 100.0 and levels == sorted(levels)


def test_empty_histogram_text_is_header_and_footer_only():
    parsed = parse(format_percentile_distribution(LatencyHistogram.empty("e", HistogramSpec())))
    assert parsed.rows == [] and parsed.total_count == 0 and parsed.max == 0.0
