"""CRC32C: the SSE4.2 path and the portable table give the standard check values (RFC 3720
appendix B.4 and the "123456789" check value) and agree with each other on every length."""
from __future__ import annotations

import random

import pytest

from native._venue import lib

VECTORS = [
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
    (b"", 0x00000000),
]


@pytest.mark.parametrize("data,crc", VECTORS)
def test_software_crc32c_matches_known_vectors(data: bytes, crc: int) -> None:
    assert lib.jrnl_crc32c_sw(0, data, len(data)) == crc


@pytest.mark.parametrize("data,crc", VECTORS)
def test_hardware_crc32c_matches_known_vectors(data: bytes, crc: int) -> None:
    if not lib.jrnl_crc32c_hw_available():
        pytest.skip("this CPU has no SSE4.2 crc32 instruction")
    assert lib.jrnl_crc32c_hw(0, data, len(data)) == crc
    assert lib.jrnl_crc32c(0, data, len(data)) == crc


def test_hardware_and_software_agree_on_every_length_and_when_continued() -> None:
    if not lib.jrnl_crc32c_hw_available():
        pytest.skip("this CPU has no SSE4.2 crc32 instruction")
    rng = random.Random(7)
    data = bytes(rng.randrange(256) for _ in range(600))
    for n in range(0, 300):
        assert lib.jrnl_crc32c_hw(0, data, n) == lib.jrnl_crc32c_sw(0, data, n), n
    first = lib.jrnl_crc32c_sw(0, data, 123)
    assert lib.jrnl_crc32c_hw(first, data[123:], 477) == lib.jrnl_crc32c_sw(0, data, 600)


def test_four_lane_kernels_give_each_buffers_own_crc_on_every_length() -> None:
    # The journal checksums records four at a time (recovery: strided; the engine: a command's
    # records spread over two journals); each lane must be exactly the one-buffer CRC32C,
    # including lengths that are not a multiple of 8 (a record's crc covers 124 bytes).
    from native._venue import ffi

    rng = random.Random(11)
    out = ffi.new("uint32_t[4]")
    for n in range(0, 200):
        bufs = [bytes(rng.randrange(256) for _ in range(n)) for _ in range(4)]
        expect = [lib.jrnl_crc32c_sw(0, b, n) for b in bufs]
        keep = [ffi.from_buffer(b) for b in bufs]
        lib.jrnl_crc32c_x4_ptrs(ffi.new("const void *[4]", keep), n, out)
        assert list(out) == expect, n
        lib.jrnl_crc32c_x4(b"".join(bufs), n, n, out)
        assert list(out) == expect, n
