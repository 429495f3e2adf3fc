"""Health and capacity: each venue process's state, CPU and memory; the fill level of every
command and reply ring; the event log's size and how far this reader is behind; the journal's
lag (commands sequenced but not yet released durable).

Everything is read, never written: process figures from /proc (psutil), ring positions from the
control blocks of the shared-memory segments (monitor reads of counters the owners store relaxed:
a consistent snapshot is not promised, and none is needed for a fill gauge), the journal's
released seq from its segment headers (gateway/enginehost/journal.py).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psutil

from native._venue import ffi
from shm import errors as shm_errors
from shm.engine_segments import cmd_path, control_path, reply_path
from shm.segment import KIND_CONTROL, KIND_SPSC, Segment

PROCESS_NAMES = ("engine", "control", "gateway", "dashboard")


class ProcessTable:
    """psutil handles by pid, kept between calls so that cpu_percent measures the interval."""

    def __init__(self, processes_file: str | None) -> None:
        self.processes_file = Path(processes_file) if processes_file else None
        self._procs: dict[int, psutil.Process] = {}

    def pids(self) -> dict[str, int]:
        if self.processes_file is None:
            return {}
        try:
            data = json.loads(self.processes_file.read_text())
        except (OSError, ValueError):
            return {}
        pids = data.get("pids") if isinstance(data, dict) else None
        return {str(k): int(v) for k, v in pids.items() if isinstance(v, int)} if isinstance(pids, dict) else {}

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for name, pid in sorted(self.pids().items(), key=lambda kv: PROCESS_NAMES.index(kv[0])
                                if kv[0] in PROCESS_NAMES else 99):
            out.append(self._row(name, pid))
        live = {r["pid"] for r in out}
        self._procs = {p: h for p, h in self._procs.items() if p in live}
        return out

    def _row(self, name: str, pid: int) -> dict[str, Any]:
        try:
            proc = self._procs.get(pid) or psutil.Process(pid)
            self._procs[pid] = proc
            with proc.oneshot():
                mem = proc.memory_info()
                return {"name": name, "pid": pid, "state": proc.status(), "alive": proc.is_running(),
                        "cpu_pct": proc.cpu_percent(None), "rss_bytes": mem.rss,
                        "threads": proc.num_threads(), "uptime_s": time.time() - proc.create_time()}
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess) as exc:
            return {"name": name, "pid": pid, "state": "gone", "alive": False, "error": type(exc).__name__}


class RingGauges:
    """Fill levels of the engine's rings. Segments are attached once and again after the engine
    restarts (its control segment's creator pid changes)."""

    def __init__(self, venue: str, shm_dir: str | None) -> None:
        self.venue = venue
        self.shm_dir = shm_dir
        self.control: Segment | None = None
        self.rings: dict[str, Segment] = {}
        self.engine_pid = 0

    def _attach(self) -> Segment:
        seg = Segment.attach(control_path(self.venue, self.shm_dir), KIND_CONTROL, 0, 0)
        pid = int(seg.handle.hdr.creator_pid)
        if self.control is not None and pid == self.engine_pid:
            seg.detach()
            return self.control
        self.close()
        self.control, self.engine_pid = seg, pid
        return seg

    def _ring(self, path: str) -> Segment | None:
        seg = self.rings.get(path)
        if seg is None:
            try:
                seg = self.rings[path] = Segment.attach(path, KIND_SPSC, 0, 0)
            except shm_errors.ShmError:
                return None
        return seg

    @staticmethod
    def _fill(seg: Segment) -> dict[str, Any]:
        ctl = seg.control()
        used = max(0, int(ctl.tail) - int(ctl.head))
        return {"used_bytes": used, "capacity_bytes": seg.capacity,
                "fill": used / seg.capacity if seg.capacity else 0.0}

    def read(self) -> dict[str, Any]:
        try:
            control = self._attach()
        except shm_errors.ShmError as exc:
            self.close()
            return {"available": False, "error": str(exc)}
        ctl = control.control()
        producers = []
        for slot in range(int(ctl.producer_count)):
            owner = int(ctl.producers[slot].owner_pid)
            row: dict[str, Any] = {"slot": slot, "owner_pid": owner, "commands": int(ctl.producers[slot].commands)}
            for what, path in (("cmd", cmd_path(self.venue, slot, self.shm_dir)),
                               ("reply", reply_path(self.venue, slot, self.shm_dir))):
                seg = self._ring(path)
                row[what] = self._fill(seg) if seg is not None else None
            producers.append(row)
        journal_dir = ffi.string(ctl.journal_dir).decode(errors="replace")
        return {"available": True, "engine_pid": self.engine_pid, "last_seq": int(ctl.last_seq),
                "commands": int(ctl.commands), "events": int(ctl.events), "sleeps": int(ctl.sleeps),
                "engine_cpu": int(ctl.engine_cpu), "producers": producers,
                "journal": journal_lag(journal_dir, int(ctl.last_seq))}

    def close(self) -> None:
        for seg in self.rings.values():
            seg.detach()
        self.rings.clear()
        if self.control is not None:
            self.control.detach()
            self.control = None


def journal_lag(directory: str, last_seq: int) -> dict[str, Any] | None:
    """Commands the engine sequenced that its journal has not released as durable yet."""
    if not directory:
        return None
    from gateway.enginehost.journal import released_high_water
    released, _ = released_high_water(directory)
    return {"dir": directory, "released_seq": released, "lag": max(0, last_seq - released)}
