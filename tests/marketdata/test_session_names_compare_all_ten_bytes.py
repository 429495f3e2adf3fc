"""A MoldUDP64 session is 10 bytes compared whole, by the Python decoder, the depth subscriber
and the recovery server alike, as the C subscriber does: a session that differs only by trailing
NULs instead of spaces (which numpy's 'S' fields would silently drop) is another session.
Regression for a disagreement found by tests/marketdata/test_python_decoder_fuzz.py."""
from __future__ import annotations

import pytest

from gateway.marketdata.decoder import decode_packet
from gateway.marketdata.errors import MalformedError
from gateway.marketdata.recovery import RecoveryClient
from native._venue import lib
from tests.marketdata.session import Venue


def _heartbeat(session: bytes) -> bytes:
    return session + (7).to_bytes(8, "big") + (0).to_bytes(2, "big")


def test_decoder_refuses_a_nul_padded_session() -> None:
    assert decode_packet(_heartbeat(b"VENUE     "), session="VENUE").sequence_number == 7
    with pytest.raises(MalformedError) as err:
        decode_packet(_heartbeat(b"VENUE    \x00"), session="VENUE")
    assert err.value.code == lib.MD_E_SESSION


def test_recovery_server_refuses_a_nul_padded_session() -> None:
    venue = Venue("udp")
    try:
        assert venue.publisher.recovery is not None
        client = RecoveryClient(venue.publisher.recovery.address, "VENUE")
        rq = bytearray(24)
        rq[:10] = b"VENUE\x00\x00\x00\x00\x00"
        rq[10] = int(lib.MD_RQ_SNAPSHOT)
        with pytest.raises(MalformedError, match="session"):
            client.request_raw(bytes(rq))
        client.close()
    finally:
        venue.close()
