"""Decoding feed packets into numpy records (the Python view: tools, the ladder, the conflated
Level 1 / Level 2 channel, tests). Validity is decided by the C validator (md_msg_validate), the
same one the C subscriber uses, so the two can never disagree about what is malformed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gateway.marketdata import schema
from gateway.marketdata.errors import MalformedError, status_name
from native._venue import lib


@dataclass
class Message:
    """One decoded message: its type name and its fields as a numpy record (big-endian dtype)."""
    type: str
    record: np.void
    levels: np.ndarray | None = None    # DEPTH only: bids then asks, schema.DEPTH_LEVEL records

    def __getitem__(self, name: str) -> object:
        return self.record[name]


@dataclass
class Packet:
    session: str
    sequence_number: int
    message_count: int
    messages: list[Message] = field(default_factory=list)


def decode_messages(buf: bytes | memoryview, max_instruments: int = 65535,
                    base_seq: int | None = None) -> list[Message]:
    """Length-prefixed messages (as in a packet body or a snapshot) -> Messages. Raises
    MalformedError naming the message index and the reason."""
    data = bytes(buf)
    out: list[Message] = []
    off = 0
    while off < len(data):
        i = len(out)
        if len(data) - off < 2:
            raise MalformedError(f"message {i}: length prefix cut off", int(lib.MD_E_MSG_TRUNCATED))
        ml = int.from_bytes(data[off:off + 2], "big")
        body = data[off + 2:off + 2 + ml]
        if len(body) < ml:
            raise MalformedError(f"message {i}: {ml} bytes announced, {len(body)} present",
                                 int(lib.MD_E_MSG_TRUNCATED))
        rc = lib.md_msg_validate(body, ml, max_instruments)
        if rc != 0:
            raise MalformedError(f"message {i}: {status_name(rc)}", rc)
        code = body[0]
        dt = schema.MESSAGE_DTYPES[code]
        rec = np.frombuffer(body, dtype=dt, count=1)[0]
        if base_seq is not None and int(rec["md_seq"]) != base_seq + i:
            raise MalformedError(f"message {i}: md_seq {int(rec['md_seq'])} != {base_seq + i}",
                                 int(lib.MD_E_SEQ_FIELD))
        levels = None
        if code == lib.MD_MSG_DEPTH:
            levels = np.frombuffer(body, dtype=schema.DEPTH_LEVEL, offset=dt.itemsize)
        out.append(Message(schema.MESSAGE_TYPES[code][0], rec, levels))
        off += 2 + ml
    return out


def decode_packet(pkt: bytes | memoryview, max_instruments: int = 65535, session: str | None = None) -> Packet:
    """One MoldUDP64 packet -> Packet. Raises MalformedError (short header, another session than
    `session` when given, bad messages, a count that disagrees with the messages present)."""
    data = bytes(pkt)
    if len(data) < schema.MOLD_HDR_BYTES:
        raise MalformedError(f"packet of {len(data)} bytes is shorter than the {schema.MOLD_HDR_BYTES}-byte "
                             "MoldUDP64 header", int(lib.MD_E_PACKET_SHORT))
    hdr = np.frombuffer(data, dtype=schema.MOLD_HDR, count=1)[0]
    seq, count = int(hdr["sequence_number"]), int(hdr["message_count"])
    # the raw 10 bytes, not the numpy 'S' field: that one drops trailing NULs, which would let
    # "VENUE    \0" pass where the C subscriber (a 10-byte compare) refuses it
    raw_session = data[:schema.SESSION_LEN]
    got = raw_session.decode("ascii", "replace").rstrip()
    if session is not None and raw_session != schema.session_bytes(session):
        raise MalformedError(f"packet of session {raw_session!r}, expected {session!r}",
                             int(lib.MD_E_SESSION))
    if count == lib.MD_MOLD_END_OF_SESSION:
        return Packet(got, seq, count)
    msgs = decode_messages(data[schema.MOLD_HDR_BYTES:], max_instruments, base_seq=seq)
    if len(msgs) != count:
        raise MalformedError(f"header says {count} messages, packet holds {len(msgs)}", int(lib.MD_E_COUNT))
    return Packet(got, seq, count, msgs)


def packets_from_buffer(buf: np.ndarray, lens: np.ndarray, n: int) -> list[bytes]:
    """Cuts n packets laid back to back in buf (lengths in lens) into bytes objects."""
    out = []
    off = 0
    raw = memoryview(buf)
    for length in lens[:n].tolist():
        out.append(bytes(raw[off:off + length]))
        off += length
    return out


