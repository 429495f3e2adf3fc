"""What does removing a journal file do to the durable writes of everyone else on the disk?

The journal's retention (native/journal/jrnl_prune.c, in the snapshot child while the venue
trades) removes 64 MiB segments and old snapshots. On a file system mounted with `discard` (this
machine's ext4: /proc/mounts), freeing a file's blocks sends the disk one discard per extent at
once, and the disk serves the durable writes queued behind it only after it. This bench measures
the stall: a probe thread makes one 4 KiB block durable (pwrite with O_DIRECT|O_DSYNC, the disk's
own durable write, bench/disk_sync.py) every PROBE_GAP_S, while the main thread removes a written
file of FILE_MB MiB, each way in turn in one run:
  unlink      unlink(2) of the whole file (the baseline: what prune did)
  jrnl_drop   native/journal/jrnl_drop.c: renamed aside, shrunk 1 MiB at a time with a 1 ms
              pause, then unlinked (what prune does now)
Per way: the longest and the P99 probe write from the removal's start to its end plus
SETTLE_S (a discard's stall shows in the writes queued behind it), the probe's P50 with nothing
being removed (same run), and the removal's own wall time. Rounds alternate the two ways so load
from other work falls on both alike; the figures are over all rounds.

    python bench/file_removal.py [--quick] [--dir DIR]
Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import mmap
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from native._venue import lib

BLOCK = 4096
FILE_MB = 64                # a journal segment as `up` makes them (--segment-mb default)
PROBE_GAP_S = 0.0005
SETTLE_S = 0.02
WAYS = ("unlink", "jrnl_drop")


def _write_file(path: Path, mb: int) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        chunk = b"\x5a" * (1 << 20)
        for i in range(mb):
            os.pwrite(fd, chunk, i << 20)
        os.fsync(fd)
    finally:
        os.close(fd)


class Probe:
    """A thread making one 4 KiB block durable every PROBE_GAP_S: (start ns, latency ns)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "probe"
        _write_file(self.path, 1)
        self.samples: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_DIRECT | os.O_DSYNC)
        page = mmap.mmap(-1, BLOCK)          # page-aligned, as O_DIRECT wants
        page.write(b"p" * BLOCK)
        try:
            i = 0
            while not self._stop.is_set():
                t0 = time.perf_counter_ns()
                os.pwritev(fd, [page], (i % 256) * BLOCK)
                self.samples.append((t0, time.perf_counter_ns() - t0))
                i += 1
                time.sleep(PROBE_GAP_S)
        finally:
            page.close()
            os.close(fd)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.path.unlink()

    def between(self, t0: int, t1: int) -> list[int]:
        return [lat for t, lat in list(self.samples) if t0 <= t <= t1]


def _remove(way: str, path: Path) -> None:
    if way == "unlink":
        path.unlink()
        return
    rc = lib.jrnl_drop_file(str(path).encode())
    if rc != 0:
        raise OSError(-rc, f"jrnl_drop_file {path}")


def measure(directory: Path, rounds: int) -> dict[str, dict[str, float]]:
    during: dict[str, list[int]] = {w: [] for w in WAYS}
    removal_ns: dict[str, list[int]] = {w: [] for w in WAYS}
    quiet: list[int] = []
    with Probe(directory) as probe:
        for r in range(rounds):
            for way in WAYS if r % 2 == 0 else WAYS[::-1]:
                victim = directory / f"victim-{way}-{r}"
                _write_file(victim, FILE_MB)
                time.sleep(0.2)                  # the write's own traffic gone
                q0 = time.perf_counter_ns()
                time.sleep(0.1)
                t0 = time.perf_counter_ns()
                quiet += probe.between(q0, t0)
                _remove(way, victim)
                t1 = time.perf_counter_ns()
                time.sleep(SETTLE_S)
                removal_ns[way].append(t1 - t0)
                during[way] += probe.between(t0 - int(SETTLE_S * 1e9), t1 + int(SETTLE_S * 1e9))
    q = np.asarray(quiet)
    out = {"quiet": {"p50_ns": float(np.percentile(q, 50)), "p99_ns": float(np.percentile(q, 99)),
                     "max_ns": float(q.max()), "samples": float(len(q))}}
    for way in WAYS:
        d = np.asarray(during[way])
        out[way] = {"p50_ns": float(np.percentile(d, 50)), "p99_ns": float(np.percentile(d, 99)),
                    "max_ns": float(d.max()), "samples": float(len(d)),
                    "removal_ns_median": float(np.median(removal_ns[way]))}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds: within 60 s")
    ap.add_argument("--dir", default="/var/tmp",
                    help="directory on the disk to measure (default /var/tmp, as the journal)")
    args = ap.parse_args()
    rounds = 8 if args.quick else 24
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="venue-bench-removal-", dir=args.dir) as tmp:
        r = measure(Path(tmp), rounds)
    load_after = os.getloadavg()[0]
    print(f"durable 4 KiB writes (O_DIRECT|O_DSYNC, one every {PROBE_GAP_S * 1e3:.1f} ms) while a "
          f"written {FILE_MB} MiB file is removed, {rounds} rounds per way alternated; load "
          f"{load_before:.1f} -> {load_after:.1f}")
    print(f"{'':<22}{'p50 us':>9}{'p99 us':>10}{'max us':>10}{'writes':>8}{'removal ms':>12}")
    for name in ("quiet",) + WAYS:
        v = r[name]
        rm = f"{v['removal_ns_median'] / 1e6:>12.1f}" if "removal_ns_median" in v else ""
        print(f"{name if name != 'quiet' else 'nothing removed':<22}{v['p50_ns'] / 1e3:>9.0f}"
              f"{v['p99_ns'] / 1e3:>10.0f}{v['max_ns'] / 1e3:>10.0f}{v['samples']:>8.0f}{rm}")
    un, dr = r["unlink"], r["jrnl_drop"]
    fs = os.statvfs(args.dir)
    print(json.dumps({
        "bench": "file_removal",
        "machine": {"cores": os.cpu_count(), "kernel": platform.release(),
                    "fs_block_bytes": fs.f_bsize, "quick": args.quick, "rounds": rounds,
                    "file_mb": FILE_MB, "loadavg_1m_before": load_before,
                    "loadavg_1m_after": load_after},
        "metrics": {f"{w}_{k}": v for w in ("quiet",) + WAYS for k, v in r[w].items()},
        "baselines": {"unlink_max_ns": un["max_ns"], "unlink_p99_ns": un["p99_ns"],
                      "quiet_p50_ns": r["quiet"]["p50_ns"]},
        "ratios": {"jrnl_drop_max_vs_unlink": dr["max_ns"] / un["max_ns"],
                   "jrnl_drop_p99_vs_unlink": dr["p99_ns"] / un["p99_ns"],
                   "unlink_max_vs_quiet_p50": un["max_ns"] / r["quiet"]["p50_ns"],
                   "jrnl_drop_max_vs_quiet_p50": dr["max_ns"] / r["quiet"]["p50_ns"]}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
