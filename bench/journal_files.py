"""What do the journal's own background file operations do to the durable writes of everyone
else on the disk (an order's ack waits for two: the engine's journal sync, the gateway's flow
store sync)?

Two operations run while the venue trades, both off the engine loop, but on the same disk:
  removal   retention (native/journal/jrnl_prune.c, in the snapshot child) removes pruned 64 MiB
            segments and old snapshots. On a file system mounted with `discard` (this machine's
            ext4: /proc/mounts) freeing a file's blocks sends the disk its discards at once.
              unlink      unlink(2) of the whole file (the baseline: what prune did)
              jrnl_drop   native/journal/jrnl_drop.c: renamed aside, shrunk 1 MiB at a time with
                          a 1 ms pause, then unlinked (what prune does now)
  snapshot  the engine's image written to a file by the snapshot child (jrnl_snapfile.c).
              one_sync    the same bytes written 1 MiB at a time, then one fdatasync (the
                          baseline: what jrnl_snapshot_save did)
              paced       jrnl_snapshot_save: each MiB written back as it is written
                          (sync_file_range, waited), then fdatasync
  segment   a new 64 MiB segment made of real zero blocks by the segment maker thread
            (jrnl_segment_make) each time the journal rolls.
              seg_one_sync  4 KiB zero writes over the file, then one fdatasync (the baseline:
                            what jrnl_segment_make did)
              seg_paced     jrnl_segment_zero_fill (each MiB written back as it is written),
                            then fdatasync
A probe thread makes one 4 KiB block durable (pwrite with O_DIRECT|O_DSYNC, the disk's own
durable write, bench/disk_sync.py) every PROBE_GAP_S. Per way: the probe's P50, P99 and longest
write from the operation's start to its end plus SETTLE_S, beside the probe with nothing else
running (same run), and the operation's own wall time. Rounds alternate the two ways of each
operation so load from other work falls on both alike.

    python bench/journal_files.py [--quick] [--dir DIR]
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
from collections.abc import Callable
from pathlib import Path
from typing import Self

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gateway.cli_paths import existing_dir
from gateway.enginehost import journal
from native import records
from native._venue import ffi, lib
from native.messages import AddInstrument, SetPhase
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

BLOCK = 4096
FILE_MB = 64                # a journal segment as `up` makes them (--segment-mb default)
PROBE_GAP_S = 0.0005
SETTLE_S = 0.02
OPERATIONS = {"removal": ("unlink", "jrnl_drop"), "snapshot": ("one_sync", "paced"),
              "segment": ("seg_one_sync", "seg_paced")}
SEED = 20261207


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


def snapshot_engine(resting: int, max_orders: int = 1 << 20, seed: int = SEED) -> journal.ReplayEngine:
    """An engine of `max_orders` order slots holding `resting` orders that never cross (seeded);
    bench/journal.py's snapshot pause uses it too."""
    eng = journal.ReplayEngine((max_orders, 1 << 16, 1, 64))
    setup = records.encode_commands([
        AddInstrument(instrument_id=1, seq=1, tick_size=1, lot_size=1, reference_price=100000,
                      market_collar_ticks=100),
        SetPhase(instrument_id=1, seq=2, phase=1), SetPhase(instrument_id=1, seq=3, phase=2)])
    rng = np.random.default_rng(seed)
    orders = np.zeros(resting, dtype=records.RECORD_DTYPE)
    v = orders.view(records.CMD_DTYPES[int(records.CmdType.NEW_ORDER)])
    v["type"] = int(records.CmdType.NEW_ORDER)
    v["instrument_id"] = 1
    v["seq"] = np.arange(4, 4 + resting)
    v["order_id"] = np.arange(1, resting + 1)
    side = rng.integers(1, 3, resting)
    v["side"] = side
    v["price"] = np.where(side == 1, 90000 - rng.integers(0, 5000, resting),
                          110000 + rng.integers(0, 5000, resting))
    v["qty"] = rng.integers(1, 100, resting)
    v["ord_type"] = int(records.OrdType.LIMIT)
    v["tif"] = int(records.Tif.GTC)
    allcmds = np.concatenate([setup, orders])
    done = ffi.new("size_t *")
    lib.eng_submit(eng.handle, ffi.cast("eng_cmd_t *", ffi.from_buffer(allcmds)), len(allcmds),
                   done)
    lib.eng_clear_events(eng.handle)
    return eng


def _one_sync_write(path: Path, nbytes: int) -> None:
    """The old jrnl_snapshot_save's pattern: 1 MiB writes, then one fdatasync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        chunk = b"\xa5" * (1 << 20)
        left = nbytes
        while left > 0:
            left -= os.write(fd, chunk[:min(left, len(chunk))])
        os.fdatasync(fd)
    finally:
        os.close(fd)


def _new_segment(path: Path, paced: bool) -> None:
    """A FILE_MB segment of real zero blocks, a 4 KiB write per page, then fdatasync: the old
    jrnl_segment_make (all of it left to the fdatasync) or jrnl_segment_zero_fill (a MiB written
    back at a time)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        nbytes = FILE_MB << 20
        if paced:
            rc = lib.jrnl_segment_zero_fill(fd, nbytes)
            if rc != 0:
                raise OSError(rc, f"jrnl_segment_zero_fill {path}")
        else:
            zeros = bytes(BLOCK)
            for off in range(0, nbytes, BLOCK):
                os.pwrite(fd, zeros, off)
        os.fdatasync(fd)
    finally:
        os.close(fd)


def _operation(way: str, directory: Path, tag: str, snap_bytes: int,
               eng: journal.ReplayEngine) -> tuple[Callable[[], None], Path]:
    """(the timed call, the file it leaves or removes): set up so only the call is timed."""
    path = directory / f"{way}-{tag}"
    if way in ("unlink", "jrnl_drop"):
        _write_file(path, FILE_MB)
        if way == "unlink":
            return path.unlink, path

        def drop() -> None:
            rc = lib.jrnl_drop_file(str(path).encode())
            if rc != 0:
                raise OSError(-rc, f"jrnl_drop_file {path}")
        return drop, path
    if way in ("seg_one_sync", "seg_paced"):
        return (lambda: _new_segment(path, way == "seg_paced")), path
    if way == "one_sync":
        return (lambda: _one_sync_write(path, snap_bytes)), path

    def save() -> None:
        rc = lib.jrnl_snapshot_save(eng.handle, str(path).encode())
        if rc != 0:
            raise OSError(-rc, f"jrnl_snapshot_save {path}")
    return save, path


def _pcts(values: list[int]) -> dict[str, float]:
    a = np.asarray(values)
    return {"p50_ns": float(np.percentile(a, 50)), "p99_ns": float(np.percentile(a, 99)),
            "max_ns": float(a.max()), "samples": float(len(a))}


def measure(directory: Path, rounds: int, resting: int) -> dict[str, dict[str, float]]:
    eng = snapshot_engine(resting)
    probe_path = directory / "size.snap"
    lib.jrnl_snapshot_save(eng.handle, str(probe_path).encode())
    snap_bytes = probe_path.stat().st_size
    probe_path.unlink()
    during: dict[str, list[int]] = {w: [] for ways in OPERATIONS.values() for w in ways}
    took: dict[str, list[int]] = {w: [] for w in during}
    quiet: list[int] = []
    settle = int(SETTLE_S * 1e9)
    try:
        with Probe(directory) as probe:
            for r in range(rounds):
                for ways in OPERATIONS.values():
                    for way in ways if r % 2 == 0 else ways[::-1]:
                        call, path = _operation(way, directory, str(r), snap_bytes, eng)
                        time.sleep(0.2)          # the set-up's own traffic gone
                        q0 = time.perf_counter_ns()
                        time.sleep(0.1)
                        t0 = time.perf_counter_ns()
                        quiet += probe.between(q0, t0)
                        call()
                        t1 = time.perf_counter_ns()
                        time.sleep(SETTLE_S)
                        took[way].append(t1 - t0)
                        during[way] += probe.between(t0 - settle, t1 + settle)
                        if path.exists():
                            path.unlink()
    finally:
        eng.close()
    out = {"quiet": _pcts(quiet)}
    for way, v in during.items():
        out[way] = {**_pcts(v), "op_ns_median": float(np.median(took[way]))}
    out["snapshot_bytes"] = {"bytes": float(snap_bytes)}
    return out


def main() -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds: within 60 s")
    ap.add_argument("--dir", type=existing_dir, default="/var/tmp",
                    help="directory on the disk to measure (default /var/tmp, as the journal)")
    args = ap.parse_args()
    rounds = 4 if args.quick else 16
    resting = 500_000
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="venue-bench-journal-files-", dir=args.dir) as tmp:
        r = measure(Path(tmp), rounds, resting)
    load_after = os.getloadavg()[0]
    print(f"durable 4 KiB writes (O_DIRECT|O_DSYNC, one every {PROBE_GAP_S * 1e3:.1f} ms) while the "
          f"journal removes a written {FILE_MB} MiB file, makes a {FILE_MB} MiB segment or writes "
          f"a snapshot of {resting:,} resting orders ({r['snapshot_bytes']['bytes'] / 2**20:.0f} MiB); {rounds} rounds, the "
          f"two ways of each alternated; load {load_before:.1f} -> {load_after:.1f}")
    print(f"{'':<26}{'p50 us':>9}{'p99 us':>10}{'max us':>10}{'writes':>8}{'op ms':>8}")
    labels = {"quiet": "nothing else", "unlink": "removal: unlink",
              "jrnl_drop": "removal: jrnl_drop", "one_sync": "snapshot: one fdatasync",
              "paced": "snapshot: paced", "seg_one_sync": "new segment: one fdatasync",
              "seg_paced": "new segment: paced"}
    for name, label in labels.items():
        v = r[name]
        op = f"{v['op_ns_median'] / 1e6:>8.0f}" if "op_ns_median" in v else ""
        print(f"{label:<26}{v['p50_ns'] / 1e3:>9.0f}{v['p99_ns'] / 1e3:>10.0f}"
              f"{v['max_ns'] / 1e3:>10.0f}{v['samples']:>8.0f}{op}")
    ratios = {}
    for base, new in OPERATIONS.values():
        for k in ("max", "p99"):
            ratios[f"{new}_{k}_vs_{base}"] = r[new][f"{k}_ns"] / r[base][f"{k}_ns"]
    print(json.dumps({
        "bench": "journal_files",
        "machine": {"cores": os.cpu_count(), "kernel": platform.release(), "quick": args.quick,
                    "rounds": rounds, "file_mb": FILE_MB, "resting_orders": resting,
                    "loadavg_1m_before": load_before, "loadavg_1m_after": load_after},
        "metrics": {f"{w}_{k}": v for w, d in r.items() for k, v in d.items()},
        "baselines": {f"{b}_{k}_ns": r[b][f"{k}_ns"] for b, _ in OPERATIONS.values()
                      for k in ("max", "p99")} | {"quiet_p50_ns": r["quiet"]["p50_ns"]},
        "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
