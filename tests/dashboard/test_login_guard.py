"""The dashboard's login guard and its reporter, in process: the token checked against the config's
hash (the control API's formula), failures counted per browser address and per known user with the
control API's LogonLockout, a rotated token taking effect, and reports reaching a real ZeroMQ PULL
socket (the control plane's ingest) at a capped rate."""
from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
import zmq

from gateway.control.config import User
from gateway.dashboard.auth import LoginRefused
from gateway.dashboard.login_guard import LoginGuard
from gateway.dashboard.security_report import MAX_FAILURES_PER_S, SecurityReporter
from gateway.security.credentials import hash_token
from gateway.security.lockout import LogonLockout

TOKEN, NEW_TOKEN = "the-right-token-1", "the-rotated-token-2"


def _user(token: str) -> User:
    return User(name="ops", role="operator", token_hash=hash_token(token).encode())


def _refused(guard: LoginGuard, user: str, token: str, peer: str) -> tuple[int, str]:
    with pytest.raises(LoginRefused) as err:
        guard.check(user, token, peer)
    return err.value.status, err.value.code


def test_wrong_tokens_lock_the_address_and_the_known_user_out_and_are_reported() -> None:
    reports: list[tuple[str, str, str]] = []
    guard = LoginGuard([_user(TOKEN)], LogonLockout(3, 4, 60.0, 60.0), lambda *r: reports.append(r))
    guard.check("ops", TOKEN, "10.0.0.1")
    assert [_refused(guard, "ops", "wrong-token-xx", "10.0.0.1") for _ in range(3)] == [(401, "unauthenticated")] * 3
    assert _refused(guard, "ops", TOKEN, "10.0.0.1") == (429, "locked_out")        # unchecked
    assert _refused(guard, "ops", "wrong-token-xx", "10.0.0.2") == (401, "unauthenticated")  # 4th for the user
    assert _refused(guard, "ops", TOKEN, "10.0.0.3") == (429, "locked_out")        # the user, anywhere
    assert reports == [("login_failed", "ops", "10.0.0.1")] * 3 + [("source_locked_out", "", "10.0.0.1"),
                                                                    ("login_failed", "ops", "10.0.0.2"),
                                                                    ("user_locked_out", "ops", "10.0.0.2")]
    assert guard.refused_locked == 2


def test_an_unknown_user_counts_for_its_address_only_and_a_rotated_token_works_at_once() -> None:
    reports: list[tuple[str, str, str]] = []
    guard = LoginGuard([_user(TOKEN)], LogonLockout(0, 1, 60.0, 60.0), lambda *r: reports.append(r))
    for _ in range(3):       # per-user lockout at 1, but "nobody" is not a user: nothing locks
        assert _refused(guard, "nobody", TOKEN, "10.0.0.1") == (401, "unauthenticated")
    guard.set_users([_user(NEW_TOKEN)])
    guard.check("ops", NEW_TOKEN, "10.0.0.1")
    assert _refused(guard, "ops", TOKEN, "10.0.0.1") == (401, "unauthenticated")
    assert reports[-1] == ("user_locked_out", "ops", "10.0.0.1")


def test_without_a_lockout_policy_failures_are_still_reported() -> None:
    reports: list[tuple[str, str, str]] = []
    guard = LoginGuard([_user(TOKEN)], None, lambda *r: reports.append(r))
    for _ in range(4):
        assert _refused(guard, "ops", "wrong-token-xx", "10.0.0.1") == (401, "unauthenticated")
    assert reports == [("login_failed", "ops", "10.0.0.1")] * 4


def test_reports_reach_the_ingest_socket_at_a_capped_rate(tmp_path: Path) -> None:
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    try:
        endpoint = f"ipc://{tmp_path}/ingest"
        pull.bind(endpoint)
        endpoints = tmp_path / "control.json"
        endpoints.write_text(json.dumps({"command": "tcp://127.0.0.1:1", "ingest": endpoint}))
        rep = SecurityReporter(str(endpoints), ctx)
        for i in range(MAX_FAILURES_PER_S + 30):
            rep.report("login_failed", "ops", "10.0.0.1")
        rep.report("source_locked_out", "", "10.0.0.1")       # lockouts are never capped
        got = []
        while pull.poll(2000):
            topic, body = pull.recv_multipart()
            assert topic == b"security"
            got.append(msgspec.msgpack.decode(body))
            if got[-1]["kind"] == "source_locked_out":
                break
        failures = [g for g in got if g["kind"] == "login_failed"]
        assert MAX_FAILURES_PER_S <= len(failures) < MAX_FAILURES_PER_S + 30 and rep.suppressed > 0
        assert got[-1] == {"source": "dashboard", "kind": "source_locked_out", "user": "", "peer": "10.0.0.1"}
        assert rep.unsent == 0
        rep.close()
    finally:
        pull.close()
        ctx.term()


def test_without_an_ingest_a_report_is_counted_as_unsent(tmp_path: Path) -> None:
    for endpoints in (None, str(tmp_path / "absent.json")):
        rep = SecurityReporter(endpoints)
        rep.report("user_locked_out", "ops", "10.0.0.1")
        assert (rep.sent, rep.unsent) == (0, 1)
        rep.close()
