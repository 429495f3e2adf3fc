"""Question: how many market-data events per second does the streaming analytics set keep up with
on one core, and how long does the batch set take for a full day?

Replays a full LOBSTER day (GOOG, 21 June 2012, 49,482 book events, 11,678 trades; from
<repo>/../shared/data or --data) as the market-data events the streaming estimators read, through
``trading.analytics.suite.StreamingAnalytics`` (every streaming estimator together: trade
classification, VPIN, Roll, spreads and markouts, OFI, time bars with Kyle's lambda, Amihud,
variance ratios, the regime detector, the Kalman efficient price and Dempster-Shafer evidence), in
micro-batches, single-threaded:

  - at the day's own timestamps: the per-bar models (regime, Kalman, evidence: 2,340 bars of 10 s)
    cost time per bar, not per event, so this rate depends on how sparse the day is;
  - as a 1 M events/s feed (event i at t0 + i us: the same events, compressed in time): the per-event
    cost, the figure the 1 M events/s target is about;
  - baseline: the same set fed one event per call (update with one-event batches) on the first
    5,000 events of the compressed day; the ratio is what micro-batching buys.

and times ``analyze_day`` (the batch form) on the day. Each figure is the median of several runs,
as wall-clock and as process CPU time (events per CPU second: less sensitive to the other work on
this shared machine). Every run checks that the streaming summary equals the batch summary.

    python bench/analytics.py [--quick] [--data MESSAGE_CSV]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from trading.analytics.errors import AnalyticsInputError  # noqa: E402
from trading.analytics.events import MarketEvents, load_lobster  # noqa: E402
from trading.analytics.suite import StreamingAnalytics, SuiteConfig, analyze_day, default_bucket_volume  # noqa: E402
from gateway.cli_errors import install as one_line_usage_errors  # noqa: E402

BENCH = "analytics"
DEFAULT_DAY = REPO.parent / "shared" / "data" / "GOOG_2012-06-21_34200000_57600000_message_1.csv"
FEED_RATE = 1_000_000      # events per second of the compressed replay


def _timed(fn: Callable[[], Any], reps: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of reps calls, and the last call's result."""
    walls, cpus = [], []
    result = None
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def _stream(ev: MarketEvents, cfg: SuiteConfig, chunk: int) -> dict[str, float]:
    s = StreamingAnalytics(cfg)
    for i in range(0, len(ev), chunk):
        s.update(ev.select(slice(i, i + chunk)))
    s.finish()
    return s.values()


def _compressed(ev: MarketEvents) -> MarketEvents:
    fields = list(MarketEvents.__dataclass_fields__)
    t = ev.time[0] + np.arange(len(ev), dtype=np.float64) / FEED_RATE
    return MarketEvents(t, *(getattr(ev, f) for f in fields[1:]))


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) for k in a)


def main(argv: list[str] | None = None) -> int:
    one_line_usage_errors()        # a bad argument: one line (see --help), not argparse's usage block
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (within a minute)")
    ap.add_argument("--data", default=str(DEFAULT_DAY), help="a LOBSTER message file (orderbook beside it)")
    args = ap.parse_args(argv)
    msg = Path(args.data)
    book = msg.with_name(msg.name.replace("_message_", "_orderbook_"))
    if not (msg.exists() and book.exists()):
        print(f"{BENCH}: needs a LOBSTER day: {msg} and {book.name} (the samples live in <repo>/../shared/data)",
              file=sys.stderr)
        return 2
    reps = 3 if args.quick else 7
    load_before = os.getloadavg()
    try:
        ev = load_lobster(msg, book)
    except AnalyticsInputError as exc:          # not a LOBSTER day: one line, not a traceback
        print(f"{BENCH}: {exc}", file=sys.stderr)
        return 2
    cfg = SuiteConfig(bucket_volume=default_bucket_volume(ev))
    dense = _compressed(ev)
    n = len(ev)

    batch_wall, batch_cpu, day = _timed(lambda: analyze_day(ev, cfg), reps)
    dense_batch = analyze_day(dense, cfg).summary
    rows: list[tuple[str, float, float, bool]] = []
    metrics: dict[str, float] = {}
    for label, data, ref in (("day_timestamps", ev, day.summary), ("feed_1M_per_s", dense, dense_batch)):
        for chunk in (4096, 16384):
            def run(d: MarketEvents = data, c: int = chunk) -> dict[str, float]:
                return _stream(d, cfg, c)
            wall, cpu, values = _timed(run, reps)
            ok = _same(values, ref)
            rows.append((f"streaming set, {label}, micro-batch {chunk}", n / wall, n / cpu, ok))
            metrics[f"stream_{label}_batch{chunk}_events_per_s"] = n / wall
            metrics[f"stream_{label}_batch{chunk}_events_per_cpu_s"] = n / cpu
            if not ok:
                print(f"{BENCH}: streaming summary differs from the batch summary ({label}, {chunk})", file=sys.stderr)
                return 1
    base_n = 5000
    head = dense.select(slice(0, base_n))
    wall, cpu, _ = _timed(lambda: _stream(head, cfg, 1), max(reps // 2, 1))
    rows.append((f"baseline: one event per update, first {base_n} events", base_n / wall, base_n / cpu, True))
    baselines = {"per_event_update_events_per_s": base_n / wall, "per_event_update_events_per_cpu_s": base_n / cpu}
    metrics["batch_full_day_s"] = batch_wall
    metrics["batch_full_day_cpu_s"] = batch_cpu
    metrics["day_events"] = float(n)
    metrics["day_trades"] = float(ev.is_trade.sum())
    load_after = os.getloadavg()
    best = metrics["stream_feed_1M_per_s_batch16384_events_per_s"]
    ratios = {"microbatch16384_over_per_event": best / baselines["per_event_update_events_per_s"],
              "feed_1M_events_per_s_target": best / FEED_RATE,
              "feed_1M_events_per_cpu_s_target": metrics["stream_feed_1M_per_s_batch16384_events_per_cpu_s"] / FEED_RATE}

    print(f"analytics streaming set on {msg.name}: {n} events, {int(ev.is_trade.sum())} trades, "
          f"median of {reps} runs, single thread")
    print(f"  {'what':<62} {'events/s':>12} {'events/CPU-s':>13}  stream == batch")
    for name, rate, cpu_rate, ok in rows:
        print(f"  {name:<62} {rate:>12,.0f} {cpu_rate:>13,.0f}  {'yes' if ok else 'NO'}")
    print(f"  batch set (analyze_day), full day: {batch_wall:.3f} s wall, {batch_cpu:.3f} s CPU")
    print(f"  load average {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} cores "
          f"(other work shares them)")
    machine = {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
               "python": platform.python_version(), "numpy": np.__version__, "quick": args.quick,
               "load_average_before": load_before[0], "load_average_after": load_after[0],
               "pinning": "none", "timing": "time.perf_counter and time.process_time, median of runs"}
    print(json.dumps({"bench": BENCH, "machine": machine, "metrics": metrics, "baselines": baselines,
                      "ratios": ratios}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
