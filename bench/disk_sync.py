"""The disk's own durable-write latency, per mechanism a journal could use to make an appended
4 KiB block durable, measured in the journal's directory (its filesystem and device) for
bench/journal_wire.py's lone-order comparison (issue #16 point 8: choose the mechanism from
measurement).

Mechanisms, each writing one 4 KiB block per sample:
  odirect_dsync_4k            pwrite with O_DIRECT|O_DSYNC into a preallocated file of real zero
                              blocks (the journal's segments are so made): the device's write
                              plus its cache flush (FUA), no page cache
  msync_4k                    one dirtied page of a MAP_SHARED mapping of such a file, msync
                              MS_SYNC (what jrnl_log_sync does: vfs_fsync_range, datasync)
  rwf_dsync_4k                buffered pwritev2(..., RWF_DSYNC): a range fdatasync per write
  pwrite_fdatasync_4k         buffered pwrite, then fdatasync of the whole file
  odirect_dsync_fallocated_4k as the first, into a fallocate()d file: every block written for
                              the first time converts an unwritten extent, a metadata change
                              the filesystem's journal must commit too (why segments are made of
                              written zeros, not fallocated)
  odirect_dsync_4k_two_in_flight
                              the first, from two threads at once (a second sync in flight):
                              each write's latency while another is in flight
The first five are taken in turn, sample by sample, so load and the disk's drift fall on each
alike; a run can be split into slices taken between other measurements (DiskSamples.extend).
Timed in Python around the system call: about 1-2 us of overhead per sample.
"""
from __future__ import annotations

import mmap
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BLOCK = 4096
SERIAL = ("odirect_dsync_4k", "msync_4k", "rwf_dsync_4k", "pwrite_fdatasync_4k",
          "odirect_dsync_fallocated_4k")
TWO_IN_FLIGHT = "odirect_dsync_4k_two_in_flight"
MECHANISMS = SERIAL + (TWO_IN_FLIGHT,)
# Blocks of the preallocated probe files; samples wrap around them (the fallocated file is made
# afresh per slice, so each of its writes meets an unwritten extent).
PROBE_BLOCKS = 1024


def _zero_file(path: Path, blocks: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    zeros = b"\0" * (BLOCK * 64)
    for off in range(0, blocks * BLOCK, len(zeros)):
        os.pwrite(fd, zeros, off)
    os.fsync(fd)
    return fd


def _timed(call: object, *args: object) -> int:
    t0 = time.perf_counter_ns()
    call(*args)  # type: ignore[operator]
    return time.perf_counter_ns() - t0


@dataclass
class DiskSamples:
    """Latency samples (ns) per mechanism, gathered in one or more slices."""
    directory: Path
    ns: dict[str, list[int]] = field(default_factory=lambda: {m: [] for m in MECHANISMS})

    def extend(self, rounds: int) -> None:
        """rounds more samples of every mechanism (the serial ones in turn, then the two in
        flight)."""
        if rounds <= 0:
            return
        tag = uuid.uuid4().hex[:6]
        written = self.directory / f"disk-probe-{tag}"
        fallocated = self.directory / f"disk-probe-{tag}-fallocated"
        fd = _zero_file(written, PROBE_BLOCKS)
        ffd = os.open(fallocated, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        dfd = os.open(written, os.O_RDWR | os.O_DIRECT | os.O_DSYNC)
        dffd = -1
        try:
            os.posix_fallocate(ffd, 0, rounds * BLOCK)
            os.fsync(ffd)
            dffd = os.open(fallocated, os.O_RDWR | os.O_DIRECT | os.O_DSYNC)
            self._serial(fd, dfd, dffd, rounds)
            self._two_in_flight(dfd, rounds)
        finally:
            for f in (dfd, dffd, ffd, fd):
                if f >= 0:
                    os.close(f)
            written.unlink()
            fallocated.unlink()

    def _serial(self, fd: int, dfd: int, dffd: int, rounds: int) -> None:
        page = mmap.mmap(-1, BLOCK)                 # page-aligned, as O_DIRECT wants
        page.write(b"d" * BLOCK)
        shared = mmap.mmap(fd, PROBE_BLOCKS * BLOCK)
        data = b"b" * BLOCK
        ns = self.ns
        try:
            for i in range(rounds):
                off = (i % PROBE_BLOCKS) * BLOCK
                ns["odirect_dsync_4k"].append(_timed(os.pwritev, dfd, [page], off))
                shared[off:off + 128] = b"m" * 128
                ns["msync_4k"].append(_timed(shared.flush, off, BLOCK))
                ns["rwf_dsync_4k"].append(_timed(os.pwritev, fd, [data], off, os.RWF_DSYNC))
                t0 = time.perf_counter_ns()
                os.pwrite(fd, data, off)
                os.fdatasync(fd)
                ns["pwrite_fdatasync_4k"].append(time.perf_counter_ns() - t0)
                ns["odirect_dsync_fallocated_4k"].append(
                    _timed(os.pwritev, dffd, [page], i * BLOCK))
        finally:
            shared.close()
            page.close()

    def _two_in_flight(self, dfd: int, rounds: int) -> None:
        """Two threads, each `rounds // 2` O_DIRECT|O_DSYNC writes to its own half of the file,
        started together (the GIL is released in the system call)."""
        out: list[list[int]] = [[], []]
        start = threading.Barrier(2)

        def writer(k: int) -> None:
            page = mmap.mmap(-1, BLOCK)
            page.write(b"t" * BLOCK)
            start.wait()
            for i in range(max(rounds // 2, 1)):
                off = (k * (PROBE_BLOCKS // 2) + i % (PROBE_BLOCKS // 2)) * BLOCK
                out[k].append(_timed(os.pwritev, dfd, [page], off))
            page.close()

        threads = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.ns[TWO_IN_FLIGHT].extend(out[0] + out[1])

    def percentiles(self) -> dict[str, dict[str, float]]:
        """mechanism -> p50_ns, p99_ns and the sample count."""
        out = {}
        for m, v in self.ns.items():
            a = np.asarray(v, dtype=np.int64)
            out[m] = {"p50_ns": float(np.percentile(a, 50)) if len(a) else 0.0,
                      "p99_ns": float(np.percentile(a, 99)) if len(a) else 0.0,
                      "samples": float(len(a))}
        return out
