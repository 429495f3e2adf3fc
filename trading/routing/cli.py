"""``python -m trading route``: the smart order router on a replayed LOBSTER day.

    python -m trading route flow --data ../shared/data/GOOG_..._message_1.csv \\
        --strategy dark_first --parents 20 [--config multi.toml --symbol ACME] [--out DIR]
    python -m trading route show PLAN.json
    python -m trading route rerun PLAN.json --data FILE [--seed S]
    python -m trading route live --config multi.toml --symbol ACME --side buy --qty 500 \
        --strategy cost_minimization --session 101 --firm 1 --account 1 [--key-file FILE]

``flow`` routes seeded parent orders (trading/routing/flow.py) through the multi-venue replay
(trading/routing/replay_market.py: the day split into the lit venues by the seeded rule stated
there) and prints each parent's report and the flow's costs; with --out every first-wave plan is
stored as JSON (plans/<parent>.json) beside reports.jsonl. ``show`` prints a stored plan;
``rerun`` runs a stored plan again on a fresh replay of the same day (same --data, --split-seed and
--seed, which ``flow`` writes to replay.json): the first parent of a flow replays exactly, a later
one on the day without the earlier parents' trades. Venues: the multi-venue
file's venues that trade --symbol, or the replay's default set (flow.REPLAY_VENUES).
``live`` routes one parent order through a running multi-venue deployment (`python -m gateway up
--config FILE`): one session per venue trading the symbol, through its delay line, each venue's book from its own
feed (trading/routing/live_market.py); it prints the plan and the report (--out stores the plan).
The session key comes from --key-file or $VENUE_SESSION_KEY, never from the command line (where
`ps` and /proc/PID/cmdline would show it): the old --key flag is refused with a message saying so.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import msgspec

from gateway.cli_numbers import seed as seed_arg
from gateway.cli_paths import output_dir, output_file
from gateway.control.config import ConfigError
from gateway.small_files import NotASmallFile, read_small_file
from gateway.regnms.rules import RuleVersion, rules_in_force
from gateway.security.credentials import CredentialError
from gateway.security.session_keys import SESSION_KEY_ENV, read_session_key
from gateway.venues.config import VenueSpec, load_multi_config
from trading.replay.data import DataError
from trading.replay.lobster import load_lobster
from trading.routing.errors import RoutingError
from trading.routing.flow import REPLAY_VENUES, run_flow, summarize, synthetic_parents
from trading.routing.impact import estimate_from_day
from trading.routing.plan import plan_from_json
from trading.routing.replay_market import MultiVenueReplay, SyntheticVenues
from trading.routing.router import Router
from trading.routing.strategies import STRATEGIES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trading route", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="verb", required=True)
    f = sub.add_parser("flow", help="route seeded parent orders through a replayed day")
    f.add_argument("--data", required=True, help="LOBSTER message CSV (its order-book file beside it)")
    f.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    f.add_argument("--parents", type=int, default=20)
    f.add_argument("--min-qty", type=int, default=100)
    f.add_argument("--max-qty", type=int, default=1500)
    f.add_argument("--seed", type=seed_arg, default=5, help="parents and latency draws")
    f.add_argument("--split-seed", type=seed_arg, default=1, help="the split of the day into venues")
    f.add_argument("--config", help="a multi-venue file ([[venues]]); with --symbol")
    f.add_argument("--symbol", help="the instrument of --config whose venues route")
    f.add_argument("--out", type=output_dir, help="directory for plans/*.json and reports.jsonl")
    f.add_argument("--quiet", action="store_true", help="the summary only")
    s = sub.add_parser("show", help="print a stored plan")
    s.add_argument("plan")
    r = sub.add_parser("rerun", help="run a stored plan again on the same replay")
    r.add_argument("plan")
    r.add_argument("--data", required=True)
    r.add_argument("--seed", type=seed_arg, default=5)
    r.add_argument("--split-seed", type=seed_arg, default=1)
    r.add_argument("--config")
    r.add_argument("--symbol")
    lv = sub.add_parser("live", help="route one parent order through running venues (up --config)")
    lv.add_argument("--config", required=True, help="the multi-venue file the venues run with")
    lv.add_argument("--symbol", required=True)
    lv.add_argument("--side", required=True, choices=("buy", "sell"))
    lv.add_argument("--qty", type=int, required=True)
    lv.add_argument("--limit", type=int, help="limit price in price units (default: the touch +/- 50 bps)")
    lv.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    lv.add_argument("--session", type=int, required=True)
    lv.add_argument("--firm", type=int, required=True)
    lv.add_argument("--key-file", metavar="FILE", help=f"the session key (default: ${SESSION_KEY_ENV})")
    # refused, never used: a key on the command line is visible to every user through ps
    lv.add_argument("--key", dest="key_on_command_line", metavar="KEY", help=argparse.SUPPRESS)
    lv.add_argument("--account", type=int, required=True)
    lv.add_argument("--next-seq-no", type=int, help="the session's next sequence number, if it was used before")
    lv.add_argument("--timeout-s", type=float, default=2.0, help="a venue silent this long is set aside")
    lv.add_argument("--horizon-s", type=float, default=30.0)
    lv.add_argument("--out", type=output_file, help="file to store the plan in (JSON)")
    return p


KEY_ON_COMMAND_LINE = (f"--key is refused: a key on the command line shows in ps to every user of the host; "
                       f"put it in a file readable only by you and give --key-file FILE, or set ${SESSION_KEY_ENV}")


def _read_plan(path: str) -> bytes:
    """A stored plan's bytes: a small regular file (/dev/zero read until memory ran out)."""
    try:
        return read_small_file(path)
    except NotASmallFile as exc:
        raise RoutingError(f"{path}: {exc}") from None


def _session_key(args: argparse.Namespace) -> str:
    if args.key_on_command_line is not None:
        raise RoutingError(KEY_ON_COMMAND_LINE)
    try:
        return read_session_key(args.key_file)
    except CredentialError as exc:
        raise RoutingError(str(exc)) from None


def _check_live_numbers(args: argparse.Namespace) -> None:
    """Before any session opens: a NaN --horizon-s was a ValueError traceback, a negative
    --timeout-s or --next-seq-no and a quantity above int64 went on to connect."""
    if not 0 < args.horizon_s <= 86_400:
        raise RoutingError(f"--horizon-s must be in (0, 86400] seconds, got {args.horizon_s}")
    if not 0 < args.timeout_s <= 3600:
        raise RoutingError(f"--timeout-s must be in (0, 3600] seconds, got {args.timeout_s}")
    if args.next_seq_no is not None and args.next_seq_no < 1:
        raise RoutingError(f"--next-seq-no must be >= 1 (the next sequence number to send), got {args.next_seq_no}")
    if args.qty >= 1 << 63:
        raise RoutingError(f"--qty {args.qty}: above the engine's largest quantity (2^63 - 1)")


def _live(args: argparse.Namespace) -> int:
    from gateway.client import Client, ClientError
    from gateway.venues.config import ports
    from trading.routing.live_market import LiveVenues, VenueSession, venue_feeds
    from trading.routing.plan import ParentOrder
    key = _session_key(args)
    _check_live_numbers(args)
    multi = load_multi_config(args.config)
    instrument = next((i.id for i in multi.template.instruments if i.symbol == args.symbol), None)
    if instrument is None:
        raise RoutingError(f"{args.config} has no instrument {args.symbol!r}")
    venues = [v for v in multi.venues if args.symbol in v.instruments]     # the router may use each of them
    parent = ParentOrder(parent_id=f"CLI{int(time.time())}", instrument_id=instrument, side=args.side, qty=args.qty,
                         limit_price=args.limit, horizon_ns=int(args.horizon_s * 1e9)).check()
    feeds = venue_feeds(multi, [v.id for v in venues if v.type == "lit"])   # a dark venue publishes no book
    sessions: dict[str, VenueSession] = {}
    try:
        for v in venues:
            try:
                client = Client.connect(multi.host, ports(v).order_entry, session_id=args.session, firm_id=args.firm,
                                        key=key, next_seq_no=args.next_seq_no)
            except (ClientError, OSError) as exc:
                raise RoutingError(f"venue {v.id}: cannot open session {args.session}: {exc}") from None
            sessions[v.id] = VenueSession(v.id, client, args.account)
        market = LiveVenues(sessions=sessions, feeds=feeds, dark=frozenset(v.id for v in venues if v.type == "dark"))
        router = Router.from_config(multi, args.symbol, market=market, timeout_floor_ns=int(args.timeout_s * 1e9))
        plan = router.route_order(parent, args.strategy)
        print(plan.describe())
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_bytes(plan.to_json())
        print(router.execute_routing_plan(plan).describe())
    finally:
        for s in sessions.values():
            try:
                s.client.terminate()
            except (ClientError, OSError):
                s.client.close()
    return 0


def _venues(args: argparse.Namespace) -> tuple[tuple[VenueSpec, ...], RuleVersion]:
    if bool(args.config) != bool(args.symbol):
        raise RoutingError("--config and --symbol go together")
    if not args.config:
        return REPLAY_VENUES, rules_in_force()
    multi = load_multi_config(args.config)
    venues = tuple(v for v in multi.venues if args.symbol in v.instruments)
    if not venues:
        raise RoutingError(f"no venue of {args.config} trades {args.symbol!r}")
    return venues, multi.rules()


def _flow(args: argparse.Namespace) -> int:
    if args.parents <= 0:
        raise RoutingError("--parents must be > 0")
    if not 100 <= args.min_qty <= args.max_qty:
        raise RoutingError(f"--min-qty and --max-qty: need 100 <= min <= max (a round lot at least), "
                           f"got {args.min_qty} and {args.max_qty}")
    venues, rules = _venues(args)
    day = load_lobster(args.data)
    synthetic = SyntheticVenues.build(day, venues, seed=args.split_seed)
    impact = estimate_from_day(day, horizon_ns=1_000_000_000)
    parents = synthetic_parents(day, args.parents, seed=args.seed, min_qty=args.min_qty, max_qty=args.max_qty,
                                horizon_ns=10_000_000_000, max_waves=50)
    flow = run_flow(synthetic, args.strategy, parents, seed=args.seed, impact=impact, rules=rules)
    if args.out:
        out = Path(args.out)
        (out / "plans").mkdir(parents=True, exist_ok=True)
        with open(out / "reports.jsonl", "wb") as f:
            for r in flow.reports:
                (out / "plans" / f"{r.parent.parent_id}.json").write_bytes(r.plans[0].to_json())
                f.write(r.to_json() + b"\n")
        (out / "replay.json").write_text(json.dumps({"data": str(args.data), "seed": args.seed,
                                                     "split_seed": args.split_seed, "strategy": args.strategy}))
    if not args.quiet:
        for r in flow.reports:
            print(r.describe())
    for parent_id, why in flow.skipped:
        print(f"{parent_id}: not routed: {why}")
    c = summarize(flow.reports)
    print(f"{args.strategy}: {c.parents} parents, filled {c.filled:,} of {c.asked:,} shares in {c.children} children "
          f"over {c.waves} waves ({c.timeouts} timed out); cost per filled share: spread {c.spread_bps:.2f} + impact "
          f"{c.impact_bps:.2f} + fees {c.fees_bps:.2f} = {c.total_bps:.2f} bps; implementation shortfall "
          f"{c.shortfall_bps:.2f} bps per share asked; impact model Y {impact.y:.2f} ({impact.source})")
    return 0


def _rerun(args: argparse.Namespace) -> int:
    plan = plan_from_json(_read_plan(args.plan))
    venues, rules = _venues(args)
    synthetic = SyntheticVenues.build(load_lobster(args.data), venues, seed=args.split_seed)
    market = MultiVenueReplay(synthetic, seed=args.seed)
    if plan.created_ns < market.now_ns():
        raise RoutingError(f"the plan was made at {plan.created_ns} ns, before this replay starts")
    market.advance_to(plan.created_ns)
    impact = estimate_from_day(synthetic.day, horizon_ns=1_000_000_000)
    report = Router(venues, rules=rules, impact=impact, market=market).execute_routing_plan(plan)
    print(report.describe())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.verb == "show":
            print(plan_from_json(_read_plan(args.plan)).describe())
            return 0
        if args.verb == "live":
            return _live(args)
        return _flow(args) if args.verb == "flow" else _rerun(args)
    except (RoutingError, DataError, ConfigError, OSError, msgspec.MsgspecError) as exc:
        print(f"route: {exc}", file=sys.stderr)
        return 2
