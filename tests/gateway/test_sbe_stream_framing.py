"""Framing a TCP byte stream: peek says 'need more' until a whole frame is there, then its length;
an unframeable stream is an error at once, never a wait. Same answers from C and Python."""
from __future__ import annotations

import pytest

from gateway.orderentry import sbe_codec as s
from gateway.reasons import Reason
from tests.gateway import sbe_cffi, sbe_samples


def _stream() -> bytes:
    return b"".join(s.Encoder().encode(m) for m in sbe_samples.all_samples())


def _split_python(stream: bytes) -> list[s.Message]:
    """Feeds the stream one byte at a time, the worst case of TCP segmentation."""
    dec, pending, out = s.Decoder(), bytearray(), []
    for b in stream:
        pending.append(b)
        n = dec.peek(pending)
        if n is not None:
            out.append(dec.decode(memoryview(pending)[:n]))
            del pending[:n]
    assert not pending
    return out


def test_python_reassembles_every_frame_from_single_bytes() -> None:
    assert _split_python(_stream()) == sbe_samples.all_samples()


def test_c_peek_needs_more_until_the_last_byte_and_reports_the_length_early(c_codec: None) -> None:
    ffi, lib = sbe_cffi.ffi, sbe_cffi.lib
    frame = s.Encoder().encode(sbe_samples.execution_reports()[1])
    n = ffi.new("uint32_t *")
    for cut in range(len(frame)):
        n[0] = 0
        assert lib.sbe_frame_peek(frame, cut, n) == lib.SBE_NEED_MORE
        assert n[0] == (len(frame) if cut >= s.SOFH_LENGTH else 0)
    assert lib.sbe_frame_peek(frame, len(frame), n) == 0 and n[0] == len(frame)
    assert lib.sbe_frame_peek(frame + b"\0" * 5, len(frame) + 5, n) == 0 and n[0] == len(frame)


def test_c_splits_a_stream_like_python(c_codec: None) -> None:
    ffi, lib = sbe_cffi.ffi, sbe_cffi.lib
    stream = _stream()
    n = ffi.new("uint32_t *")
    pos, out = 0, []
    while pos < len(stream):
        assert lib.sbe_frame_peek(stream[pos:], len(stream) - pos, n) == 0
        rc, msg, _ = sbe_cffi.c_decode(stream[pos:pos + n[0]])
        assert rc == 0
        out.append(msg)
        pos += n[0]
    assert out == sbe_samples.all_samples()


def test_unframeable_stream_is_refused_without_waiting() -> None:
    dec = s.Decoder()
    for data, reason in ((b"GET / HTTP/1.1\r\n", Reason.ENG_GW_ENCODING_TYPE),
                         (b"\x00\x00\x00\x05\xeb\x50", Reason.ENG_GW_FRAME_LENGTH)):
        with pytest.raises(s.SbeDecodeError) as info:
            dec.peek(data)
        assert info.value.reason == reason


def test_c_peek_refuses_unframeable_streams_with_the_same_codes(c_codec: None) -> None:
    ffi, lib = sbe_cffi.ffi, sbe_cffi.lib
    n = ffi.new("uint32_t *")
    assert lib.sbe_frame_peek(b"GET / HTTP/1.1\r\n", 16, n) == lib.ENG_GW_ENCODING_TYPE
    assert lib.sbe_frame_peek(b"\x00\x00\x00\x05\xeb\x50", 6, n) == lib.ENG_GW_FRAME_LENGTH


def test_error_texts_name_each_codec_code(c_codec: None) -> None:
    ffi, lib = sbe_cffi.ffi, sbe_cffi.lib
    for r in Reason:
        if 900 <= r <= 912:
            assert ffi.string(lib.sbe_error_text(int(r))).decode().startswith(r.name + ": ")
    assert ffi.string(lib.sbe_error_text(0)) == b"ENG_OK"
    assert ffi.string(lib.sbe_error_text(102)) == b"not an SBE codec error"
    assert ffi.string(lib.sbe_template_name(1)) == b"NewOrderSingle"
    assert lib.sbe_template_name(777) == ffi.NULL
