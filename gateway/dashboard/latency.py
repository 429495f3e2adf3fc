"""The latency panel from the venue's shared-memory latency regions (gateway/latency/venue.py):
per stage P50/P99/P99.9/max since the venue started and over the last interval, their history,
the HdrHistogram percentile curves, and the stage that dominates each percentile.

Reading a region copies its counts (a snapshot): the processes that record keep writing, nothing
waits for this reader. An interval is the difference of two snapshots; when a process restarted
in between (its counts went back to zero) the interval is skipped, not shown negative.
"""
from __future__ import annotations

import collections
import time
from typing import Any

from gateway.latency.breakdown import stage_breakdown
from gateway.latency.errors import LatencyError
from gateway.latency.histogram import LatencyHistogram
from gateway.latency.plot import percentile_series
from gateway.latency.snapshot import Snapshot
from gateway.latency.venue import snapshot_venue

PERCENTILES = (50.0, 99.0, 99.9)
HISTORY_POINTS = 300          # interval samples kept per stage (5 min at one a second)
CURVE_POINTS = 120            # at most this many points per percentile curve
END_TO_END = "end_to_end"


def _stats(h: LatencyHistogram) -> dict[str, Any]:
    if h.total_count == 0:
        return {"count": 0, "p50_ns": None, "p99_ns": None, "p999_ns": None, "max_ns": None}
    p = h.percentiles_ns(PERCENTILES)
    return {"count": h.total_count, "p50_ns": p[50.0], "p99_ns": p[99.0], "p999_ns": p[99.9],
            "max_ns": h.max_ns()}


def _curve(h: LatencyHistogram) -> dict[str, Any]:
    s = percentile_series(h)
    step = max(1, len(s.x) // CURVE_POINTS)
    return {"label": s.label, "x": list(s.x[::step]), "y_us": list(s.y[::step])}


class LatencyPanel:
    def __init__(self, venue: str, shm_dir: str | None) -> None:
        self.venue = venue
        self.shm_dir = shm_dir
        self.previous: Snapshot | None = None
        self.history: dict[str, collections.deque[tuple[float, int | None, int | None]]] = {}
        self.error = ""

    def snapshot(self) -> Snapshot | None:
        try:
            snap = snapshot_venue(self.venue, self.shm_dir)
        except (LatencyError, OSError) as exc:
            self.error = str(exc)
            return None
        self.error = ""
        return snap

    def _interval(self, snap: Snapshot) -> Snapshot | None:
        prev, self.previous = self.previous, snap
        if prev is None or prev.names != snap.names:
            return None
        try:
            interval = snap.minus(prev)
        except (LatencyError, ValueError):
            return None                     # a process restarted: its counts started again
        if any(h.total_count < 0 for h in interval.hists):
            return None
        return interval

    def update(self, now_s: float | None = None) -> dict[str, Any]:
        snap = self.snapshot()
        if snap is None:
            return {"available": False, "error": self.error}
        interval = self._interval(snap)
        now_s = time.time() if now_s is None else now_s
        stages = [h for h in snap.hists if h.name != END_TO_END]
        e2e = next((h for h in snap.hists if h.name == END_TO_END), None)
        rows = []
        for h in snap.hists:
            last = interval.get(h.name) if interval is not None else None
            row = {"stage": h.name, **_stats(h), "interval": _stats(last) if last is not None else None}
            rows.append(row)
            if last is not None:
                st = _stats(last)
                self.history.setdefault(h.name, collections.deque(maxlen=HISTORY_POINTS)).append(
                    (now_s, st["p50_ns"], st["p99_ns"]))
        breakdown = stage_breakdown(stages, e2e).to_dict()
        return {"available": True, "clock": snap.clock_description, "since_s": snap.start_s,
                "stages": rows, "dominant": {label: row["dominant"] for label, row in breakdown.items()},
                "history": {name: [list(p) for p in pts] for name, pts in self.history.items()},
                "curves": [_curve(h) for h in snap.hists if h.total_count > 0]}
