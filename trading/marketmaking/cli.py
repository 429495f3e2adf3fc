"""``python -m trading mm ...``: the market-making tools on the command line.

    mm paper [--paths N] [--seed S] [--gamma G ...]    the Avellaneda-Stoikov experiment, printed in
                                                       the paper's table layout beside its values
    mm quote --mid X [--inventory Q] [--param k=v ...] the quotes a market maker would send now
                                                       (parameters checked; nothing is sent)
    mm replay --data LOBSTER_MESSAGE_CSV [--data ANOTHER ...] [--param k=v ...] [--out DIR] [--seed S]
        [--compute NS]   (several --data: one engine, instrument 1 quoted, 2.. followed, e.g. for
        hedge_instrument=2; trading/replay/multi.py)
                                                       the market maker over a historical day through
                                                       the strategy runtime and the real engine; the
                                                       P&L decomposition, markouts, fit, regime, and
                                                       mm_report.json / .png in DIR
    mm venues --data LOBSTER_MESSAGE_CSV [--config MULTI.toml --symbol S] [--venues A,B] [--minutes M]
        [--step-ms MS] [--seed S] [--param k=v ...]
                                                       the multi-venue maker (one inventory) over the
                                                       day split into lit venues by the routing
                                                       replay's rule, each venue's fees and latency
                                                       applied (multivenue_replay.py); P&L per venue

Bad arguments exit 2 with one line naming what is wrong.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from gateway.cli_numbers import non_negative_float, positive_float, seed
from gateway.cli_paths import output_dir
from trading.marketmaking.errors import ParameterError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"mm: {message}", file=sys.stderr)
        raise SystemExit(2)


def _pairs(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParameterError(item, item, "expected name=value")
        out[name.strip()] = value.strip()
    return out


def _paper(args: argparse.Namespace) -> int:
    from trading.marketmaking.paper import ExperimentConfig, table
    if args.paths < 2:
        raise ParameterError("paths", args.paths, "must be >= 2")
    gammas = tuple(args.gamma) if args.gamma else (0.1, 0.01, 1.0)
    for g in gammas:
        if not g > 0:
            raise ParameterError("gamma", g, "must be > 0")
    text, _ = table(gammas, ExperimentConfig(paths=args.paths, seed=args.seed))
    print(text)
    return 0


def _quote(args: argparse.Namespace) -> int:
    from trading.marketmaking.params import MarketMakerParams
    from trading.marketmaking.quoting import MarketInputs, Quoter
    params = MarketMakerParams.from_strings(_pairs(args.param))
    m = params.model
    if m.sigma is None or m.A is None or m.k is None:
        raise ParameterError("sigma/A/k", None, "give sigma, A and k with --param to quote offline")
    if abs(args.inventory) > params.limits.max_inventory:     # a state the maker never reaches
        raise ParameterError("inventory", args.inventory,
                             f"must be within +-max_inventory ({params.limits.max_inventory})")
    tick = params.grid.tick
    if not args.mid / tick < 2**53:     # whole ticks a float still counts exactly
        raise ParameterError("mid", args.mid, f"at most {2**53 * tick:.6g} (2^53 ticks of {tick:g})")
    quoter = Quoter(params)
    try:
        tq = quoter.target(args.mid, args.inventory, args.t, MarketInputs(m.sigma, m.A, m.k))
    except (OverflowError, ValueError):  # gamma * sigma^2 beyond any float: an infinite (or NaN) spread
        raise ParameterError("gamma/sigma", f"{m.gamma:g}/{m.sigma:g}",
                             "the quotes' distance from the mid is beyond any price") from None
    bid = f"{tq.bid.size} @ {tq.bid.price_ticks * tick:.6g}" if tq.bid else "none"
    ask = f"{tq.ask.size} @ {tq.ask.price_ticks * tick:.6g}" if tq.ask else "none"
    print(f"model {m.model}  reservation {tq.reservation:.6g}  bid {bid}  ask {ask}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from trading.marketmaking import report
    from trading.marketmaking.strategy import MarketMakingStrategy
    from trading.replay.history import build_history
    from trading.replay.lobster import load_lobster
    from trading.replay.multi import MAX_INSTRUMENTS, MultiDayError, run_multi_replay
    from trading.replay.runtime import ReplayConfig, run_replay
    from trading.strategy.api import ParamError
    try:
        strategy = MarketMakingStrategy(**_pairs(args.param))
    except ParamError as err:
        raise ParameterError("param", args.param, str(err)) from None
    if len(args.data) > MAX_INSTRUMENTS:
        raise ParameterError("data", len(args.data), f"at most {MAX_INSTRUMENTS} instruments")
    days = []
    for path in args.data:
        try:
            days.append(load_lobster(path))
        except (OSError, ValueError) as err:
            print(f"mm: --data {path}: {err}", file=sys.stderr)
            return 2
    day = days[0]
    compute: str | int = args.compute
    if compute not in ("measured", "none"):
        try:
            compute = int(compute)
        except ValueError:
            raise ParameterError("compute", args.compute, "measured, none, or ns per callback") from None
        if compute < 0:
            raise ParameterError("compute", args.compute, "must be >= 0 ns")
    strategy_check = MarketMakingStrategy(**_pairs(args.param))
    strategy_check.build_params(day.tick_size, day.price_scale)      # refused here, before the run
    hedge_instrument = int(float(strategy.params["hedge_instrument"]))
    if not 0 <= hedge_instrument <= len(days):
        raise ParameterError("hedge_instrument", hedge_instrument,
                             f"is not a replayed instrument (1..{len(days)}, one per --data)")
    config = ReplayConfig(seed=args.seed, compute=compute)
    try:
        histories = [build_history(d) for d in days]
        result = (run_replay(histories[0], strategy, config) if len(days) == 1
                  else run_multi_replay(histories, strategy, config))
    except MultiDayError as err:
        print(f"mm: --data: {err}", file=sys.stderr)
        return 2
    if result.error:
        print(f"mm: the strategy failed: {result.error.splitlines()[-1]}", file=sys.stderr)
        return 1
    rep = strategy.report(result.ctx)
    print(report.summary(rep))
    files = report.write(rep, strategy.path, float(result.ctx.price_scale), args.out)
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


def _venues(args: argparse.Namespace) -> int:
    from gateway.venues.config import load_multi_config
    from trading.marketmaking.multivenue_replay import MultiVenueMakerReplay
    from trading.replay.lobster import load_lobster
    from trading.routing.errors import RoutingError
    from trading.routing.flow import REPLAY_VENUES
    if (args.config is None) != (args.symbol is None):
        raise ParameterError("config", args.config, "--config and --symbol go together")
    try:
        if args.config is not None:
            venues = [v for v in load_multi_config(args.config).venues if args.symbol in v.instruments]
            if not venues:
                raise ParameterError("symbol", args.symbol, f"no venue of {args.config} trades it")
        else:
            venues = list(REPLAY_VENUES)
        makers = args.venues.split(",") if args.venues else [v.id for v in venues if v.type == "lit"]
        day = load_lobster(args.data)
        replay = MultiVenueMakerReplay(day, venues, makers, _pairs(args.param), seed=args.seed, step_ms=args.step_ms)
        until = None if args.minutes is None else int(day.ts_ns[0]) + int(args.minutes * 60e9)
        result = replay.run(until_ns=until)
    except (OSError, ValueError, RoutingError) as err:
        if isinstance(err, ParameterError):
            raise
        print(f"mm: {err}", file=sys.stderr)
        return 2
    rep = result.report
    for v, leg in rep["venues"].items():
        trips = sorted(result.round_trips[v])
        rt = f"{trips[len(trips) // 2] / 1e3:.0f} us" if trips else "none"
        print(f"{v}: P&L {leg['pnl']['total']:+.2f} (spread {leg['pnl']['spread_capture']:+.2f}, adverse "
              f"{leg['pnl']['adverse_selection']:+.2f}, inventory {leg['pnl']['inventory']:+.2f}, fees "
              f"{leg['pnl']['fees']:+.2f}); fills {leg['passive_fills']}, position {leg['position']}, quotes sent "
              f"{result.quotes_sent[v]}, median round trip {rt}")
    print(f"total P&L {rep['pnl_total']:+.2f} (venues' ledgers {rep['runtime_pnl_total']:+.2f}); parts add up: "
          f"{rep['all_parts_add_up']}; inventory {rep['inventory']}, max |inventory| {rep['max_abs_inventory']} "
          f"(limit {rep['max_inventory']})")
    return 0


def main(argv: list[str]) -> int:
    parser = _Parser(prog="python -m trading mm", description="market-making tools")
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    p = sub.add_parser("paper", help="the Avellaneda-Stoikov (2008) experiment beside the paper")
    p.add_argument("--paths", type=int, default=1000)
    p.add_argument("--seed", type=seed, default=2008)
    p.add_argument("--gamma", type=float, action="append")
    q = sub.add_parser("quote", help="the quotes for a mid and an inventory (nothing is sent)")
    q.add_argument("--mid", type=positive_float, required=True)
    q.add_argument("--inventory", type=int, default=0)
    q.add_argument("--t", type=non_negative_float, default=0.0, help="seconds since the session start")
    q.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    r = sub.add_parser("replay", help="the market maker over a historical day (LOBSTER) through the runtime")
    r.add_argument("--data", required=True, action="append",
                   help="a LOBSTER message CSV (its orderbook file beside it is used); repeat for instruments "
                        "2, 3, ... of the same day")
    r.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    r.add_argument("--out", type=output_dir, default="reports/mm")
    r.add_argument("--seed", type=seed, default=0)
    r.add_argument("--compute", default="20000",
                   help="strategy time charged per callback: ns (default 20000, deterministic), "
                        "'measured' (wall time, not reproducible) or 'none'")
    mv = sub.add_parser("venues", help="the multi-venue maker over a day split into venues (replay)")
    mv.add_argument("--data", required=True, help="a LOBSTER message CSV (its orderbook file beside it is used)")
    mv.add_argument("--config", help="a multi-venue file ([[venues]]); with --symbol (default: the replay's venues)")
    mv.add_argument("--symbol")
    mv.add_argument("--venues", help="comma-separated lit venues to quote on (default: every lit venue)")
    mv.add_argument("--minutes", type=positive_float, default=None, help="replay this many minutes from the open")
    mv.add_argument("--step-ms", type=positive_float, default=100.0, help="the maker's decision interval, simulated ms")
    mv.add_argument("--seed", type=seed, default=0, help="the split of the day and the latency draws")
    mv.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "venues":
            return _venues(args)
        if args.cmd == "paper":
            return _paper(args)
        if args.cmd == "replay":
            return _replay(args)
        return _quote(args)
    except ParameterError as err:
        print(f"mm: {err}", file=sys.stderr)
        return 2
