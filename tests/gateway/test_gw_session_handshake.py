"""FIXP session establishment at the gateway over real TCP: Negotiate then Establish succeed with
the configured credentials; every way of getting them wrong is refused with its reason; nothing
but Negotiate/Establish is accepted before the session is established; Terminate is answered."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.client import Client, SessionRejected
from gateway.reasons import Reason
from gateway.orderentry.sbe_codec import (Decoder, Encoder, Establish, EstablishmentAck, EstablishmentReject,
                               FlowType, Negotiate, NegotiationReject, NegotiationResponse,
                               NewOrderSingle, OrderFlags, OrdType, SelfTradePrevention, Side,
                               Terminate, TimeInForce)

from gateway.client.session import SessionCore

from .gw_venue import KEYS, Venue, start_venue, venue  # noqa: F401  (fixture)


class Raw:
    """A bare socket speaking frames, for sequences the Client refuses to produce."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = bytearray()
        self.dec = Decoder()
        self.enc = Encoder()

    def send(self, msg: object) -> None:
        self.sock.sendall(self.enc.encode(msg))  # type: ignore[arg-type]

    def recv(self) -> object:
        while True:
            n = self.dec.peek(self.buf)
            if n is not None:
                msg = self.dec.decode(bytes(self.buf[:n]))
                del self.buf[:n]
                return msg
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("closed")
            self.buf += data

    def closed(self) -> bool:
        self.sock.settimeout(5)
        try:
            return self.sock.recv(4096) == b""
        except ConnectionResetError:
            return True


def _negotiate(session_id: int = 101, firm_id: int = 1, key: bytes = b"k101",
               flow: FlowType = FlowType.IDEMPOTENT) -> Negotiate:
    return Negotiate(session_id=session_id, timestamp_ns=1, firm_id=firm_id, client_flow=flow,
                     credentials=key)


def _establish(session_id: int = 101, key: bytes = b"k101", keepalive_ms: int = 1000) -> Establish:
    return Establish(session_id=session_id, timestamp_ns=2, next_seq_no=1,
                     keepalive_interval_ms=keepalive_ms, credentials=key)


def _nos() -> NewOrderSingle:
    return NewOrderSingle(seq_num=1, sending_time_ns=0, cl_ord_id=1, price=10000, stop_px=None,
                          order_qty=1, display_qty=None, expire_time_ns=None, instrument_id=1,
                          account_id=1, stp_group=0, side=Side.BUY, ord_type=OrdType.LIMIT,
                          time_in_force=TimeInForce.DAY, stp_mode=SelfTradePrevention.NONE,
                          flags=OrderFlags(0))


def test_negotiate_and_establish_give_the_servers_next_seq(venue: Venue) -> None:
    c = venue.connect(101)
    assert c.core.server_next_seq == 1
    assert isinstance(c.terminate(), Terminate)


@pytest.mark.parametrize("session_id,firm_id,key", [
    (101, 1, "wrong"),      # wrong key
    (101, 2, "k101"),       # wrong firm
    (999, 1, "k101"),       # unknown session
])
def test_bad_credentials_are_refused_with_reason(venue: Venue, session_id: int, firm_id: int,
                                                 key: str) -> None:
    with pytest.raises(SessionRejected) as info:
        Client.connect("127.0.0.1", venue.port, session_id, firm_id, key)
    assert isinstance(info.value.message, NegotiationReject)
    assert info.value.reason_code == Reason.ENG_GW_BAD_CREDENTIALS


def test_unsupported_flow_type_is_refused(venue: Venue) -> None:
    r = Raw(venue.port)
    r.send(_negotiate(flow=FlowType.NONE))
    msg = r.recv()
    assert isinstance(msg, NegotiationReject) and msg.reason_code == Reason.ENG_GW_FLOW_TYPE


def test_application_message_before_establish_terminates(venue: Venue) -> None:
    r = Raw(venue.port)
    r.send(_nos())
    msg = r.recv()
    assert isinstance(msg, Terminate) and msg.reason_code == Reason.ENG_GW_NOT_ESTABLISHED
    assert r.closed()


def test_application_message_after_negotiate_only_terminates(venue: Venue) -> None:
    r = Raw(venue.port)
    r.send(_negotiate())
    assert isinstance(r.recv(), NegotiationResponse)
    r.send(_nos())
    msg = r.recv()
    assert isinstance(msg, Terminate) and msg.reason_code == Reason.ENG_GW_NOT_ESTABLISHED


def test_establish_without_negotiate_is_refused(venue: Venue) -> None:
    r = Raw(venue.port)
    r.send(_establish())
    msg = r.recv()
    assert isinstance(msg, EstablishmentReject) and msg.reason_code == Reason.ENG_GW_NOT_ESTABLISHED


@pytest.mark.parametrize("establish,reason", [
    (_establish(session_id=102, key=b"k102"), Reason.ENG_GW_SESSION_MISMATCH),
    (_establish(key=b"nope"), Reason.ENG_GW_BAD_CREDENTIALS),
    (_establish(keepalive_ms=5), Reason.ENG_GW_BAD_KEEPALIVE),
    (_establish(keepalive_ms=3_600_000), Reason.ENG_GW_BAD_KEEPALIVE),
])
def test_bad_establish_is_refused_with_reason(venue: Venue, establish: Establish,
                                              reason: Reason) -> None:
    r = Raw(venue.port)
    r.send(_negotiate())
    assert isinstance(r.recv(), NegotiationResponse)
    r.send(establish)
    msg = r.recv()
    assert isinstance(msg, EstablishmentReject) and msg.reason_code == reason
    r.send(_establish())            # the session can still be established on this connection
    assert isinstance(r.recv(), EstablishmentAck)


def test_second_establish_is_refused_and_negotiate_again_terminates(venue: Venue) -> None:
    r = Raw(venue.port)
    r.send(_negotiate())
    r.recv()
    r.send(_establish())
    assert isinstance(r.recv(), EstablishmentAck)
    r.send(_establish())
    msg = r.recv()
    assert isinstance(msg, EstablishmentReject) and msg.reason_code == Reason.ENG_GW_ALREADY_NEGOTIATED
    r.send(_negotiate())
    msg = r.recv()
    assert isinstance(msg, Terminate) and msg.reason_code == Reason.ENG_GW_ALREADY_NEGOTIATED


def test_session_in_use_on_another_connection_is_refused(venue: Venue) -> None:
    first = venue.connect(101)
    with pytest.raises(SessionRejected) as info:
        venue.connect(101)
    assert info.value.reason_code == Reason.ENG_GW_SESSION_IN_USE
    first.terminate()
    venue.connect(101).terminate()   # free again once the first connection ended


def test_client_terminate_is_answered_with_terminate(venue: Venue) -> None:
    c = venue.connect(101)
    msg = c.terminate()
    assert isinstance(msg, Terminate) and msg.reason_code == Reason.ENG_GW_PEER_TERMINATED


def test_connection_that_never_negotiates_is_terminated(tmp_path: Path) -> None:
    for v in start_venue(tmp_path, ["--handshake-timeout-ms", "100"]):
        r = Raw(v.port)
        msg = r.recv()
        assert isinstance(msg, Terminate) and msg.reason_code == Reason.ENG_GW_HANDSHAKE_TIMEOUT
        assert r.closed()


def test_engine_stop_terminates_sessions_and_ends_the_gateway(venue: Venue) -> None:
    c = venue.connect(101)
    venue.engine.terminate()
    msg, _ = c.recv_until(lambda m: isinstance(m, Terminate), 30)
    assert msg.reason_code == Reason.ENG_GW_ENGINE_GONE  # type: ignore[attr-defined]
    assert venue.gateway.wait(30) == 0


def test_the_client_sends_no_heartbeat_before_its_session_is_established(venue: Venue) -> None:
    """FIXP: Sequence (the heartbeat) belongs to an established session; the keepalive is agreed
    by Establish. A client that waited more than half its keepalive for the answer to Negotiate
    (a gateway resuming on a restarted engine, a loaded machine) sent a Sequence on its next read,
    and the gateway ended the connection with Terminate 940 ENG_GW_NOT_ESTABLISHED (seen in the
    engine-crash campaign, tests/journal/test_crash_recovery_gateway.py, 1 run in 10)."""
    firm, key = KEYS[102]
    core = SessionCore(102, firm, key.encode(), keepalive_ms=100)
    c = Client(socket.create_connection(("127.0.0.1", venue.port), timeout=10), core)
    try:
        c.send_raw(core.negotiate())
        while time.monotonic_ns() - core.last_send_ns < core.keepalive_ms * 1_000_000:
            time.sleep(0.01)            # a whole keepalive without an answer read
        core.check_negotiated(c._next(10.0))
        c.send_raw(core.establish())
        core.check_established(c._next(10.0))
        assert core.established         # no Sequence went out before the EstablishmentAck
        c.heartbeat()
        assert isinstance(c.terminate(), Terminate)
    finally:
        c.close()


@pytest.mark.parametrize("argv,message", [
    (["--listen", "nohost"], "HOST:PORT"),
    (["--listen", "127.0.0.1:99999"], "0..65535"),
    (["--listen", "127.0.0.1:0", "--out-log-msgs", "1000"], "power of two"),
    (["--listen", "127.0.0.1:0", "--cpu", "999"], "--cpu 999"),
    (["--listen", "127.0.0.1:0", "--engine-stale-ms", "-1"], "--engine-stale-ms"),
    (["--listen", "127.0.0.1:0", "--engine-wait-s", "-1"], "--engine-wait-s must be 0..86400"),
    (["--listen", "127.0.0.1:0", "--engine-wait-s", "soon"], "invalid float value"),
])
def test_bad_arguments_are_refused_with_a_clear_message(tmp_path: Path, argv: list[str],
                                                        message: str) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text('{"firms": [], "sessions": []}')
    run = subprocess.run([sys.executable, "-m", "gateway", "gateway", "--engine", "x",
                          "--config", str(cfg), *argv], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and message in run.stderr
