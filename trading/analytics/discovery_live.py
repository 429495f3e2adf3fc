"""Live price discovery across venues, from the consolidator's protected quotes.

``python -m trading discovery --sip ENDPOINT --venue LITA --venue LITB ...`` subscribes to the
SIP's feed (gateway/sip/: every NbboUpdate carries each venue's protected quote of one instrument),
keeps every venue's latest quote midpoint, samples the midpoints on a fixed bar grid and feeds the
bars to InformationShareStream (discovery.py: the VECM cross-products, Hasbrouck 1995 information
shares and Gonzalo-Granger 1995 component shares as written by Baillie, Booth, Tse and Zabotina
2002). Every ``--interval`` seconds it publishes, per instrument, the estimate on every bar so far.

Sampling rule (stated, because information shares depend on it):
- time is the consolidator's receipt clock (NbboUpdate.received_ns, CLOCK_MONOTONIC of the host
  that runs every venue), so bars are in one clock for every venue;
- the grid is ``bar_ns`` wide and starts at the first update's bar; a bar's row is every venue's
  latest midpoint as of the bar's end (the last update received before it), in currency units
  (engine price / price_scale);
- a venue's midpoint is (bid + ask) / 2 of its protected quote when both sides are displayed; a
  one-sided or empty quote leaves the venue's previous midpoint in force (stale, not dropped);
- no row is made until every venue has had a midpoint; a quiet spell longer than ``max_fill_bars``
  bars adds only that many unchanged rows (a night of zero changes would otherwise swamp the
  estimate with rows that carry no information).
Estimates are cumulative over the rows since start (the stream's cross-products); until there are
enough rows (10 per coefficient) or while the design is singular (a venue that never moved), the
published body says ``status`` with the estimator's reason and carries no shares.

Published like the analytics monitor (monitor.py): ZeroMQ PUB frames [topic, msgpack body] on its
own endpoint (printed at start-up; a multi-venue ``up`` starts this process after the consolidator
and prints the endpoint with the other addresses), topic ``analytics``, body
{"source": "discovery", "instrument", "symbol", "time", "venues", "bars", "status",
"information_share_lower", "information_share_upper", "information_share_mid", "component_share"}.
Exit statuses: 0 stopped by SIGTERM or SIGINT, 2 bad arguments (one line on stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from gateway.cli_paths import os_error_line, output_file
from gateway.sip import messages as sip_messages
from gateway.sip.consolidator import VenueQuote
from gateway.sip.subscriber import SipSubscriber
from trading.analytics.discovery import InformationShareStream
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.monitor import TOPIC_ANALYTICS, AnalyticsPublisher, parse_instrument

DEFAULT_MAX_FILL_BARS = 60


@dataclass
class MidBars:
    """One instrument's venue midpoints sampled on the bar grid (the module's sampling rule)."""
    venues: tuple[str, ...]
    bar_ns: int
    price_scale: float
    max_fill_bars: int = DEFAULT_MAX_FILL_BARS
    mids: dict[str, float] = field(default_factory=dict)
    bar_end_ns: int | None = None          # the end of the bar now filling

    def update(self, received_ns: int, quotes: list[VenueQuote]) -> list[list[float]]:
        """One consolidator update: the rows of every bar that ended before it, then its quotes."""
        rows = self._close_bars(received_ns)
        for q in quotes:
            if q.venue in self.venues and q.bid is not None and q.ask is not None:
                self.mids[q.venue] = (q.bid + q.ask) / 2.0 / self.price_scale
        return rows

    def _close_bars(self, now_ns: int) -> list[list[float]]:
        if self.bar_end_ns is None:
            self.bar_end_ns = (now_ns // self.bar_ns + 1) * self.bar_ns
            return []
        if now_ns < self.bar_end_ns:
            return []
        ended = (now_ns - self.bar_end_ns) // self.bar_ns + 1
        self.bar_end_ns += ended * self.bar_ns
        if len(self.mids) < len(self.venues):
            return []
        row = [self.mids[v] for v in self.venues]
        return [list(row) for _ in range(min(ended, self.max_fill_bars))]


@dataclass
class InstrumentDiscovery:
    """Bars and the streaming VECM of one instrument."""
    symbol: str
    bars: MidBars
    stream: InformationShareStream
    all_rows: list[list[float]] = field(default_factory=list)   # kept for the batch cross-check
    keep_rows: bool = False
    last_ns: int = 0

    def feed(self, update: sip_messages.NbboUpdate) -> None:
        rows = self.bars.update(update.received_ns, update.protected)
        if rows:
            self.stream.update_many(np.asarray(rows, dtype=np.float64))
            if self.keep_rows:
                self.all_rows += rows
        self.last_ns = update.received_ns

    def body(self, instrument_id: int) -> dict[str, Any]:
        out: dict[str, Any] = {"source": "discovery", "instrument": instrument_id, "symbol": self.symbol,
                               "time": self.last_ns / 1e9, "venues": list(self.bars.venues),
                               "bars": self.stream.rows}
        try:
            est = self.stream.estimate()
        except AnalyticsInputError as exc:
            out["status"] = str(exc)
            return out
        out.update(status="ok", information_share_lower=est.is_lower.tolist(),
                   information_share_upper=est.is_upper.tolist(), information_share_mid=est.is_mid.tolist(),
                   component_share=est.component_share.tolist())
        return out


class DiscoveryMonitor:
    """Every watched instrument's discovery, fed from consolidator updates."""

    def __init__(self, venues: list[str], symbols: dict[int, str], *, bar_s: float, lags: int,
                 price_scale: float, max_fill_bars: int = DEFAULT_MAX_FILL_BARS, keep_rows: bool = False) -> None:
        if len(set(venues)) != len(venues) or len(venues) < 2:
            raise AnalyticsInputError(f"venues: need at least two distinct venues, got {venues!r}")
        if not bar_s > 0 or not price_scale > 0 or max_fill_bars < 1:
            raise AnalyticsInputError("bar seconds and price scale must be > 0, max fill bars >= 1")
        self.venues = tuple(venues)
        self.symbols = symbols
        self.bar_ns = int(round(bar_s * 1e9))
        self.lags, self.price_scale, self.max_fill_bars, self.keep_rows = lags, price_scale, max_fill_bars, keep_rows
        InformationShareStream(len(venues), lags)        # refuses bad lags before anything runs
        self.instruments: dict[int, InstrumentDiscovery] = {}

    def feed(self, update: sip_messages.NbboUpdate) -> None:
        ins = update.instrument_id
        if self.symbols and ins not in self.symbols:
            return
        d = self.instruments.get(ins)
        if d is None:
            d = self.instruments[ins] = InstrumentDiscovery(
                self.symbols.get(ins, str(ins)),
                MidBars(self.venues, self.bar_ns, self.price_scale, self.max_fill_bars),
                InformationShareStream(len(self.venues), self.lags), keep_rows=self.keep_rows)
        d.feed(update)

    def bodies(self) -> list[dict[str, Any]]:
        return [d.body(ins) for ins, d in sorted(self.instruments.items())]


def parse_args(argv: list[str]) -> argparse.Namespace:
    # Usage errors are one line (exit 2): python -m trading's dispatcher installs gateway.cli_errors.
    p = argparse.ArgumentParser(prog="python -m trading discovery", description=__doc__.split("\n")[0])
    p.add_argument("--sip", required=True, help="the consolidator's ZeroMQ PUB endpoint")
    p.add_argument("--venue", action="append", default=[], required=True,
                   help="a venue id, in the order used for the shares (repeat: at least two)")
    p.add_argument("--instrument", type=parse_instrument, action="append", default=[],
                   help="ID or ID:SYMBOL to watch (repeatable; default: every instrument)")
    p.add_argument("--bar-seconds", type=float, default=1.0)
    p.add_argument("--lags", type=int, default=1)
    p.add_argument("--max-fill-bars", type=int, default=DEFAULT_MAX_FILL_BARS)
    p.add_argument("--price-scale", type=float, default=1.0, help="engine price units per currency unit")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between publications")
    p.add_argument("--publish", default="tcp://127.0.0.1:0", help="ZeroMQ PUB endpoint to bind")
    p.add_argument("--ready-file", type=output_file, default=None,
                   help="write {\"publish\": ENDPOINT} here (atomically) once bound (what `up` waits for)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if not 0 < args.interval <= 3600:     # NaN too
            raise AnalyticsInputError(f"--interval must be in (0, 3600] seconds, got {args.interval!r}")
        monitor = DiscoveryMonitor(args.venue, dict(args.instrument), bar_s=args.bar_seconds, lags=args.lags,
                                   price_scale=args.price_scale, max_fill_bars=args.max_fill_bars)
    except AnalyticsInputError as exc:
        print(f"trading discovery: {exc}", file=sys.stderr)
        return 2
    try:
        publisher = AnalyticsPublisher(args.publish)
        feed = SipSubscriber(args.sip)
    except zmq.ZMQError as exc:
        print(f"trading discovery: cannot bind {args.publish} or connect {args.sip}: {exc}", file=sys.stderr)
        return 2
    stopping = [False]
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__(0, True))
    signal.signal(signal.SIGINT, lambda *_: stopping.__setitem__(0, True))
    print(f"discovery publish (ZeroMQ PUB): {publisher.endpoint}", flush=True)
    if args.ready_file:
        try:
            args.ready_file.parent.mkdir(parents=True, exist_ok=True)
            Path(f"{args.ready_file}.tmp").write_text(json.dumps({"publish": publisher.endpoint}))
            os.replace(f"{args.ready_file}.tmp", args.ready_file)
        except OSError as exc:
            print(f"trading discovery: --ready-file {os_error_line(exc)}", file=sys.stderr)
            publisher.close()
            feed.close()
            return 1
    next_publish = time.monotonic() + args.interval
    try:
        while not stopping[0]:
            for update in feed.poll(timeout_s=0.05):
                monitor.feed(update)
            if time.monotonic() >= next_publish:
                for body in monitor.bodies():
                    publisher.publish(TOPIC_ANALYTICS, body)
                next_publish = time.monotonic() + args.interval
    finally:
        feed.close()
        publisher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
