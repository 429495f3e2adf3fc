"""``python -m trading route live`` takes its session key from --key-file or $VENUE_SESSION_KEY only:
a key on the command line shows in ps, so the old --key flag is refused with a message that says
where the key goes (issue #25). The key reaching a real venue is tested under `up --config` by
test_live_outage.py (--key-file) and test_live_dark_under_up.py (the environment)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trading.routing.cli import main

ROOT = Path(__file__).resolve().parents[3]
LIVE = ["live", "--config", "/nonexistent/multi.toml", "--symbol", "ACME", "--side", "buy", "--qty", "100",
        "--strategy", "cost_minimization", "--session", "101", "--firm", "1", "--account", "1"]


def test_a_key_on_the_command_line_is_refused_before_anything_runs() -> None:
    env = {k: v for k, v in os.environ.items() if k != "VENUE_SESSION_KEY"}
    r = subprocess.run([sys.executable, "-m", "trading", "route", *LIVE, "--key", "alpha-key-101"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert r.returncode == 2, r.stderr
    assert "--key is refused" in r.stderr and "--key-file FILE" in r.stderr and "$VENUE_SESSION_KEY" in r.stderr
    assert r.stderr.count("\n") == 1 and "alpha-key-101" not in r.stderr
    # refused before the config is read: the missing config file is not what it reports
    assert "nonexistent" not in r.stderr


def test_no_key_anywhere_is_a_one_line_refusal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("VENUE_SESSION_KEY", raising=False)
    assert main(LIVE) == 2
    err = capsys.readouterr().err
    assert "no session key" in err and "VENUE_SESSION_KEY" in err and err.count("\n") == 1


def test_an_unreadable_key_file_is_a_one_line_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*LIVE, "--key-file", str(tmp_path / "absent.key")]) == 2
    err = capsys.readouterr().err
    assert "absent.key" in err and err.count("\n") == 1


@pytest.mark.parametrize("source", ["file", "environment"])
def test_a_key_from_a_file_or_the_environment_passes_on_to_the_venues(
        source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("VENUE_SESSION_KEY", raising=False)
    argv = list(LIVE)
    if source == "file":
        key_file = tmp_path / "session.key"
        key_file.write_text("alpha-key-101\n")
        argv += ["--key-file", str(key_file)]
    else:
        monkeypatch.setenv("VENUE_SESSION_KEY", "alpha-key-101")
    assert main(argv) == 2
    err = capsys.readouterr().err
    # the key was accepted; the next step, reading the (absent) multi-venue file, is what stops it
    assert "nonexistent/multi.toml" in err and "key" not in err.lower()
