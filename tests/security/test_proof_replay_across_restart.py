"""A hashed session key's logon proof captured shortly before the gateway restarts cannot be
replayed into the restarted gateway (issue #25): under ``up``, a Negotiate captured from a real
logon and one captured but never sent are both refused with ENG_GW_CREDENTIALS_REPLAYED after the
gateway is SIGKILLed and ``up`` starts it again, well inside the proof window (30 s); a fresh proof
logs on. Before the fix the restarted gateway had forgotten the last proof it accepted and took
either one once (gateway/security/gateway_security.py states the rule that closes it)."""
from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest

from gateway import launcher
from gateway.client import Client, ExecType, ExecutionReport, SessionKey, Side
from gateway.client.session import SessionCore
from gateway.orderentry.sbe_codec import Decoder, NegotiationReject, NegotiationResponse
from gateway.reasons import Reason
from gateway.security.session_keys import hash_session_key

from tests.control.cp_venue import START_DEADLINE_S, CpVenue, write_config
from tests.gateway.gw_venue import wait_for

KEY_101 = "restart-alpha-secret-101"


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[CpVenue]:
    with launcher.Venue(prefix="rp", log_dir=tmp_path, stop_deadline_s=40) as procs:
        cfg = write_config(tmp_path, procs.name, journal=str(tmp_path / "journal"))
        cfg.write_text(cfg.read_text().replace('key = "key-101"',
                                               f'key_hash = "{hash_session_key(KEY_101, 101)}"'))
        ready = procs.start_up(cfg, tmp_path / "run", tmp_path / "ready.json", deadline_s=START_DEADLINE_S)
        host, _, port = ready["gateway"].rpartition(":")
        yield CpVenue(ready, procs.procs["up"], tmp_path / "audit.jsonl", host, int(port), tmp_path / "up.log")


def _negotiate_raw(v: CpVenue, frame: bytes) -> object:
    """The gateway's answer to one raw Negotiate frame on a fresh connection (then closed)."""
    with socket.create_connection((v.gateway_host, v.gateway_port), timeout=20) as s:
        s.sendall(frame)
        dec, buf = Decoder(), b""
        while dec.peek(buf) is None:
            chunk = s.recv(4096)
            assert chunk, "the gateway closed without answering"
            buf += chunk
        return dec.decode(buf)


def _listening(v: CpVenue) -> bool:
    """The port accepts a connection (no logon is attempted: a fresh proof would raise the
    session's last accepted timestamp and hide what this test looks for)."""
    try:
        with socket.create_connection((v.gateway_host, v.gateway_port), timeout=2):
            return True
    except OSError:
        return False


def test_a_proof_captured_before_a_gateway_restart_is_refused_after_it(venue: CpVenue) -> None:
    v = venue
    used = SessionCore(101, 1, SessionKey(KEY_101, 101), 30_000).negotiate()     # a real logon's
    first = _negotiate_raw(v, used)
    assert isinstance(first, NegotiationResponse), first
    unused = SessionCore(101, 1, SessionKey(KEY_101, 101), 30_000).negotiate()   # never reached it
    captured_at = time.monotonic()

    gateway_pid = v.ready["pids"]["gateway"]
    os.kill(gateway_pid, signal.SIGKILL)
    wait_for(lambda: not _listening(v), "the killed gateway's port to close", 30)
    wait_for(lambda: _listening(v), "up to start the gateway again", START_DEADLINE_S)
    assert "up: gateway killed by SIGKILL" in v.output()

    for frame in (used, unused):
        again = _negotiate_raw(v, frame)
        assert isinstance(again, NegotiationReject), again
        assert again.reason_code == Reason.ENG_GW_CREDENTIALS_REPLAYED
    # still inside the proof window: the refusal is the restart rule, not staleness
    assert time.monotonic() - captured_at < 30.0

    c = Client.connect(v.gateway_host, v.gateway_port, 101, 1, SessionKey(KEY_101, 101), keepalive_ms=30_000)
    try:
        cid = c.new_order(1, Side.BUY, 1, 1, price=9_000)
        r, _ = c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == cid, 20.0)
        assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW, r
    finally:
        c.terminate()
