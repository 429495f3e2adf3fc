"""`python -m gateway report` writes every report file and prints the per-stage table with the
files' paths; bad arguments fail with a clear message and a non-zero exit."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gateway.latency import Run, summarize

from tests.latency.conftest import lognormal_ns


def _gateway(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def finished_run(rng, stage_region, tmp_path):
    snaps = [stage_region.snapshot()]
    for _ in range(2):
        for i in range(len(stage_region.names)):
            stage_region.recorder(i).record_values(lognormal_ns(rng, 3000, 400 * (i + 1), 0.5))
        snaps.append(stage_region.snapshot())
    run_dir = tmp_path / "run"
    summarize(Run.from_cumulative(snaps), run_dir, out=None)
    return run_dir


def test_report_of_a_finished_run_prints_table_and_files(finished_run, tmp_path):
    out = tmp_path / "report"
    done = _gateway("report", "--from", str(finished_run), "--out", str(out))
    assert done.returncode == 0, done.stderr
    for name in ("receive_to_decode", "end_to_end"):
        assert any(line.startswith(name) for line in done.stdout.splitlines())
    assert "P50 µs" in done.stdout and "P99.9 µs" in done.stdout and "max µs" in done.stdout
    for key in ("latency.hlog", "end_to_end.hgrm", "percentiles.png", "breakdown.png",
                "summary.json", "plot_series.json"):
        assert str(out / key) in done.stdout and (out / key).is_file()
    before = json.loads((finished_run / "summary.json").read_text())["histograms"]
    after = json.loads((out / "summary.json").read_text())["histograms"]
    assert before == after


def test_report_of_a_live_region_file(tmp_path):
    from gateway.latency import LatencyRegion
    region = LatencyRegion.create_file(tmp_path / "venue-latency")
    region.recorder("end_to_end").record_values(list(range(1000, 2000)))
    done = _gateway("report", "--from", str(tmp_path / "venue-latency"), "--out",
                    str(tmp_path / "live"))
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "live" / "summary.json").read_text())
    e2e = [h for h in summary["histograms"] if h["name"] == "end_to_end"][0]
    assert e2e["total_count"] == 1000 and e2e["percentiles_ns"]["max"] == 1999


@pytest.mark.parametrize("args, message", [
    ((), "required"),
    (("--from", "/nonexistent/run", "--out", "OUT"), "no such file or directory"),
    (("--from", "RUN", "--out", "OUT", "--interval-s", "1"), "go together"),
    (("--from", "RUN", "--out", "OUT", "--offset", "-4096"), "must be >= 0"),
    (("--out", "OUT"), "one of --from or --venue is required"),
    (("--venue", "bad/name", "--out", "OUT"), "bad segment name"),
    (("--venue", "no-such-venue-here", "--out", "OUT"), "no latency region"),
])
def test_bad_arguments_fail_with_a_message(args, message, finished_run, tmp_path):
    args = tuple(str(finished_run) if a == "RUN" else str(tmp_path / "o") if a == "OUT" else a
                 for a in args)
    done = _gateway("report", *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_a_file_that_is_not_a_region_is_refused(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x01" * 8192)
    done = _gateway("report", "--from", str(junk), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "EPROTO" in done.stderr
