"""The charts' plotted data is the histogram's: every point of the percentile chart is a row of the
percentile iteration, and every bar of the breakdown is a stage's value at that percentile."""
from __future__ import annotations

import json
import math

import pytest

from gateway.latency import summarize
from gateway.latency.percentile_text import percentile_rows

from tests.latency.conftest import lognormal_ns


@pytest.fixture
def report(rng, stage_region, tmp_path):
    for i, name in enumerate(stage_region.names):
        values = lognormal_ns(rng, 10000, 300 * (i + 1), 0.6 + 0.1 * i)
        stage_region.recorder(i).record_values(values)
    snap = stage_region.snapshot()
    return snap, summarize(snap, tmp_path, out=None)


def test_percentile_chart_points_are_the_histograms_percentile_rows(report):
    snap, summary = report
    lines = summary.plot_series["percentiles"]
    assert [s.label.split(" ")[0] for s in lines] == list(snap.names)
    for series, hist in zip(lines, snap.hists):
        rows = [r for r in percentile_rows(hist) if r.percentile_level < 100.0]
        assert list(series.percentiles) == [r.percentile_level for r in rows]
        assert list(series.y) == [r.value_ns / 1000.0 for r in rows]
        assert list(series.x) == [1.0 / (1.0 - r.percentile_level / 100.0) for r in rows]
        # and each point is the value the package gives at that percentile's count
        hdr = hist.to_hdr()
        for p, y in zip(series.percentiles[::7], series.y[::7]):
            target = max(1, math.ceil(p / 100.0 * hist.total_count - 1e-9))
            cum = 0
            for item in hdr.get_recorded_iterator():
                cum += item.count_at_value_iterated_to
                if cum >= target:
                    assert round(y * 1000.0) == item.value_iterated_to
                    break


def test_breakdown_bars_are_each_stages_percentile_values(report):
    snap, summary = report
    bars = summary.plot_series["breakdown"]
    stages = [h for h in snap.hists if h.name != "end_to_end"]
    assert [b.label for b in bars] == [h.name for h in stages]
    for bar, hist in zip(bars, stages):
        expected = hist.percentiles_ns(bar.percentiles)
        assert list(bar.y) == [expected[p] / 1000.0 for p in bar.percentiles]


def test_series_file_holds_what_was_drawn_and_pngs_are_images(report):
    _, summary = report
    stored = json.loads(summary.files["plot_series"].read_text())
    for chart, lines in summary.plot_series.items():
        assert stored[chart] == [json.loads(json.dumps(s.to_dict())) for s in lines]
    for key in ("percentiles_png", "breakdown_png"):
        assert summary.files[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
