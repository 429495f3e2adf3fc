"""``python -m trading mm``: the paper table, an offline quote, and bad arguments (exit 2, one line)."""
from __future__ import annotations

from pathlib import Path

import pytest

from trading.__main__ import main


def test_paper_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mm", "paper", "--paths", "100", "--gamma", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "published" in out and "62.94" in out


def test_quote(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mm", "quote", "--mid", "100", "--inventory", "200", "--param", "sigma=0.02",
                 "--param", "A=1", "--param", "k=20", "--param", "model=glft"]) == 0
    assert "bid" in capsys.readouterr().out


@pytest.mark.parametrize("argv, needle", [
    (["mm", "quote", "--mid", "100", "--param", "gamma=-1"], "gamma"),
    (["mm", "quote", "--mid", "100", "--param", "tick=0", "--param", "sigma=1", "--param", "A=1",
      "--param", "k=1"], "tick"),
    (["mm", "quote", "--mid", "100", "--param", "max_inventory=10"], "max_inventory"),
    (["mm", "quote", "--mid", "100"], "sigma/A/k"),
    (["mm", "quote", "--mid", "abc"], "--mid"),
    (["mm", "quote", "--mid", "100", "--param", "gamma"], "name=value"),
    (["mm", "paper", "--paths", "0"], "paths"),
    (["mm", "paper", "--gamma", "-0.5"], "gamma"),
    (["mm", "nonsense"], "invalid choice"),
    # qa4's sweep: NaN was a ValueError traceback, a negative mid printed negative quotes with exit 0
    (["mm", "quote", "--mid", "nan", "--param", "sigma=1", "--param", "A=1", "--param", "k=1"],
     "argument --mid: must be a finite number, got 'nan'"),
    (["mm", "quote", "--mid", "-100", "--param", "sigma=1", "--param", "A=1", "--param", "k=1"],
     "argument --mid: must be > 0, got '-100'"),
    (["mm", "quote", "--mid", "0", "--param", "sigma=1", "--param", "A=1", "--param", "k=1"], "argument --mid: must be > 0"),
    (["mm", "quote", "--mid", "100", "--t", "-1", "--param", "sigma=1", "--param", "A=1", "--param", "k=1"],
     "argument --t: must be >= 0"),
    (["mm", "quote", "--mid", "100", "--inventory", "100000000000000000000", "--param", "sigma=1", "--param", "A=1",
      "--param", "k=1"], "inventory=100000000000000000000: must be within +-max_inventory (1000)"),
    (["mm", "paper", "--seed", "-1"], "argument --seed: must be >= 0"),
    # qa6: OverflowError / ValueError tracebacks (floor of an infinite or NaN price in ticks)
    (["mm", "quote", "--mid", "1e308", "--param", "sigma=1", "--param", "A=1", "--param", "k=1"],
     "mid=1e+308: at most 9.0072e+13 (2^53 ticks of 0.01)"),
    (["mm", "quote", "--mid", "100", "--param", "sigma=1e200", "--param", "gamma=1e200", "--param", "A=1",
      "--param", "k=1"], "the quotes' distance from the mid is beyond any price"),
    (["mm", "replay", "--data", "/dev/null", "--out", "/dev/null"], "argument --out: '/dev/null' exists and is not a directory"),
    (["mm", "venues", "--data", "/dev/null", "--step-ms", "nan"], "argument --step-ms: must be a finite number"),
])
def test_bad_arguments_exit_2_with_one_line(argv: list[str], needle: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = int(exc.code or 0)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert needle in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv, needle", [
    (["mm", "replay", "--data", "/nonexistent/x_message_1.csv"], "--data"),
    (["mm", "replay", "--data", "/dev/null", "--param", "gamma=abc"], "gamma"),
    (["mm", "replay", "--data", "/dev/null", "--param", "nosuch=1"], "nosuch"),
])
def test_replay_bad_input_exit_2(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = int(exc.code or 0)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and needle in err and len(err.splitlines()) == 1, err


def test_a_quote_far_below_the_mid_sends_no_ask_at_a_price_under_one_tick(capsys: pytest.CaptureFixture[str]) -> None:
    """At the inventory limit with a huge volatility the reservation price is far below zero: the bid
    was already dropped there, the ask was printed at a negative price; now neither side is quoted."""
    assert main(["mm", "quote", "--mid", "100", "--inventory", "1000", "--param", "sigma=1000", "--param", "A=1",
                 "--param", "k=1"]) == 0
    out = capsys.readouterr().out
    assert "bid none" in out and "ask none" in out, out


def test_replay_without_a_hedge_prints_its_summary_and_writes_the_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The plain one-instrument replay (no hedge instrument, the default) prints its P&L summary
    and writes mm_report.json; before, the summary read rep["hedge"] (None without a hedge) as a
    dict and the command crashed with an AttributeError after the whole replay had run."""
    import json
    data = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    sample = data / "AAPL_2012-06-21_34200000_57600000_message_10_first999.csv"
    if not sample.exists():
        pytest.skip(f"LOBSTER sample data not found at {data}")
    argv = ["mm", "replay", "--data", str(sample), "--out", str(tmp_path), "--param", "A=2.0", "--param", "k=60.0",
            "--param", "sigma=0.05", "--param", "quote_size=100"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "parts add up exactly: True" in out and "(matches: True)" in out, out
    assert "hedge in instrument" not in out
    written = json.loads((tmp_path / "mm_report.json").read_text())["report"]
    assert written["hedge"] is None and written["pnl_parts_add_up"] is True
