"""Both encoders refuse a message their decoders would refuse (-EINVAL / SbeEncodeError) and a
buffer too small for the frame (-ENOSPC / SbeBufferTooSmall), writing nothing in either case."""
from __future__ import annotations

import errno

import msgspec
import pytest

from gateway.orderentry import sbe_codec as s
from gateway.reasons import Reason
from tests.gateway import sbe_cffi, sbe_samples

NOS = sbe_samples.new_orders()[0]
NEG = sbe_samples.session_messages()[0]

INVALID = [
    ("side 3", msgspec.structs.replace(NOS, side=3), Reason.ENG_GW_BAD_ENUM),
    ("undefined flag bit", msgspec.structs.replace(NOS, flags=8), Reason.ENG_GW_BAD_SET),
    ("seqNum 0", msgspec.structs.replace(NOS, seq_num=0), Reason.ENG_GW_VALUE_RANGE),
    ("instrument 0", msgspec.structs.replace(NOS, instrument_id=0), Reason.ENG_GW_VALUE_RANGE),
    ("credentials too long", msgspec.structs.replace(NEG, credentials=bytes(129)), Reason.ENG_GW_VAR_DATA_LENGTH),
]


@pytest.mark.parametrize("msg,reason", [(m, r) for _, m, r in INVALID], ids=[n for n, _, _ in INVALID])
def test_python_encoder_refuses_with_the_decoders_reason(msg: s.Message, reason: Reason) -> None:
    buf = bytearray(s.MAX_FRAME_LENGTH)
    with pytest.raises(s.SbeEncodeError) as info:
        s.Encoder().encode_into(msg, buf)
    assert info.value.reason == reason
    assert buf == bytearray(s.MAX_FRAME_LENGTH)


@pytest.mark.parametrize("msg", [m for _, m, _ in INVALID], ids=[n for n, _, _ in INVALID])
def test_c_encoder_refuses_with_einval(c_codec: None, msg: s.Message) -> None:
    assert sbe_cffi.c_encode(msg) == -errno.EINVAL


def test_python_encoder_refuses_values_that_do_not_fit_their_type() -> None:
    with pytest.raises(s.SbeEncodeError) as info:
        s.Encoder().encode(msgspec.structs.replace(NOS, account_id=1 << 32))
    assert info.value.reason == Reason.ENG_GW_VALUE_RANGE
    with pytest.raises(s.SbeEncodeError):
        s.Encoder().encode(msgspec.structs.replace(NOS, order_qty="500"))  # type: ignore[arg-type]


def test_python_encoder_refuses_an_object_that_is_no_message() -> None:
    with pytest.raises(s.SbeEncodeError) as info:
        s.Encoder().encode(object())  # type: ignore[arg-type]
    assert info.value.reason == Reason.ENG_GW_UNKNOWN_TEMPLATE


def test_too_small_buffer_is_try_again_not_invalid_and_untouched() -> None:
    size = len(s.Encoder().encode(NOS))
    buf = bytearray(size - 1)
    with pytest.raises(s.SbeBufferTooSmall) as info:
        s.Encoder().encode_into(NOS, buf)
    assert not isinstance(info.value, s.SbeEncodeError)
    assert buf == bytearray(size - 1)
    assert s.Encoder().encode_into(NOS, bytearray(size)) == size


def test_c_encoder_reports_enospc_below_the_frame_size(c_codec: None) -> None:
    size = len(s.Encoder().encode(NOS))
    assert sbe_cffi.c_encode(NOS, cap=size - 1) == -errno.ENOSPC
    assert sbe_cffi.c_encode(NOS, cap=size) == s.Encoder().encode(NOS)


def test_c_encoder_refuses_an_unknown_template(c_codec: None) -> None:
    cm = sbe_cffi.to_c(NOS)
    cm.template_id = 777
    buf = sbe_cffi.ffi.new("uint8_t[]", 256)
    assert sbe_cffi.lib.sbe_encode(buf, 256, cm) == -errno.EINVAL
