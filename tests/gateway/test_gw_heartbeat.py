"""Keepalive: the gateway sends Sequence when it has been quiet for the keepalive interval, and
terminates a session that sent nothing for two intervals (KEEPALIVE_EXPIRED,
ENG_GW_HEARTBEAT_TIMEOUT); a client that heartbeats stays up."""
from __future__ import annotations

import pytest

from gateway.client import ClientTimeout, ExecType, Side
from gateway.reasons import Reason
from gateway.orderentry.sbe_codec import Sequence, Terminate, TerminationCode

from .gw_venue import Venue, venue  # noqa: F401  (fixture)
from .test_gw_session_handshake import Raw, _establish, _negotiate


def test_silent_client_gets_heartbeats_then_is_terminated(venue: Venue) -> None:
    r = Raw(venue.port)
    r.send(_negotiate())
    r.recv()
    r.send(_establish(keepalive_ms=50))
    r.recv()
    got = []
    while True:
        msg = r.recv()
        got.append(msg)
        if isinstance(msg, Terminate):
            break
    assert any(isinstance(m, Sequence) for m in got)
    assert msg.code == TerminationCode.KEEPALIVE_EXPIRED
    assert msg.reason_code == Reason.ENG_GW_HEARTBEAT_TIMEOUT
    assert r.closed()


def test_client_that_heartbeats_stays_established(venue: Venue) -> None:
    c = venue.connect(101, keepalive_ms=200)
    with pytest.raises(ClientTimeout):
        c.recv(timeout_s=1.0)       # five keepalive intervals of nothing but heartbeats
    c.new_order(1, Side.BUY, 1, 1, price=9000)
    assert c.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
