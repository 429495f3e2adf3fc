"""The latency report of a run: every file the issue asks for, and the table the demo prints.

summarize() takes a live region, snapshots of one, or a finished run on disk, writes into out_dir
the interval log (latency.hlog, also the on-disk format a finished run is read back from), one
percentile text per histogram (<name>.hgrm, µs), the percentile chart (percentiles.png), the
per-stage breakdown chart (breakdown.png), the series both charts were drawn from
(plot_series.json) and a JSON summary (summary.json), then prints P50/P99/P99.9/max per histogram
and the files' paths.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, TextIO, Union

from gateway.latency.breakdown import Breakdown, percentile_label, stage_breakdown
from gateway.latency.errors import LayoutError
from gateway.latency.hlog import read_interval_log, write_interval_log
from gateway.latency.histogram import LatencyHistogram
from gateway.latency.percentile_text import format_percentile_distribution
from gateway.latency.plot import PlotSeries, plot_breakdown, plot_percentiles
from gateway.latency.region import END_TO_END, LatencyRegion
from gateway.latency.snapshot import Run, Snapshot, intervals, total

HLOG_NAME = "latency.hlog"
TABLE_PERCENTILES: tuple[float, ...] = (50.0, 99.0, 99.9, 100.0)
JSON_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0, 99.9, 99.99, 100.0)

Source = Union[LatencyRegion, Run, Snapshot, Sequence[Snapshot], str, "os.PathLike[str]"]


@dataclass(frozen=True)
class HistogramFigures:
    name: str
    total_count: int
    percentiles_ns: dict[float, int]
    mean_ns: float
    overflow_count: int
    overflow_max_ns: int
    underflow_count: int
    coordinated_omission: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "total_count": self.total_count,
                "percentiles_ns": {percentile_label(p): v for p, v in self.percentiles_ns.items()},
                "mean_ns": round(self.mean_ns, 3), "overflow_count": self.overflow_count,
                "overflow_max_ns": self.overflow_max_ns, "underflow_count": self.underflow_count,
                "coordinated_omission": self.coordinated_omission}


@dataclass(frozen=True)
class Summary:
    start_s: float
    end_s: float
    intervals: int
    clock: str
    histograms: tuple[HistogramFigures, ...]
    breakdown: Breakdown
    files: dict[str, Path]
    plot_series: dict[str, list[PlotSeries]] = field(default_factory=dict)

    def figures(self, name: str) -> HistogramFigures:
        for fig in self.histograms:
            if fig.name == name:
                return fig
        raise KeyError(name)

    def table(self) -> str:
        width = max([len(f.name) for f in self.histograms] + [len("histogram")])
        head = f"{'histogram':<{width}} {'count':>10} " + " ".join(
            f"{percentile_label(p) + ' µs':>11}" for p in TABLE_PERCENTILES) + \
            f" {'overflow':>9} {'underflow':>9}"
        lines = [head, "-" * len(head)]
        for f in self.histograms:
            cells = " ".join(f"{f.percentiles_ns[p] / 1000.0:>11.3f}" for p in TABLE_PERCENTILES)
            lines.append(f"{f.name:<{width}} {f.total_count:>10} {cells} {f.overflow_count:>9} "
                         f"{f.underflow_count:>9}")
        dominant = ", ".join(f"{label} {stage}"
                             for label, stage in self.breakdown.dominant().items() if stage)
        if dominant:
            lines.append(f"dominant stage: {dominant}")
        corrections = sorted({f.coordinated_omission for f in self.histograms})
        lines.append("figures " + "; ".join(corrections))
        if self.clock:
            lines.append(self.clock)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {"start_s": self.start_s, "end_s": self.end_s, "intervals": self.intervals,
                "clock": self.clock, "unit": "ns",
                "histograms": [f.to_dict() for f in self.histograms],
                "breakdown": self.breakdown.to_dict(),
                "files": {k: str(v) for k, v in self.files.items()}}


def load_run(path: str | os.PathLike[str], offset: int = 0) -> Run:
    """The intervals of a run: from DIR/latency.hlog, a .hlog file, or (a live venue) a file
    holding a region at `offset`, snapshotted now as one interval since its creation."""
    path = Path(path)
    if path.is_dir():
        log = path / HLOG_NAME
        if not log.is_file():
            raise LayoutError(f"{path}: a run directory must contain {HLOG_NAME}")
        return Run(read_interval_log(log).intervals)
    if not path.exists():
        raise LayoutError(f"{path}: no such file or directory")
    if path.suffix == ".hlog":
        return Run(read_interval_log(path).intervals)
    return Run((LatencyRegion.attach_file(path, offset).snapshot(),))


def _as_intervals(source: Source) -> list[Snapshot]:
    if isinstance(source, LatencyRegion):
        return [source.snapshot()]
    if isinstance(source, Snapshot):
        return [source]
    if isinstance(source, Run):
        return list(source.intervals)
    if isinstance(source, (str, os.PathLike)):
        return list(load_run(source).intervals)
    return intervals(list(source))   # cumulative snapshots of one region, oldest first


def _split_stages(run: Snapshot) -> tuple[list[LatencyHistogram], LatencyHistogram | None]:
    stages = [h for h in run.hists if h.name != END_TO_END]
    e2e = run.get(END_TO_END) if END_TO_END in run.names else None
    return stages, e2e


def summarize(source: Source, out_dir: str | os.PathLike[str], *, title: str = "order path",
              compare: dict[str, Source] | None = None, out: TextIO | None = sys.stdout
              ) -> Summary:
    """Writes every report file for `source` into out_dir (created if missing) and prints the
    table. source: a LatencyRegion (snapshotted now), a Run (its intervals), one Snapshot (taken
    as one interval), a sequence of cumulative snapshots of one region (oldest first, differenced
    into intervals), or
    a path (see load_run). compare: other runs by label, whose end-to-end histograms join this
    run's on compare_end_to_end.png. out None: print nothing."""
    parts = _as_intervals(source)
    run = total(parts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {"hlog": write_interval_log(out_dir / HLOG_NAME, parts)}
    for hist in run.hists:
        path = out_dir / f"{hist.name}.hgrm"
        path.write_text(format_percentile_distribution(hist, 1000.0))
        files[f"hgrm:{hist.name}"] = path

    stages, e2e = _split_stages(run)
    breakdown = stage_breakdown(stages, e2e)
    series: dict[str, list[PlotSeries]] = {}
    files["percentiles_png"] = out_dir / "percentiles.png"
    series["percentiles"] = plot_percentiles(
        list(run.hists), files["percentiles_png"], f"{title}: latency by percentile (µs)",
        labels=[f"{h.name} ({'CO-corrected' if h.corrected else 'uncorrected'})"
                for h in run.hists])
    files["breakdown_png"] = out_dir / "breakdown.png"
    series["breakdown"] = plot_breakdown(breakdown, files["breakdown_png"],
                                         f"{title}: per-stage latency at each percentile")
    if compare:
        runs = {"this run": run} | {label: total(_as_intervals(src))
                                    for label, src in compare.items()}
        chosen = [(label, r.get(END_TO_END) if END_TO_END in r.names else r.hists[-1])
                  for label, r in runs.items()]
        files["compare_png"] = out_dir / "compare_end_to_end.png"
        series["compare"] = plot_percentiles(
            [h for _, h in chosen], files["compare_png"], f"{title}: end to end, run by run (µs)",
            labels=[f"{label}: {h.name}" for label, h in chosen])
    files["plot_series"] = out_dir / "plot_series.json"
    files["plot_series"].write_text(json.dumps(
        {chart: [s.to_dict() for s in lines] for chart, lines in series.items()}, indent=1))

    figures = tuple(HistogramFigures(h.name, h.total_count, h.percentiles_ns(JSON_PERCENTILES),
                                     h.mean_ns(), h.overflow_count, h.overflow_max_ns,
                                     h.underflow_count, h.correction_label())
                    for h in run.hists)
    files["summary_json"] = out_dir / "summary.json"
    summary = Summary(run.start_s, run.end_s, len(parts), run.clock_description, figures,
                      breakdown, files, series)
    files["summary_json"].write_text(json.dumps(summary.to_dict(), indent=1))
    if out is not None:
        print(summary.table(), file=out)
        print("report files:", file=out)
        for key, path in files.items():
            print(f"  {key:<28} {path}", file=out)
    return summary
