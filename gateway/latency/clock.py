"""The order path's clock as Python sees it: which source this process uses and its calibration.

Owns nothing but the calls into native/hdr/hdr_clock.c; the choice is process-wide and is made once at
start-up (hdr_clock_init) or copied from a region's creator (hdr_clock_adopt).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from native._venue import ffi, lib

from gateway.latency.errors import LayoutError, check_rc

_SOURCES = {"auto": lib.HDR_CLOCK_AUTO, "monotonic": lib.HDR_CLOCK_MONOTONIC,
            "tsc": lib.HDR_CLOCK_TSC}
_NAMES = {lib.HDR_CLOCK_MONOTONIC: "monotonic", lib.HDR_CLOCK_TSC: "tsc"}


@dataclass(frozen=True)
class ClockInfo:
    source: str                  # "tsc" or "monotonic"
    tsc_invariant_cpuid: bool
    tsc_flags_cpuinfo: bool
    ticks_per_ns: float
    ns_mult: int
    ns_shift: int
    calibration_window_ns: int
    description: str             # the start-up line, e.g. "clock: tsc (invariant: ...)"

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _from_c(info: Any) -> ClockInfo:
    buf = ffi.new("char[]", 256)
    lib.hdr_clock_describe(info, buf, 256)
    return ClockInfo(_NAMES.get(info.source, f"unknown({info.source})"),
                     bool(info.tsc_invariant_cpuid), bool(info.tsc_flags_cpuinfo),
                     float(info.ticks_per_ns), int(info.ns_mult), int(info.ns_shift),
                     int(info.calibration_window_ns), ffi.string(buf).decode())


def to_c(clock: ClockInfo) -> object:
    """A hdr_clock_info_t* holding clock (for hdr_clock_adopt / hdr_region_init)."""
    info = ffi.new("hdr_clock_info_t *")
    info.source = lib.HDR_CLOCK_TSC if clock.source == "tsc" else lib.HDR_CLOCK_MONOTONIC
    info.tsc_invariant_cpuid = int(clock.tsc_invariant_cpuid)
    info.tsc_flags_cpuinfo = int(clock.tsc_flags_cpuinfo)
    info.ticks_per_ns = clock.ticks_per_ns
    info.ns_mult = clock.ns_mult
    info.ns_shift = clock.ns_shift
    info.calibration_window_ns = clock.calibration_window_ns
    return info


def clock_from_c(info: object) -> ClockInfo:
    return _from_c(info)


def init_clock(requested: str = "auto", calibration_window_ns: int = 0) -> ClockInfo:
    """Chooses and calibrates this process's clock (see hdr_clock_init); returns what was chosen."""
    if requested not in _SOURCES:
        raise LayoutError(f"clock {requested!r}: expected one of {sorted(_SOURCES)}")
    info = ffi.new("hdr_clock_info_t *")
    check_rc(lib.hdr_clock_init(_SOURCES[requested], calibration_window_ns, info),
             f"hdr_clock_init({requested})")
    return _from_c(info)


def adopt_clock(clock: ClockInfo) -> ClockInfo:
    """Makes this process stamp and convert like `clock` (a region creator's)."""
    check_rc(lib.hdr_clock_adopt(to_c(clock)), f"hdr_clock_adopt({clock.source})")
    return current_clock()


def current_clock() -> ClockInfo:
    info = ffi.new("hdr_clock_info_t *")
    lib.hdr_clock_current(info)
    return _from_c(info)


def now_ticks() -> int:
    """hdr_now() through a call: for tests and tools, never for per-message timing in Python."""
    return int(lib.hdr_clock_now())


def ticks_to_ns(ticks: int) -> int:
    return int(lib.hdr_clock_ticks_to_ns(ticks))
