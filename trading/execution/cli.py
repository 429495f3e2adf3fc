"""``python -m trading execution ...``: the execution algorithms on the command line.

    execution paper [--png PATH] [--lambda L]     the Almgren-Chriss (2000) worked example: kappa,
                                                  the holdings, E and V of the optimal and of the
                                                  straight-line strategy, the frontier as a PNG
    execution impact --data LOBSTER_MESSAGE_CSV [--bucket-s S]
                                                  the square-root impact model estimated from a day
                                                  (needs the order-book file beside it)

Bad arguments exit 2 with one line naming what is wrong.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"execution: {message}", file=sys.stderr)
        raise SystemExit(2)


def _paper(args: argparse.Namespace) -> int:
    from trading.execution.almgren_chriss import paper_example
    from trading.execution.frontier import example_text, plot_frontier
    if not args.lam >= 0:
        print(f"execution paper: --lambda must be >= 0, got {args.lam}", file=sys.stderr)
        return 2
    m = paper_example().with_lambda(args.lam)
    print(example_text(m))
    print(f"efficient frontier: {plot_frontier(m, args.png)}")
    return 0


def _impact(args: argparse.Namespace) -> int:
    from trading.execution.impact import estimate_from_day
    from trading.replay.data import DataError
    from trading.replay.lobster import load_lobster
    if not args.bucket_s > 0:
        print(f"execution impact: --bucket-s must be positive, got {args.bucket_s}", file=sys.stderr)
        return 2
    try:
        m = estimate_from_day(load_lobster(args.data), args.bucket_s)
    except (OSError, DataError, ValueError) as exc:
        print(f"execution impact: {exc}", file=sys.stderr)
        return 2
    for k, v in m.describe().items():
        print(f"{k:>16}  {v:.6g}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m trading execution", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    p = sub.add_parser("paper", help="the Almgren-Chriss worked example and its efficient frontier")
    p.add_argument("--png", default="reports/execution/ac_frontier.png")
    p.add_argument("--lambda", dest="lam", type=float, default=1e-6)
    p.set_defaults(run=_paper)
    p = sub.add_parser("impact", help="the square-root impact model estimated from a LOBSTER day")
    p.add_argument("--data", required=True)
    p.add_argument("--bucket-s", type=float, default=60.0)
    p.set_defaults(run=_impact)
    args = parser.parse_args(argv)
    return int(args.run(args))
