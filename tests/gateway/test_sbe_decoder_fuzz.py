"""Hypothesis drives the Python decoder with hostile bytes (truncated frames, oversize lengths, wrong
schema id or version, unknown templates, out-of-range enums, random bytes): the only exception ever
raised is SbeDecodeError with a codec reason, and the C decoder gives the same answer on the same bytes."""
from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.orderentry import sbe_codec as s
from gateway.reasons import Reason
from tests.gateway import sbe_cffi, sbe_samples

GOOD = [bytes(s.Encoder().encode(m)) for m in sbe_samples.all_samples()]
CODEC_REASONS = {0} | {int(r) for r in Reason if 900 <= r <= 939}
FUZZ = settings(max_examples=400, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@st.composite
def hostile_frames(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(st.sampled_from(GOOD)))
    kind = draw(st.sampled_from(["truncate", "length", "schema", "version", "template", "block",
                                 "byte", "u16", "extend", "random"]))
    if kind == "truncate":
        return bytes(frame[: draw(st.integers(0, len(frame) - 1))])
    if kind == "length":
        struct.pack_into(">I", frame, 0, draw(st.one_of(st.integers(0, 2 * s.MAX_FRAME_LENGTH),
                                                        st.integers(0, 0xFFFF_FFFF))))
    elif kind == "schema":
        struct.pack_into("<H", frame, 10, draw(st.integers(0, 0xFFFF)))
    elif kind == "version":
        struct.pack_into("<H", frame, 12, draw(st.integers(0, 0xFFFF)))
    elif kind == "template":
        struct.pack_into("<H", frame, 8, draw(st.one_of(st.sampled_from(sorted(s.TEMPLATES)), st.integers(0, 0xFFFF))))
    elif kind == "block":
        struct.pack_into("<H", frame, 6, draw(st.integers(0, 0xFFFF)))
    elif kind == "byte":
        for _ in range(draw(st.integers(1, 4))):
            frame[draw(st.integers(s.SOFH_LENGTH + s.HEADER_LENGTH, len(frame) - 1))] = draw(st.integers(0, 255))
    elif kind == "u16":
        at = draw(st.integers(0, len(frame) - 2))
        struct.pack_into("<H", frame, at, draw(st.integers(0, 0xFFFF)))
    elif kind == "extend":
        frame += draw(st.binary(min_size=1, max_size=64))
        if draw(st.booleans()):
            struct.pack_into(">I", frame, 0, len(frame))
    else:
        return draw(st.binary(max_size=200))
    return bytes(frame)


def _python_result(data: bytes) -> tuple[int, object, int]:
    """py_decode turns SbeDecodeError into a code; anything else escaping fails the test, named."""
    try:
        return sbe_cffi.py_decode(data)
    except Exception as exc:  # noqa: BLE001 - the point of the test: name any other exception
        raise AssertionError(f"decoder raised {type(exc).__name__}: {exc} on {data.hex()}") from exc


@FUZZ
@given(hostile_frames())
def test_python_decoder_raises_only_its_own_error_with_a_codec_reason(data: bytes) -> None:
    rc, msg, _ = _python_result(data)
    assert rc in CODEC_REASONS
    if rc == 0:
        assert s.Decoder().decode(s.Encoder().encode(msg)) == msg


@FUZZ
@given(st.binary(max_size=300))
def test_python_decoder_survives_random_bytes(data: bytes) -> None:
    assert _python_result(data)[0] in CODEC_REASONS


@pytest.mark.skipif(not sbe_cffi.HAVE_C, reason=sbe_cffi.WHY_NO_C)
@FUZZ
@given(hostile_frames())
def test_c_and_python_decoders_agree_on_hostile_frames(data: bytes) -> None:
    assert sbe_cffi.c_decode(data) == _python_result(data)
