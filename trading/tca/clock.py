"""Engine time -> UTC, and what is known about the accuracy of that mapping.

The sequencer stamps every command (and its events) with ``ts_ns``: CLOCK_MONOTONIC at dequeue in a
live engine (native/runner/runner_loop.c, never going back, across restarts too), or whatever the
producer of a replayed/test journal chose. Reports that need calendar time (daily reports, RTS 22
trading date-time, the audit trail) map it to UTC as follows:

- ``ts_ns >= 10**18`` (later than 2001-09-09 as epoch nanoseconds; a monotonic clock would need 31
  years of uptime to get there): the stamps are already UTC epoch nanoseconds; offset 0.
- otherwise: the command journal's first segment header holds ``created_realtime_ns``
  (CLOCK_REALTIME when the engine created it, at start-up) and its first record the monotonic
  ``ts_ns`` of the first command, taken just after. offset = created_realtime_ns - first ts_ns.
  The mapping runs ahead of the truth by the gap between creating the segment and sequencing
  the first command (the engine's boot commands follow at once: milliseconds), and it is only
  valid while the host was not rebooted and the realtime clock was not stepped during the day.

``host_clock_error_us`` reads the kernel's estimated and maximum error of CLOCK_REALTIME
(adjtimex(2), as NTP/PTP discipline it) for the audit trail's "clock synchronisation accuracy".
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass
from datetime import datetime, timezone

from native._venue import ffi, lib

UTC_THRESHOLD_NS = 10**18


@dataclass(frozen=True)
class ClockMapping:
    offset_ns: int          # utc_ns = ts_ns + offset_ns
    source: str             # how the offset was found, for report headers

    def utc_ns(self, ts_ns: int) -> int:
        return int(ts_ns) + self.offset_ns

    def utc(self, ts_ns: int) -> datetime:
        ns = self.utc_ns(ts_ns)
        return datetime.fromtimestamp(ns // 1_000_000_000, tz=timezone.utc).replace(
            microsecond=(ns % 1_000_000_000) // 1000)

    def iso_us(self, ts_ns: int) -> str:
        """ISO 8601 UTC with microseconds, e.g. 2026-12-07T14:30:00.123456Z (RTS 25 granularity)."""
        return self.utc(ts_ns).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _first_cmd_segment_header(directory: str) -> tuple[int, str]:
    first = ffi.new("uint64_t *")
    if lib.jrnl_first_segment(directory.encode(), lib.JRNL_KIND_CMD, first) != 0:
        return 0, ""
    path = os.path.join(directory, f"cmd-{first[0]:016d}.jrnl")
    with open(path, "rb") as f:
        raw = f.read(lib.JRNL_SEG_HDR_BYTES)
    if len(raw) < lib.JRNL_SEG_HDR_BYTES:
        return 0, ""
    hdr = ffi.cast("jrnl_seg_hdr_t *", ffi.from_buffer(raw))
    return int(hdr.created_realtime_ns), path


def clock_mapping(directory: str, first_ts_ns: int) -> ClockMapping:
    """The mapping for a journal whose first command record has ts_ns first_ts_ns."""
    if first_ts_ns >= UTC_THRESHOLD_NS:
        return ClockMapping(0, "engine stamps are UTC epoch ns (replayed or test journal)")
    created, path = _first_cmd_segment_header(directory)
    if created <= 0:
        return ClockMapping(0, "no segment header time: stamps shown as engine time since boot")
    return ClockMapping(created - first_ts_ns,
                        f"CLOCK_MONOTONIC anchored to {os.path.basename(path)} created_realtime_ns "
                        "(ahead by the segment-to-first-command gap, ms at most at start-up)")


class _Timex(ctypes.Structure):
    # struct timex (x86-64 / aarch64 glibc): only the leading fields are read
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long),
                ("tolerance", ctypes.c_long), ("time_sec", ctypes.c_long),
                ("time_usec", ctypes.c_long), ("tick", ctypes.c_long), ("pad", ctypes.c_long * 20)]


@dataclass(frozen=True)
class ClockAccuracy:
    est_error_us: int | None
    max_error_us: int | None
    synchronised: bool | None
    note: str


def host_clock_error_us() -> ClockAccuracy:
    """adjtimex(2) read-only query (modes = 0): the kernel's estimated and maximum error of
    CLOCK_REALTIME in microseconds and whether it is synchronised (TIME_ERROR = 5 means not)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError) as exc:
        return ClockAccuracy(None, None, None, f"adjtimex unavailable: {exc}")
    if state < 0:
        return ClockAccuracy(None, None, None, f"adjtimex failed: {os.strerror(ctypes.get_errno())}")
    synced = state != 5
    return ClockAccuracy(int(tx.esterror), int(tx.maxerror), synced,
                         "kernel adjtimex estimate" + ("" if synced else " (clock not synchronised)"))
