"""The gateway's session-admin endpoint (the real gateway process) against a neighbour that sends
what a REQ client never would: a request of two frames (today's code read the first, then failed
to send its reply outside the handler's error handling, and the admin thread was gone until the
gateway restarted), many frames, an oversized frame, and garbage. Each gets a bad_request reply or
a dropped connection, and the endpoint keeps answering GatewayAdmin, while an order-entry session
keeps trading."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import msgspec
import pytest
import zmq

from gateway.client import ExecType, ExecutionReport, Side
from gateway.orderentry.admin import AdminReply, GatewayAdmin, GatewayAdminError

from tests.gateway.gw_venue import Venue, start_venue


@pytest.fixture
def admin_venue(tmp_path: Path) -> Iterator[tuple[Venue, str]]:
    admin_file = tmp_path / "admin"
    for v in start_venue(tmp_path, ["--admin", "tcp://127.0.0.1:*", "--admin-file", str(admin_file)]):
        yield v, admin_file.read_text()


def _send(endpoint: str, frames: list[bytes], timeout_ms: int = 5000) -> AdminReply | None:
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    try:
        sock.send_multipart(frames)
        if not sock.poll(timeout_ms):
            return None
        return msgspec.msgpack.decode(sock.recv(), type=AdminReply)
    finally:
        sock.close(0)


def _trades(venue: Venue) -> None:
    c = venue.connect(101)
    c.new_order(1, Side.SELL, 2, 1, price=10700)
    r = c.recv()
    assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW
    c.terminate()


def test_hostile_frames_are_refused_and_the_endpoint_keeps_serving(admin_venue: tuple[Venue, str]) -> None:
    venue, endpoint = admin_venue
    good = msgspec.msgpack.encode({"op": "sessions"})
    for frames in ([good, good], [good, b"x", b"y", b"z"], [b"\xc1"], [msgspec.msgpack.encode([[[[1]]]])],
                   [msgspec.msgpack.encode({"op": "disconnect", "session_id": -5})]):
        reply = _send(endpoint, frames)
        assert reply is not None and not reply.ok and reply.code == "bad_request", (frames[:1], reply)
    assert _send(endpoint, [b"\x00" * (1 << 20)], timeout_ms=1000) is None    # dropped by libzmq
    with GatewayAdmin(endpoint, timeout_s=10.0) as adm:
        assert {r["session_id"] for r in adm.sessions()} >= {101}
    _trades(venue)
    assert venue.alive()


def test_with_a_token_a_neighbour_cannot_list_or_disconnect_sessions(tmp_path: Path) -> None:
    admin_file, token_file = tmp_path / "admin", tmp_path / "admin.token"
    for venue in start_venue(tmp_path, ["--admin", "tcp://127.0.0.1:*", "--admin-file", str(admin_file),
                                        "--admin-token-file", str(token_file)]):
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        endpoint = admin_file.read_text()
        c = venue.connect(101)
        c.new_order(1, Side.SELL, 2, 1, price=10700)
        assert isinstance(c.recv(), ExecutionReport)
        for token in ("", "not-the-token", "x" * 64):
            with GatewayAdmin(endpoint, timeout_s=10.0, token=token) as adm:
                with pytest.raises(GatewayAdminError) as err:
                    adm.disconnect(101, "mallory")
                assert err.value.code == "unauthenticated"
                with pytest.raises(GatewayAdminError) as err:
                    adm.sessions()
                assert err.value.code == "unauthenticated"
        with GatewayAdmin(endpoint, timeout_s=10.0, token_file=str(token_file)) as adm:
            [row] = [r for r in adm.sessions() if r["session_id"] == 101]
            assert row["connected"] and row["orders_live"] == 1      # the neighbour ended nothing
        c.new_order(1, Side.SELL, 2, 1, price=10701)
        r = c.recv()
        assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW
