"""The README's main command: the demo venue runs end to end on embedded defaults (made small
here), in its own engine process, and checks its own determinism."""
import subprocess
import sys
from pathlib import Path

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
    assert "engine stopped cleanly on SIGTERM" in out
    for name in ("latency.hlog", "end_to_end.hgrm", "percentiles.png", "summary.json"):
        assert (tmp_path / "reports" / name).stat().st_size > 0, name


def test_demo_refuses_bad_arguments_with_a_message(tmp_path):
    result = _demo("--depth", "0", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "--depth must be between 1 and 64" in result.stderr
    result = _demo("--orders", "many", tmp_path=tmp_path)
    assert result.returncode == 2 and "invalid int value" in result.stderr
