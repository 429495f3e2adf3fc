"""The demo's execution algorithm: a parent order executed live by trading/execution's
ExecutionStrategy (POV: a share of the instrument's traded volume, under a participation cap) on
one instrument of the demo venue, in its own process, under its own account and producer slot.

Started with the market maker once the opening auction is done; it works its parent through the
continuous session (each child order placed passive, mid or aggressive by
trading/execution/placement.py's rule) and on SIGTERM stops the way the runner stops a strategy
(every order of its account cancelled and confirmed). Its commands are sequenced and journaled like
everyone else's, so the demo's determinism check and TCA include them. The last line on stdout is
one JSON object: the parent's progress (trading/execution/strategy.py's report) and the commands it
sent, or the error that stopped it.

    python -m gateway.demo.execution_algo --venue NAME --instrument 2 --account 21 --tick 100
"""
from __future__ import annotations

import json
import signal
import sys

from gateway.demo.strategy_process import check_and_pin, on_sigterm, run_live, strategy_parser
from shm.errors import ShmError
from trading.execution.parent import ParentOrderRefused
from trading.execution.strategy import ExecutionStrategy
from trading.strategy.live import LiveRunner

READY_LINE = "execution algorithm: attached"
# The parent: buy 10,000 shares at 5 % of the traded volume (never below 2 %, never above 10 %),
# deciding every 10 ms; its horizon is longer than the session, so it ends when the demo stops it,
# done or still working. Sized to the demo's flow, which trades MSFT at about 600,000 shares a
# second on a quiet machine: on target it lives some 30 decisions. (It was 3,000 shares every 50 ms:
# done within 4 decisions, of which the first only records its arrival and each later one catches
# up with an IOC that takes at most the far touch, so the market traded a decision's worth of volume
# between catch-ups and the printed participation was 1.8-4.5 %, noise of a 4-decision life against
# its 5 % target.) A 6 s slice (qty / 100) keeps placement's "behind by 2 slices" at 200 shares.
PARAMS: dict[str, object] = {"algo": "POV", "side": 1, "qty": 10000, "duration_s": 600.0,
                             "target_participation": 0.05, "min_participation": 0.02,
                             "max_participation": 0.10, "decision_ms": 10, "slice_s": 6.0}
POLL_S = 0.005


def main(argv: list[str]) -> int:
    parser = strategy_parser("python -m gateway.demo.execution_algo", __doc__.split("\n\n")[0],
                             "the parent order's own account")
    args = parser.parse_args(argv)
    check_and_pin(parser, args)
    signal.signal(signal.SIGTERM, on_sigterm)
    strategy = ExecutionStrategy(**PARAMS)
    try:
        runner = LiveRunner(args.venue, strategy, args.instrument, args.account, tick_size=args.tick)
    except (ShmError, OSError) as exc:
        print(f"execution algorithm: cannot attach to venue {args.venue!r}: {exc}", file=sys.stderr)
        return 2
    print(READY_LINE, flush=True)
    run_live(runner, POLL_S)
    ctx = runner.ctx
    decisions = sorted(strategy.decision_ns)
    # the interval its participation is measured over: from its arrival (the first decision that
    # worked it) to its completing fill, or to its last decision while it still works
    worked = [t for t, *_ in strategy.trace]
    until = strategy.fills[-1].ts_ns if strategy.state == "done" and strategy.fills else (worked[-1] if worked else 0)
    print(json.dumps({
        **strategy.report(ctx), "instrument": args.instrument, "account": args.account,
        "orders_new": ctx.sent["NEW"], "commands": sum(ctx.sent.values()), "fills": ctx.fill_count,
        "position": ctx.position,
        "rejects": ctx.rejects, "decisions": len(decisions),
        "decision_p50_us": decisions[len(decisions) // 2] / 1e3 if decisions else None,
        "working_decisions": len(worked), "working_s": (until - worked[0]) / 1e9 if worked else 0.0,
        "error": runner.error}), flush=True)
    return 0 if runner.error is None else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ParentOrderRefused as exc:
        print(f"execution algorithm: {exc}", file=sys.stderr)
        sys.exit(2)
