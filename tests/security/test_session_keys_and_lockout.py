"""Hashed order-entry session keys and failed-logon lockout, against the real gateway process:

- a session whose config holds only its key's scrypt hash logs on with a per-logon proof; the key
  itself, a wrong key and a proof made for another session are refused, and a captured Negotiate
  sent again is refused as replayed;
- password guessing from a second process on another source address locks that source out
  (ENG_GW_LOGON_LOCKED_OUT, unchecked) while the good user logs on from its own address; guesses
  spread over many sources lock the session itself out, until the lockout ends;
- a changed key hash in the credentials file is installed without a restart: the old key stops
  working and the new one works, on the same gateway process;
- each lockout and replay is an event the admin endpoint hands out (the control plane audits and
  alerts on them: tests/security/test_intrusion_under_up.py).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from gateway.client import Client, ExecType, ExecutionReport, SessionKey, SessionRejected, Side
from gateway.client.session import SessionCore
from gateway.orderentry.admin import GatewayAdmin
from gateway.orderentry.config import ConfigError, parse_config
from gateway.orderentry.sbe_codec import Decoder, NegotiationReject, NegotiationResponse
from gateway.reasons import Reason
from gateway.security.session_keys import hash_session_key

from tests.gateway.gw_venue import CONFIG, Venue, start_venue, wait_for

ROOT = Path(__file__).resolve().parents[2]
KEY_101 = "alpha-secret-key-101"
NEW_KEY_101 = "alpha-rotated-key-101"
LOGON = {"max_failures_per_source": 5, "max_failures_per_session": 12, "window_ms": 60_000,
         "lockout_ms": 3_000}


def _config(key_101: str = KEY_101) -> dict[str, Any]:
    cfg = json.loads(json.dumps(CONFIG))
    cfg["sessions"][0] = {"session_id": 101, "firm_id": 1, "key_hash": hash_session_key(key_101, 101)}
    cfg["security"] = {"logon": LOGON}
    return cfg


@pytest.fixture
def hashed_venue(tmp_path: Path) -> Iterator[tuple[Venue, Path, Path]]:
    admin_file = tmp_path / "admin"
    for v in start_venue(tmp_path, ["--admin", "tcp://127.0.0.1:*", "--admin-file", str(admin_file)],
                         config=_config()):
        yield v, tmp_path / "gateway.json", admin_file


_NEXT_SEQ: dict[int, int] = {}


def _logon(v: Venue, key: str | bytes | SessionKey, source: str | None = None) -> Client:
    """Session 101, going on from the seqNum it last used on this gateway (idempotent flow)."""
    return Client.connect("127.0.0.1", v.port, 101, 1, key, keepalive_ms=30_000, source_host=source,
                          next_seq_no=_NEXT_SEQ.get(v.port, 1))


def _refused(v: Venue, key: str | bytes | SessionKey, source: str | None = None) -> str:
    with pytest.raises(SessionRejected) as err:
        _logon(v, key, source).close()
    return Reason(err.value.reason_code).name


def _trades(c: Client, price: int) -> None:
    c.new_order(1, Side.SELL, 1, 1, price=price)
    r = c.recv()
    assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW, r
    _NEXT_SEQ[c.sock.getpeername()[1]] = c.core.next_seq_out


def _attack(v: Venue, *args: str, key: str | None = None) -> dict[str, Any]:
    env = {**os.environ, "VENUE_SESSION_KEY": key or "unused-by-guessing"}
    r = subprocess.run([sys.executable, "-m", "tests.security.attacker", *args, "--port", str(v.port)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def test_the_config_holds_a_hash_and_the_logon_a_proof(hashed_venue: tuple[Venue, Path, Path]) -> None:
    v, cfg_path, _ = hashed_venue
    assert KEY_101 not in cfg_path.read_text()
    c = _logon(v, SessionKey(KEY_101, 101))
    _trades(c, 10700)
    c.terminate()
    assert _refused(v, KEY_101) == "ENG_GW_BAD_CREDENTIALS"                     # the key itself
    assert _refused(v, SessionKey("not-the-key-at-all", 101)) == "ENG_GW_BAD_CREDENTIALS"
    other = SessionKey(KEY_101, 102)        # the right key, salted and bound for another session
    other.session_id = 101
    assert _refused(v, other) == "ENG_GW_BAD_CREDENTIALS"


def _negotiate_raw(port: int, frame: bytes) -> object:
    """The gateway's answer to one raw Negotiate frame on a fresh connection (then closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(frame)
        dec, buf = Decoder(), b""
        while dec.peek(buf) is None:
            chunk = s.recv(4096)
            assert chunk, "the gateway closed without answering"
            buf += chunk
        return dec.decode(buf)


def test_a_captured_logon_is_refused_as_replayed(hashed_venue: tuple[Venue, Path, Path]) -> None:
    v, _, _ = hashed_venue
    core = SessionCore(101, 1, SessionKey(KEY_101, 101), 30_000)
    captured = core.negotiate()
    first = _negotiate_raw(v.port, captured)
    assert isinstance(first, NegotiationResponse), first
    again = _negotiate_raw(v.port, captured)
    assert isinstance(again, NegotiationReject), again
    assert again.reason_code == Reason.ENG_GW_CREDENTIALS_REPLAYED


def test_guessing_locks_the_source_out_and_the_good_user_logs_on_elsewhere(
        hashed_venue: tuple[Venue, Path, Path]) -> None:
    v, _, admin_file = hashed_venue
    good = _logon(v, SessionKey(KEY_101, 101))              # from 127.0.0.1, trading throughout
    _trades(good, 10700)
    got = _attack(v, "guess", "--session", "101", "--firm", "1", "--hashed", "--source", "127.0.0.2",
                  "--n", "8")
    assert got["reasons"] == ["ENG_GW_BAD_CREDENTIALS"] * 5 + ["ENG_GW_LOGON_LOCKED_OUT"] * 3, got
    # locked out means unchecked: even the right key from that source is refused
    assert _refused(v, SessionKey(KEY_101, 101), "127.0.0.2") == "ENG_GW_LOGON_LOCKED_OUT"
    _trades(good, 10701)
    good.terminate()
    again = _logon(v, SessionKey(KEY_101, 101), "127.0.0.1")
    _trades(again, 10702)
    again.terminate()
    with GatewayAdmin(admin_file.read_text(), timeout_s=10) as adm:
        events = adm.security_events(0)["events"]
    locked = [e for e in events if e["kind"] == "source_locked_out"]
    assert len(locked) == 1 and locked[0]["peer"].startswith("127.0.0.2:") and locked[0]["count"] == 5


def test_guessing_from_many_sources_locks_the_session_until_the_lockout_ends(
        hashed_venue: tuple[Venue, Path, Path]) -> None:
    v, _, admin_file = hashed_venue
    for i in range(3):                      # 4 each: under the per-source limit, 12 for the session
        got = _attack(v, "guess", "--session", "101", "--firm", "1", "--hashed", "--source", f"127.0.1.{i + 1}",
                      "--n", "4")
        assert set(got["reasons"]) == {"ENG_GW_BAD_CREDENTIALS"}, got
    assert _refused(v, SessionKey(KEY_101, 101)) == "ENG_GW_LOGON_LOCKED_OUT"
    c = wait_for(lambda: _try_logon(v), "the session's lockout to end", deadline_s=15)
    _trades(c, 10703)
    c.terminate()
    with GatewayAdmin(admin_file.read_text(), timeout_s=10) as adm:
        kinds = [e["kind"] for e in adm.security_events(0)["events"]]
    assert kinds.count("session_locked_out") == 1 and "source_locked_out" not in kinds


def _try_logon(v: Venue) -> Client | None:
    try:
        return _logon(v, SessionKey(KEY_101, 101))
    except SessionRejected:
        return None


def test_a_rotated_key_takes_effect_without_a_restart(hashed_venue: tuple[Venue, Path, Path]) -> None:
    v, cfg_path, _ = hashed_venue
    pid = v.gateway.pid
    tmp = cfg_path.with_suffix(".new")
    tmp.write_text(json.dumps(_config(NEW_KEY_101)))
    os.replace(tmp, cfg_path)
    c = wait_for(lambda: _try_new(v), "the rotated key to be installed", deadline_s=15)
    _trades(c, 10704)
    c.terminate()
    assert _refused(v, SessionKey(KEY_101, 101)) == "ENG_GW_BAD_CREDENTIALS"
    assert v.gateway.pid == pid and v.alive()


def _try_new(v: Venue) -> Client | None:
    try:
        return _logon(v, SessionKey(NEW_KEY_101, 101))
    except SessionRejected:
        return None


def test_bad_key_configuration_is_refused_with_its_field() -> None:
    cfg = _config()
    cfg["sessions"][0]["key"] = "both"
    with pytest.raises(ConfigError, match=r"sessions\[0\].key: give key or key_hash"):
        parse_config(cfg)
    cfg = _config()
    cfg["sessions"][0]["key_hash"] = hash_session_key(KEY_101, 999)
    with pytest.raises(ConfigError, match="not made for session 101"):
        parse_config(cfg)
    cfg = _config()
    cfg["sessions"][0]["key_hash"] = "scrypt$nonsense"
    with pytest.raises(ConfigError, match="key_hash"):
        parse_config(cfg)
    cfg = _config()
    cfg["security"] = {"logon": {"window_ms": 0}}
    with pytest.raises(ConfigError, match="security.logon.window_ms"):
        parse_config(cfg)
    cfg = _config()
    cfg["security"] = {"detectors": {"order_velocity": {"limit": 5, "action": "explode"}}}
    with pytest.raises(ConfigError):
        parse_config(cfg)


def test_hash_session_key_reads_the_key_from_a_file_never_the_command_line(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY_101 + "\n")
    r = subprocess.run([sys.executable, "-m", "gateway", "keys", "hash-session-key", "--session", "101",
                        "--key-file", str(key_file)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    assert line.startswith('key_hash = "scrypt$')
    cfg = _config()
    cfg["sessions"][0]["key_hash"] = line.split('"')[1]
    parse_config(cfg)
    r = subprocess.run([sys.executable, "-m", "gateway", "keys", "hash-session-key", "--session", "101"],
                       input="short\n", capture_output=True, text=True, timeout=60, cwd=ROOT,
                       env={k: v for k, v in os.environ.items() if k != "VENUE_SESSION_KEY"})
    assert r.returncode == 2 and "at least 12 characters" in r.stderr
