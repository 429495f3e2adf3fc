"""``python -m trading mm ...``: the market-making tools on the command line.

    mm paper [--paths N] [--seed S] [--gamma G ...]    the Avellaneda-Stoikov experiment, printed in
                                                       the paper's table layout beside its values
    mm quote --mid X [--inventory Q] [--param k=v ...] the quotes a market maker would send now
                                                       (parameters checked; nothing is sent)

Bad arguments exit 2 with one line naming what is wrong.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn

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
    quoter = Quoter(params)
    tq = quoter.target(args.mid, args.inventory, args.t, MarketInputs(m.sigma, m.A, m.k))
    tick = params.grid.tick
    bid = f"{tq.bid.size} @ {tq.bid.price_ticks * tick:.6g}" if tq.bid else "none"
    ask = f"{tq.ask.size} @ {tq.ask.price_ticks * tick:.6g}" if tq.ask else "none"
    print(f"model {m.model}  reservation {tq.reservation:.6g}  bid {bid}  ask {ask}")
    return 0


def main(argv: list[str]) -> int:
    parser = _Parser(prog="python -m trading mm", description="market-making tools")
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    p = sub.add_parser("paper", help="the Avellaneda-Stoikov (2008) experiment beside the paper")
    p.add_argument("--paths", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2008)
    p.add_argument("--gamma", type=float, action="append")
    q = sub.add_parser("quote", help="the quotes for a mid and an inventory (nothing is sent)")
    q.add_argument("--mid", type=float, required=True)
    q.add_argument("--inventory", type=int, default=0)
    q.add_argument("--t", type=float, default=0.0, help="seconds since the session start")
    q.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    try:
        return _paper(args) if args.cmd == "paper" else _quote(args)
    except ParameterError as err:
        print(f"mm: {err}", file=sys.stderr)
        return 2
