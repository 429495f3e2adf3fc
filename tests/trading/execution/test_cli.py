"""``python -m trading execution profile / replay`` on the AAPL sample: a stored profile a VWAP
parent then follows, a parent replayed through the engine, and bad arguments refused with one line
and exit status 2 (nothing replayed). Skips without ../shared/data. ``execution routed``'s bad input
is refused the same way, before any session is opened."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.trading.replay.conftest import AAPL, sample
from trading.execution.cli import main


def test_profile_then_vwap_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(sample(AAPL))
    out = tmp_path / "profile.json"
    assert main(["profile", "--data", data, "--out", str(out), "--bucket-s", "60"]) == 0
    doc = json.loads(out.read_text())
    assert doc["bucket_s"] == 60.0 and sum(doc["volumes"]) > 0
    assert main(["replay", "--data", data, "--algo", "VWAP", "--side", "buy", "--qty", "300", "--start", "09:30",
                 "--minutes", "2", "--param", f"profile={out}", "--param", "max_participation=0.5",
                 "--param", "slice_s=10"]) == 0
    text = capsys.readouterr().out
    filled = int(next(line.split()[1] for line in text.splitlines() if line.strip().startswith("filled")))
    assert 0 < filled <= 300 and "shortfall_bps" in text


@pytest.mark.parametrize("args, words", [
    (["--start", "9h30", "--minutes", "5"], "HH:MM"),
    (["--start", "10:00", "--minutes", "-5"], "--minutes must be a finite number > 0, got -5.0"),
    (["--start", "09:30", "--minutes", "5", "--param", "max_participation=2"], "between 0 and 1"),
    (["--start", "09:30", "--minutes", "5", "--param", "colour=red"], "no parameter"),
    (["--start", "09:30", "--minutes", "nan"], "--minutes must be a finite number > 0, got nan"),
    (["--start", "09:30", "--minutes", "inf"], "--minutes must be a finite number > 0, got inf"),
])
def test_replay_refuses_bad_arguments(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(sample(AAPL))
    assert main(["replay", "--data", data, "--algo", "TWAP", "--side", "buy", "--qty", "100", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_replay_refuses_a_quantity_the_engine_cannot_hold(capsys: pytest.CaptureFixture[str]) -> None:
    """A parent above int64 used to run to the end with no child and no error (filled 0)."""
    data = str(sample(AAPL))
    assert main(["replay", "--data", data, "--algo", "TWAP", "--side", "buy", "--qty", str(1 << 63),
                 "--start", "09:30", "--minutes", "5"]) == 2
    err = capsys.readouterr().err
    assert "above the engine's largest quantity" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, words, rc", [
    (["paper", "--lambda", "inf"], "--lambda must be a finite number >= 0, got inf", 2),
    (["paper", "--lambda", "nan"], "--lambda must be a finite number >= 0, got nan", 2),
    (["paper", "--png", "DIR"], "is a directory, not a file", 2),
    (["paper", "--png", "FILE/x.png"], "is not a directory", 2),
    (["profile", "--data", "none.csv", "--out", "DIR"], "is a directory, not a file", 2),
    (["profile", "--data", "none.csv", "--out", "FILE/p.json"], "is not a directory", 2),
])
def test_paper_and_profile_refuse_bad_outputs_and_lambdas(args: list[str], words: str, rc: int, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Before the fix: --lambda inf printed overflow warnings and a holdings table of zeros (exit 0),
    an output under a file or a directory for --png/--out was a traceback, or (--png DIR) wrote
    DIR.png while printing DIR."""
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "DIR").mkdir()
    argv = [str(tmp_path / a) if a.startswith(("DIR", "FILE", "none")) else a for a in args]
    try:
        got = main(argv)
    except SystemExit as exc:       # argparse's type check
        got = int(exc.code or 0)
    err = capsys.readouterr().err
    assert got == rc and words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "DIR.png").exists()


def test_paper_with_lambda_zero_is_the_straight_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """lambda = 0 (risk neutral) is the straight line; the half-life line divided by kappa = 0."""
    assert main(["paper", "--lambda", "0", "--png", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    assert "half-life 1/kappa = infinite: the straight line" in out and (tmp_path / "f.png").exists()
    optimal = [ln.split()[1] for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    twap = [ln.split()[2] for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    assert optimal == twap and len(optimal) == 6


def test_profile_refuses_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "--data", str(tmp_path / "none.csv"), "--out", str(tmp_path / "p.json")]) == 2
    assert "execution profile:" in capsys.readouterr().err


@pytest.mark.parametrize("env, args, words", [
    ({}, [], "session key is not in that environment variable"),
    ({"VENUE_ROUTE_KEY": "k"}, ["--symbol", "NOPE"], "not an instrument"),
    ({"VENUE_ROUTE_KEY": "k"}, ["--param", "qty=0"], "qty"),
    ({"VENUE_ROUTE_KEY": "k"}, ["--param", "max_participation=1.5"], "between 0 and 1"),
    ({"VENUE_ROUTE_KEY": "k"}, ["--param", "colour=red"], "colour"),
])
def test_routed_refuses_bad_input_before_connecting(env: dict[str, str], args: list[str], words: str,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``execution routed`` (a parent across a multi-venue deployment): bad input is one line on
    stderr and exit 2, before any session is opened (no deployment runs here: a connection attempt
    would fail differently)."""
    monkeypatch.delenv("VENUE_ROUTE_KEY", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    symbol = "NOPE" if "NOPE" in args else "ACME"
    extra = [a for a in args if a not in ("--symbol", "NOPE")]      # later --param values win
    argv = ["routed", "--config", str(Path(__file__).resolve().parents[3] / "gateway/venues/multi_venue.toml"),
            "--symbol", symbol, "--account", "1", "--session", "101", "--firm", "1",
            "--param", "algo=TWAP", "--param", "qty=100", "--param", "duration_s=10", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


def test_replay_refuses_a_negative_seed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["replay", "--data", "x.csv", "--algo", "TWAP", "--side", "buy", "--qty", "100", "--start", "09:30",
              "--minutes", "1", "--seed", "-1"])
    assert exc.value.code == 2 and "argument --seed: must be >= 0, got -1" in capsys.readouterr().err


@pytest.mark.parametrize("verb, value, words", [
    ("impact", "1e308", "argument --bucket-s: must be at most the session, 23400 s, got '1e308'"),
    ("impact", "0", "argument --bucket-s: must be > 0"),
    ("profile", "nan", "argument --bucket-s: must be a finite number"),
    ("expected-cost", "-1", "argument --bucket-s: must be > 0"),
])
def test_a_bucket_length_is_a_finite_positive_part_of_the_session(verb: str, value: str, words: str,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """qa4's sweep: --bucket-s 1e308 printed numpy warnings before its error."""
    need = {"impact": ["--data", "x.csv"], "profile": ["--data", "x.csv", "--out", str(tmp_path / "p.json")],
            "expected-cost": ["--journal", str(tmp_path)]}[verb]
    with pytest.raises(SystemExit) as exit_:
        main([verb, *need, "--bucket-s", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and words in err and len(err.strip().splitlines()) == 1, err


def test_impact_on_too_short_a_day_says_so_without_numpy_warnings(capfd: pytest.CaptureFixture[str]) -> None:
    """The AAPL sample spans seconds: a session-long bucket leaves under three buckets to fit, refused
    before sigma's std divided by zero (a RuntimeWarning on stderr before the one-line error)."""
    assert main(["impact", "--data", str(sample(AAPL)), "--bucket-s", "23400"]) == 2
    err = capfd.readouterr().err
    assert err.strip() == "execution impact: impact estimate: too few buckets with trading to fit", err
