"""A parent order executed across the venues of a running multi-venue deployment (``python -m gateway
up --config MULTI.toml``) through the smart order router: routed.py's decisions on live venues
(trading/routing/live_market.py: one order-entry session per venue through its delay line, each
venue's book and prints from its own feed).

    python -m trading execution routed --config MULTI.toml --symbol ACME --account 1 \\
        --session 101 --firm 1 [--strategy cost_minimization] --param algo=TWAP --param side=1 ...

``--param`` takes the execution strategy's parameters (trading/execution/strategy.py: algo, side,
qty, duration_s, limit_price, participation bounds, slice_s, decision_ms, profile, impact model,
control, progress, id_block), so the control plane's desk (desk.py) launches a routed parent with
the same parameters as a single-venue one. The session key is read from the environment variable
named by ``--key-env`` (never on the command line). ``id_block`` (one per launch, from the desk)
starts the sessions' sequence numbers at block << 24 and their client order ids at the block's first
child number: a relaunched parent neither repeats a sequence number the venues saw (FIXP idempotent
flow: a higher start is a gap) nor reuses a client order id. Every client order id names the
parent (``parent_id``, from the desk) in its high 32 bits (parent_ids.py), so TCA of the venues'
journals sees the router's child orders as one parent per venue.

Control and progress files are the desk's (control.py): pause, resume and cancel are applied at
each decision; the progress file is rewritten after each decision with what desk.show reports,
plus the shares filled per venue. Exit status 0 when the parent ended (done, expired or
cancelled), 2 for bad input (one line on stderr, nothing sent).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict
from typing import Any

from trading.execution.control import read_json, write_atomic
from trading.execution.parent import InstrumentRules, ParentOrder, ParentOrderRefused, validate
from trading.execution.parent_ids import child_client_order_id, child_number
from trading.execution.routed import RoutedResult, execute_routed
from trading.execution.strategy import ID_BLOCK_SHIFT, ExecutionStrategy

RECENT = 10


def _params(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ParentOrderRefused("param", pair, "expected k=v")
        out[key] = value
    return out


def first_client_order_id(strategy: ExecutionStrategy) -> int:
    """The client order id a session of this routed parent starts counting from: the parent's id
    (``parent_id``) in the high 32 bits, the first child number of this launch (``id_block``)
    below (parent_ids.py). ParentOrderRefused for a parent id outside 1..2^32-1."""
    p = strategy.params
    try:
        return child_client_order_id(int(p["parent_id"]), child_number(int(p["id_block"]), 1))
    except ValueError as exc:
        raise ParentOrderRefused("parent_id", p["parent_id"], str(exc)) from None


def parent_from(strategy: ExecutionStrategy, instrument: int, account: int, rules: InstrumentRules) -> ParentOrder:
    """The parent order of the strategy's parameters, starting now (CLOCK_MONOTONIC), validated."""
    p = strategy.params
    start = p["start_ns"] or time.monotonic_ns()
    order = ParentOrder(instrument, p["side"], p["qty"], str(p["algo"]).upper(), start,
                        start + int(p["duration_s"] * 1e9), p["limit_price"], p["risk_aversion"],
                        p["max_participation"], p["target_participation"], p["min_participation"], account,
                        p["seed"])
    return validate(order, {instrument: rules})


class Progress:
    """The desk's link: applies the control file, writes the progress file (module docstring)."""

    def __init__(self, order: ParentOrder, params: dict[str, Any], price_scale: int) -> None:
        self.order, self.params, self.scale = order, params, price_scale
        self.state, self.version, self.volume = "working", 0, 0

    def __call__(self, result: RoutedResult, volume: int) -> str:
        self.volume = volume
        doc = read_json(self.params["control"]) if self.params["control"] else None
        if doc is not None and int(doc.get("version", -1)) > self.version:
            self.version = int(doc["version"])
            if doc.get("state") in ("working", "paused", "cancelled"):
                self.state = str(doc["state"])
        self.write(result)
        return self.state

    def write(self, result: RoutedResult, final: str | None = None) -> None:
        if not self.params["progress"]:
            return
        o = self.order
        avg = result.avg_price / self.scale if result.avg_price is not None else None
        write_atomic(self.params["progress"], {
            "state": final or self.state, "algo": o.algo, "side": o.side, "qty": o.qty, "filled": result.filled,
            "arrival_mid": result.arrival_mid / self.scale if result.arrival_mid else None, "avg_price": avg,
            "shortfall_bps": result.shortfall_bps(o.side), "market_volume": self.volume,
            "participation": result.filled / self.volume if self.volume else 0.0,
            "children": sum(s.children for s in result.slices), "working": 0, "routed": True,
            "venues": result.venue_fills, "control_version": self.version, "control_error": None,
            "start_ns": o.start_ns, "end_ns": o.end_ns, "working_orders": [],
            "recent_children": [asdict(s) for s in result.slices[-RECENT:]], "order": asdict(o)})


def run(args: argparse.Namespace) -> int:
    from gateway.client import Client, ClientError
    from gateway.venues.config import load_multi_config, ports
    from trading.routing import Router
    from trading.routing.live_market import LiveVenues, VenueSession, venue_feeds
    key = os.environ.get(args.key_env, "")
    if not key:
        raise ParentOrderRefused("key", args.key_env, "the session key is not in that environment variable")
    multi = load_multi_config(args.config)
    inst = next((i for i in multi.template.instruments if i.symbol == args.symbol), None)
    if inst is None:
        raise ParentOrderRefused("symbol", args.symbol, f"not an instrument of {args.config}")
    strategy = ExecutionStrategy(**_params(args.param))
    order = parent_from(strategy, inst.id, args.account, InstrumentRules(inst.lot, inst.tick))
    schedule = strategy._schedule(order)
    block = int(strategy.params["id_block"])
    first_cl_ord_id = first_client_order_id(strategy)
    venues = [v for v in multi.venues if args.symbol in v.instruments]
    sessions: dict[str, VenueSession] = {}
    try:
        for v in venues:
            try:
                client = Client.connect(multi.host, ports(v).order_entry, session_id=args.session, firm_id=args.firm,
                                        key=key, next_seq_no=(block << ID_BLOCK_SHIFT) or None)
            except (ClientError, OSError) as exc:
                raise ParentOrderRefused("session", args.session, f"venue {v.id}: cannot connect: {exc}") from None
            # every order of the parent's sessions is one of its children: their client order ids
            # name the parent (parent_ids.py), numbered from this launch's block
            client.core.next_cl_ord_id = first_cl_ord_id
            sessions[v.id] = VenueSession(v.id, client, args.account)
        market = LiveVenues(sessions=sessions, feeds=venue_feeds(multi, [v.id for v in venues]),
                            dark=frozenset(v.id for v in venues if v.type == "dark"))
        router = Router.from_config(multi, args.symbol, market=market, timeout_floor_ns=int(args.timeout_s * 1e9))
        progress = Progress(order, strategy.params, multi.template.venue.price_scale)
        result = execute_routed(order, schedule, router, market, int(strategy.params["decision_ms"] * 1_000_000),
                                lot=inst.lot, strategy=args.strategy, control=progress)
        final = "cancelled" if progress.state == "cancelled" else ("done" if result.filled >= order.qty else "expired")
        progress.write(result, final)
        print(f"routed parent {final}: filled {result.filled} of {order.qty} over {sorted(result.venue_fills)}")
    finally:
        for s in sessions.values():
            try:
                s.client.terminate()
            except (ClientError, OSError):
                s.client.close()
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("routed", help="a parent order across a multi-venue deployment through the router")
    p.add_argument("--config", required=True, help="the multi-venue file the deployment runs with")
    p.add_argument("--symbol", required=True)
    p.add_argument("--account", type=int, required=True)
    p.add_argument("--session", type=int, required=True, help="an order-entry session every venue knows")
    p.add_argument("--firm", type=int, required=True)
    p.add_argument("--key-env", default="VENUE_ROUTE_KEY", help="the environment variable holding the session key")
    p.add_argument("--strategy", default="cost_minimization", help="the routing strategy of every slice")
    p.add_argument("--timeout-s", type=float, default=2.0, help="a venue silent this long is set aside")
    p.add_argument("--param", action="append", default=[], metavar="K=V")
    p.set_defaults(run=_run_cli)


def _run_cli(args: argparse.Namespace) -> int:
    from gateway.control.config import ConfigError
    from trading.routing import RoutingError
    try:
        return run(args)
    except (ParentOrderRefused, RoutingError, ConfigError, ValueError, TypeError) as exc:
        print(f"execution routed: {exc}", file=sys.stderr)
        return 2
