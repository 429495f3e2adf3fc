"""A real, read-only audit of the machine the suite runs on: it must not fail, whatever it
finds, and every finding carries one of the four verdicts with a reason when not ok."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tuning import startup_warnings
from tuning.profile import available_profiles
from tuning.runner import Tuner
from tuning.setting import Status

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("profile", ["latency-performance", "network-latency", "venue"])
def test_audit_of_this_host_gives_a_verdict_for_every_setting(profile: str) -> None:
    findings = Tuner(profile).audit()
    assert findings
    for f in findings:
        assert f.status in set(Status)
        if f.status != Status.OK:
            assert f.reason, f


def test_cli_audit_json_runs_on_this_host() -> None:
    done = subprocess.run([sys.executable, "-m", "tuning", "audit", "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {r["status"] for r in rows} <= {"ok", "differs", "cannot read", "not applicable here"}


def test_cli_profiles_lists_every_profile_with_its_chain() -> None:
    done = subprocess.run([sys.executable, "-m", "tuning", "profiles"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for name in available_profiles():
        assert name in done.stdout
    assert "latency-performance <- network-latency <- cpu-partitioning <- venue" in done.stdout


def test_startup_warnings_on_this_host_are_lines_and_never_raise() -> None:
    lines = startup_warnings([1])
    assert all(isinstance(line, str) and "\n" not in line for line in lines)
    offline = startup_warnings([4096])
    assert len(offline) == 1 and "not online" in offline[0]
