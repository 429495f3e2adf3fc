"""``python -m trading backtest``: replay a historical day through the real engine with a strategy.

    python -m trading backtest --data ../shared/data/GOOG_..._message_1.csv --strategy quote \\
        --param size=100 --order-latency 50us --feed-latency hlog:reports/demo/latency.hlog

--data is a LOBSTER message file (its order-book file beside it is used when present) or a
Databento-style MBO CSV (--format mbo, or a header row starting with ts_recv/ts_event). Bad
arguments and bad data exit 2 with one line naming the problem (file, row); a strategy that raises
is stopped with its orders cancelled, the replay finishes, the error is reported and the exit code
is 1. --data given several times replays those days of one date through one engine, one
instrument each (trading/replay/multi.py): the first is the strategy's (instrument 1), the others
are instruments 2, 3, ... that it follows and may trade (e.g. ``--param hedge_instrument=2``);
days of different dates, tick sizes or price scales, or a symbol given twice, are refused.
Results go to --out (result.json, fills.csv, pnl.png, inventory.png, quotes.png, and with the
default --compute measured, compute_charges.json: pass it back with --compute-charges to rerun the
measured run byte for byte).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import NoReturn

from gateway.cli_numbers import non_negative_int, positive_int, seed
from gateway.cli_paths import output_dir
from trading.replay.charges import load_charges
from trading.replay.data import DataError, MarketDay, require_data_file
from trading.replay.history import build_history
from trading.replay.latency import parse as parse_latency
from trading.replay.latency import parse_duration
from trading.replay.lobster import load_lobster
from trading.replay.mbo import load_mbo
from trading.replay.multi import MAX_INSTRUMENTS, MultiDayError, run_multi_replay
from trading.replay.results import terminal_summary, write
from trading.replay.runtime import ComputeChargesMismatch, ReplayConfig, run_replay
from trading.strategy.api import ParamError
from trading.strategy.context import Limits
from trading.strategy.ledger import FeeSchedule
from trading.strategy.registry import build, parse_params


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:   # one line, exit 2
        print(f"backtest: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m trading backtest", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, action="append",
                   help="LOBSTER message CSV or MBO CSV; repeat for more instruments of the same day (2: instrument 2, ...)")
    p.add_argument("--format", choices=("auto", "lobster", "mbo"), default="auto")
    p.add_argument("--orderbook", default="auto", help="LOBSTER order-book file: auto (beside the data), a path, or none")
    p.add_argument("--strategy", required=True, help="a shipped name (noop, quote) or a dotted path module.Class")
    p.add_argument("--param", action="append", default=[], metavar="K=V", help="strategy parameter (repeatable)")
    p.add_argument("--order-latency", default="0", help="strategy -> engine: 50us | hlog:PATH[#hist] | band:1s:100=20us/inf=200us")
    p.add_argument("--feed-latency", default="0", help="engine -> strategy (market data, acks, fills); same forms")
    p.add_argument("--compute", default="measured", help="strategy computation time: measured | none | a duration per callback")
    p.add_argument("--compute-charges", default=None, metavar="FILE",
                   help="replay the measured computation times of an earlier run (its compute_charges.json)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the latency draws")
    p.add_argument("--max-position", type=non_negative_int, default=None, help="engine-enforced position limit of the strategy's account")
    p.add_argument("--max-order-qty", type=positive_int, default=None)
    p.add_argument("--fees", default="", help="per-share fee schedule, e.g. maker=-0.002,taker=0.003")
    p.add_argument("--tick", type=positive_int, default=100, help="tick size in price units (LOBSTER: 100 = 1 cent)")
    p.add_argument("--out", type=output_dir, default="reports/backtest", help="directory for the result files")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def load(path: str, fmt: str, orderbook: str, tick: int) -> MarketDay:
    file = Path(path)
    if fmt == "auto":
        require_data_file(file)
        with open(file, encoding="utf-8", errors="replace") as f:
            first = f.readline()
        fmt = "mbo" if first.startswith(("ts_recv", "ts_event")) else "lobster"
    if fmt == "mbo":
        return load_mbo(file, tick_size=tick)
    book: str | bool | None = True if orderbook == "auto" else (None if orderbook == "none" else orderbook)
    return load_lobster(file, orderbook=book, tick_size=tick)


class Progress:
    """A one-line bar on stderr for interactive runs (nothing when stderr is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.last = -1

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        pct = int(fraction * 100)
        if pct != self.last:
            self.last = pct
            bar = "#" * (pct // 2)
            sys.stderr.write(f"\r  replay [{bar:<50}] {pct:3d}%")
            if pct >= 100:
                sys.stderr.write("\n")
            sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:     # --help (0) or a bad argument (2, already printed in one line)
        return int(exc.code or 0)
    try:
        compute: str | int = args.compute if args.compute in ("measured", "none") else parse_duration(args.compute)
        if args.compute_charges is not None and compute != "measured":
            raise ValueError("--compute-charges replays measured times: it needs --compute measured")
        strategy = build(args.strategy, parse_params(args.param))
        charges = None if args.compute_charges is None else load_charges(args.compute_charges, type(strategy).__name__)
        config = ReplayConfig(order_latency=parse_latency(args.order_latency), feed_latency=parse_latency(args.feed_latency),
                              compute=compute, compute_charges=charges, seed=args.seed,
                              limits=Limits(max_position=args.max_position if args.max_position is not None else 1 << 62,
                                            max_order_qty=args.max_order_qty if args.max_order_qty is not None else 1 << 62),
                              fees=FeeSchedule.parse(args.fees))
        if len(args.data) > 1 and args.orderbook not in ("auto", "none"):
            raise ValueError("--orderbook PATH names one file's book: with several --data use auto or none")
        if len(args.data) > MAX_INSTRUMENTS:
            raise ValueError(f"--data: at most {MAX_INSTRUMENTS} instruments, got {len(args.data)}")
    except (ValueError, LookupError, ParamError) as exc:
        print(f"backtest: {exc}", file=sys.stderr)
        return 2
    try:
        t0 = time.perf_counter()
        days = [load(path, args.format, args.orderbook, args.tick) for path in args.data]
        histories = [build_history(day) for day in days]
        prep = time.perf_counter() - t0
    except DataError as exc:
        print(f"backtest: bad data: {exc}", file=sys.stderr)
        return 2
    try:
        if len(histories) == 1:
            result = run_replay(histories[0], strategy, config, Progress(not args.quiet))
        else:
            result = run_multi_replay(histories, strategy, config, Progress(not args.quiet))
    except MultiDayError as exc:
        print(f"backtest: --data: {exc}", file=sys.stderr)
        return 2
    except ComputeChargesMismatch as exc:
        print(f"backtest: --compute-charges {args.compute_charges}: {exc}", file=sys.stderr)
        return 2
    paths = write(result, args.out, plots=not args.no_plots)
    print(terminal_summary(result))
    print(f"  data: {sum(len(d) for d in days)} messages loaded and turned into {sum(len(h) for h in histories)} "
          f"engine commands in {prep:.2f} s")
    print(f"  results: {', '.join(str(p) for p in paths)}")
    if result.error:
        print(result.error, file=sys.stderr)
        return 1
    return 0
