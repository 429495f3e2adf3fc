"""HdrHistogram interval logs (.hlog): the on-disk form of a run's latency, one line per histogram
per interval, tagged with the histogram's name.

Writes Java HistogramLogWriter's format 1.3 line for line ("#[Histogram log format version 1.3]",
"#[StartTime: %.3f (seconds since epoch), <date>]", "#[BaseTime: %.3f (seconds since epoch)]", the
legend, then "Tag=<name>,%.3f,%.3f,%.3f,<HISTFAAA...>" with start and length in s relative to
BaseTime and the interval max in ms), with payloads from the `hdrhistogram` package's encoder. Its
HistogramLogWriter is not used for the lines: it cannot write tags, its output_start_time() raises
(datetime has no iso_format), and it floors Interval_Max to whole milliseconds. Reading goes through
the package's HistogramLogReader. What HdrHistogram cannot carry (overflow and underflow counts, the
coordinated-omission interval, the clock) rides in "#[venue-latency {json}]" comment lines, which
every standard reader skips.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrh.log import HistogramLogReader

from gateway.latency.errors import LayoutError
from gateway.latency.histogram import LatencyHistogram
from gateway.latency.snapshot import Snapshot

FORMAT_VERSION = "1.3"
LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'
META_PREFIX = "#[venue-latency "
MAX_VALUE_UNIT_RATIO = 1_000_000.0   # Interval_Max column: ns recorded, ms written (Java default)


def _java_date(epoch_s: float) -> str:
    # java.util.Date.toString(): "EEE MMM dd HH:mm:ss zzz yyyy"
    return time.strftime("%a %b %d %H:%M:%S %Z %Y", time.localtime(epoch_s))


def format_interval_log(intervals: list[Snapshot], start_s: float | None = None) -> str:
    """The text of an interval log holding every histogram of every interval, in order."""
    if not intervals:
        raise LayoutError("an interval log needs at least one interval")
    names = intervals[0].names
    base_s = intervals[0].start_s if start_s is None else start_s
    base_ms = math.floor(base_s * 1000.0)
    base_s = base_ms / 1000.0
    first = intervals[0].hists[0]
    header = {"names": list(names), "spec": first.spec.to_dict(),
              "clock": intervals[0].clock_description,
              "co_expected_interval_ns": {h.name: h.co_expected_interval_ns
                                          for h in intervals[0].hists}}
    lines = [f"#[Histogram log format version {FORMAT_VERSION}]",
             f"#[StartTime: {base_s:.3f} (seconds since epoch), {_java_date(base_s)}]",
             f"#[BaseTime: {base_s:.3f} (seconds since epoch)]",
             META_PREFIX + json.dumps(header, separators=(",", ":")) + "]",
             LEGEND]
    for number, interval in enumerate(intervals):
        if interval.names != names:
            raise LayoutError(f"interval {number} has histograms {interval.names}, "
                              f"the log has {names}")
        tallies = {h.name: [h.overflow_count, h.overflow_max_ns, h.underflow_count]
                   for h in interval.hists}
        lines.append(META_PREFIX + json.dumps({"interval": number, "tallies": tallies},
                                              separators=(",", ":")) + "]")
        for hist in interval.hists:
            hdr = hist.to_hdr()
            payload = hdr.encode().decode("ascii")
            lines.append("Tag=%s,%.3f,%.3f,%.3f,%s" % (
                hist.name, interval.start_s - base_s, interval.end_s - interval.start_s,
                hist.max_ns() / MAX_VALUE_UNIT_RATIO, payload))
    return "\n".join(lines) + "\n"


def write_interval_log(path: str | Path, intervals: list[Snapshot],
                       start_s: float | None = None) -> Path:
    path = Path(path)
    path.write_text(format_interval_log(intervals, start_s))
    return path


@dataclass(frozen=True)
class IntervalLog:
    start_s: float
    intervals: tuple[Snapshot, ...]


@dataclass
class _IntervalGroup:
    """One interval's lines (one per histogram name), grouped by their start timestamp."""
    start_s: float
    end_s: float
    hists: dict[str, Any] = field(default_factory=dict)    # tag -> hdrh HdrHistogram


def read_interval_log(path: str | Path) -> IntervalLog:
    """Decodes a log this module wrote (with the package's HistogramLogReader for the histogram
    lines) back into intervals. A log without the venue-latency lines (another tool's) reads too:
    each tag becomes a histogram, with zero overflow/underflow and no correction recorded."""
    path = Path(path)
    header: dict[str, Any] = {}     # the venue-latency header line, JSON as written by write_log
    tallies: dict[int, dict[str, list[int]]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(META_PREFIX):
                try:
                    meta = json.loads(line[len(META_PREFIX):].rstrip().removesuffix("]"))
                except json.JSONDecodeError as exc:
                    raise LayoutError(f"{path}: bad venue-latency line: {exc}") from exc
                if "interval" in meta:
                    tallies[int(meta["interval"])] = meta["tallies"]
                else:
                    header = meta
    reader = HistogramLogReader(str(path), None)
    try:
        decoded = []
        while True:
            try:
                hdr = reader.get_next_interval_histogram()
            except (ValueError, TypeError) as exc:
                raise LayoutError(f"{path}: undecodable interval line: {exc}") from exc
            if hdr is None:
                break
            decoded.append(hdr)
        start_s = reader.get_start_time_sec()
    finally:
        reader.close()
    if not decoded:
        raise LayoutError(f"{path}: no interval histograms")

    names = list(header.get("names") or [])
    for hdr in decoded:
        tag = hdr.get_tag() or "untagged"
        if tag not in names:
            names.append(tag)
    co = dict(header.get("co_expected_interval_ns") or {})
    clock = str(header.get("clock", ""))
    # Lines come grouped by interval, one per name; group by the start timestamp.
    groups: list[_IntervalGroup] = []
    for hdr in decoded:
        tag = hdr.get_tag() or "untagged"
        if not groups or tag in groups[-1].hists:
            groups.append(_IntervalGroup(hdr.get_start_time_stamp() / 1000.0, hdr.get_end_time_stamp() / 1000.0))
        groups[-1].hists[tag] = hdr
    out = []
    for number, group in enumerate(groups):
        hists = []
        for name in names:
            hdr = group.hists.get(name)
            over, over_max, under = tallies.get(number, {}).get(name, [0, 0, 0])
            if hdr is None:
                raise LayoutError(f"{path}: interval {number} has no histogram tagged {name!r}")
            hists.append(LatencyHistogram.from_hdr(name, hdr, overflow_count=int(over),
                                                   overflow_max_ns=int(over_max),
                                                   underflow_count=int(under),
                                                   co_expected_interval_ns=int(co.get(name, 0))))
        out.append(Snapshot(group.start_s, group.end_s, tuple(hists), clock))
    return IntervalLog(float(start_s), tuple(out))
