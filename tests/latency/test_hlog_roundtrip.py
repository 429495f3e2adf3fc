"""Interval logs: standard header lines, and every interval decodes through the hdrhistogram
package's HistogramLogReader (and our reader) to the histograms written."""
from __future__ import annotations

import re

import numpy as np
from hdrh.log import HistogramLogReader

from gateway.latency import Run
from gateway.latency.hlog import read_interval_log, write_interval_log

from tests.latency.conftest import lognormal_ns


def _run(rng, region, n_intervals=3) -> Run:
    snaps = [region.snapshot()]
    for k in range(n_intervals):
        for i, name in enumerate(region.names):
            region.recorder(i).record_values(lognormal_ns(rng, 2000, 500 * (i + 1) * (k + 1), 0.8))
        region.recorder(0).record_values([-1, 10**12])
        snaps.append(region.snapshot())
    return Run.from_cumulative(snaps)


def test_header_lines_follow_the_standard_format(rng, stage_region, tmp_path):
    path = write_interval_log(tmp_path / "latency.hlog", list(_run(rng, stage_region).intervals))
    lines = path.read_text().splitlines()
    assert lines[0] == "#[Histogram log format version 1.3]"
    assert re.fullmatch(r"#\[StartTime: \d+\.\d{3} \(seconds since epoch\), \w{3} \w{3} \d{2} "
                        r"\d{2}:\d{2}:\d{2} \S+ \d{4}\]", lines[1]), lines[1]
    assert re.fullmatch(r"#\[BaseTime: \d+\.\d{3} \(seconds since epoch\)\]", lines[2]), lines[2]
    assert '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"' \
        in lines
    data = [l for l in lines if not l.startswith("#") and not l.startswith('"')]
    assert data and all(re.fullmatch(r"Tag=[a-z_]+,\d+\.\d{3},\d+\.\d{3},\d+\.\d{3},HISTF\S+", l)
                        for l in data)


def test_every_interval_decodes_through_the_packages_reader(rng, stage_region, tmp_path):
    run = _run(rng, stage_region)
    path = write_interval_log(tmp_path / "latency.hlog", list(run.intervals))
    reader = HistogramLogReader(str(path), None)
    decoded = []
    while (hdr := reader.get_next_interval_histogram()) is not None:
        decoded.append(hdr)
    reader.close()
    expected = [h for interval in run.intervals for h in interval.hists]
    assert len(decoded) == len(expected)
    for hdr, hist in zip(decoded, expected):
        assert hdr.get_tag() == hist.name
        assert hdr.get_total_count() == hist.total_count
        assert np.array_equal(np.ctypeslib.as_array(hdr.counts).astype(np.int64), hist.counts)
        if hist.total_count:
            assert hdr.get_value_at_percentile(99.0) == hist.percentiles_ns((99.0,))[99.0]
    # interval start times are absolute (BaseTime + offset), to the millisecond
    first = run.intervals[1]
    assert abs(decoded[len(first.names)].get_start_time_stamp() / 1000.0 - first.start_s) < 2e-3


def test_our_reader_restores_intervals_and_tallies(rng, stage_region, tmp_path):
    run = _run(rng, stage_region)
    path = write_interval_log(tmp_path / "latency.hlog", list(run.intervals))
    back = read_interval_log(path)
    assert len(back.intervals) == len(run.intervals)
    for a, b in zip(run.intervals, back.intervals):
        assert a.names == b.names
        for ha, hb in zip(a.hists, b.hists):
            assert np.array_equal(ha.counts, hb.counts)
            assert (ha.overflow_count, ha.overflow_max_ns, ha.underflow_count) == \
                (hb.overflow_count, hb.overflow_max_ns, hb.underflow_count)
    assert back.intervals[1].get("receive_to_decode").overflow_count == 1
