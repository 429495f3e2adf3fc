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

import json
import signal
import sys

from gateway.demo.strategy_process import check_and_pin, on_sigterm, run_live, strategy_parser
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


def main(argv: list[str]) -> int:
    parser = strategy_parser("python -m gateway.demo.market_maker", __doc__.split("\n\n")[0],
                             "the market maker's own account")
    parser.add_argument("--price-scale", type=int, default=10_000, help="price units per currency unit")
    args = parser.parse_args(argv)
    check_and_pin(parser, args, ("instrument", "tick", "price_scale"))
    signal.signal(signal.SIGTERM, on_sigterm)
    strategy = MarketMakingStrategy(**PARAMS)
    try:
        runner = LiveRunner(args.venue, strategy, args.instrument, args.account,
                            price_scale=args.price_scale, tick_size=args.tick)
    except (ShmError, OSError) as exc:
        print(f"market maker: cannot attach to venue {args.venue!r}: {exc}", file=sys.stderr)
        return 2
    print(READY_LINE, flush=True)
    # One poll of the event log every POLL_S, whatever it brings: the maker sees the book changes
    # of the last POLL_S at once and requotes once, instead of waking per event and taking the cpu
    # it shares with the gateway and the demo's client.
    run_live(runner, POLL_S)
    ctx, led = runner.ctx, runner.ctx.ledger
    print(json.dumps({
        "instrument": args.instrument, "account": args.account,
        "quotes_new": ctx.sent["NEW"], "quotes_new_refused": ctx.rejected_new, "quotes_replaced": ctx.sent["REPLACE"],
        "quotes_cancelled": ctx.sent["CANCEL"], "quotes_cancel_all": ctx.sent["CANCEL_ALL"] + ctx.sent["RUNTIME_CANCEL_ALL"],
        "commands": sum(ctx.sent.values()), "fills": ctx.fill_count, "position": led.position,
        "maker_volume": led.maker_volume, "pnl": ctx.pnl, "realized": led.realized,
        "unrealized": led.unrealized(ctx.book.mid), "mark": ctx.book.mid, "fees": led.fees,
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
