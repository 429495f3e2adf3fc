"""What the demo's strategy processes share (market_maker.py, execution_algo.py): the command line
(engine name, instrument, own account, tick, cpu), pinning under SCHED_BATCH, and the live loop:
the runner polls the event log every poll_s, whatever it brings, until the strategy fails or
SIGTERM; then the runner stops the strategy (every order of its account cancelled and confirmed).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from types import FrameType
from typing import NoReturn

from trading.strategy.live import LiveRunner


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:      # one line, exit 2 (the project's CLI rule)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


_stop_requested = False


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM: the live loop stops after the poll in hand. Only a flag: a handler that raised
    cut the runner wherever it was, in the middle of a poll (the rest of its events, fills
    included, never reached the strategy's ledger) or inside a callback (the strategy stopped as
    failed, exit 1, instead of cleanly)."""
    global _stop_requested
    _stop_requested = True


def strategy_parser(prog: str, description: str, account_help: str) -> argparse.ArgumentParser:
    """The arguments every demo strategy process takes; a caller may add its own."""
    p = _Parser(prog=prog, description=description)
    p.add_argument("--venue", required=True, help="engine name")
    p.add_argument("--instrument", type=int, required=True)
    p.add_argument("--account", type=int, required=True, help=account_help)
    p.add_argument("--tick", type=int, required=True, help="the instrument's tick in price units")
    p.add_argument("--cpu", type=int, default=None,
                   help="pin to this cpu, under SCHED_BATCH (its wake-ups do not preempt the "
                        "processes it shares the cpu with)")
    return p


def check_and_pin(parser: argparse.ArgumentParser, args: argparse.Namespace,
                  positive: tuple[str, ...] = ("instrument", "tick")) -> None:
    """Refuses (exit 2, one line) a non-positive value of `positive` or a negative account, and an
    unknown cpu; then pins the process to --cpu under SCHED_BATCH when given."""
    if any(getattr(args, name) <= 0 for name in positive) or args.account < 0:
        flags = [f"--{name.replace('_', '-')}" for name in positive]
        listed = flags[0] if len(flags) == 1 else f"{', '.join(flags[:-1])} and {flags[-1]}"
        parser.error(f"{listed} must be > 0 and --account >= 0")
    if args.cpu is not None:
        if args.cpu not in os.sched_getaffinity(0):
            parser.error(f"--cpu {args.cpu} is not one of the allowed cpus {sorted(os.sched_getaffinity(0))}")
        os.sched_setaffinity(0, {args.cpu})
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def run_live(runner: LiveRunner, poll_s: float) -> None:
    """One poll of the event log every poll_s until the strategy fails or SIGTERM (on_sigterm must
    be installed), then the runner's clean stop, which a second SIGTERM cannot cut."""
    try:
        runner.start()
        while runner.error is None and not _stop_requested:
            runner.step()
            if not _stop_requested:
                time.sleep(poll_s)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        runner.stop()
