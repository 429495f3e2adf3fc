"""Round-trip latency probes between two processes, timed in C (native/bench/ring_probe.c):

- ``cacheline_pingpong_ns``: two cache lines in shared memory, one written by each side; the
  physical limit of passing a word between these two CPUs and back.
- ``ring_pingpong_ns``: the same exchange through two of our SPSC rings (8-byte payloads).

Each forks one child pinned to cpus[1] while the caller pins itself to cpus[0] for the run (its
affinity is restored afterwards). cpus None leaves both unpinned. Returns one round trip per
sample, in ns. The tuning helper calls ``ring_pingpong_ns(samples, cpus)`` as is."""
from __future__ import annotations

import mmap
import os
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

from native._venue import ffi, lib
from shm.errors import check
from shm.segment import KIND_SPSC, Segment, segment_path

TIMEOUT_NS = 5_000_000_000
WARMUP = 1000


@contextmanager
def _pinned(cpu: int | None) -> Iterator[None]:
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _validate(samples: int, cpus: tuple[int, int] | None) -> None:
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if cpus is not None:
        allowed = os.sched_getaffinity(0)
        bad = [c for c in cpus if c not in allowed]
        if len(cpus) != 2 or bad:
            raise ValueError(f"cpus must be two of this process's CPUs {sorted(allowed)}, "
                             f"got {cpus}")


def _run_pair(cpus: tuple[int, int] | None, child: Callable[[], int],
              parent: Callable[[], int]) -> None:
    """Forks; the child (pinned to cpus[1]) runs child() and exits with 0 on success. The parent
    (pinned to cpus[0]) runs parent(); errors from either side raise."""
    pid = os.fork()
    if pid == 0:
        rc = 1
        try:
            if cpus is not None:
                os.sched_setaffinity(0, {cpus[1]})
            rc = 0 if child() == 0 else 1
        finally:
            os._exit(rc)
    try:
        with _pinned(cpus[0] if cpus else None):
            prc = parent()
    finally:
        _, status = os.waitpid(pid, 0)
    check(prc)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"probe child failed (status {status})")


def cacheline_pingpong_ns(samples: int, cpus: tuple[int, int] | None = None) -> np.ndarray:
    _validate(samples, cpus)
    area = mmap.mmap(-1, mmap.PAGESIZE, flags=mmap.MAP_SHARED)
    lines = ffi.cast("ring_probe_lines_t *", ffi.from_buffer(area))
    rtt = np.zeros(samples, dtype=np.uint64)
    crtt = ffi.cast("uint64_t *", ffi.from_buffer(rtt))
    _run_pair(cpus, lambda: lib.ring_probe_line_pong(lines, WARMUP + samples, TIMEOUT_NS),
              lambda: lib.ring_probe_line_ping(lines, crtt, samples, WARMUP, TIMEOUT_NS))
    del lines
    area.close()
    return rtt


def ring_pingpong_ns(samples: int, cpus: tuple[int, int] | None = None,
                     payload_bytes: int = 8) -> np.ndarray:
    _validate(samples, cpus)
    tag = f"probe{os.getpid()}"
    a_path, b_path = segment_path(tag, "ab"), segment_path(tag, "ba")
    seg_ab = Segment.create(a_path, KIND_SPSC, 1 << 16)
    try:
        seg_ba = Segment.create(b_path, KIND_SPSC, 1 << 16)
    except BaseException:
        seg_ab.close()
        raise
    try:
        rtt = np.zeros(samples, dtype=np.uint64)
        crtt = ffi.cast("uint64_t *", ffi.from_buffer(rtt))

        def child() -> int:
            in_ab = ffi.new("ring_spsc_t *")
            out_ba = ffi.new("ring_spsc_t *")
            ab = Segment.attach(a_path, KIND_SPSC)
            ba = Segment.attach(b_path, KIND_SPSC)
            check(lib.ring_spsc_init(in_ab, ab.handle))
            check(lib.ring_spsc_init(out_ba, ba.handle))
            return int(lib.ring_probe_ring_pong(in_ab, out_ba, WARMUP + samples, TIMEOUT_NS))

        out_ab = ffi.new("ring_spsc_t *")
        in_ba = ffi.new("ring_spsc_t *")
        check(lib.ring_spsc_init(out_ab, seg_ab.handle))
        check(lib.ring_spsc_init(in_ba, seg_ba.handle))
        _run_pair(cpus, child, lambda: lib.ring_probe_ring_ping(
            out_ab, in_ba, payload_bytes, crtt, samples, WARMUP, TIMEOUT_NS))
        return rtt
    finally:
        seg_ab.close()
        seg_ba.close()
