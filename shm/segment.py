"""Segments: one file per segment under /dev/shm (or a hugetlbfs mount), created and attached by C
(native/ring/ring_segment.c) so that validation lives in one place. This module names the files,
wraps the C handle and exposes numpy views of the mapped bytes (no copies).

Invariant: a Segment's views are valid until ``detach()``; after it they must not be used."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from native._venue import ffi, lib
from shm.errors import check

DEFAULT_DIR = "/dev/shm"
ENV_DIR = "VENUE_SHM_DIR"           # e.g. a hugetlbfs mount such as /dev/hugepages
PREFIX = "venue"

KIND_SPSC = lib.RING_KIND_SPSC
KIND_BROADCAST = lib.RING_KIND_BROADCAST
KIND_CONTROL = lib.RING_KIND_CONTROL


def shm_dir(directory: str | None = None) -> str:
    return directory or os.environ.get(ENV_DIR) or DEFAULT_DIR


def segment_path(name: str, role: str, directory: str | None = None) -> str:
    """``<dir>/venue-<name>-<role>``, e.g. /dev/shm/venue-test-cmd-0. name: letters, digits, _ and
    -, at most 64 characters (validated: it becomes a file name)."""
    if not name or len(name) > 64 or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"bad segment name {name!r}: use 1-64 letters, digits, '_' or '-'")
    return os.path.join(shm_dir(directory), f"{PREFIX}-{name}-{role}")


@dataclass(frozen=True)
class SegmentInfo:
    path: str
    kind: int
    layout_version: int
    capacity: int
    size_bytes: int
    max_record: int
    creator_pid: int
    state: int
    heartbeat_ns: int


class Segment:
    """A mapped segment. Create with ``Segment.create`` or ``Segment.attach``."""

    def __init__(self, handle: Any, path: str) -> None:
        self._seg = handle          # ring_seg_t * (cffi-owned memory)
        self.path = path

    @classmethod
    def create(cls, path: str, kind: int, capacity: int = 0, max_record: int = 0,
               replace_stale: bool = True) -> "Segment":
        seg = ffi.new("ring_seg_t *")
        flags = lib.RING_SEG_REPLACE_STALE if replace_stale else 0
        check(lib.ring_seg_create(seg, path.encode(), kind, capacity, max_record, flags), path)
        return cls(seg, path)

    @classmethod
    def attach(cls, path: str, kind: int, capacity: int = 0, stale_ns: int = 0) -> "Segment":
        """Maps and validates; raises the SegmentError subclass naming what is wrong.
        capacity 0 accepts any; stale_ns 0 skips the heartbeat age check."""
        seg = ffi.new("ring_seg_t *")
        rc = lib.ring_seg_attach(seg, path.encode(), kind, capacity, stale_ns)
        check(rc, path, seg.err_found, seg.err_expected)
        return cls(seg, path)

    @property
    def handle(self) -> Any:
        return self._seg

    @property
    def kind(self) -> int:
        return int(self._seg.kind)

    @property
    def capacity(self) -> int:
        return int(self._seg.hdr.capacity)

    def info(self) -> SegmentInfo:
        h = self._seg.hdr
        return SegmentInfo(self.path, int(h.kind), int(h.layout_version), int(h.capacity),
                           int(h.size_bytes), int(h.max_record), int(h.creator_pid),
                           int(lib.ring_seg_state(self._seg)),
                           int(lib.ring_seg_heartbeat_ns(self._seg)))

    def state(self) -> int:
        return int(lib.ring_seg_state(self._seg))

    def set_state(self, state: int) -> None:
        check(lib.ring_seg_set_state(self._seg, state), self.path)

    def heartbeat_ns(self) -> int:
        return int(lib.ring_seg_heartbeat_ns(self._seg))

    def heartbeat(self) -> None:
        lib.ring_seg_heartbeat(self._seg, lib.ring_now_ns())

    def check_live(self, stale_ns: int = 0) -> None:
        check(lib.ring_seg_check_live(self._seg, stale_ns), self.path)

    def data(self) -> np.ndarray:
        """The data area as a uint8 view (rings only)."""
        if self._seg.data == ffi.NULL:
            raise ValueError(f"segment {self.path}: a control segment has no data area")
        return np.frombuffer(ffi.buffer(self._seg.data, self.capacity), dtype=np.uint8)

    def raw(self) -> np.ndarray:
        """The whole mapping (header included) as a uint8 view: for inspection and tests."""
        return np.frombuffer(ffi.buffer(self._seg.base, self._seg.size_bytes), dtype=np.uint8)

    def control(self) -> Any:
        """The control block as cdata (``ring_control_t *`` etc. by kind). Fields that others
        write concurrently must be read through C helpers, not this cdata, when ordering
        matters; monitors may read counters from it."""
        ctype = {KIND_SPSC: "ring_spsc_ctl_t *", KIND_BROADCAST: "ring_bcast_ctl_t *",
                 KIND_CONTROL: "ring_control_t *"}[self.kind]
        return ffi.cast(ctype, self._seg.ctl)

    def detach(self) -> None:
        if self._seg.base != ffi.NULL:
            check(lib.ring_seg_detach(self._seg), self.path)

    def close(self, unlink: bool = True) -> None:
        """Creator side: mark CLOSED, optionally remove the file, unmap."""
        if self._seg.base == ffi.NULL:
            return
        self.set_state(lib.RING_STATE_CLOSED)
        if unlink:
            unlink_segment(self.path)
        self.detach()

    def __enter__(self) -> "Segment":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._seg.created:
            self.close()
        else:
            self.detach()


def unlink_segment(path: str) -> bool:
    """Removes a segment file; False if it was not there."""
    rc = lib.ring_seg_unlink(path.encode())
    if rc == -2:                    # ENOENT
        return False
    check(rc, path)
    return True
