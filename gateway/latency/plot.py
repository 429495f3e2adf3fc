"""PNG charts of latency: by percentile (HdrHistogram's plot) and the per-stage breakdown.

Every chart function returns the exact series it drew, so callers (and tests) can check the plotted
data against the histograms. The percentile chart follows HdrHistogram's plotter: x is 1/(1-p) on
a log axis labelled with percentiles, y is the value at that percentile, one line per histogram;
its points are percentile_text.percentile_rows(), the rows of the .hgrm text, without the 100% row
(infinite x). Uses matplotlib's object API with the Agg canvas: no global backend, no display.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.latency.breakdown import Breakdown
from gateway.latency.histogram import LatencyHistogram
from gateway.latency.percentile_text import percentile_rows

_TICKS = (1.0, 2.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7)
_TICK_LABELS = ("0%", "50%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%", "99.99999%")


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    """A figure on its own Agg canvas. matplotlib is imported here, not at module level: the
    venue's processes import this package for their latency regions and never draw."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


@dataclass(frozen=True)
class PlotSeries:
    label: str
    x: tuple[float, ...]      # 1/(1-p) for the percentile chart; bar positions for the breakdown
    y: tuple[float, ...]      # µs
    percentiles: tuple[float, ...] = ()   # the percentile level (0..100) of each point

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "x": list(self.x), "y_us": list(self.y),
                "percentiles": list(self.percentiles)}


def percentile_series(hist: LatencyHistogram, label: str | None = None,
                      value_unit_scaling_ratio: float = 1000.0) -> PlotSeries:
    rows = [r for r in percentile_rows(hist) if r.percentile_level < 100.0]
    return PlotSeries(label or hist.name, tuple(r.inverted for r in rows),
                      tuple(r.value_ns / value_unit_scaling_ratio for r in rows),
                      tuple(r.percentile_level for r in rows))


def plot_percentiles(hists: list[LatencyHistogram], path: str | Path, title: str,
                     labels: list[str] | None = None) -> list[PlotSeries]:
    """One chart, one line per non-empty histogram; returns the lines drawn."""
    series = [percentile_series(h, labels[i] if labels else None)
              for i, h in enumerate(hists) if h.total_count > 0]
    from matplotlib.ticker import FixedLocator, NullLocator
    fig = _figure(10, 6)
    ax = fig.add_subplot(1, 1, 1)
    for s in series:
        ax.plot(s.x, s.y, label=s.label, linewidth=1.5)
    ax.set_xscale("log")
    top = max((max(s.x) for s in series if s.x), default=10.0)
    ticks = [t for t in _TICKS if t <= max(top * 10, 100.0)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels(_TICK_LABELS[:len(ticks)])
    ax.set_xlim(1.0, ticks[-1])
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (µs)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if series:
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(str(path))
    return series


def plot_breakdown(breakdown: Breakdown, path: str | Path, title: str) -> list[PlotSeries]:
    """Grouped bars: for each quoted percentile, each stage's value; the dominant stage is named
    above its group. Returns one series per stage (x: group position, y: µs)."""
    rows = breakdown.rows
    stage_names = [s.stage for s in rows[0].stages] if rows else []
    width = 0.8 / max(len(stage_names), 1)
    series = []
    fig = _figure(11, 6)
    ax = fig.add_subplot(1, 1, 1)
    for k, stage in enumerate(stage_names):
        xs = tuple(i + (k - (len(stage_names) - 1) / 2) * width for i in range(len(rows)))
        ys = tuple(row.stages[k].value_ns / 1000.0 for row in rows)
        series.append(PlotSeries(stage, xs, ys, tuple(row.percentile for row in rows)))
        ax.bar(xs, ys, width=width, label=stage)
    for i, row in enumerate(rows):
        top = max((s.value_ns for s in row.stages), default=0) / 1000.0
        if row.dominant:
            ax.annotate(f"dominant: {row.dominant}", (i, top), ha="center", va="bottom",
                        fontsize=7, xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([row.label for row in rows])
    ax.set_yscale("log")
    ax.set_ylabel("stage latency (µs)")
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    if series:
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(str(path))
    return series
