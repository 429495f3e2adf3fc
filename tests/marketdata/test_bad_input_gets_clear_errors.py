"""Malformed or truncated datagrams are refused whole with a named reason (nothing applied) and
the subscriber keeps going; retransmission requests for ranges that do not exist, and malformed
requests, get clear errors while the publisher keeps serving."""
from __future__ import annotations

import socket

import pytest

from gateway.marketdata import schema
from gateway.marketdata.decoder import decode_packet
from gateway.marketdata.errors import MalformedError, NotAvailableError
from gateway.marketdata.recovery import RecoveryClient, encode_request
from native._venue import lib
from tests.marketdata.session import Venue, book_mismatches, command_records
from tests.native.streams import seeded_stream


def _first_packet(venue: Venue) -> bytes:
    return venue.publisher.encoder.pack(1, 1)[0]


def _mutations(good: bytes) -> dict[str, tuple[bytes, int]]:
    body = bytearray(good)
    hdr = schema.MOLD_HDR_BYTES
    out: dict[str, tuple[bytes, int]] = {
        "empty": (b"", lib.MD_E_PACKET_SHORT),
        "short header": (good[:12], lib.MD_E_PACKET_SHORT),
        "message cut": (good[:-5], lib.MD_E_MSG_TRUNCATED),
        "length prefix cut": (good[:hdr + 1], lib.MD_E_MSG_TRUNCATED),
    }
    wrong_session = bytearray(body)
    wrong_session[0:3] = b"XYZ"
    out["other session"] = (bytes(wrong_session), lib.MD_E_SESSION)
    bad_count = bytearray(body)
    bad_count[18:20] = (5).to_bytes(2, "big")
    out["count too high"] = (bytes(bad_count), lib.MD_E_COUNT)
    bad_type = bytearray(body)
    bad_type[hdr + 2] = ord("~")
    out["unknown type"] = (bytes(bad_type), lib.MD_E_UNKNOWN_TYPE)
    bad_len = bytearray(body)
    bad_len[hdr:hdr + 2] = (int.from_bytes(body[hdr:hdr + 2], "big") - 8).to_bytes(2, "big")
    out["length wrong for type"] = (bytes(bad_len[:-8]), lib.MD_E_MSG_LENGTH)
    bad_seq = bytearray(body)
    bad_seq[hdr + 2 + 8:hdr + 2 + 16] = (99).to_bytes(8, "big")
    out["md_seq field"] = (bytes(bad_seq), lib.MD_E_SEQ_FIELD)
    bad_inst = bytearray(body)
    bad_inst[hdr + 2 + 4:hdr + 2 + 8] = (0).to_bytes(4, "big")
    out["instrument 0"] = (bytes(bad_inst), lib.MD_E_BAD_VALUE)
    return out


def test_malformed_datagrams_are_refused_by_name_and_the_subscriber_continues() -> None:
    venue = Venue("udp")
    try:
        sub = venue.subscriber()
        recs = command_records(seeded_stream(61, 400))
        venue.step(recs[:50])
        venue.sync(sub)
        good = _first_packet(venue)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        assert venue.channel is not None
        cases = _mutations(good)
        for name, (pkt, code) in cases.items():
            before = sub.book.stats()
            with pytest.raises(MalformedError) as info:
                sub.book.apply_packet(pkt)
            assert info.value.code == code, f"{name}: {info.value}"
            with pytest.raises(MalformedError):
                decode_packet(pkt, session="VENUE")
            assert sub.book.stats()["next_seq"] == before["next_seq"], name
            sender.sendto(pkt, ("127.0.0.1", venue.channel.port))
        venue.step(recs[50:])
        venue.sync(sub)
        assert sub.malformed >= len(cases) - 1     # the empty datagram may not be delivered as one
        assert not book_mismatches(venue.engine, sub.book, venue.instruments)
        sender.close()
    finally:
        venue.close()


def test_a_good_packet_decodes_in_python_to_the_messages_the_c_book_applied() -> None:
    venue = Venue("udp")
    try:
        venue.step(command_records(seeded_stream(62, 60)))
        pkts = venue.publisher.encoder.pack(1, venue.publisher.encoder.next_seq - 1)
        decoded = [m for p in pkts for m in decode_packet(p).messages]
        assert [int(m["md_seq"]) for m in decoded] == list(range(1, len(decoded) + 1))
        assert decoded[0].type == "DIRECTORY"
    finally:
        venue.close()


def test_retransmission_of_missing_ranges_and_bad_requests_get_clear_errors() -> None:
    venue = Venue("udp", store_messages=4096, store_bytes=1 << 16)
    try:
        venue.step(command_records(seeded_stream(63, 3000)))
        assert venue.publisher.recovery is not None
        client = RecoveryClient(venue.publisher.recovery.address, "VENUE")
        nxt = venue.publisher.encoder.next_seq
        with pytest.raises(NotAvailableError, match="MD_E_NOT_YET"):
            client.retransmit(nxt, 5)
        with pytest.raises(NotAvailableError, match="MD_E_NOT_RETAINED"):
            client.retransmit(1, 5)
        assert len(client.retransmit(nxt - 3, 3)) >= 1      # the same connection still serves
        with pytest.raises(MalformedError, match="MD_E_REQUEST"):
            client.retransmit(nxt - 3, 0)
        with pytest.raises(MalformedError, match="MD_E_SESSION"):
            RecoveryClient(venue.publisher.recovery.address, "OTHER").retransmit(nxt - 3, 1)
        garbage = RecoveryClient(venue.publisher.recovery.address, "VENUE")
        req = bytearray(encode_request("VENUE", lib.MD_RQ_RETRANSMIT, 1, 1))
        req[10] = ord("?")
        with pytest.raises(MalformedError, match="kind"):
            garbage.request_raw(bytes(req))
        fresh = RecoveryClient(venue.publisher.recovery.address, "VENUE")
        assert len(fresh.snapshot()) > 0
        assert len(fresh.retransmit(nxt - 1, 1)) == 1
        assert venue.publisher.recovery.errors >= 5
        for c in (client, garbage, fresh):
            c.close()
    finally:
        venue.close()
