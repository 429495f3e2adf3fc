"""``python -m trading strategy run``: one strategy live against a running engine, in its own
process, through its own producer slot and the engine's event log (trading/strategy/live.py).

    python -m trading strategy run --venue demo --strategy quote --account 5 --instrument 1 \\
        --param size=100 --duration 60

``--other-instrument ID[:TICK]`` (repeatable) makes the strategy follow another instrument of the
venue too (its book, its orders and P&L; e.g. the market maker's ``hedge_instrument``).

``--via tcp`` runs the same strategy as an external participant (trading/strategy/tcp.py): its
orders over the order-entry gateway (``--gateway HOST:PORT --session ID --firm ID`` and the
session's key from ``--key-file FILE`` or $VENUE_SESSION_KEY; ``--key KEY`` still works but shows
in ps), its
book from the venue's market-data feed (``--md tcp://HOST:PORT --md-recovery HOST:PORT``, as
``python -m gateway md publish --zmq ... --recovery-port ...`` serves it):

    python -m trading strategy run --via tcp --gateway 127.0.0.1:9001 --session 101 --firm 1 \
        --key key-101 --md tcp://127.0.0.1:31003 --md-recovery 127.0.0.1:31004 \
        --strategy quote --account 1 --instrument 1 --duration 60

``--params-from-stdin`` (the control plane's manager passes it): lines ``params k=v,...`` on stdin
change the strategy's ``live_params`` while it runs (trading/strategy/live_params.py).

Exit 0 after --duration (or SIGINT/SIGTERM), with the strategy's orders cancelled; 1 if the
strategy raised (it is stopped and its orders cancelled, the venue goes on); 2 for bad arguments or
a venue that cannot be attached (one line).
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Any, NoReturn

from gateway.client.errors import ClientError
from shm.errors import ShmError
from trading.strategy.api import ParamError, Strategy
from trading.strategy.context import Limits
from trading.strategy.live import LiveRunner, OtherInstrument
from trading.strategy.live_params import ParamInbox
from trading.strategy.registry import build, parse_params, shipped
from trading.strategy.tcp import TcpRunner


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"strategy: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m trading strategy", description="run or list strategies")
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the shipped strategies and their parameters")
    run = sub.add_parser("run", help="run one strategy live against a running engine")
    run.add_argument("--venue", help="engine name (python -m gateway engine --name / venue.toml); --via slot")
    run.add_argument("--via", choices=("slot", "tcp"), default="slot",
                     help="slot: in-process producer slot and event log (default); tcp: over the gateway and the feed")
    run.add_argument("--gateway", metavar="HOST:PORT", help="--via tcp: the order-entry gateway")
    run.add_argument("--session", type=int, help="--via tcp: the gateway session id")
    run.add_argument("--firm", type=int, help="--via tcp: the session's firm id")
    run.add_argument("--key", help="--via tcp: the session's key (visible in ps: prefer --key-file)")
    run.add_argument("--key-file", metavar="FILE", help="--via tcp: a file holding the session's key "
                     "(default: $VENUE_SESSION_KEY)")
    run.add_argument("--md", metavar="ENDPOINT", help="--via tcp: the feed's ZeroMQ endpoint (tcp://HOST:PORT)")
    run.add_argument("--md-recovery", metavar="HOST:PORT", help="--via tcp: the feed's recovery (snapshot) server")
    run.add_argument("--strategy", required=True)
    run.add_argument("--account", type=int, required=True, help="the strategy's own account (limits from the control plane)")
    run.add_argument("--instrument", type=int, required=True)
    run.add_argument("--other-instrument", action="append", default=[], metavar="ID[:TICK]",
                     help="another instrument the strategy follows and may trade (repeatable)")
    run.add_argument("--param", action="append", default=[], metavar="K=V")
    run.add_argument("--duration", type=float, default=None, help="seconds to run (default: until SIGINT/SIGTERM)")
    run.add_argument("--max-order-qty", type=int, default=None)
    run.add_argument("--tick", type=int, default=1)
    run.add_argument("--journal", default=None, metavar="DIR",
                     help="the venue's journal: start with the instrument's standing book read from it")
    run.add_argument("--shm-dir", default=None, help="where the venue's segments are (default: $VENUE_SHM_DIR or /dev/shm)")
    run.add_argument("--params-from-stdin", action="store_true",
                     help="read live parameter changes ('params k=v,...' lines) from stdin")
    return p


STARTED = "strategy: SIGTERM handler installed"


def _host_port(text: str | None, flag: str) -> tuple[str, int]:
    host, sep, port = (text or "").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{flag} must be HOST:PORT, got {text!r}")
    return host, int(port)


def _session_key(key_file: str | None) -> str | None:
    """The session key of --key-file, else $VENUE_SESSION_KEY, else None. ValueError for a file
    that cannot be read or is empty."""
    from gateway.security.credentials import CredentialError
    from gateway.security.session_keys import SESSION_KEY_ENV, read_session_key
    if key_file is None and not os.environ.get(SESSION_KEY_ENV):
        return None
    try:
        return read_session_key(key_file)
    except CredentialError as exc:
        raise ValueError(str(exc)) from None


def _tcp_runner(args: argparse.Namespace, strategy: Strategy, limits: Limits) -> TcpRunner:
    """The gateway session and the late-joined feed of --via tcp. ValueError for a missing or
    malformed option; OSError / ClientError when the venue cannot be reached or refuses the logon."""
    missing = [f"--{name.replace('_', '-')}" for name in ("gateway", "session", "firm", "md", "md_recovery")
               if getattr(args, name) is None]
    key = args.key if args.key is not None else _session_key(args.key_file)
    if key is None:
        from gateway.security.session_keys import SESSION_KEY_ENV
        missing.insert(len([m for m in missing if m in ("--gateway", "--session", "--firm")]),
                       f"--key-file (or ${SESSION_KEY_ENV})")
    if missing:
        raise ValueError(f"--via tcp needs {', '.join(missing)}")
    if args.journal:
        raise ValueError("--journal is for --via slot (over TCP the feed's snapshot gives the book)")
    others = [OtherInstrument.parse(text) for text in args.other_instrument]
    host, port = _host_port(args.gateway, "--gateway")
    rec_host, rec_port = _host_port(args.md_recovery, "--md-recovery")
    from gateway.client import Client
    # the feed's modules are loaded by name: this module is on mypy --strict's typed surface (the
    # control plane's strategy manager reaches it), the feed's ZeroMQ transport is not
    md = {name: importlib.import_module(f"gateway.marketdata.{name}") for name in ("recovery", "subscriber", "transport")}
    session = "VENUE"       # every venue's feed session (gateway.sip.process.FEED_SESSION)
    feed = md["subscriber"].Subscriber(md["transport"].ZmqReceiver(args.md),
                                       md["recovery"].RecoveryClient((rec_host, rec_port), session), session,
                                       late_join=True)
    client = Client.connect(host, port, args.session, args.firm, key or "", keepalive_ms=10_000)
    return TcpRunner(client, feed, strategy, args.instrument, args.account, limits, tick_size=args.tick, others=others)


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.action == "list":
        for name, cls in sorted(shipped().items()):
            params = ", ".join(f"{k}={v!r}" for k, v in cls.defaults.items()) or "no parameters"
            print(f"{name:<10} {cls.__module__}.{cls.__name__}: {params}")
        return 0
    # SIGTERM (strategy stop) may come while the runner is still starting (imports, the journal
    # read): it is remembered and honoured before the loop, so a stop always exits cleanly. Once
    # the runner exists it is asked to stop after the poll in hand (LiveRunner.request_stop):
    # raising from the handler would cut a poll, and its fills would miss the ledger.
    stopping: dict[str, bool] = {"now": False}
    running: list[LiveRunner | TcpRunner] = []

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
        runner: LiveRunner | TcpRunner
        if args.via == "tcp":
            runner = _tcp_runner(args, strategy, limits)
        else:
            if not args.venue:
                raise ValueError("--venue is required (the engine's name) with --via slot")
            others = [OtherInstrument.parse(text) for text in args.other_instrument]
            runner = LiveRunner(args.venue, strategy, args.instrument, args.account, limits, tick_size=args.tick,
                                directory=args.shm_dir, journal_dir=args.journal, others=others)
    except (ValueError, LookupError, ParamError, ShmError, OSError, JournalError, ClientError) as exc:
        print(f"strategy: {exc}", file=sys.stderr)
        return 2
    if args.params_from_stdin:
        runner.param_updates = ParamInbox().queue
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
    for instrument_id, state in runner.ctx.instruments.items():
        if instrument_id != args.instrument:
            print(f"  instrument {instrument_id}: position {state.ledger.position}, P&L {state.pnl:.2f} "
                  f"(fees {state.ledger.fees:.2f}); total P&L {runner.ctx.total_pnl:.2f}")
    if runner.error:
        print(runner.error, file=sys.stderr)
        return 1
    return 0
