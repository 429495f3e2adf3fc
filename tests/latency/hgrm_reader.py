"""A reader of HdrHistogram percentile distribution text written from the format's definition
(Java AbstractHistogram.outputPercentileDistribution), independent of the writer under test."""
from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(r"^\s*Value\s+Percentile\s+TotalCount\s+1/\(1-Percentile\)$")
_ROW = re.compile(r"^\s*(\d+\.\d+)\s+(\d\.\d{12})\s+(\d+)(?:\s+(\d+\.\d{2}))?$")
_MEAN = re.compile(r"^#\[Mean    = +(\d+\.\d+), StdDeviation   = +(\d+\.\d+)\]$")
_MAX = re.compile(r"^#\[Max     = +(\d+\.\d+), Total count    = +(\d+)\]$")
_BUCKETS = re.compile(r"^#\[Buckets = +(\d+), SubBuckets     = +(\d+)\]$")


@dataclass
class ParsedDistribution:
    rows: list[tuple[float, float, int, float | None]]  # value, percentile (0..1), count, 1/(1-p)
    mean: float
    stddev: float
    max: float
    total_count: int
    buckets: int
    sub_buckets: int


def parse(text: str) -> ParsedDistribution:
    lines = text.split("\n")
    assert _HEADER.match(lines[0]), f"header line: {lines[0]!r}"
    assert lines[1] == "", "a blank line follows the header"
    assert lines[-1] == "", "the text ends with a newline"
    body, footer = lines[2:-4], lines[-4:-1]
    rows = []
    for i, line in enumerate(body):
        m = _ROW.match(line)
        assert m, f"row {i}: {line!r}"
        last = i == len(body) - 1
        assert (m.group(4) is None) == last, f"only the last row omits 1/(1-p): {line!r}"
        rows.append((float(m.group(1)), float(m.group(2)), int(m.group(3)),
                     float(m.group(4)) if m.group(4) else None))
    mean, mx, buckets = _MEAN.match(footer[0]), _MAX.match(footer[1]), _BUCKETS.match(footer[2])
    assert mean and mx and buckets, f"footer: {footer!r}"
    return ParsedDistribution(rows, float(mean.group(1)), float(mean.group(2)),
                              float(mx.group(1)), int(mx.group(2)), int(buckets.group(1)),
                              int(buckets.group(2)))
