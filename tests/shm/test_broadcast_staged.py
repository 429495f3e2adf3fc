"""Staged records (ring_bcast_stage) are invisible to readers until ring_bcast_publish covers
them, then all appear at once, in order, across the wrap; publishing an older mark does not take
back what is visible. The engine holds a group's events on the log this way until the journal
says they are durable (native/runner/runner_loop.c)."""
from __future__ import annotations

from native._venue import ffi, lib
from shm.rings import BroadcastReader, BroadcastWriter
from shm.segment import KIND_BROADCAST, Segment


def _stage(writer: BroadcastWriter, value: int) -> None:
    buf = ffi.from_buffer(value.to_bytes(8, "little") * 5)
    assert lib.ring_bcast_stage(writer.tx, 5, buf, len(buf)) == 0


def _values(reader: BroadcastReader) -> list[int]:
    _, payloads, lapped = reader.poll_fixed(40)
    assert not lapped
    return [int(p[:8].view("<u8")[0]) for p in payloads]


def test_staged_records_appear_only_when_published(seg_name):
    seg = Segment.create(seg_name("stg1"), KIND_BROADCAST, 1024)
    writer, reader = BroadcastWriter(seg), BroadcastReader(seg)
    seen: list[int] = []
    for group in range(40):                     # 40 groups of 3 x 48 bytes: wraps many times
        for k in range(3):
            _stage(writer, 3 * group + k)
        assert 3 * 48 <= lib.ring_bcast_unpublished(writer.tx) < 4 * 48     # + a wrap's padding
        assert _values(reader) == []            # staged: nothing to read yet
        mark = lib.ring_bcast_written(writer.tx)
        lib.ring_bcast_publish(writer.tx, mark)
        assert lib.ring_bcast_unpublished(writer.tx) == 0
        seen += _values(reader)
    assert seen == list(range(120))
    seg.close()


def test_a_mark_publishes_exactly_the_records_before_it(seg_name):
    seg = Segment.create(seg_name("stg2"), KIND_BROADCAST, 4096)
    writer, reader = BroadcastWriter(seg), BroadcastReader(seg)
    _stage(writer, 1)
    _stage(writer, 2)
    first_two = lib.ring_bcast_written(writer.tx)
    _stage(writer, 3)
    lib.ring_bcast_publish(writer.tx, first_two)
    assert _values(reader) == [1, 2]
    writer.transmit(5, (4).to_bytes(8, "little") * 5)     # publishes the staged 3 with it
    assert _values(reader) == [3, 4]
    assert seg.control().records == 4 and seg.control().latest == first_two.tail + 48
    seg.close()
