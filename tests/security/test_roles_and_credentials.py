"""Roles, credentials and replay against the real control plane (``python -m gateway up``):
every role against every API verb (a role can run exactly what its row of
gateway/security/roles.py allows; a trader only for its own firm's accounts); a captured request
cannot be replayed, an old one is refused, a forged one is unauthenticated; rotating a user's
token in the config takes effect without a restart and is audited; no token appears in any
process's arguments, the config or the audit log. ``keys hash-token`` refuses bad input."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import zmq

from gateway.control import protocol
from gateway.control.client import ControlClient, ControlError
from gateway.security import credentials, roles
from tests.control.cp_venue import OPERATOR, CpVenue, start_venue
from gateway.launcher import wait_for

FAST_N = 1 << 10        # scrypt cost for these throw-away test users (config accepts 2^10..2^20)
TOKENS = {r: f"{r}-token-{secrets.token_hex(4)}" for r in roles.ROLES}


def _user(role: str, token: str, extra: str = "") -> str:
    h = credentials.hash_token(token, n=FAST_N).encode()
    return f'\n[[users]]\nname = "u-{role}"\nrole = "{role}"\ntoken_hash = "{h}"\n{extra}'


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory, gw_io_backend: str | None) -> Iterator[CpVenue]:
    # gw_io_backend: one venue per gateway I/O backend (tests/gw_io_backends.py)
    users = "".join(_user(r, t, "firm_id = 1\n" if r == roles.TRADER else "") for r, t in TOKENS.items())
    yield from start_venue(tmp_path_factory.mktemp("roles"), extra_users=users)


def _client(venue: CpVenue, role: str) -> ControlClient:
    return ControlClient(venue.ready["command"], f"u-{role}", TOKENS[role], timeout_s=10.0)


def _code(ctl: ControlClient, command: str, **args: Any) -> str:
    return ctl.request(command, **args).code


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_can_run_exactly_its_row(venue: CpVenue, role: str) -> None:
    with _client(venue, role) as ctl:
        for command in protocol.COMMANDS:
            takes_account = "account" in protocol.required_args(command) + protocol.optional_args(command)
            args: dict[str, Any] = {"account": 1} if takes_account else {}
            code = _code(ctl, command, **args)
            if command in roles.PERMISSIONS[role]:
                assert code != protocol.CODE_FORBIDDEN, (role, command, code)
            else:
                assert code == protocol.CODE_FORBIDDEN, (role, command, code)
            if role == roles.TRADER and takes_account and command in roles.PERMISSIONS[role]:
                assert _code(ctl, command, account=3) == protocol.CODE_FORBIDDEN, command   # firm 2's
                assert _code(ctl, command) in (protocol.CODE_FORBIDDEN, protocol.CODE_BAD_REQUEST), command
    refused = [e for e in venue.audit() if e["user"] == f"u-{role}" and e["code"] == "forbidden"]
    assert len(refused) >= len(set(protocol.COMMANDS) - roles.PERMISSIONS[role])


def _send(venue: CpVenue, body: bytes) -> protocol.Reply:
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(venue.ready["command"])
    try:
        sock.send_multipart([b"", body])
        assert sock.poll(10_000), "no reply"
        return protocol.decode_reply(sock.recv_multipart()[-1])
    finally:
        sock.close(0)


def _signed(venue: CpVenue, command: str, args: dict[str, Any], ts_ns: int, nonce: str) -> bytes:
    with venue.control() as ctl:
        key, stored = ctl._credentials()
    proof = credentials.make_proof(key, stored, credentials.auth_message(9, OPERATOR[0], command, args, ts_ns, nonce))
    return protocol.encode(protocol.Request(9, OPERATOR[0], command, args, ts_ns, nonce, proof))


def test_a_captured_request_cannot_be_replayed_or_altered(venue: CpVenue) -> None:
    body = _signed(venue, "whoami", {}, time.time_ns(), secrets.token_hex(8))
    assert _send(venue, body).code == protocol.CODE_OK
    assert _send(venue, body).code == protocol.CODE_REPLAYED
    old = _signed(venue, "whoami", {}, time.time_ns() - int(120e9), secrets.token_hex(8))
    assert _send(venue, old).code == protocol.CODE_REPLAYED
    req = protocol.decode_request(_signed(venue, "whoami", {}, time.time_ns(), secrets.token_hex(8)))
    forged = protocol.Request(req.request_id, req.user, "halt", {"instrument": "all"}, req.ts_ns, req.nonce, req.proof)
    assert _send(venue, protocol.encode(forged)).code == protocol.CODE_UNAUTHENTICATED
    assert any(e["code"] == "replayed" for e in venue.audit())


def test_rotating_a_token_takes_effect_without_a_restart(venue: CpVenue) -> None:
    config = Path(venue.audit_path).parent / "venue.toml"
    old_token, new_token = TOKENS[roles.VIEWER], f"rotated-{secrets.token_hex(8)}"
    with _client(venue, roles.VIEWER) as ctl:
        assert ctl.call("whoami")["user"] == "u-viewer"
    old_hash = [line for line in config.read_text().splitlines() if "u-viewer" in line]
    assert old_hash
    text = config.read_text()
    start = text.index('name = "u-viewer"')
    end = text.index("\n", text.index("token_hash", start))
    new_hash = credentials.hash_token(new_token, n=FAST_N).encode()
    config.write_text(text[:start] + f'name = "u-viewer"\nrole = "viewer"\ntoken_hash = "{new_hash}"' + text[end:])
    fresh = ControlClient(venue.ready["command"], "u-viewer", new_token, timeout_s=10.0)

    def rotated() -> bool:
        fresh._keys = None
        return fresh.request("whoami").ok
    wait_for(rotated, "the rotated token to be accepted", 20.0)
    fresh.close()
    with ControlClient(venue.ready["command"], "u-viewer", old_token, timeout_s=10.0) as stale:
        with pytest.raises(ControlError) as err:
            stale.call("whoami")
        assert err.value.code == protocol.CODE_UNAUTHENTICATED
    assert any(e["command"] == "users.reload" and e["outcome"] == "accepted" for e in venue.audit())
    # The venue is the module's (and this test runs once per gateway I/O backend on it): rotate
    # back, so the next test (or the next run of this one) finds the token it was given.
    config.write_text(text)
    back = ControlClient(venue.ready["command"], "u-viewer", old_token, timeout_s=10.0)

    def restored() -> bool:
        back._keys = None
        return back.request("whoami").ok
    wait_for(restored, "the original token to be accepted again", 20.0)
    back.close()


def test_no_token_in_arguments_config_or_audit(venue: CpVenue) -> None:
    secrets_ = [OPERATOR[1], *TOKENS.values()]
    for pid in [venue.proc.pid, *venue.ready["pids"].values()]:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        assert not any(t in cmdline for t in secrets_), pid
    config = (Path(venue.audit_path).parent / "venue.toml").read_text()
    audit = venue.audit_path.read_text()
    assert not any(t in config or t in audit for t in secrets_)


@pytest.mark.parametrize("stdin, extra, message", [
    ("short\n", [], "at least 12 characters"),
    ("", [], "no token"),
    ("", ["--token-file", "/nonexistent/token"], "--token-file /nonexistent/token"),
])
def test_hash_token_refuses_bad_input(stdin: str, extra: list[str], message: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VENUE_CONTROL_TOKEN"}
    p = subprocess.run([sys.executable, "-m", "gateway", "keys", "hash-token", *extra], input=stdin,
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p


def test_hash_token_output_is_a_config_line_that_verifies(tmp_path: Path) -> None:
    token_file = tmp_path / "tok"
    token_file.write_text("a-long-enough-token\n")
    p = subprocess.run([sys.executable, "-m", "gateway", "keys", "hash-token", "--token-file", str(token_file)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "a-long-enough-token" not in p.stdout
    th = credentials.parse_token_hash(p.stdout.split('"')[1])
    key = credentials.client_key("a-long-enough-token", th.salt, th.n, th.r, th.p)
    msg = credentials.auth_message(1, "u", "status", {}, 5, "n")
    assert credentials.check_proof(th.stored_key, msg, credentials.make_proof(key, th.stored_key, msg))
    assert not credentials.check_proof(th.stored_key, msg + b"x", credentials.make_proof(key, th.stored_key, msg))
