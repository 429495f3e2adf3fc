"""What the consolidator publishes: ZeroMQ PUB frames [topic, msgpack body], like the venues' own
ZeroMQ feeds ([channel, packet]). NBBO updates carry a sequence number with no gaps, so a
subscriber sees a lost update; a SipStats record each second says the consolidator's own latency."""
from __future__ import annotations

import msgspec

from gateway.sip.consolidator import Nbbo, VenueQuote

TOPIC_NBBO = b"NBBO"
TOPIC_STATS = b"STATS"


class NbboUpdate(msgspec.Struct, frozen=True, tag="nbbo"):
    """The NBBO and every venue's protected quote of one instrument after a feed event from `cause`.
    received_ns: CLOCK_MONOTONIC when the consolidator took the feed packet; published_ns: when it
    sent this update (the same host clock, so published_ns - received_ns is its own latency)."""
    seq: int
    instrument_id: int
    nbbo: Nbbo
    protected: list[VenueQuote]
    cause: str
    received_ns: int
    published_ns: int
    self_help: list[str] = []     # venues not answering: their quotes are not protected elsewhere


class SipStats(msgspec.Struct, frozen=True, tag="stats"):
    """The consolidator's counts and its latency, feed packet taken -> NBBO update sent (ns)."""
    updates: int
    packets: dict[str, int]
    resyncs: dict[str, int]
    latency_count: int
    latency_p50_ns: int
    latency_p99_ns: int
    latency_max_ns: int


SipMessage = NbboUpdate | SipStats
_decoder = msgspec.msgpack.Decoder(SipMessage)
_encoder = msgspec.msgpack.Encoder()


def encode(msg: SipMessage) -> bytes:
    return _encoder.encode(msg)


def decode(body: bytes) -> SipMessage:
    """Raises msgspec.DecodeError / ValidationError on a body that is not one of the messages."""
    return _decoder.decode(body)
