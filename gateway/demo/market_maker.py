"""The demo's market maker: trading/marketmaking's MarketMakingStrategy run live
(trading/strategy/live.py's LiveRunner) on one instrument of the demo venue, in its own process.

The demo starts it once the opening auction is done: it attaches to the engine through its own
producer slot (one SPSC command ring) and the broadcast event log, quotes under its own account
during the continuous session, and on SIGTERM stops the way the runner stops a strategy (on_stop,
then every order of its account cancelled and confirmed). Its commands are sequenced by the engine
like everyone else's, so they are in the command journal that the demo's determinism check
replays. The last line on stdout is one JSON object: what the strategy did, as its own ledger
counted it (quotes sent, fills, position, P&L), or the error that stopped it.

    python -m gateway.demo.market_maker --venue NAME --instrument 1 --account 20 --tick 100
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from types import FrameType
from typing import NoReturn

from shm.errors import ShmError
from trading.marketmaking.errors import ParameterError
from trading.marketmaking.strategy import MarketMakingStrategy
from trading.strategy.live import LiveRunner

READY_LINE = "market maker: attached"
# The strategy's defaults but two. sigma (USD per sqrt(second)) is given rather than estimated:
# the online estimator samples the mid once a second and needs a second of samples, longer than a
# short demo's whole session on a fast machine; 0.05 is the order of the flow's fair-value
# volatility (a 0.6-tick step on one request in three) at the demo's request rate on a small
# machine. A and k, the fill intensity A exp(-k delta), are still fitted online from the trades the
# maker sees (its first 30), so it starts quoting after a number of trades, not of seconds. The
# stale-data timer checks every 50 ms instead of every second, the session being seconds long.
PARAMS: dict[str, float] = {"sigma": 0.05, "timer_ms": 50}
POLL_S = 0.002


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


class _Stop(Exception):
    """SIGTERM: leave the polling loop and stop the strategy cleanly."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def main(argv: list[str]) -> int:
    parser = _Parser(prog="python -m gateway.demo.market_maker", description=__doc__.split("\n\n")[0])
    parser.add_argument("--venue", required=True, help="engine name")
    parser.add_argument("--instrument", type=int, required=True)
    parser.add_argument("--account", type=int, required=True, help="the market maker's own account")
    parser.add_argument("--tick", type=int, required=True, help="the instrument's tick in price units")
    parser.add_argument("--price-scale", type=int, default=10_000, help="price units per currency unit")
    parser.add_argument("--cpu", type=int, default=None,
                        help="pin to this cpu, under SCHED_BATCH (its wake-ups do not preempt the "
                             "processes it shares the cpu with)")
    args = parser.parse_args(argv)
    if args.instrument <= 0 or args.account < 0 or args.tick <= 0 or args.price_scale <= 0:
        parser.error("--instrument, --tick and --price-scale must be > 0 and --account >= 0")
    if args.cpu is not None:
        if args.cpu not in os.sched_getaffinity(0):
            parser.error(f"--cpu {args.cpu} is not one of the allowed cpus {sorted(os.sched_getaffinity(0))}")
        os.sched_setaffinity(0, {args.cpu})
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    signal.signal(signal.SIGTERM, _on_sigterm)
    strategy = MarketMakingStrategy(**PARAMS)
    try:
        runner = LiveRunner(args.venue, strategy, args.instrument, args.account,
                            price_scale=args.price_scale, tick_size=args.tick)
    except (ShmError, OSError) as exc:
        print(f"market maker: cannot attach to venue {args.venue!r}: {exc}", file=sys.stderr)
        return 2
    print(READY_LINE, flush=True)
    try:
        # One poll of the event log every POLL_S, whatever it brings: the maker sees the book
        # changes of the last POLL_S at once and requotes once, instead of waking per event and
        # taking the cpu it shares with the gateway and the demo's client.
        runner.start()
        while runner.error is None:
            runner.step()
            time.sleep(POLL_S)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)   # a second SIGTERM must not cut the clean-up
        runner.stop()
    ctx, led = runner.ctx, runner.ctx.ledger
    print(json.dumps({
        "instrument": args.instrument, "account": args.account,
        "quotes_new": ctx.sent["NEW"], "quotes_replaced": ctx.sent["REPLACE"],
        "quotes_cancelled": ctx.sent["CANCEL"], "commands": sum(ctx.sent.values()), "fills": ctx.fill_count, "position": led.position,
        "maker_volume": led.maker_volume, "pnl": ctx.pnl, "realized": led.realized, "fees": led.fees,
        "rejects": ctx.rejects, "events_seen": runner.events_seen,
        "state": strategy.maker.reason if strategy.maker is not None else "not started",
        "error": runner.error}), flush=True)
    return 0 if runner.error is None else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ParameterError as exc:
        print(f"market maker: {exc}", file=sys.stderr)
        sys.exit(2)
