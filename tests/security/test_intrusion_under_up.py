"""Intrusion detection and hashed session keys under ``up`` (engine, gateway, control plane as
processes): the gateway's detections become hash-chained audit records and alerts on the control
plane, a detector whose action is "kill" engages the kill switch of the session's firm's accounts,
editing the venue config rotates a session key with no restart, and no process that ``up`` starts
carries a key in its arguments nor does the run directory hold the hashed session's key."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from gateway import launcher
from gateway.client import Client, SessionKey, SessionRejected
from gateway.reasons import Reason
from gateway.security.session_keys import hash_session_key

from tests.control.cp_venue import OPERATOR, START_DEADLINE_S, CpVenue, write_config
from tests.gateway.gw_venue import wait_for

ROOT = Path(__file__).resolve().parents[2]
KEY_101 = "up-alpha-secret-101"
NEW_KEY_101 = "up-alpha-rotated-101"
SECURITY = """
[security.logon]
max_failures_per_source = 3
max_failures_per_session = 50
lockout_ms = 60000

[security.detectors.order_velocity]
limit = 30
window_ms = 1000
action = "kill"
"""


def _hashed(text: str, key: str) -> str:
    return text.replace('key = "key-101"', f'key_hash = "{hash_session_key(key, 101)}"')


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[tuple[CpVenue, Path]]:
    with launcher.Venue(prefix="sx", log_dir=tmp_path, stop_deadline_s=40) as procs:
        cfg = write_config(tmp_path, procs.name, extra_users=SECURITY)
        cfg.write_text(_hashed(cfg.read_text(), KEY_101))
        ready = procs.start_up(cfg, tmp_path / "run", tmp_path / "ready.json", deadline_s=START_DEADLINE_S)
        host, _, port = ready["gateway"].rpartition(":")
        yield CpVenue(ready, procs.procs["up"], tmp_path / "audit.jsonl", host, int(port),
                      tmp_path / "up.log"), cfg


def _attack(v: CpVenue, *args: str, key: str) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-m", "tests.security.attacker", *args, "--port", str(v.gateway_port)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env={**os.environ, "VENUE_SESSION_KEY": key})
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def _children_cmdlines(pid: int) -> list[str]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if int(stat[1]) == pid:
            out.append(cmd)
    return out


def _logon(v: CpVenue, key: str, next_seq: int = 1) -> Client:
    return Client.connect(v.gateway_host, v.gateway_port, 101, 1, SessionKey(key, 101), keepalive_ms=30_000,
                          next_seq_no=next_seq)


def test_no_key_in_process_arguments_or_the_run_directory(venue: tuple[CpVenue, Path], tmp_path: Path) -> None:
    v, _ = venue
    children = _children_cmdlines(v.proc.pid)
    assert {"engine", "gateway", "control"} <= {c.split()[3] for c in children if len(c.split()) > 3}, children
    for cmd in children:
        for secret in (KEY_101, "key-201", "operator-token-1", "viewer-token-1"):
            assert secret not in cmd, (secret, cmd)
    run = tmp_path / "run"
    assert oct(run.stat().st_mode & 0o777) == "0o700"
    for f in run.rglob("*"):
        if f.is_file():
            assert KEY_101.encode() not in f.read_bytes(), f
    c = _logon(v, KEY_101)
    c.terminate()


def test_detections_are_audited_alerted_and_a_kill_rule_engages_the_kill_switch(
        venue: tuple[CpVenue, Path]) -> None:
    v, _ = venue
    guess = _attack(v, "guess", "--session", "101", "--firm", "1", "--hashed", "--source", "127.0.0.3",
                    "--n", "4", key="unused")
    assert guess["reasons"][-1] == "ENG_GW_LOGON_LOCKED_OUT", guess
    flood = _attack(v, "flood", "--session", "101", "--firm", "1", "--hashed", "--account", "1",
                    "--price", "10100", "--n", "200", "--read-s", "5", key=KEY_101)
    assert flood.get("terminate_ENG_GW_SECURITY_DISCONNECT") == 1, flood
    with v.control() as ctl:
        wait_for(lambda: {1, 2} <= set(ctl.call("status")["kill_switches"]), "the kill switches of firm 1")
        alerts = ctl.call("alerts")
    kinds = [a for a in alerts if a["kind"] == "intrusion"]
    assert any(a["detection"] == "source_locked_out" and a["peer"].startswith("127.0.0.3:") for a in kinds), alerts
    assert any(a["detection"] == "order_velocity" and a["level"] == "breach" and a["session_id"] == 101
               for a in kinds), alerts
    audit = v.audit()
    intrusions = [r for r in audit if r["command"] == "intrusion"]
    assert {r["args"]["kind"] for r in intrusions} >= {"source_locked_out", "order_velocity"}, intrusions
    kills = [r for r in audit if r["command"] == "killswitch" and r["outcome"] == "accepted"]
    assert {r["args"]["account"] for r in kills} >= {1, 2}
    r = subprocess.run([sys.executable, "-m", "gateway", "audit", "verify", str(v.audit_path)],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_editing_the_venue_config_rotates_a_session_key_without_a_restart(venue: tuple[CpVenue, Path]) -> None:
    v, cfg = venue
    c = _logon(v, KEY_101)
    c.terminate()
    tmp = cfg.with_suffix(".new")
    tmp.write_text(cfg.read_text().replace(f'key_hash = "{hash_session_key(KEY_101, 101)}"',
                                           f'key_hash = "{hash_session_key(NEW_KEY_101, 101)}"'))
    os.replace(tmp, cfg)
    # (not by trying logons until one works: failed ones count toward this config's lockout of 3)
    wait_for(lambda: "session 101: rotated key installed" in v.output(), "the rotated key installed",
             deadline_s=20)
    _logon(v, NEW_KEY_101).terminate()
    with pytest.raises(SessionRejected) as err:
        _logon(v, KEY_101)
    assert err.value.reason_code == Reason.ENG_GW_BAD_CREDENTIALS
    with v.control(OPERATOR) as ctl:
        assert ctl.call("status")["engine"]["alive"]


_API_GUESSER = """
import json, sys
from gateway.control.client import ControlClient, ControlError
endpoint, n = sys.argv[1], int(sys.argv[2])
out = []
for i in range(n):
    try:
        with ControlClient(endpoint, "ops", f"wrong-token-{i:04d}", timeout_s=10) as c:
            c.call("status")
        out.append("accepted")
    except ControlError as exc:
        out.append(exc.message)
print(json.dumps(out))
"""


def test_control_api_guessing_locks_the_source_out_and_the_operator_works_elsewhere(
        venue: tuple[CpVenue, Path]) -> None:
    v, _ = venue
    host_port = v.ready["command"].split("://", 1)[1]
    r = subprocess.run([sys.executable, "-c", _API_GUESSER, f"tcp://127.0.0.4:0;{host_port}", "5"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got[:3] == ["unknown user or wrong credentials"] * 3, got
    assert got[3:] == ["locked out (source) after repeated failed logons"] * 2, got
    with v.control(OPERATOR) as ctl:            # from 127.0.0.1: the operator is not locked out
        assert ctl.call("status")["engine"]["alive"]
        alerts = ctl.call("alerts")
    assert any(a.get("detection") == "source_locked_out" and a.get("peer") == "127.0.0.4" for a in alerts), alerts
    intrusions = [r for r in v.audit() if r["command"] == "intrusion" and r["args"]["kind"] == "source_locked_out"]
    assert [r["args"]["peer"] for r in intrusions] == ["127.0.0.4"], intrusions
