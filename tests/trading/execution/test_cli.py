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
    (["--start", "10:00", "--minutes", "-5"], "must be after the start"),
    (["--start", "09:30", "--minutes", "5", "--param", "max_participation=2"], "between 0 and 1"),
    (["--start", "09:30", "--minutes", "5", "--param", "colour=red"], "no parameter"),
])
def test_replay_refuses_bad_arguments(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(sample(AAPL))
    assert main(["replay", "--data", data, "--algo", "TWAP", "--side", "buy", "--qty", "100", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


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
