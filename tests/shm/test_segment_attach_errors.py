"""Attaching to a missing, foreign, incompatible, stale or closed segment raises the specific
error, and the message names the segment path and what is wrong."""
from __future__ import annotations

import os

import numpy as np
import pytest

from native._venue import ffi, lib
from shm import errors
from shm.segment import KIND_BROADCAST, KIND_CONTROL, KIND_SPSC, Segment

from .conftest import Child


def _poke(path: str, field: str, value: int) -> None:
    """Overwrites one header field in the file, as a foreign or older writer would have."""
    off = ffi.offsetof("ring_seg_hdr_t", field)
    size = ffi.sizeof(ffi.typeof("ring_seg_hdr_t").fields[[f for f, _ in ffi.typeof(
        "ring_seg_hdr_t").fields].index(field)][1].type)
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(int(value).to_bytes(size, "little"))


def test_missing_segment_raises_segment_missing_naming_path(seg_name):
    path = seg_name("missing")
    with pytest.raises(errors.SegmentMissing, match=path):
        Segment.attach(path, KIND_SPSC)


def test_wrong_magic_raises_bad_magic(seg_name):
    path = seg_name("magic")
    with Segment.create(path, KIND_SPSC, 4096):
        _poke(path, "magic", 0x1234)
        with pytest.raises(errors.SegmentBadMagic, match="not a venue segment"):
            Segment.attach(path, KIND_SPSC)


def test_foreign_file_raises_bad_magic(seg_name):
    path = seg_name("foreign")
    with open(path, "wb") as f:
        f.write(os.urandom(8192))
    with pytest.raises(errors.SegmentBadMagic, match=path):
        Segment.attach(path, KIND_SPSC)


def test_short_file_raises_truncated(seg_name):
    path = seg_name("short")
    with open(path, "wb") as f:
        f.write(b"\0" * 100)
    with pytest.raises(errors.SegmentTruncated, match="100 bytes"):
        Segment.attach(path, KIND_SPSC)


def test_other_layout_version_raises_version_mismatch(seg_name):
    path = seg_name("version")
    with Segment.create(path, KIND_SPSC, 4096):
        _poke(path, "layout_version", lib.RING_LAYOUT_VERSION + 6)
        with pytest.raises(errors.SegmentVersionMismatch,
                           match=f"version {lib.RING_LAYOUT_VERSION + 6}"):
            Segment.attach(path, KIND_SPSC)


def test_wrong_kind_raises_kind_mismatch(seg_name):
    path = seg_name("kind")
    with Segment.create(path, KIND_BROADCAST, 4096):
        with pytest.raises(errors.SegmentKindMismatch, match="broadcast segment, expected spsc"):
            Segment.attach(path, KIND_SPSC)


def test_wrong_capacity_raises_capacity_mismatch(seg_name):
    path = seg_name("cap")
    with Segment.create(path, KIND_SPSC, 4096):
        with pytest.raises(errors.SegmentCapacityMismatch, match="capacity 4096"):
            Segment.attach(path, KIND_SPSC, capacity=8192)


def _create_and_exit(path: str) -> int:
    Segment.create(path, KIND_CONTROL)     # never closed: the process just ends
    return os.getpid()


def test_segment_of_dead_creator_raises_stale(seg_name):
    path = seg_name("dead")
    pid = Child(_create_and_exit, path).result()
    with pytest.raises(errors.SegmentStale, match=f"creator pid {pid} is dead"):
        Segment.attach(path, KIND_CONTROL)


def test_old_heartbeat_raises_heartbeat_stale(seg_name):
    path = seg_name("hb")
    with Segment.create(path, KIND_CONTROL) as seg:
        lib.ring_seg_heartbeat(seg.handle, lib.ring_now_ns() - 5_000_000_000)
        with pytest.raises(errors.SegmentHeartbeatStale, match="heartbeat is"):
            Segment.attach(path, KIND_CONTROL, stale_ns=1_000_000_000)
        Segment.attach(path, KIND_CONTROL).detach()   # without a limit it is fine


def test_closed_segment_raises_closed(seg_name):
    path = seg_name("closed")
    seg = Segment.create(path, KIND_SPSC, 4096)
    seg.close(unlink=False)
    with pytest.raises(errors.SegmentClosed, match="closed"):
        Segment.attach(path, KIND_SPSC)


def test_create_over_live_segment_raises_exists_and_replaces_stale(seg_name):
    path = seg_name("exists")
    with Segment.create(path, KIND_SPSC, 4096):
        with pytest.raises(errors.SegmentExists):
            Segment.create(path, KIND_SPSC, 4096)
    dead = seg_name("exists-dead")
    Child(_create_and_exit, dead).result()
    with Segment.create(dead, KIND_CONTROL) as seg:
        assert seg.info().creator_pid == os.getpid()


@pytest.mark.parametrize("capacity", [1000, 512, 3 << 12])
def test_bad_capacity_at_create_is_invalid(seg_name, capacity):
    with pytest.raises(errors.RingInvalid):
        Segment.create(seg_name("badcap"), KIND_SPSC, capacity)


def test_attach_reports_header_fields(seg_name):
    path = seg_name("info")
    with Segment.create(path, KIND_SPSC, 1 << 14) as seg:
        info = Segment.attach(path, KIND_SPSC).info()
        assert (info.kind, info.capacity, info.layout_version, info.creator_pid) == \
            (KIND_SPSC, 1 << 14, lib.RING_LAYOUT_VERSION, os.getpid())
        assert info.state == lib.RING_STATE_READY
        assert seg.raw()[:8].view(np.uint64)[0] == lib.RING_SEG_MAGIC
