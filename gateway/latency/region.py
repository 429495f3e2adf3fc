"""Python's view of a latency region (venue_layout.h Section 5): create, attach, snapshot.

Owns the mapping of the region's memory (an anonymous buffer, a /dev/shm file, or memory another
component hands over) for as long as the LatencyRegion object lives. Every read of a count goes
through hdr_region_snapshot(), which loads each word atomically; Python never reads the live counts
through plain cdata. Recording from Python (Recorder) exists for tests and tools that replay values
in batches: the order path records from C.
"""
from __future__ import annotations

import mmap
import os
import time
from pathlib import Path

import numpy as np

from native._venue import ffi, lib

from gateway.latency.clock import ClockInfo, clock_from_c, current_clock, to_c
from gateway.latency.errors import LayoutError, check_rc
from gateway.latency.histogram import LatencyHistogram
from gateway.latency.snapshot import Snapshot
from gateway.latency.spec import HistogramSpec

STAGE_NAMES: tuple[str, ...] = tuple(
    ffi.string(lib.hdr_stage_name(i)).decode() for i in range(lib.HDR_STAGE_COUNT))
END_TO_END = STAGE_NAMES[lib.HDR_STAGE_END_TO_END]


def _params(spec: HistogramSpec) -> object:
    params = ffi.new("hdr_params_t *")
    check_rc(lib.hdr_params_init(params, spec.lowest_discernible_value,
                                 spec.highest_trackable_value, spec.significant_figures),
             "hdr_params_init")
    if params.counts_len != spec.counts_len or params.bucket_count != spec.bucket_count:
        raise LayoutError(f"C and the hdrhistogram package disagree on {spec.to_dict()}: "
                          f"counts_len {params.counts_len} vs {spec.counts_len}")
    return params


def region_bytes(spec: HistogramSpec, hist_count: int = lib.HDR_STAGE_COUNT) -> int:
    """Bytes a region needs (hdr_region_bytes)."""
    out = ffi.new("uint64_t *")
    check_rc(lib.hdr_region_bytes(_params(spec), hist_count, out), "hdr_region_bytes")
    return int(out[0])


class Recorder:
    """A writer's handle on one histogram (hdr_hist_t). One writer per histogram, ever."""

    def __init__(self, region: LatencyRegion, index: int) -> None:
        self._region = region   # keeps the memory mapped while the handle lives
        self._hist = ffi.new("hdr_hist_t *")
        check_rc(lib.hdr_region_hist(region.ptr, index, self._hist), f"hdr_region_hist({index})")

    def record_values(self, values_ns: np.ndarray | list[int]) -> None:
        values = np.ascontiguousarray(values_ns, dtype=np.int64)
        lib.hdr_hist_record_values(self._hist, ffi.from_buffer("int64_t[]", values), values.size)

    def record_corrected_values(self, values_ns: np.ndarray | list[int],
                                expected_interval_ns: int) -> None:
        """Coordinated-omission corrected recording (see omission.py); marks the histogram."""
        check_rc(lib.hdr_hist_declare_corrected(self._hist, expected_interval_ns),
                 "hdr_hist_declare_corrected")
        values = np.ascontiguousarray(values_ns, dtype=np.int64)
        lib.hdr_hist_record_corrected_values(self._hist, ffi.from_buffer("int64_t[]", values),
                                             values.size, expected_interval_ns)

    def record_interval(self, start_ticks: int, end_ticks: int) -> None:
        lib.hdr_hist_record_interval(self._hist, start_ticks, end_ticks)


class LatencyRegion:
    """An initialized and validated region, plus whatever keeps its memory alive."""

    def __init__(self, ptr: object, nbytes: int, owner: object = None) -> None:
        out = ffi.new("hdr_region_t **")
        check_rc(lib.hdr_region_attach(ffi.cast("void *", ptr), nbytes, out), "hdr_region_attach")
        self.ptr = out[0]
        self.nbytes = nbytes
        self._owner = owner
        p = self.ptr.params
        self.spec = HistogramSpec(int(p.lowest_discernible_value),
                                  int(p.highest_trackable_value), int(p.significant_figures))
        self.names: tuple[str, ...] = tuple(
            ffi.string(self.ptr.hists[i].name).decode() for i in range(self.ptr.hist_count))
        self.clock: ClockInfo = clock_from_c(ffi.addressof(self.ptr, "clock"))
        self.created_s = self.ptr.created_realtime_ns / 1e9

    # ---- creating -------------------------------------------------------------------------
    @staticmethod
    def _init(buf: object, nbytes: int, spec: HistogramSpec, names: tuple[str, ...] | None,
              clock: ClockInfo | None) -> None:
        keep = [ffi.new("char[]", n.encode()) for n in names] if names is not None else []
        names_c = ffi.new("char *[]", keep) if names is not None else ffi.NULL
        count = len(names) if names is not None else lib.HDR_STAGE_COUNT
        out = ffi.new("hdr_region_t **")
        clock_c = to_c(clock) if clock is not None else ffi.NULL
        check_rc(lib.hdr_region_init(buf, nbytes, _params(spec), count, names_c, clock_c, out),
                 "hdr_region_init")

    @classmethod
    def create_anonymous(cls, spec: HistogramSpec = HistogramSpec(),
                         names: tuple[str, ...] | None = None,
                         clock: ClockInfo | None = None) -> LatencyRegion:
        """A region in this process's private memory (tests, a load generator's own figures).
        names None: the order-path stages. clock None: this process's current clock."""
        nbytes = region_bytes(spec, len(names) if names is not None else lib.HDR_STAGE_COUNT)
        mm = mmap.mmap(-1, nbytes)
        buf = ffi.from_buffer(mm)
        cls._init(buf, nbytes, spec, names, clock)
        return cls(buf, nbytes, owner=(mm, buf))

    @classmethod
    def create_file(cls, path: str | os.PathLike[str], spec: HistogramSpec = HistogramSpec(),
                    names: tuple[str, ...] | None = None,
                    clock: ClockInfo | None = None) -> LatencyRegion:
        """A region in a file of its own (e.g. /dev/shm/venue-latency) that other processes and
        `python -m gateway report --from PATH` can attach. Refuses to overwrite an existing file."""
        nbytes = region_bytes(spec, len(names) if names is not None else lib.HDR_STAGE_COUNT)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.ftruncate(fd, nbytes)
            mm = mmap.mmap(fd, nbytes, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        buf = ffi.from_buffer(mm)
        cls._init(buf, nbytes, spec, names, clock)
        return cls(buf, nbytes, owner=(mm, buf))

    @classmethod
    def attach_file(cls, path: str | os.PathLike[str], offset: int = 0,
                    writable: bool = False) -> LatencyRegion:
        """Attaches a region that starts `offset` bytes into a file (a page multiple, as mmap
        requires, which every segment layout gives its regions anyway). Read-only unless this
        process will record (writable: then it must also share the region's clock)."""
        path = Path(path)
        if offset < 0 or offset % mmap.ALLOCATIONGRANULARITY:
            raise LayoutError(f"offset {offset}: must be a non-negative multiple of "
                              f"{mmap.ALLOCATIONGRANULARITY}")
        size = path.stat().st_size
        if size <= offset:
            raise LayoutError(f"{path}: {size} bytes, no region at offset {offset}")
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        with open(path, "r+b" if writable else "rb") as f:
            mm = mmap.mmap(f.fileno(), size - offset, mmap.MAP_SHARED, prot, offset=offset)
        buf = ffi.from_buffer(mm)
        return cls(buf, size - offset, owner=(mm, buf))

    # ---- using ----------------------------------------------------------------------------
    def recorder(self, index_or_name: int | str) -> Recorder:
        index = index_or_name if isinstance(index_or_name, int) else self.names.index(index_or_name)
        return Recorder(self, index)

    def snapshot(self) -> Snapshot:
        """Every histogram copied now (cumulative since the region's creation)."""
        hists = []
        tallies = ffi.new("hdr_hist_tallies_t *")
        for i, name in enumerate(self.names):
            counts = np.empty(self.spec.counts_len, dtype=np.uint64)
            check_rc(lib.hdr_region_snapshot(self.ptr, i, ffi.from_buffer("uint64_t[]", counts),
                                             counts.size, tallies), f"hdr_region_snapshot({name})")
            hists.append(LatencyHistogram(name, self.spec, counts.astype(np.int64),
                                          int(tallies.overflow_count), int(tallies.overflow_max),
                                          int(tallies.underflow_count),
                                          int(tallies.co_expected_interval_ns)))
        return Snapshot(self.created_s, time.time(), tuple(hists), self.clock.description)
