"""Typed exceptions for the shared-memory layer, and the one function that maps C return codes to
them (``check``). "Try again" (``TryAgain``: full, empty, timeout, lapped), "you are wrong"
(``RingInvalid``) and "this segment cannot be used" (``SegmentError`` and its kinds) stay apart;
a system call failure becomes ``OSError`` with its errno. Messages name the segment path."""
from __future__ import annotations

import errno as _errno
import os

from native._venue import lib


class ShmError(Exception):
    """Base of every error raised by ``shm``."""


class TryAgain(ShmError):
    """Nothing is wrong, but the operation cannot complete now."""


class RingFull(TryAgain):
    """The ring has no room for the record now; nothing was written."""


class RingEmpty(TryAgain):
    """Nothing complete to read now."""


class RingTimeout(TryAgain):
    """A bounded wait expired."""


class RingLapped(TryAgain):
    """A broadcast reader fell more than the log's capacity behind; resync from a snapshot."""


class RingInvalid(ShmError, ValueError):
    """The caller passed something wrong (bad type, length, capacity or argument)."""


class SegmentError(ShmError):
    """The segment cannot be used; ``path`` names it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"segment {path}: {message}")
        self.path = path


class SegmentMissing(SegmentError, FileNotFoundError):
    pass


class SegmentTruncated(SegmentError):
    pass


class SegmentBadMagic(SegmentError):
    pass


class SegmentVersionMismatch(SegmentError):
    pass


class SegmentKindMismatch(SegmentError):
    pass


class SegmentCapacityMismatch(SegmentError):
    pass


class SegmentNotReady(SegmentError, TryAgain):
    pass


class SegmentClosed(SegmentError):
    pass


class SegmentStale(SegmentError):
    """The segment's creator is gone (or hung: see ``SegmentHeartbeatStale``)."""


class SegmentHeartbeatStale(SegmentStale):
    pass


class SegmentExists(SegmentError, FileExistsError):
    pass


class SegmentCorrupt(SegmentError):
    pass


_KIND_NAMES = {1: "spsc", 2: "broadcast", 3: "control"}


def kind_name(kind: int) -> str:
    return _KIND_NAMES.get(kind, f"unknown kind {kind}")


def check(rc: int, path: str | None = None, found: int = 0, expected: int = 0) -> int:
    """Returns rc if it is not an error (>= 0), else raises the exception it stands for.

    ``found`` / ``expected`` are the offending and the wanted value a failed attach reports
    (``ring_seg_t.err_found`` / ``err_expected``)."""
    if rc >= 0:
        return rc
    where = path or "(no segment)"
    if rc == lib.RING_FULL:
        raise RingFull(f"{where}: ring full, record not written")
    if rc == lib.RING_EMPTY:
        raise RingEmpty(f"{where}: nothing to read")
    if rc == lib.RING_TIMEOUT:
        raise RingTimeout(f"{where}: timed out waiting")
    if rc == lib.RING_LAPPED:
        raise RingLapped(f"{where}: reader was lapped by the writer")
    if rc == lib.RING_INVALID:
        raise RingInvalid(f"{where}: invalid argument")
    if rc == lib.RING_TOO_BIG:
        raise RingInvalid(f"{where}: record longer than the ring's max_record")
    if rc == lib.RING_SEG_MISSING:
        raise SegmentMissing(where, "does not exist (is the engine running, and with this name?)")
    if rc == lib.RING_SEG_TRUNCATED:
        raise SegmentTruncated(where, f"file is {found} bytes, its header needs {expected}")
    if rc == lib.RING_SEG_BAD_MAGIC:
        raise SegmentBadMagic(where, f"wrong magic {found:#018x} (expected {expected:#018x}): "
                                     "not a venue segment")
    if rc == lib.RING_SEG_BAD_VERSION:
        raise SegmentVersionMismatch(where, f"incompatible layout version {found} (this build "
                                            f"reads version {expected}); restart its creator "
                                            "with the same build")
    if rc == lib.RING_SEG_BAD_KIND:
        raise SegmentKindMismatch(where, f"is a {kind_name(found)} segment, expected "
                                         f"{kind_name(expected)}")
    if rc == lib.RING_SEG_BAD_CAPACITY:
        raise SegmentCapacityMismatch(where, f"capacity {found} bytes, expected {expected}")
    if rc == lib.RING_SEG_NOT_READY:
        raise SegmentNotReady(where, "its creator is still initialising it")
    if rc == lib.RING_SEG_CLOSED:
        raise SegmentClosed(where, "closed by its creator")
    if rc == lib.RING_SEG_CREATOR_DEAD:
        raise SegmentStale(where, f"stale: creator pid {found} is dead")
    if rc == lib.RING_SEG_HEARTBEAT_STALE:
        raise SegmentHeartbeatStale(where, f"stale: heartbeat is {found / 1e6:.1f} ms old "
                                           f"(limit {expected / 1e6:.1f} ms)")
    if rc == lib.RING_SEG_EXISTS:
        raise SegmentExists(where, "already exists and its creator is alive")
    if rc == lib.RING_SEG_CORRUPT:
        raise SegmentCorrupt(where, "header or record fields are inconsistent")
    if -4096 < rc < 0:
        err = -rc
        raise OSError(err, f"{os.strerror(err)} ({_errno.errorcode.get(err, err)})", where)
    raise ShmError(f"{where}: unknown status {rc}")
