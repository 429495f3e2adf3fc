"""Which stage of the order path dominates each part of the latency distribution.

Owns the critical-path arithmetic only: for each quoted percentile, every stage's value, its share
of the stages' sum, and the stage with the largest value. Stage percentiles do not add up to the
end-to-end percentile (the slowest orders of one stage are not those of another), so the breakdown
names where the tail lives; it does not decompose the end-to-end figure.
"""
from __future__ import annotations

from dataclasses import dataclass

from gateway.latency.histogram import LatencyHistogram

BREAKDOWN_PERCENTILES: tuple[float, ...] = (50.0, 99.0, 99.9, 100.0)


def percentile_label(p: float) -> str:
    return "max" if p == 100.0 else f"P{p:g}"


@dataclass(frozen=True)
class StageShare:
    stage: str
    value_ns: int
    share: float          # of the sum over the stages at this percentile, 0..1


@dataclass(frozen=True)
class PercentileBreakdown:
    percentile: float
    stages: tuple[StageShare, ...]
    dominant: str         # "" when no stage recorded anything
    end_to_end_ns: int | None

    @property
    def label(self) -> str:
        return percentile_label(self.percentile)


@dataclass(frozen=True)
class Breakdown:
    rows: tuple[PercentileBreakdown, ...]

    def dominant(self) -> dict[str, str]:
        return {row.label: row.dominant for row in self.rows}

    def to_dict(self) -> dict[str, object]:
        return {row.label: {"dominant": row.dominant, "end_to_end_ns": row.end_to_end_ns,
                            "stages": {s.stage: {"value_ns": s.value_ns, "share": round(s.share, 6)}
                                       for s in row.stages}}
                for row in self.rows}


def stage_breakdown(stages: list[LatencyHistogram], end_to_end: LatencyHistogram | None,
                    percentiles: tuple[float, ...] = BREAKDOWN_PERCENTILES) -> Breakdown:
    """stages: the per-stage histograms in path order (end to end excluded)."""
    values = {h.name: h.percentiles_ns(percentiles) for h in stages}
    e2e = end_to_end.percentiles_ns(percentiles) if end_to_end is not None else None
    rows = []
    for p in percentiles:
        total = sum(values[h.name][p] for h in stages)
        shares = tuple(StageShare(h.name, values[h.name][p],
                                  values[h.name][p] / total if total else 0.0) for h in stages)
        recorded = [s for s, h in zip(shares, stages) if h.total_count > 0]
        dominant = max(recorded, key=lambda s: s.value_ns).stage if recorded else ""
        rows.append(PercentileBreakdown(p, shares, dominant, e2e[p] if e2e is not None else None))
    return Breakdown(tuple(rows))
