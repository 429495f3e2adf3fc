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
  odirect_dsync_4k_lone       the first, each write after a gap of LONE_GAP_NS (the lone orders'
                              interval, busy-waited on the engine's CPU as the engine spins), as
                              a lone order's sync meets the disk
  journal_msync_lone          the journal's own pattern after the same gap: one 128-byte record
                              appended into a segment made as jrnl_segment_make makes it (4 KiB
                              zero writes, mapped, every page pre-faulted writable), then msync
                              from the page of the last synced record to the record's end (what
                              jrnl_log_sync -> jrnl_msync_slots did before the flush file)
  journal_writeback_flush_lone
                              the same append after the same gap, made durable the way the
                              journal does now (native/journal/jrnl_durable.c): data-only
                              writeback of the range (sync_file_range WAIT_BEFORE|WRITE|
                              WAIT_AFTER: the page reaches the device, the inode does not), then
                              fdatasync of the flush target jrnl_flush_file_open gives (ext4's
                              root directory, else a never-written file), which is the device's
                              cache flush alone (a flush makes every completed write durable,
                              whichever file issued it)
The first five are taken in turn, sample by sample, so load and the disk's drift fall on each
alike; then the three lone ones in turn. A run can be split into slices taken between other
measurements (DiskSamples.extend). For the lone ones the device's write and flush requests are
counted around each sample (/proc/diskstats of the directory's device): writes per sync shows the
inode write, flushes per sync the cache flush. Timed in Python around the system call: about
1-2 us of overhead per sample.

Why the lone figures (issue #16 point 8, measured by sync4 with block tracepoints): on a
filesystem that writes the inode with the data (ext4 without a journal, as this machine's root;
/proc/fs/jbd2 is empty), a durable write costs a third device request, the inode block, whenever
the file's mtime changed since the last sync. Every mechanism changes it (a write, or the write
fault on the page msync left clean and write-protected: file_update_time), but only when the
kernel's coarse clock has ticked (one jiffy, 4 ms at HZ=250). Taken back to back (a few hundred
us apart) most samples fall in the same tick and skip it; a lone order every 3 ms pays it about
4 times in 5 (data write ~60 us + inode write ~50 us + cache flush ~50 us at the device, against
~115 us without the inode write). So the back-to-back figures understate what one lone durable
write costs on this filesystem, and the lone figures are the like-for-like baseline for a lone
order's sync; both are reported. The writeback + flush way pays that inode write only if its
flush target shares an inode-table block with the segment (ext4 writes the target's block on its
fsync when any inode in it is dirty): a flush file created beside the segment usually did (2.8
requests per sync, traced with block_rq_issue), ext4's root directory does not (2.0); jrnl_durable.c.
"""
from __future__ import annotations

import ctypes
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
LONE = ("odirect_dsync_4k_lone", "journal_msync_lone", "journal_writeback_flush_lone")
MECHANISMS = SERIAL + (TWO_IN_FLIGHT,) + LONE
# The idle gap before each lone sample: bench/journal_wire.py's LONE_INTERVAL_NS (one order every
# 3 ms), so the coarse clock ticks between samples as often as between lone orders.
LONE_GAP_NS = 3_000_000
# The journal segment's layout (native/layout/venue_layout.h): JRNL_SEG_HDR_BYTES header, then
# JRNL_RECORD_BYTES slots. A probe's stand-in for the journal's write pattern, not a journal.
SEGMENT_HEADER_BYTES = 128
RECORD_BYTES = 128
# madvise(MADV_POPULATE_WRITE) (Linux 5.14; Python 3.11's mmap module lacks the constant).
MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)
# Blocks of the preallocated probe files; samples wrap around them (the fallocated file is made
# afresh per slice, so each of its writes meets an unwritten extent).
PROBE_BLOCKS = 1024
# sync_file_range(2) flags (linux/fs.h); Python's os module lacks the call.
SYNC_FILE_RANGE_WAIT_BEFORE, SYNC_FILE_RANGE_WRITE, SYNC_FILE_RANGE_WAIT_AFTER = 1, 2, 4
_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong,
                                  ctypes.c_uint]


def flush_target_open(directory: Path) -> int:
    """The descriptor whose fdatasync is the journal's cache flush for files in directory, opened
    by the journal's own jrnl_flush_file_open (native/journal/jrnl_durable.c)."""
    from native._venue import ffi, lib
    msg = ffi.new("char[256]")
    fd = int(lib.jrnl_flush_file_open(str(directory).encode(), msg, 256))
    if fd < 0:
        raise OSError(-fd, ffi.string(msg).decode())
    return fd


def sync_file_range_wait(fd: int, off: int, n: int) -> None:
    """Writes back [off, off + n) of fd and waits for it (data pages only, no metadata)."""
    flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER
    if _LIBC.sync_file_range(fd, off, n, flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"sync_file_range: {os.strerror(e)}")


class DeviceCounters:
    """Completed write and flush requests of the block device holding a directory, from
    /proc/diskstats (fields 8 and 19, Documentation/admin-guide/iostats.rst; flushes are counted
    since Linux 5.5: 0 before). Counts the whole device: other writers' requests land in them
    too."""

    def __init__(self, directory: Path) -> None:
        dev = os.stat(directory).st_dev
        self.key = (os.major(dev), os.minor(dev))
        self.found = self.read() is not None

    def read(self) -> tuple[int, int] | None:
        with open("/proc/diskstats") as f:
            for line in f:
                p = line.split()
                if (int(p[0]), int(p[1])) == self.key:
                    return int(p[7]), int(p[18]) if len(p) > 18 else 0
        return None


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


def _spin(ns: int) -> None:
    end = time.perf_counter_ns() + ns
    while time.perf_counter_ns() < end:
        pass


@dataclass
class DiskSamples:
    """Latency samples (ns) per mechanism, gathered in one or more slices."""
    directory: Path
    ns: dict[str, list[int]] = field(default_factory=lambda: {m: [] for m in MECHANISMS})
    # Per lone mechanism: device writes and flushes completed during its samples (sums).
    writes: dict[str, int] = field(default_factory=lambda: {m: 0 for m in LONE})
    flushes: dict[str, int] = field(default_factory=lambda: {m: 0 for m in LONE})
    counted: bool = False               # the directory's device was found in /proc/diskstats

    def extend(self, rounds: int) -> None:
        """rounds more samples of every mechanism (the serial ones in turn, then the two in
        flight, then the three lone ones in turn: about 3 * rounds * LONE_GAP_NS more)."""
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
            self._lone(dfd, rounds)
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

    def _lone(self, dfd: int, rounds: int) -> None:
        """rounds samples each of O_DIRECT|O_DSYNC and the journal's append made durable by
        msync and by writeback + flush, in turn, each after a gap of LONE_GAP_NS, on the last
        CPU (where the lone-order bench pins the engine, which syncs a lone group itself) and
        busy-waiting the gap as the engine spins between orders: a slept gap let the CPU idle
        and added 30-90 us of wake-up to each sample (measured), which is not the disk's and
        not what the engine meets."""
        cpus = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {max(cpus)})
        try:
            self._lone_samples(dfd, rounds)
        finally:
            os.sched_setaffinity(0, cpus)

    def _lone_samples(self, dfd: int, rounds: int) -> None:
        tag = uuid.uuid4().hex[:6]
        segment = self.directory / f"disk-probe-{tag}-segment"
        # As jrnl_segment_make: real zero blocks written 4 KiB at a time (4 KiB folios), mapped,
        # every page pre-faulted writable; records follow the header. Two record areas, one
        # per journal pattern, in one file: the first half's pages for msync, the second's for
        # the writeback + flush.
        blocks = 2 * ((SEGMENT_HEADER_BYTES + rounds * RECORD_BYTES) // BLOCK + 1)
        sfd = os.open(segment, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        # The journal's own flush target (ext4's root directory, else <directory>/device-flush,
        # which the caller's directory removal takes away): its fdatasync has nothing to write.
        ffd = flush_target_open(self.directory)
        page = mmap.mmap(-1, BLOCK)
        page.write(b"l" * BLOCK)
        try:
            for k in range(blocks):
                os.pwrite(sfd, b"\0" * BLOCK, k * BLOCK)
            os.fdatasync(sfd)
            seg = mmap.mmap(sfd, blocks * BLOCK)
            try:
                seg.madvise(MADV_POPULATE_WRITE)
                self._lone_rounds(dfd, sfd, ffd, seg, page, rounds, blocks * BLOCK // 2)
            finally:
                seg.close()
        finally:
            page.close()
            os.close(ffd)
            os.close(sfd)
            segment.unlink()

    def _lone_rounds(self, dfd: int, sfd: int, ffd: int, seg: mmap.mmap, page: mmap.mmap,
                     rounds: int, half: int) -> None:
        """The three lone mechanisms in turn, each sample after its own idle gap, the device's
        requests counted around each."""
        record = b"r" * RECORD_BYTES
        counters = DeviceCounters(self.directory)
        ends = {"journal_msync_lone": SEGMENT_HEADER_BYTES,
                "journal_writeback_flush_lone": half + SEGMENT_HEADER_BYTES}

        def direct(i: int) -> None:
            off = ((PROBE_BLOCKS // 2) + i % (PROBE_BLOCKS // 2)) * BLOCK
            os.pwritev(dfd, [page], off)

        def msync(_: int) -> None:
            end = ends["journal_msync_lone"]
            seg[end:end + RECORD_BYTES] = record
            start = end & ~(BLOCK - 1)              # from the last synced record's page
            seg.flush(start, end + RECORD_BYTES - start)
            ends["journal_msync_lone"] = end + RECORD_BYTES

        def writeback_flush(_: int) -> None:
            end = ends["journal_writeback_flush_lone"]
            seg[end:end + RECORD_BYTES] = record
            start = end & ~(BLOCK - 1)
            sync_file_range_wait(sfd, start, end + RECORD_BYTES - start)
            os.fdatasync(ffd)
            ends["journal_writeback_flush_lone"] = end + RECORD_BYTES

        calls = {"odirect_dsync_4k_lone": direct, "journal_msync_lone": msync,
                 "journal_writeback_flush_lone": writeback_flush}
        for i in range(rounds):
            for name in LONE:
                _spin(LONE_GAP_NS)
                before = counters.read() if counters.found else None
                self.ns[name].append(_timed(calls[name], i))
                after = counters.read() if counters.found else None
                if before is not None and after is not None:
                    self.writes[name] += after[0] - before[0]
                    self.flushes[name] += after[1] - before[1]
        self.counted = counters.found

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
        """mechanism -> p50_ns, p99_ns and the sample count; for a lone one, where the device
        was found, also the device's write and flush requests per sample."""
        out = {}
        for m, v in self.ns.items():
            a = np.asarray(v, dtype=np.int64)
            out[m] = {"p50_ns": float(np.percentile(a, 50)) if len(a) else 0.0,
                      "p99_ns": float(np.percentile(a, 99)) if len(a) else 0.0,
                      "samples": float(len(a))}
            if m in LONE and self.counted and len(a):
                out[m]["writes_per_sync"] = self.writes[m] / len(a)
                out[m]["flushes_per_sync"] = self.flushes[m] / len(a)
        return out
