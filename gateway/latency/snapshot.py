"""Snapshots of a latency region: every histogram's counts copied at one moment, and intervals.

A snapshot is cumulative (everything since the region was created); an interval is snapshot N minus
snapshot N-1. Both are the same type, told apart by start_s. Owns no memory of the region: the
copying is region.py's (through the C helper that loads each count word atomically).
"""
from __future__ import annotations

from dataclasses import dataclass

from gateway.latency.errors import LayoutError
from gateway.latency.histogram import LatencyHistogram


@dataclass(frozen=True)
class Snapshot:
    start_s: float                       # wall clock (s since the epoch) the counts start from
    end_s: float                         # wall clock when they were copied
    hists: tuple[LatencyHistogram, ...]  # region order (the stage order for the order path)
    clock_description: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hists)

    def get(self, name: str) -> LatencyHistogram:
        for hist in self.hists:
            if hist.name == name:
                return hist
        raise KeyError(f"no histogram named {name!r} (have {', '.join(self.names)})")

    def minus(self, earlier: Snapshot) -> Snapshot:
        """The interval between earlier and this snapshot of the same region."""
        if earlier.names != self.names:
            raise LayoutError(f"snapshots of different regions: {earlier.names} vs {self.names}")
        if earlier.end_s > self.end_s:
            raise LayoutError("the earlier snapshot was taken after this one")
        return Snapshot(earlier.end_s, self.end_s,
                        tuple(h.minus(e) for h, e in zip(self.hists, earlier.hists)),
                        self.clock_description)

    def plus(self, later: Snapshot) -> Snapshot:
        """Both intervals' values together (e.g. adding up an interval log)."""
        if later.names != self.names:
            raise LayoutError(f"intervals of different regions: {self.names} vs {later.names}")
        return Snapshot(min(self.start_s, later.start_s), max(self.end_s, later.end_s),
                        tuple(a.plus(b) for a, b in zip(self.hists, later.hists)),
                        self.clock_description or later.clock_description)


@dataclass(frozen=True)
class Run:
    """A run's intervals, oldest first: what an interval log holds and what reports are made of."""

    intervals: tuple[Snapshot, ...]

    @classmethod
    def from_cumulative(cls, snapshots: list[Snapshot]) -> Run:
        return cls(tuple(intervals(snapshots)))

    def total(self) -> Snapshot:
        return total(list(self.intervals))


def intervals(snapshots: list[Snapshot]) -> list[Snapshot]:
    """Successive differences of cumulative snapshots; the first interval is the first snapshot
    itself (everything from the region's creation to it)."""
    out: list[Snapshot] = []
    for i, snap in enumerate(snapshots):
        out.append(snap if i == 0 else snap.minus(snapshots[i - 1]))
    return out


def total(parts: list[Snapshot]) -> Snapshot:
    if not parts:
        raise LayoutError("no snapshots or intervals to add up")
    result = parts[0]
    for part in parts[1:]:
        result = result.plus(part)
    return result
