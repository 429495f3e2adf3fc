"""`python -m trading analyze`: summary and plots on a LOBSTER day, --estimator and --json, and one
line with exit 2 for bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trading.analytics.cli import main

from .conftest import AAPL, DATA


def _need_data() -> Path:
    path = DATA / AAPL[0]
    if not path.exists():
        pytest.skip(f"LOBSTER sample data not found at {DATA} (a clone without ../shared/data)")
    return path


def test_summary_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    msg = _need_data()
    rc = main(["--data", str(msg), "--out", str(tmp_path), "--bar-seconds", "1", "--warmup-bars", "10",
               "--vpin-window", "5"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "999 events" in out and "effective_spread_bps" in out and "kyle_lambda" in out
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert [n.split("_")[-1] for n in pngs] == ["markouts.png", "ofi.png", "regime.png", "vpin.png"]


def test_estimator_selection_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    msg = _need_data()
    rc = main(["--data", str(msg), "--no-plots", "--json", "--estimator", "vpin", "--estimator", "roll",
               "--bar-seconds", "1", "--warmup-bars", "10", "--vpin-window", "5"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    (summary,) = doc.values()
    assert set(summary) == {"vpin_buckets", "vpin_last", "vpin_cdf_last", "vpin_max", "vpin_alerts", "roll_spread"}
    assert not list(tmp_path.iterdir())


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def err(args: list[str]) -> str:
        assert main(args) == 2
        text = capsys.readouterr().err
        assert len(text.strip().splitlines()) == 1, text
        return text

    assert "no such file" in err(["--data", str(tmp_path / "nope_message_1.csv")])
    assert "no LOBSTER" in err(["--data", str(tmp_path)])
    bad = tmp_path / "X_message_1.csv"
    bad.write_text("hello,world\n")
    assert "orderbook file" in err(["--data", str(bad)])
    (tmp_path / "X_orderbook_1.csv").write_text("1,2,3,4\n")
    assert "X_message_1.csv" in err(["--data", str(bad)])
    other = tmp_path / "notes.txt"
    other.write_text("x")
    assert "not a LOBSTER message file" in err(["--data", str(other)])
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    assert "no LOBSTER" in err(["--data", str(empty_dir)])
    for args in (["--data", str(bad), "--estimator", "nonsense"], [], ["--data", "x", "--bar-seconds", "abc"]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_an_unwritable_out_is_refused_before_the_day_is_read(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """--out naming a file, or a folder under a file: one line, exit 2, before any work (it used to
    be a FileExistsError traceback once the estimators had run); with --no-plots --out is unused."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, words in ((afile, "exists and is not a directory"), (afile / "sub", "is not a directory"),
                       ("", "an empty path")):
        with pytest.raises(SystemExit) as exc:
            main(["--data", str(tmp_path / "missing_message_1.csv"), "--out", str(out)])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert words in err and "--out" in err and len(err.strip().splitlines()) == 1, err
    assert main(["--data", str(tmp_path / "missing_message_1.csv"), "--out", str(afile), "--no-plots"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_bad_bucket_count(capsys: pytest.CaptureFixture[str]) -> None:
    msg = _need_data()
    assert main(["--data", str(msg), "--buckets-per-day", "0", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "buckets_per_day" in err and len(err.strip().splitlines()) == 1


def test_verb_runs_as_a_module(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "trading", "analyze", "--data", str(tmp_path / "missing_message_1.csv")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("trading analyze:")
    r = subprocess.run([sys.executable, "-m", "trading", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "analyze" in r.stdout and "monitor" in r.stdout
