"""Live monitoring: the streaming estimators beside a running venue, published on the control plane's
channel (as `up` runs it) or on a channel of their own.

``python -m trading monitor --engine NAME --bucket-volume N`` attaches to the engine's event log
(shm.client.EventStream), turns its events into market data per instrument (feed.py), runs the
StreamingAnalytics set (suite.py) for each instrument and publishes, with ``--publish-via INGEST``,
through the control plane's publish ingest (gateway/control/ingest.py) on the control plane's own
PUB channel (``python -m gateway up`` starts it so, from the config's [analytics] section), or, run
by hand without it, on a ZeroMQ PUB socket of its own, in the control plane's wire format (gateway/control/protocol.py: first frame the topic, second a
msgpack body), so the same subscribers read it (e.g. ``ControlClient.subscribe(topics,
publish_endpoint=...)``):

- topic ``analytics``: every ``--interval`` seconds, per instrument with new data, a dict
  {"source": "analytics", "instrument", "symbol", "time", ...values} (the keys of
  StreamingAnalytics.values(): vpin_last, vpin_cdf_last, ofi_beta, kyle_lambda, ...; an estimate
  not defined yet, NaN in Python, is sent as nil);
- topic ``alert``: at once, {"source": "analytics", "instrument", "symbol", "alert", "time", ...}:
  VPIN at or above its CDF alert level (0.99 by default), a confirmed regime change, a
  high-conflict direction combination.

Why a process of its own that publishes through the control plane rather than estimators inside
the control plane: analytics is a reader of the venue, not a part of its control; its CPU time and
its failures stay out of the process that runs risk and the schedule (`up` restarts it alone).
Run by hand, its own endpoint (``--publish``, default tcp://127.0.0.1:5731; port 0 picks a free one)
is printed at start-up as ``analytics publish (ZeroMQ PUB): ENDPOINT``. Exit statuses: 0 stopped by SIGTERM or
SIGINT, 1 the engine is not running, 2 bad arguments (one line on stderr).
"""
from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from typing import Any

import msgspec
import zmq

from shm.client import EventStream
from shm.errors import ShmError
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.etf_live import EtfBasket, EtfLive, parse_basket
from trading.analytics.events import MarketEvents
from trading.analytics.feed import EngineFeed
from trading.analytics.suite import StreamingAnalytics, SuiteConfig

TOPIC_ANALYTICS = b"analytics"
TOPIC_ALERT = b"alert"
DEFAULT_PUBLISH_ENDPOINT = "tcp://127.0.0.1:5731"

_encoder = msgspec.msgpack.Encoder()


class AnalyticsPublisher:
    """Where the monitor's messages go: a ZeroMQ PUB socket of its own, bound at ``endpoint`` (the
    address subscribers connect to), or, with ``via_ingest``, a PUSH socket connected to the control
    plane's publish ingest (gateway/control/ingest.py), which republishes on the control plane's
    own channel."""

    def __init__(self, endpoint: str, context: zmq.Context[Any] | None = None, via_ingest: bool = False) -> None:
        self._context = context or zmq.Context.instance()
        self.socket = self._context.socket(zmq.PUSH if via_ingest else zmq.PUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        if via_ingest:
            # A bounded queue while the control plane restarts; past it the monitor's messages
            # wait (send blocks only up to SNDTIMEO, then the message is counted as dropped).
            self.socket.setsockopt(zmq.SNDHWM, 10000)
            self.socket.setsockopt(zmq.SNDTIMEO, 0)
            self.socket.connect(endpoint)
            self.endpoint = endpoint
        else:
            self.socket.bind(endpoint)
            self.endpoint = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.via_ingest = via_ingest
        self.dropped = 0

    def publish(self, topic: bytes, body: dict[str, Any]) -> None:
        try:
            self.socket.send_multipart([topic, _encoder.encode(body)], zmq.NOBLOCK)
        except zmq.Again:       # PUB never blocks; PUSH with its queue full (control plane away)
            self.dropped += 1

    def close(self) -> None:
        self.socket.close()


class Monitor:
    """The streaming set per instrument over one engine's event log."""

    def __init__(self, engine: str, config: SuiteConfig, publisher: AnalyticsPublisher, *,
                 interval_s: float = 1.0, price_scale: float = 1.0, symbols: dict[int, str] | None = None,
                 directory: str | None = None, etfs: list[EtfBasket] | None = None) -> None:
        for b in etfs or []:
            missing = [i for i in (b.etf, *b.components) if symbols and i not in symbols]
            if missing:
                raise AnalyticsInputError(f"--etf {b.etf}: instruments {missing} are not watched (--instrument)")
        self.etfs = [EtfLive.of(b) for b in etfs or []]
        self.stream = EventStream(engine, directory)
        self.feed = EngineFeed(price_scale, set(symbols) if symbols else None)
        self.config = config
        self.publisher = publisher
        self.interval_s = interval_s
        self.symbols = symbols or {}
        self.analytics: dict[int, StreamingAnalytics] = {}
        self.dirty: set[int] = set()
        self.last_time: dict[int, float] = {}
        self.next_publish = time.monotonic() + interval_s
        self.events = 0
        self.laps = 0

    def step(self) -> int:
        """Poll once, update the estimators, publish alerts (and values when due); events read."""
        payloads, lapped = self.stream.poll()
        if lapped:
            # Events were lost: the books and the estimators' continuity are gone; start afresh.
            self.laps += 1
            self.feed.reset()
            self.analytics.clear()
        events = self.feed.convert(payloads)
        for ins, ev in events.items():
            self._update(ins, ev)
        for etf in self.etfs:
            alert = etf.update(events)
            if alert is not None:
                self.publisher.publish(TOPIC_ALERT, {"source": "analytics", **alert})
        self.events += len(payloads)
        if time.monotonic() >= self.next_publish:
            self.publish_values()
            self.next_publish = time.monotonic() + self.interval_s
        return len(payloads)

    def _update(self, ins: int, ev: MarketEvents) -> None:
        sa = self.analytics.get(ins)
        if sa is None:
            sa = self.analytics[ins] = StreamingAnalytics(self.config)
        for alert in sa.update(ev):
            self.publisher.publish(TOPIC_ALERT, self._body(ins, alert))
        self.dirty.add(ins)
        self.last_time[ins] = float(ev.time[-1])

    def _body(self, ins: int, extra: dict[str, Any]) -> dict[str, Any]:
        return {"source": "analytics", "instrument": ins, "symbol": self.symbols.get(ins, str(ins)), **extra}

    def publish_values(self) -> None:
        for ins in sorted(self.dirty):
            values = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                      for k, v in self.analytics[ins].values().items()}
            self.publisher.publish(TOPIC_ANALYTICS, self._body(ins, {"time": self.last_time[ins], **values}))
        self.dirty.clear()
        for etf in self.etfs:
            if etf.updates:
                self.publisher.publish(TOPIC_ANALYTICS, {"source": "analytics", "kind": "etf", "time": etf.time,
                                                         **etf.values()})

    def close(self) -> None:
        self.stream.close()


def parse_instrument(text: str) -> tuple[int, str]:
    """--instrument ID or ID:SYMBOL (ID > 0)."""
    ident, _, symbol = text.partition(":")
    try:
        value = int(ident)
    except ValueError:
        raise argparse.ArgumentTypeError(f"instrument {text!r}: expected ID or ID:SYMBOL") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"instrument {text!r}: id must be > 0")
    return value, symbol or ident


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:     # one line, exit 2 (the project's CLI rule)
        print(f"trading monitor: {message}", file=sys.stderr)
        raise SystemExit(2)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="python -m trading monitor", description=__doc__.split("\n")[0])
    p.add_argument("--engine", required=True, help="the engine's name (its segments in /dev/shm)")
    p.add_argument("--bucket-volume", type=float, required=True, help="VPIN bucket size in shares")
    p.add_argument("--bar-seconds", type=float, default=10.0)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--publish", default=DEFAULT_PUBLISH_ENDPOINT, help="ZeroMQ PUB endpoint to bind")
    where.add_argument("--publish-via", default=None, metavar="INGEST",
                       help="publish on the control plane's channel through its ingest endpoint "
                            "(what `up` does: the ingest entry of control.json in its run directory)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between value publications")
    p.add_argument("--price-scale", type=float, default=1.0, help="engine price units per currency unit")
    p.add_argument("--instrument", type=parse_instrument, action="append", default=[],
                   help="ID or ID:SYMBOL to watch (repeatable; default: every instrument)")
    p.add_argument("--vpin-window", type=int, default=50)
    p.add_argument("--vpin-alert-level", type=float, default=0.99)
    p.add_argument("--vpin-min-history", type=int, default=50)
    p.add_argument("--warmup-bars", type=int, default=60)
    p.add_argument("--etf", action="append", default=[], metavar="JSON",
                   help='an ETF basket to value live (repeatable): {"etf": ID, "components": {"ID": SHARES, ...}, '
                        '"cash": X, "divisor": D, "cost_bps": C, "symbol": S}')
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = SuiteConfig(bucket_volume=args.bucket_volume, bar_seconds=args.bar_seconds,
                             vpin_window=args.vpin_window, vpin_alert_level=args.vpin_alert_level,
                             vpin_min_history=args.vpin_min_history, warmup_bars=args.warmup_bars)
        if not args.interval > 0 or not args.price_scale > 0:
            raise AnalyticsInputError("--interval and --price-scale must be > 0")
        etfs = [parse_basket(text) for text in args.etf]
    except AnalyticsInputError as exc:
        print(f"trading monitor: {exc}", file=sys.stderr)
        return 2
    try:
        publisher = AnalyticsPublisher(args.publish_via or args.publish, via_ingest=bool(args.publish_via))
    except zmq.ZMQError as exc:
        verb = "connect to" if args.publish_via else "bind"
        print(f"trading monitor: cannot {verb} {args.publish_via or args.publish}: {exc}", file=sys.stderr)
        return 2
    try:
        monitor = Monitor(args.engine, config, publisher, interval_s=args.interval, price_scale=args.price_scale,
                          symbols=dict(args.instrument) or None, etfs=etfs)
    except AnalyticsInputError as exc:
        print(f"trading monitor: {exc}", file=sys.stderr)
        publisher.close()
        return 2
    except ShmError as exc:           # the engine's segments are missing or stale: one line
        print(f"trading monitor: engine {args.engine!r} not reachable: {exc}", file=sys.stderr)
        publisher.close()
        return 1
    except ValueError as exc:         # a name that cannot be an engine's ('a/b'): was a traceback
        print(f"trading monitor: --engine: {exc}", file=sys.stderr)
        publisher.close()
        return 2
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if publisher.via_ingest:
        print(f"analytics publish: on the control plane's channel through {publisher.endpoint}", flush=True)
    else:
        print(f"analytics publish (ZeroMQ PUB): {publisher.endpoint}", flush=True)
    try:
        while not stopping:
            if not monitor.step():
                time.sleep(0.002)        # idle: the monitor is a reader, not on the order path
        monitor.publish_values()
    finally:
        monitor.close()
        publisher.close()
    return 0
