"""``python -m trading analyze --data PATH``: the estimator set over a LOBSTER day, a summary and plots.

PATH is a LOBSTER message file (its orderbook file is found by LOBSTER's naming, ``_message_`` ->
``_orderbook_``) or a directory, whose every message/orderbook pair is analysed. For each day it
prints one table (estimator, value) and writes PNG plots under ``--out`` (default
``reports/analytics``): VPIN with its CDF, OFI against the mid change with the fitted impact line,
the mid with the fused efficient price and the volatility regime, and the markout curve.
``--estimator NAME`` (repeatable) limits the table and plots to those estimators; the set is
computed whole either way (suite.py). ``--json`` prints the summaries as one JSON object instead.

Bad input exits 2 with one line on stderr: a path that does not exist, a file that is not LOBSTER,
an unknown estimator, a non-positive bar width or bucket volume.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from gateway.cli_paths import os_error_line, output_dir
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.events import load_lobster, lobster_pairs
from trading.analytics.suite import DayAnalysis, SuiteConfig, analyze_day, default_bucket_volume

# estimator -> the summary keys it reports (prefix match for the families)
ESTIMATORS: dict[str, tuple[str, ...]] = {
    "classification": ("events", "trades", "classified_trades"),
    "vpin": ("vpin_",),
    "ofi": ("ofi_",),
    "kyle": ("kyle_",),
    "amihud": ("amihud",),
    "roll": ("roll_",),
    "spreads": ("effective_spread", "realised_spread", "price_impact", "adverse_selection"),
    "markouts": ("markout_",),
    "regime": ("regime_", "vol_regime", "trend_regime", "bars"),
    "efficiency": ("variance_ratio", "autocorrelation", "deviation_"),
    "fusion": ("fused_price", "deviation_"),
    "evidence": ("ds_",),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:     # one line, exit 2
        print(f"trading analyze: {message}", file=sys.stderr)
        raise SystemExit(2)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="python -m trading analyze", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="LOBSTER message file or a directory of them")
    p.add_argument("--estimator", action="append", choices=sorted(ESTIMATORS), default=[],
                   help="limit the output to these estimators (repeatable)")
    p.add_argument("--out", default="reports/analytics", help="directory for the plots")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--json", action="store_true", help="print the summaries as JSON")
    p.add_argument("--bar-seconds", type=float, default=10.0)
    p.add_argument("--bucket-volume", type=float, default=None,
                   help="VPIN bucket size in shares (default: the day's volume / --buckets-per-day)")
    p.add_argument("--buckets-per-day", type=int, default=50,
                   help="VPIN buckets per day when --bucket-volume is not given (ELO: 50)")
    p.add_argument("--vpin-window", type=int, default=50)
    p.add_argument("--warmup-bars", type=int, default=60)
    args = p.parse_args(argv)
    if not args.no_plots:           # checked only when plots are written: --no-plots needs no folder
        try:
            output_dir(args.out)
        except argparse.ArgumentTypeError as exc:
            p.error(f"--out: {exc}")
    return args


def _pairs(data: str) -> list[tuple[Path, Path]]:
    path = Path(data)
    if path.is_dir():
        pairs = lobster_pairs(path)
        if not pairs:
            raise AnalyticsInputError(f"{path}: no LOBSTER message/orderbook pair in this directory")
        return pairs
    if not path.exists():
        raise AnalyticsInputError(f"{path}: no such file or directory")
    if "_message_" not in path.name:
        raise AnalyticsInputError(f"{path}: not a LOBSTER message file (name has no '_message_')")
    book = path.with_name(path.name.replace("_message_", "_orderbook_"))
    if not book.exists():
        raise AnalyticsInputError(f"{path}: its orderbook file {book.name} is missing")
    return [(path, book)]


def _selected(summary: dict[str, float], names: list[str]) -> dict[str, float]:
    if not names:
        return summary
    prefixes = tuple(p for n in names for p in ESTIMATORS[n])
    return {k: v for k, v in summary.items() if k.startswith(prefixes)}


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "n/a"
    if v == int(v) and abs(v) < 1e12:
        return f"{int(v)}"
    return f"{v:.6g}"


def plot_day(day: DayAnalysis, stem: str, out: Path, names: list[str]) -> list[Path]:
    """The day's PNG plots (matplotlib, no display); returns the files written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    want = set(names) or set(ESTIMATORS)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        path = out / f"{stem}_{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    if "vpin" in want and len(day.vpin):
        fig, ax = plt.subplots(figsize=(9, 4))
        hours = day.vpin_time / 3600.0
        ax.plot(hours, day.vpin, label="VPIN")
        ax.plot(hours, day.vpin_cdf, label="CDF(VPIN)", alpha=0.6)
        ax.axhline(0.99, color="red", lw=0.8, ls="--", label="alert level")
        ax.set_xlabel("hours after midnight")
        ax.set_title("VPIN per volume bucket (Easley, Lopez de Prado, O'Hara 2012)")
        ax.legend()
        save(fig, "vpin")
    if "ofi" in want and len(day.ofi.ofi) > 2:
        fig, ax = plt.subplots(figsize=(6, 5))
        ax.scatter(day.ofi.ofi, day.ofi.mid_change, s=4, alpha=0.4)
        beta, alpha = np.polyfit(day.ofi.ofi, day.ofi.mid_change, 1)
        xs = np.linspace(day.ofi.ofi.min(), day.ofi.ofi.max(), 2)
        ax.plot(xs, alpha + beta * xs, color="red", label=f"beta = {beta:.3g}")
        ax.set_xlabel("OFI per bar (shares)")
        ax.set_ylabel("mid change per bar")
        ax.set_title("Order-flow imbalance and price impact (Cont, Kukanov, Stoikov 2014)")
        ax.legend()
        save(fig, "ofi")
    if want & {"regime", "fusion"} and len(day.regime):
        fig, ax = plt.subplots(figsize=(9, 4))
        h = day.regime[:, 0] / 3600.0
        ax.plot(h, day.regime[:, 1], lw=0.8, label="mid")
        ax.plot(h, day.regime[:, 2], lw=0.8, label="fused efficient price")
        high = day.regime[:, 3] > 0
        lo, hi = np.nanmin(day.regime[:, 1]), np.nanmax(day.regime[:, 1])
        ax.fill_between(h, lo, hi, where=high, color="orange", alpha=0.2, label="high-volatility regime")
        ax.set_xlabel("hours after midnight")
        ax.set_title("Mid, fused price and volatility regime")
        ax.legend()
        save(fig, "regime")
    if want & {"markouts", "spreads"} and len(day.markouts):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(day.markout_horizons, 1e4 * day.markouts, marker="o")
        ax.set_xscale("log")
        ax.set_xlabel("horizon (s)")
        ax.set_ylabel("mean taker markout (bps)")
        ax.set_title("Markouts")
        save(fig, "markouts")
    return written


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    results: dict[str, dict[str, float]] = {}
    try:
        pairs = _pairs(args.data)
        for msg, book in pairs:
            events = load_lobster(msg, book)
            bucket = (args.bucket_volume if args.bucket_volume is not None
                      else default_bucket_volume(events, args.buckets_per_day))
            config = SuiteConfig(bucket_volume=bucket, bar_seconds=args.bar_seconds, vpin_window=args.vpin_window,
                                 warmup_bars=args.warmup_bars)
            day = analyze_day(events, config)
            stem = msg.name.split("_message_")[0]
            results[stem] = _selected(day.summary, args.estimator)
            files = [] if args.no_plots else plot_day(day, stem, Path(args.out), args.estimator)
            if not args.json:
                print(f"{msg.name}: {len(events)} events, {len(day.alerts)} alerts")
                width = max(len(k) for k in results[stem]) if results[stem] else 0
                for k, v in results[stem].items():
                    print(f"  {k:<{width}}  {_fmt(v)}")
                for f in files:
                    print(f"  plot: {f}")
    except AnalyticsInputError as exc:
        print(f"trading analyze: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:          # a plot that could not be written (disk full, read-only mount)
        print(f"trading analyze: {os_error_line(exc)}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({k: {n: (None if math.isnan(v) else v) for n, v in s.items()} for k, s in results.items()}))
    return 0
