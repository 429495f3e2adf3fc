"""Latency monitoring of the order path: HdrHistogram count arrays recorded in C, read here.

The C side (native/hdr/hdr_clock.*, native/hdr/hdr_recorder.*; layout in venue_layout.h Section 5) stamps
and records with no allocation: the gateway (gw_*.c, fixp_session.c) and the engine
(runner_loop.c) each record their stages of every order-entry request into their own region,
found by the venue's name (venue.py). This package snapshots and differences the counts, converts
them to `hdrhistogram` histograms and writes the reports: percentile text, .hlog interval logs, PNG
plots, a per-stage breakdown and a JSON summary. Python never records per message on the hot path.
"""
from __future__ import annotations

from gateway.latency.clock import ClockInfo, adopt_clock, current_clock, init_clock
from gateway.latency.errors import LatencyError, LayoutError, NotPossibleHere, RegionNotReady
from gateway.latency.histogram import LatencyHistogram
from gateway.latency.region import END_TO_END, STAGE_NAMES, LatencyRegion, Recorder
from gateway.latency.snapshot import Run, Snapshot, intervals
from gateway.latency.spec import HistogramSpec
from gateway.latency.summary import Summary, load_run, summarize
from gateway.latency.venue import ProcessLatency, region_paths, snapshot_venue

__all__ = [
    "ClockInfo", "END_TO_END", "HistogramSpec", "LatencyError", "LatencyHistogram",
    "LatencyRegion", "LayoutError", "NotPossibleHere", "ProcessLatency", "Recorder",
    "RegionNotReady", "STAGE_NAMES", "Run", "Snapshot", "Summary", "adopt_clock", "current_clock",
    "init_clock", "intervals", "load_run", "region_paths", "snapshot_venue", "summarize",
]
