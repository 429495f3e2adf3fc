"""``python -m gateway report``: the latency report of a live venue or a finished run.

Reads a run (a directory holding latency.hlog, a .hlog file, a file holding a live latency
region, or with --venue NAME every latency region of a running venue, added up stage by stage),
writes every report file into --out and prints P50/P99/P99.9/max per histogram with the
files' paths (gateway.latency.summarize does the work). Exit status: 0 done, 2 bad arguments or
input that is not a run, 75 (EX_TEMPFAIL) when the live region is not initialized yet.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

from gateway.latency.errors import LatencyError, RegionNotReady
from gateway.latency.region import LatencyRegion
from gateway.latency.snapshot import Run, Snapshot
from gateway.latency.summary import load_run, summarize
from gateway.latency.venue import snapshot_venue
from shm.segment import segment_path

EX_TEMPFAIL = 75


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gateway report",
        description="Latency report: percentile text (.hgrm), interval log (.hlog), PNG charts, "
                    "per-stage breakdown and JSON summary of a live venue or a finished run.")
    p.add_argument("--from", dest="sources", action="append", default=[], metavar="PATH",
                   help="a run directory (with latency.hlog), a .hlog file, or a file holding a "
                        "live latency region; repeat to compare runs on one chart (the first is "
                        "the one reported unless --venue is given)")
    p.add_argument("--venue", default=None, metavar="NAME",
                   help="a live venue by its engine name: the engine's and every gateway's "
                        "latency regions (venue-NAME-latency-*), added up stage by stage")
    p.add_argument("--dir", default=None,
                   help="with --venue: the segment directory (default $VENUE_SHM_DIR or /dev/shm)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the report files")
    p.add_argument("--offset", type=int, default=0, metavar="BYTES",
                   help="where the region starts in a live region file (default 0)")
    p.add_argument("--interval-s", type=float, default=0.0, metavar="S",
                   help="live region only: take a snapshot every S seconds ...")
    p.add_argument("--intervals", type=int, default=0, metavar="N",
                   help="... N times, logging N intervals after the one since start-up")
    p.add_argument("--title", default="order path", help="chart title prefix")
    return p


def _live_run(take: Callable[[], Snapshot], interval_s: float, count: int) -> Run:
    snaps = [take()]
    for _ in range(count):
        time.sleep(interval_s)   # the monitoring cadence itself, not a wait for a condition
        snaps.append(take())
    return Run.from_cumulative(snaps)


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.interval_s > 0) != (args.intervals > 0) or args.interval_s < 0 or args.intervals < 0:
        parser.error("--interval-s and --intervals go together, both > 0")
    if args.offset < 0:
        parser.error(f"--offset {args.offset}: must be >= 0")
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        parser.error(f"--out {out_dir}: exists and is not a directory")
    if not args.sources and args.venue is None:
        parser.error("one of --from or --venue is required")
    if args.venue is not None:
        try:
            segment_path(args.venue, "latency-engine", args.dir)
        except ValueError as exc:
            parser.error(f"--venue: {exc}")
    sources = [Path(s) for s in args.sources]
    main_source, others = (None, sources) if args.venue is not None else (sources[0], sources[1:])
    try:
        take: Callable[[], Snapshot]
        if args.venue is not None:
            def take() -> Snapshot:
                return snapshot_venue(args.venue, args.dir)
        elif args.intervals:
            if main_source.is_dir() or main_source.suffix == ".hlog":
                parser.error("--interval-s/--intervals need a live region file, "
                             f"not {main_source}")
            region = LatencyRegion.attach_file(main_source, args.offset)
            take = region.snapshot
        if args.venue is not None or args.intervals:
            source = _live_run(take, args.interval_s, args.intervals)
        else:
            source = load_run(main_source, args.offset)
        compare: dict[str, object] = {str(p): load_run(p) for p in others}
        summarize(source, out_dir, title=args.title, compare=compare or None)
    except RegionNotReady as exc:
        print(f"gateway report: {exc}; retry once the venue has started", file=sys.stderr)
        return EX_TEMPFAIL
    except (LatencyError, OSError) as exc:
        print(f"gateway report: error: {exc}", file=sys.stderr)
        return 2
    return 0
