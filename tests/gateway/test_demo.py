"""The README's main command: the demo venue runs end to end on embedded defaults (made small
here), with the engine and the gateway in their own processes and the continuous session over TCP,
checks its own determinism, and ends with the latency of every stage of the order path."""
import json
import subprocess
import sys
from pathlib import Path

from gateway.latency.region import STAGE_NAMES

ROOT = Path(__file__).resolve().parents[2]


def _demo(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway", "demo", *args,
                           "--report-dir", str(tmp_path / "reports")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_demo_runs_the_venue_and_reports_latency(tmp_path):
    result = _demo("--orders", "400", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "bought  400 @ 150.01" in out and "bought  200 @ 150.02" in out
    assert "Opening auctions" in out and "Final book AAPL" in out
    assert "give byte-identical events" in out and "the same books" in out
    assert "gateway and engine stopped cleanly on SIGTERM" in out
    for name in ("latency.hlog", "end_to_end.hgrm", "percentiles.png", "summary.json"):
        assert (tmp_path / "reports" / name).stat().st_size > 0, name
        assert str(tmp_path / "reports" / name) in out, name
    # The table ends the run: P50/P99/P99.9/max of the seven stamped stages and end to end, each
    # counting every request the gateway passed to the engine (all of them stamped once).
    table = out[out.index("histogram "):]
    assert "P50 µs" in table and "P99 µs" in table and "P99.9 µs" in table and "max µs" in table
    for name in STAGE_NAMES:
        assert any(line.startswith(name + " ") for line in table.splitlines()), name
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    counts = {h["name"]: h["total_count"] for h in summary["histograms"]}
    assert set(counts) == set(STAGE_NAMES)
    assert len(set(counts.values())) == 1 and counts["end_to_end"] > 0
    line = next(ln for ln in out.splitlines() if "continuous-session requests sent over TCP" in ln)
    forwarded = int(line.split(" of the ")[0].rsplit(" ", 1)[1].replace(",", ""))
    assert counts["end_to_end"] == forwarded


def test_demo_refuses_bad_arguments_with_a_message(tmp_path):
    result = _demo("--depth", "0", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "--depth must be between 1 and 64" in result.stderr
    result = _demo("--orders", "many", tmp_path=tmp_path)
    assert result.returncode == 2 and "invalid int value" in result.stderr
