"""``python -m trading execution ...``: the execution algorithms on the command line.

    execution paper [--png PATH] [--lambda L]     the Almgren-Chriss (2000) worked example: kappa,
                                                  the holdings, E and V of the optimal and of the
                                                  straight-line strategy, the frontier as a PNG
    execution impact --data LOBSTER_MESSAGE_CSV [--bucket-s S]
                                                  the square-root impact model estimated from a day
                                                  (needs the order-book file beside it)
    execution profile --data LOBSTER_MESSAGE_CSV --out FILE [--bucket-s S]
                                                  a VWAP volume profile from a day's executions,
                                                  stored as JSON (the VWAP parent's ``profile``)
    execution replay --data LOBSTER_MESSAGE_CSV --algo TWAP|VWAP|POV|IS --side buy|sell --qty Q
                     --start HH:MM --minutes M [--param k=v ...] [--seed S]
                                                  one parent order over the day through the engine
                                                  (trading/replay): progress, shortfall, children
    execution expected-cost --journal DIR [--reference F] [--venue-config F] [--instrument I]
                            [--bucket-s S] [--model-data LOBSTER_MESSAGE_CSV]
                                                  TCA: each parent's expected cost from the impact
                                                  model (parameters printed) beside its realised
                                                  shortfall (trading/tca/expected.py)
    execution routed --config MULTI.toml --symbol S --account A --session N --firm F --param k=v ...
                                                  one parent order across a running multi-venue
                                                  deployment through the smart order router
                                                  (routed_live.py; the desk's routed parents)

Bad arguments exit 2 with one line naming what is wrong.
"""
from __future__ import annotations

import argparse
import math
import sys
from typing import NoReturn

from gateway.cli_numbers import positive_float
from gateway.cli_numbers import seed as seed_arg
from gateway.cli_paths import os_error_line, output_file


SESSION_S = 23_400.0       # the LOBSTER day, 09:30-16:00: a bucket longer than it holds the whole day


def bucket_seconds(text: str) -> float:
    """A bucket length: a finite number of seconds, > 0 and at most the session (1e308 filled the
    bucket edges with inf and printed numpy warnings before the error)."""
    value = positive_float(text)
    if value > SESSION_S:
        raise argparse.ArgumentTypeError(f"must be at most the session, {SESSION_S:g} s, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"execution: {message}", file=sys.stderr)
        raise SystemExit(2)


def _paper(args: argparse.Namespace) -> int:
    from trading.execution.almgren_chriss import paper_example
    from trading.execution.frontier import example_text, plot_frontier
    if not (args.lam >= 0 and math.isfinite(args.lam)):
        print(f"execution paper: --lambda must be a finite number >= 0, got {args.lam}", file=sys.stderr)
        return 2
    m = paper_example().with_lambda(args.lam)
    print(example_text(m))
    try:
        print(f"efficient frontier: {plot_frontier(m, args.png)}")
    except OSError as exc:
        print(f"execution paper: {os_error_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _impact(args: argparse.Namespace) -> int:
    from trading.execution.impact import estimate_from_day
    from trading.replay.data import DataError
    from trading.replay.lobster import load_lobster
    try:
        m = estimate_from_day(load_lobster(args.data), args.bucket_s)
    except (OSError, DataError, ValueError) as exc:
        print(f"execution impact: {exc}", file=sys.stderr)
        return 2
    for k, v in m.describe().items():
        print(f"{k:>16}  {v:.6g}")
    return 0


def _profile(args: argparse.Namespace) -> int:
    from trading.execution.profile import VolumeProfile
    from trading.replay.data import DataError, Kind
    from trading.replay.lobster import load_lobster
    try:
        day = load_lobster(args.data, orderbook=False)
    except (OSError, DataError) as exc:
        print(f"execution profile: {exc}", file=sys.stderr)
        return 2
    ex = (day.kind == Kind.EXECUTE) | (day.kind == Kind.HIDDEN)
    prof = VolumeProfile.from_executions(day.ts_ns[ex], day.qty[ex], 34_200, 57_600, args.bucket_s)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        prof.save(args.out)
    except OSError as exc:
        print(f"execution profile: {os_error_line(exc)}", file=sys.stderr)
        return 1
    total = sum(prof.volumes)
    print(f"{args.out}: {len(prof.volumes)} buckets of {args.bucket_s:g} s from 09:30, {total:,.0f} shares; "
          f"largest bucket {max(prof.volumes) / total:.1%} of the day")
    return 0


def _clock(text: str) -> int:
    """'HH:MM' -> ns after midnight (LOBSTER's clock)."""
    hh, sep, mm = text.partition(":")
    if not sep or not (hh.isdigit() and mm.isdigit()) or not (0 <= int(hh) < 24 and 0 <= int(mm) < 60):
        raise ValueError(f"--start expects HH:MM, got {text!r}")
    return (int(hh) * 3600 + int(mm) * 60) * 10 ** 9


def _replay(args: argparse.Namespace) -> int:
    from trading.execution.impact import estimate_from_day
    from trading.execution.parent import ParentOrderRefused
    from trading.execution.strategy import ExecutionStrategy
    from trading.replay.data import DataError
    from trading.replay.history import build_history
    from trading.replay.lobster import load_lobster
    from trading.replay.runtime import ReplayConfig, run_replay
    from trading.strategy.api import ParamError
    if not (args.minutes > 0 and math.isfinite(args.minutes)):
        print(f"execution replay: --minutes must be a finite number > 0, got {args.minutes}", file=sys.stderr)
        return 2
    try:
        params: dict[str, object] = {"algo": args.algo, "side": 1 if args.side == "buy" else 2, "qty": args.qty,
                                     "start_ns": _clock(args.start), "duration_s": args.minutes * 60.0,
                                     "seed": args.seed}
        for item in args.param:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ValueError(f"--param expects k=v, got {item!r}")
            params[key] = value
        day = load_lobster(args.data)
        if args.algo == "IS" and "impact_y" not in params:
            m = estimate_from_day(day)
            params.update(impact_y=m.Y, sigma_day=m.sigma_day, adv=m.daily_volume, half_spread=m.half_spread,
                          kyle=m.kyle)
        strategy = ExecutionStrategy(**params)
        result = run_replay(build_history(day), strategy, ReplayConfig(compute="none", seed=args.seed))
    except (OSError, DataError, ValueError, ParamError, ParentOrderRefused) as exc:
        print(f"execution replay: {exc}", file=sys.stderr)
        return 2
    if result.error:
        print(f"execution replay: {result.error.splitlines()[0]}", file=sys.stderr)
        return 2
    rep = strategy.report(result.ctx)
    for key in ("state", "algo", "qty", "filled", "market_volume", "participation", "arrival_mid", "avg_price",
                "shortfall_bps", "children", "child_styles"):
        print(f"{key:>14}  {rep[key]}")
    return 0


def _expected_cost(args: argparse.Namespace) -> int:
    """TCA's expected cost per parent (trading/tca/expected.py) beside the realised shortfall, on a
    venue journal; the impact model fitted on the journal's own tape per instrument, or estimated
    from a LOBSTER day (--model-data) for --instrument."""
    from trading.execution.impact import ImpactModel, estimate_from_day
    from trading.replay.data import DataError
    from trading.replay.lobster import load_lobster
    from trading.tca.analysis import analyze
    from trading.tca.errors import TcaInputError
    from trading.tca.expected import expected_costs, fit_from_tape
    from trading.tca.reference import load_reference
    from trading.tca.tape import load_tape
    try:
        ref = load_reference(args.reference, args.venue_config)
        tape = load_tape(args.journal)
        models: dict[int, ImpactModel] = {}
        if args.model_data:
            if args.instrument is None:
                raise TcaInputError("--model-data needs --instrument (the instrument the day's model is for)")
            models[args.instrument] = estimate_from_day(load_lobster(args.model_data))
        else:
            for iid in (tape.instruments if args.instrument is None else (args.instrument,)):
                try:
                    models[iid] = fit_from_tape(tape, iid, ref.price_scale, args.bucket_s)
                except TcaInputError as exc:
                    print(f"instrument {iid}: no model ({exc})")
        report = expected_costs(analyze(tape, ref), models)
    except (TcaInputError, DataError, ValueError, OSError) as exc:
        print(f"execution expected-cost: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m trading execution", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    p = sub.add_parser("paper", help="the Almgren-Chriss worked example and its efficient frontier")
    p.add_argument("--png", type=output_file, default="reports/execution/ac_frontier.png")
    p.add_argument("--lambda", dest="lam", type=float, default=1e-6)
    p.set_defaults(run=_paper)
    p = sub.add_parser("impact", help="the square-root impact model estimated from a LOBSTER day")
    p.add_argument("--data", required=True)
    p.add_argument("--bucket-s", type=bucket_seconds, default=60.0)
    p.set_defaults(run=_impact)
    p = sub.add_parser("profile", help="a VWAP volume profile from a LOBSTER day, stored as JSON")
    p.add_argument("--data", required=True)
    p.add_argument("--out", type=output_file, required=True)
    p.add_argument("--bucket-s", type=bucket_seconds, default=1800.0)
    p.set_defaults(run=_profile)
    p = sub.add_parser("replay", help="one parent order over a LOBSTER day through the engine")
    p.add_argument("--data", required=True)
    p.add_argument("--algo", required=True, choices=["TWAP", "VWAP", "POV", "IS"])
    p.add_argument("--side", required=True, choices=["buy", "sell"])
    p.add_argument("--qty", type=int, required=True)
    p.add_argument("--start", required=True, help="HH:MM (the day's clock)")
    p.add_argument("--minutes", type=float, required=True)
    p.add_argument("--param", action="append", default=[], metavar="K=V")
    p.add_argument("--seed", type=seed_arg, default=0)
    p.set_defaults(run=_replay)
    p = sub.add_parser("expected-cost", help="TCA: each parent's expected cost from the impact model vs realised")
    p.add_argument("--journal", required=True, help="the venue's journal directory")
    p.add_argument("--reference", help="TCA reference data TOML (trading/tca/reference.py)")
    p.add_argument("--venue-config", help="symbols and firms from a venue TOML")
    p.add_argument("--instrument", type=int, help="only this instrument")
    p.add_argument("--bucket-s", type=bucket_seconds, default=60.0, help="bucket of the fit on the tape")
    p.add_argument("--model-data", help="a LOBSTER message file: the model estimated from that day instead")
    p.set_defaults(run=_expected_cost)
    from trading.execution.routed_live import add_parser
    add_parser(sub)
    args = parser.parse_args(argv)
    return int(args.run(args))
