"""Every message type survives encode -> decode in the Python codec and in the C codec, and both
encoders produce the same bytes for the same message."""
from __future__ import annotations

import pytest

from gateway.orderentry import sbe_codec as s
from tests.gateway import sbe_cffi, sbe_samples

SAMPLES = sbe_samples.all_samples()
IDS = [f"{i:02d}-{type(m).__name__}" for i, m in enumerate(SAMPLES)]


def test_samples_cover_every_template() -> None:
    assert {type(m).TEMPLATE_ID for m in SAMPLES} == set(s.TEMPLATES)


@pytest.mark.parametrize("msg", SAMPLES, ids=IDS)
def test_python_encode_then_decode_gives_the_same_message(msg: s.Message) -> None:
    frame = s.Encoder().encode(msg)
    assert len(frame) == int.from_bytes(frame[:4], "big")
    assert s.Decoder().decode(frame) == msg
    assert s.Decoder().decode(memoryview(frame)) == msg
    assert s.Decoder().decode(bytearray(frame) + b"next frame") == msg


@pytest.mark.parametrize("msg", SAMPLES, ids=IDS)
def test_c_encode_then_decode_gives_the_same_message(c_codec: None, msg: s.Message) -> None:
    frame = sbe_cffi.c_encode(msg)
    assert isinstance(frame, bytes)
    rc, back, template_id = sbe_cffi.c_decode(frame)
    assert (rc, template_id) == (0, type(msg).TEMPLATE_ID)
    assert back == msg


@pytest.mark.parametrize("msg", SAMPLES, ids=IDS)
def test_c_and_python_encoders_write_identical_bytes(c_codec: None, msg: s.Message) -> None:
    assert sbe_cffi.c_encode(msg) == s.Encoder().encode(msg)


def test_decoded_enum_fields_are_typed() -> None:
    msg = s.Decoder().decode(s.Encoder().encode(sbe_samples.new_orders()[10]))
    assert isinstance(msg, s.NewOrderSingle)
    assert msg.side is s.Side.BUY and msg.ord_type is s.OrdType.LIMIT
    assert msg.flags == s.OrderFlags.ICEBERG and isinstance(msg.flags, s.OrderFlags)
    assert msg.stop_px is None and msg.display_qty == 100


def test_encode_into_writes_at_the_offset_and_returns_the_length() -> None:
    msg = sbe_samples.session_messages()[8]
    buf = bytearray(b"\xaa" * 64)
    n = s.Encoder().encode_into(msg, buf, 10)
    assert bytes(buf[10:10 + n]) == s.Encoder().encode(msg)
    assert buf[:10] == b"\xaa" * 10 and buf[10 + n:] == b"\xaa" * (64 - 10 - n)
