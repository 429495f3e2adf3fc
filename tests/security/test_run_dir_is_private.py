"""``python -m gateway up`` keeps the session keys in a private run directory: 0700, the keys file
0600, no session key in any process's arguments, and the directory gone once the venue stops (with
--run-dir given, the keys file is removed and the directory kept)."""
from __future__ import annotations

import json
import stat
import subprocess
import sys
import uuid
from pathlib import Path

from shm.engine_segments import remove_leftovers
from tests.control.cp_venue import SESSIONS, write_config
from gateway.launcher import stop, wait_for


def _up(tmp: Path, *extra: str) -> tuple[subprocess.Popen[str], dict[str, object], str]:
    name = f"rd{uuid.uuid4().hex[:8]}"
    cfg = write_config(tmp, name)
    ready_file = tmp / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "up", "--config", str(cfg), "--no-mlock",
                             "--ready-file", str(ready_file), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(ready_file.exists, "the venue's ready file", 60.0, watch={"up": proc})
    return proc, json.loads(ready_file.read_text()), name


def _check_private_while_up(proc: subprocess.Popen[str], ready: dict[str, object]) -> Path:
    run = Path(str(ready["run_dir"]))
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    creds = run / "gateway-credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    keys = [k for _, k in SESSIONS.values()]
    pids = [proc.pid, *dict(ready["pids"]).values()]    # type: ignore[call-overload]
    for pid in pids:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        assert not any(k in cmdline for k in keys), cmdline
    return run


def test_the_run_dir_is_private_and_removed_on_exit(tmp_path: Path) -> None:
    proc, ready, name = _up(tmp_path)
    try:
        run = _check_private_while_up(proc, ready)
    finally:
        stop(proc, 40)
        remove_leftovers(name)
    assert proc.returncode == 0
    assert not run.exists()


def test_a_given_run_dir_loses_its_keys_on_exit(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc, ready, name = _up(tmp_path, "--run-dir", str(run_dir))
    try:
        _check_private_while_up(proc, ready)
    finally:
        stop(proc, 40)
        remove_leftovers(name)
    assert run_dir.exists() and not (run_dir / "gateway-credentials.json").exists()
