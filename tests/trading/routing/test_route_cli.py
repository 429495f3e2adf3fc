"""``python -m trading route``: flow, show, rerun on the GOOG day, and one-line refusals."""
from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tests.trading.replay.conftest import GOOG, sample
from trading.routing.cli import main
from trading.routing.plan import ExecutionReport


def test_flow_stores_plans_that_show_and_rerun_to_the_same_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(sample(GOOG))
    assert main(["flow", "--data", data, "--strategy", "implementation_shortfall", "--parents", "2",
                 "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "implementation_shortfall: 2 parents" in out and "bps" in out
    reports = [msgspec.json.decode(line, type=ExecutionReport)
               for line in (tmp_path / "reports.jsonl").read_bytes().splitlines()]
    assert [r.parent.parent_id for r in reports] == ["F1", "F2"]
    plan = tmp_path / "plans" / "F1.json"
    assert main(["show", str(plan)]) == 0
    assert "plan F1/implementation_shortfall/1" in capsys.readouterr().out
    assert main(["rerun", str(plan), "--data", data]) == 0
    assert capsys.readouterr().out == reports[0].describe() + "\n"


@pytest.mark.parametrize("argv, message", [
    (["flow", "--data", "/nonexistent.csv", "--strategy", "dark_first"], "no such file"),
    (["flow", "--data", "x.csv", "--strategy", "dark_first", "--config", "a.toml"], "--config and --symbol go together"),
    (["flow", "--data", "x.csv", "--strategy", "dark_first", "--parents", "0"], "--parents must be > 0"),
    (["flow", "--data", "x.csv", "--strategy", "dark_first", "--min-qty", "500", "--max-qty", "100"],
     "need 100 <= min <= max"),          # was a ValueError traceback once the day was loaded
    (["flow", "--data", "x.csv", "--strategy", "dark_first", "--min-qty", "1"], "need 100 <= min <= max"),
])
def test_bad_arguments_are_one_line_refusals(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_show_refuses_a_file_that_is_not_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"plan_id": 3}')
    assert main(["show", str(bad)]) == 2
    assert "not a routing plan" in capsys.readouterr().err


def test_an_out_under_a_file_is_refused_before_the_flow_runs(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """It used to run the whole flow, then fail on mkdir ('[Errno 20] Not a directory')."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(SystemExit) as exc:
        main(["flow", "--data", "x.csv", "--strategy", "dark_first", "--out", str(afile)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --out" in err and "exists and is not a directory" in err   # one line under python -m


@pytest.mark.parametrize("extra, message", [
    (["--horizon-s", "nan"], "--horizon-s must be in (0, 86400] seconds, got nan"),   # ValueError traceback
    (["--timeout-s", "-1"], "--timeout-s must be in (0, 3600] seconds, got -1.0"),    # went on to connect
    (["--next-seq-no", "0"], "--next-seq-no must be >= 1"),
    (["--qty", str(1 << 63)], "above the engine's largest quantity"),
])
def test_live_refuses_bad_numbers_before_reading_the_config(extra: list[str], message: str,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """No deployment runs here, and the config does not exist: the numbers are what is reported."""
    monkeypatch.setenv("VENUE_SESSION_KEY", "k")
    argv = ["live", "--config", "/nonexistent/multi.toml", "--symbol", "ACME", "--side", "buy", "--qty", "100",
            "--strategy", "cost_minimization", "--session", "101", "--firm", "1", "--account", "1", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_a_negative_seed_is_refused_at_parse_time(capsys: pytest.CaptureFixture[str]) -> None:
    """numpy refused it ('expected non-negative integer') once the day was loaded."""
    with pytest.raises(SystemExit) as exc:
        main(["flow", "--data", "x.csv", "--strategy", "dark_first", "--split-seed", "-3"])
    assert exc.value.code == 2 and "argument --split-seed: must be >= 0, got -3" in capsys.readouterr().err
