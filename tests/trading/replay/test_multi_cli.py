"""Several --data on the command line (``python -m trading backtest`` and ``python -m trading mm
replay``): two instruments of one simulated day replayed together, per-instrument results; bad
input (days of two dates, an --orderbook path with two files, a hedge instrument that is not
replayed) exits 2 with one line naming what is wrong."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.trading.replay.two_instruments import write_pair

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_pair(tmp_path_factory.mktemp("pair"), steps=1500)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trading", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)


def test_backtest_two_instruments(pair: tuple[Path, Path], tmp_path: Path) -> None:
    x, y = pair
    r = _run("backtest", "--data", str(x), "--data", str(y), "--strategy", "quote", "--compute", "none",
             "--out", str(tmp_path), "--no-plots", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "instrument 2 (Y)" in r.stdout and "P&L over all instruments" in r.stdout
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["config"]["data"] == [str(x), str(y)]
    assert set(result["summary"]["instruments"]) == {"1", "2"}
    assert result["fill_columns"][-1] == "instrument"
    assert (tmp_path / "fills.csv").read_text().splitlines()[0].endswith(",instrument")


def test_mm_replay_hedges_in_the_second_instrument(pair: tuple[Path, Path], tmp_path: Path) -> None:
    x, y = pair
    r = _run("mm", "replay", "--data", str(x), "--data", str(y), "--compute", "none", "--out", str(tmp_path),
             "--param", "A=2.0", "--param", "k=60", "--param", "gamma=0.05", "--param", "max_inventory=500",
             "--param", "tau_s=30", "--param", "hedge_threshold=100", "--param", "hedge_instrument=2",
             "--param", "hedge_ratio=2")
    assert r.returncode == 0, r.stderr
    assert "parts add up exactly: True" in r.stdout and "(matches: True)" in r.stdout
    assert "hedge in instrument 2" in r.stdout
    rep = json.loads((tmp_path / "mm_report.json").read_text())["report"]
    assert rep["hedge_fills"] > 0


@pytest.mark.parametrize("case", ["date", "orderbook", "hedge_instrument", "backtest_hedge"])
def test_bad_input_exits_2_naming_the_field(pair: tuple[Path, Path], tmp_path: Path, case: str) -> None:
    x, y = pair
    if case == "date":
        _, other = write_pair(tmp_path, steps=10, date="2012-06-22")
        r = _run("backtest", "--data", str(x), "--data", str(other), "--strategy", "noop", "--quiet", "--no-plots",
                 "--out", str(tmp_path / "o"))
        want = "date 2012-06-22"
    elif case == "orderbook":
        r = _run("backtest", "--data", str(x), "--data", str(y), "--orderbook", str(x), "--strategy", "noop")
        want = "--orderbook"
    elif case == "hedge_instrument":
        r = _run("mm", "replay", "--data", str(x), "--data", str(y), "--param", "hedge_threshold=200",
                 "--param", "hedge_instrument=3", "--out", str(tmp_path / "o"))
        want = "hedge_instrument"
    else:
        r = _run("mm", "replay", "--data", str(x), "--param", "hedge_threshold=200", "--param", "hedge_instrument=2",
                 "--out", str(tmp_path / "o"))
        want = "hedge_instrument"
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert want in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
