"""An `up` SIGKILLed cannot remove its private run directory (it holds the session keys): the next
`up` of the same venue removes it (gateway/control/up.py stale_run_dirs), and nothing else."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gateway.control.up import stale_run_dirs


def _run_dir(tmp: Path, name: str, up_pid: int | None) -> Path:
    d = tmp / name
    d.mkdir(mode=0o700)
    (d / "gateway-credentials.json").write_text("{}")
    if up_pid is not None:
        (d / "processes.json").write_text(json.dumps({"pids": {}, "up_pid": up_pid}))
    return d


def test_only_a_dead_ups_directory_of_this_venue_is_stale(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = _run_dir(tmp_path, "venue-qa-abcd1234", dead.pid)
    _run_dir(tmp_path, "venue-qa-live0001", os.getppid())   # its up runs
    _run_dir(tmp_path, "venue-qa-nopids01", None)          # killed before it wrote its pids: left
    _run_dir(tmp_path, "venue-qa-x-abcd1234", dead.pid)    # venue "qa-x", not "qa"
    (tmp_path / "venue-qa-notadir1").write_text("")
    assert stale_run_dirs("qa", str(tmp_path)) == [stale]
    assert stale_run_dirs("qa-x", str(tmp_path)) == [tmp_path / "venue-qa-x-abcd1234"]
