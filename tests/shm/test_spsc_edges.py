"""SPSC ring edges, one behaviour per test: full reports FULL and keeps what was written, empty
reports EMPTY, a wrap inserts a padding record the consumer skips, a claim is invisible until
committed, abort turns a claim into padding, and bad arguments are refused as invalid."""
from __future__ import annotations

import pytest

from native._venue import lib
from shm import errors
from shm.rings import SpscConsumer, SpscProducer
from shm.segment import KIND_SPSC, Segment


@pytest.fixture
def ring(seg_name):
    seg = Segment.create(seg_name("edges"), KIND_SPSC, 1024)
    yield SpscProducer(seg), SpscConsumer(Segment.attach(seg.path, KIND_SPSC))
    seg.close()


def test_empty_ring_reports_empty(ring):
    _, cons = ring
    with pytest.raises(errors.RingEmpty):
        cons.read_one()


def test_full_ring_reports_full_and_keeps_record(ring):
    prod, cons = ring
    written = 0
    with pytest.raises(errors.RingFull):
        while True:
            prod.write(3, bytes([written]) * 24)
            written += 1
    assert written == 1024 // 32 and prod.full_count == 1
    got = [bytes(m.payload) for m in cons.read_batch(1000)]
    assert got == [bytes([i]) * 24 for i in range(written)]
    cons.release()
    prod.write(3, b"\xff" * 24)             # room again after release
    assert bytes(cons.read_one().payload) == b"\xff" * 24


def test_unreleased_records_keep_ring_full(ring):
    prod, cons = ring
    for i in range(32):
        prod.write(3, bytes(24))
    assert len(cons.read_batch(1000)) == 32
    with pytest.raises(errors.RingFull):
        prod.write(3, bytes(24))
    assert cons.release() == 1024


def test_wrap_inserts_padding_record_plus_message(ring):
    prod, cons = ring
    for _ in range(30):                      # 30 * 32 = 960 bytes: 64 left before the end
        prod.write(3, bytes(24))
    cons.read_batch(1000)
    cons.release()
    prod.write(4, b"A" * 100)                # 112 bytes > 64: padding, then the record at 0
    assert prod.ring.tail == 960 + 64 + 112
    msg = cons.read_one()
    assert msg.type == 4 and bytes(msg.payload) == b"A" * 100
    assert cons.ring.read_pos == 960 + 64 + 112
    raw = prod.segment.data()
    assert raw[960:964].view("<i4")[0] == 64      # the padding record, consumed, not released
    cons.release()
    assert not raw.any()                     # everything consumed is zero again


def test_claimed_record_is_invisible_until_commit(ring):
    prod, cons = ring
    off, view = prod.claim(5, 16)
    view[:] = 7
    with pytest.raises(errors.RingEmpty):
        cons.read_one()
    prod.commit(off)
    assert bytes(cons.read_one().payload) == bytes([7]) * 16


def test_aborted_claim_is_skipped(ring):
    prod, cons = ring
    off, _ = prod.claim(5, 16)
    prod.abort(off)
    prod.write(6, b"next" * 2)
    msg = cons.read_one()
    assert msg.type == 6 and bytes(msg.payload) == b"nextnext"


def test_commit_of_unclaimed_offset_is_invalid(ring):
    prod, _ = ring
    with pytest.raises(errors.RingInvalid):
        prod.commit(8)
    with pytest.raises(errors.RingInvalid):
        prod.commit(13)


def test_bad_type_and_oversized_record_are_invalid_not_full(ring):
    prod, _ = ring
    with pytest.raises(errors.RingInvalid):
        prod.write(0, b"x")
    with pytest.raises(errors.RingInvalid):
        prod.write(lib.RING_MSG_PADDING, b"x")
    with pytest.raises(errors.RingInvalid, match="max_record"):
        prod.write(3, bytes(1024 // 8))      # 8 + 128 > max_record (capacity / 8)


def test_zero_length_record_round_trips(ring):
    prod, cons = ring
    prod.write(9, b"")
    msg = cons.read_one()
    assert msg.type == 9 and len(msg.payload) == 0
