"""``python -m trading strategy run``: one strategy live against a running engine, in its own
process, through its own producer slot and the engine's event log (trading/strategy/live.py).

    python -m trading strategy run --venue demo --strategy quote --account 5 --instrument 1 \\
        --param size=100 --duration 60

Exit 0 after --duration (or SIGINT/SIGTERM), with the strategy's orders cancelled; 1 if the
strategy raised (it is stopped and its orders cancelled, the venue goes on); 2 for bad arguments or
a venue that cannot be attached (one line).
"""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Any, NoReturn

from shm.errors import ShmError
from trading.strategy.api import ParamError
from trading.strategy.context import Limits
from trading.strategy.live import LiveRunner
from trading.strategy.registry import BUILTIN, build, parse_params


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"strategy: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m trading strategy", description="run or list strategies")
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the shipped strategies and their parameters")
    run = sub.add_parser("run", help="run one strategy live against a running engine")
    run.add_argument("--venue", required=True, help="engine name (python -m gateway engine --name / venue.toml)")
    run.add_argument("--strategy", required=True)
    run.add_argument("--account", type=int, required=True, help="the strategy's own account (limits from the control plane)")
    run.add_argument("--instrument", type=int, required=True)
    run.add_argument("--param", action="append", default=[], metavar="K=V")
    run.add_argument("--duration", type=float, default=None, help="seconds to run (default: until SIGINT/SIGTERM)")
    run.add_argument("--max-order-qty", type=int, default=None)
    run.add_argument("--tick", type=int, default=1)
    run.add_argument("--journal", default=None, metavar="DIR",
                     help="the venue's journal: start with the instrument's standing book read from it")
    run.add_argument("--shm-dir", default=None, help="where the venue's segments are (default: $VENUE_SHM_DIR or /dev/shm)")
    return p


STARTED = "strategy: SIGTERM handler installed"


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.action == "list":
        for name, cls in sorted(BUILTIN.items()):
            params = ", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()) or "no parameters"
            print(f"{name:<10} {cls.__module__}.{cls.__name__}: {params}")
        return 0
    # SIGTERM (strategy stop) may come while the runner is still starting (imports, the journal
    # read): it is remembered and honoured before the loop, so a stop always exits cleanly. Once
    # the runner exists it is asked to stop after the poll in hand (LiveRunner.request_stop):
    # raising from the handler would cut a poll, and its fills would miss the ledger.
    stopping: dict[str, bool] = {"now": False}
    running: list[LiveRunner] = []

    def _stop(signum: int, frame: Any) -> None:
        stopping["now"] = True
        for r in running:
            r.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    print(STARTED, flush=True)      # the manager's stop waits for this line: SIGTERM is handled now
    from gateway.enginehost.journal import JournalError
    try:
        strategy = build(args.strategy, parse_params(args.param))
        if args.account < 0 or args.instrument <= 0:
            raise ValueError("--account must be >= 0 and --instrument > 0")
        limits = Limits(max_order_qty=args.max_order_qty) if args.max_order_qty else Limits()
        runner = LiveRunner(args.venue, strategy, args.instrument, args.account, limits, tick_size=args.tick,
                            directory=args.shm_dir, journal_dir=args.journal)
    except (ValueError, LookupError, ParamError, ShmError, OSError, JournalError) as exc:
        print(f"strategy: {exc}", file=sys.stderr)
        return 2
    running.append(runner)
    try:
        if not stopping["now"]:
            runner.run(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        running.clear()
        runner.stop()
    led = runner.ctx.ledger
    print(f"{type(strategy).__name__} on instrument {args.instrument} account {args.account}: "
          f"{runner.ctx.fill_count} fills, position {led.position}, P&L {runner.ctx.pnl:.2f} "
          f"(realised {led.realized:.2f}, fees {led.fees:.2f}), {runner.events_seen} events read")
    if runner.error:
        print(runner.error, file=sys.stderr)
        return 1
    return 0
