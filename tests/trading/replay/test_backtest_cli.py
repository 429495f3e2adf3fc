"""`python -m trading backtest` end to end on a small LOBSTER-format day written here: result
files, terminal summary, a user's strategy by dotted path, and a strategy that raises (exit 1,
error reported, the replay finished)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ROWS = ["34200.000,1,11,300,5800000,1", "34200.000,1,12,300,5801000,-1", "34200.050,1,13,200,5800000,1",
        "34200.400,4,11,300,5800000,1", "34200.600,4,13,100,5800000,1", "34200.900,1,14,100,5799000,-1",
        "34201.500,3,12,300,5801000,-1", "34201.600,1,15,100,5802000,-1", "34202.000,4,15,100,5802000,-1"]

FAILING = '''
from trading.strategy import Strategy
class Boom(Strategy):
    def on_start(self, ctx):
        ctx.set_timer(100_000_000)
    def on_timer(self, ctx):
        if ctx.book.best_bid:
            ctx.buy(ctx.book.best_bid, 100)
        if ctx.now > 34200_500_000_000:
            raise ValueError("boom")
'''


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "T_2012-06-21_message_1.csv"
    data.write_text("\n".join(ROWS) + "\n")
    (tmp_path / "userstrat.py").write_text(FAILING)
    return subprocess.run([sys.executable, "-m", "trading", "backtest", "--data", str(data), "--out", str(tmp_path / "out"),
                           "--compute", "none", *args], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"})


def test_backtest_writes_results_and_a_summary(tmp_path):
    r = _run(tmp_path, "--strategy", "quote", "--param", "interval_ms=50", "--order-latency", "1ms")
    assert r.returncode == 0, r.stderr
    assert "TouchQuoter" in r.stdout and "P&L total" in r.stdout and "order messages per fill" in r.stdout
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["summary"]["fills"] == len(result["fills"]) > 0
    assert result["params"]["interval_ms"] == 50 and result["error"] is None
    for name in ("fills.csv", "pnl.png", "inventory.png", "quotes.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0


def test_a_strategy_that_raises_is_reported_and_the_run_finishes(tmp_path):
    r = _run(tmp_path, "--strategy", "userstrat.Boom", "--no-plots")
    assert r.returncode == 1
    assert "ValueError: boom" in r.stderr and "STRATEGY STOPPED" in r.stdout
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert "boom" in result["error"] and result["summary"]["cancels_sent"] == 0


def test_measured_run_reruns_byte_identically_from_its_compute_charges(tmp_path):
    first = _run(tmp_path, "--strategy", "quote", "--param", "interval_ms=50", "--no-plots", "--compute", "measured")
    assert first.returncode == 0, first.stderr
    charges = tmp_path / "out" / "compute_charges.json"
    kept = tmp_path / "first_result.json"
    kept.write_bytes((tmp_path / "out" / "result.json").read_bytes())
    again = _run(tmp_path, "--strategy", "quote", "--param", "interval_ms=50", "--no-plots", "--compute", "measured",
                 "--compute-charges", str(charges.rename(tmp_path / "charges.json")))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "result.json").read_bytes() == kept.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "compute-charges/1", "readings_ns": [1, -2]}')
    for args, message in ((["--compute-charges", str(bad)], "readings_ns must be a list of integers >= 0"),
                          (["--compute-charges", str(tmp_path / "none.json")], "no such file"),
                          (["--compute-charges", str(tmp_path / "charges.json"), "--strategy", "noop"],
                           "recorded for strategy 'TouchQuoter', not 'NoOp'"),
                          (["--compute-charges", str(tmp_path / "charges.json"), "--param", "interval_ms=20"],
                           "recorded by another run")):
        r = _run(tmp_path, "--strategy", "quote", "--no-plots", "--compute", "measured", *args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r.stderr
