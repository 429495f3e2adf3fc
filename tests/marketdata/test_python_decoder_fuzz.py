"""The Python decoder under hypothesis: arbitrary bytes and mutated real packets either decode
(and then hold exactly the messages the header counts, with consecutive md_seq) or raise
MalformedError naming the reason; never another exception. A mutated packet is judged malformed by
the Python decoder exactly when the C subscriber refuses it as malformed."""
from __future__ import annotations

from functools import lru_cache

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.marketdata.book import FeedBook
from gateway.marketdata.decoder import decode_messages, decode_packet
from gateway.marketdata.encoder import Encoder, EncoderConfig
from gateway.marketdata.errors import BookError, MalformedError
from native.engine import Engine
from tests.marketdata.session import command_records
from tests.native.streams import seeded_stream


@lru_cache(maxsize=1)
def _packets() -> tuple[bytes, ...]:
    eng = Engine(max_orders=10_000, max_levels=4_000, max_instruments=3, max_accounts=8)
    enc = Encoder(EncoderConfig(max_instruments=8, max_packet_bytes=512))
    first, count = enc.encode(eng.submit_records(command_records(seeded_stream(61, 800))))
    eng.close()
    return tuple(enc.pack(first, count))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    pkt = bytearray(draw(st.sampled_from(_packets())))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "set", "cut", "grow"]))
        if op == "flip" and pkt:
            i = draw(st.integers(0, len(pkt) - 1))
            pkt[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and pkt:
            pkt[draw(st.integers(0, len(pkt) - 1))] = draw(st.integers(0, 255))
        elif op == "cut":
            del pkt[draw(st.integers(0, len(pkt))):]
        else:
            pkt += draw(st.binary(max_size=40))
    return bytes(pkt)


def _check_decoded(data: bytes) -> bool:
    try:
        p = decode_packet(data, max_instruments=8, session="VENUE")
    except MalformedError as exc:
        assert str(exc) and exc.code < 0
        return False
    if p.message_count != 65535:
        assert len(p.messages) == p.message_count
        assert [int(m["md_seq"]) for m in p.messages] == \
            list(range(p.sequence_number, p.sequence_number + p.message_count))
    return True


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_malformed(data: bytes) -> None:
    _check_decoded(data)
    try:
        decode_messages(data, max_instruments=8)
    except MalformedError:
        pass


@settings(max_examples=600, deadline=None)
@given(mutated())
def test_mutated_packets_python_and_c_agree_on_malformed(data: bytes) -> None:
    ok_py = _check_decoded(data)
    book = FeedBook(max_instruments=8, max_orders=10_000, max_levels=4_000)
    if len(data) >= 18:
        book.reset(max(1, int.from_bytes(data[10:18], "big")))
    try:
        book.apply_packet(data)
        ok_c = True
    except MalformedError:
        ok_c = False
    except BookError:
        ok_c = True             # well formed; it just does not fit an empty book
    assert ok_py == ok_c, f"python says {'ok' if ok_py else 'malformed'}, C disagrees: {data.hex()}"
