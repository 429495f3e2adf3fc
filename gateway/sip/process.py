"""``python -m gateway sip --config MULTI.toml``: the consolidator as its own process.

It subscribes to every lit venue's ZeroMQ order-by-order feed (joining late from the venue's
snapshot, recovering gaps by retransmission: gateway/marketdata/subscriber.py), rebuilds each
venue's book, and after every feed packet compares that venue's top of book in each of its
instruments with the last one it had; on a change it publishes the instrument's NBBO and every
venue's protected quote (gateway/sip/messages.py) on [sip] publish. Its latency, measured on its
own clock from taking the feed packet to sending the update, goes into an HdrHistogram, published
each second as SipStats and printed as one JSON line when it stops (SIGTERM/SIGINT). After
publishing, it sends each lit venue's engine its Rule 611 mode and the best protected quotes of the
other venues as sequenced commands (venue_link.py), which the engine's order protection uses; a
venue whose order entry stops answering is left out of those (self-help, self_help.py).
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

import zmq
from hdrh.histogram import HdrHistogram

from gateway.cli_paths import output_file
from gateway.control.config import ConfigError
from gateway.marketdata.recovery import RecoveryClient
from gateway.regnms.rules import ONE_DOLLAR
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import ZmqReceiver, ZmqSender
from gateway.sip import messages
from gateway.sip.consolidator import Consolidator, VenueQuote
from gateway.sip.self_help import AccessProbe
from gateway.sip.venue_link import MODES, VenueLink
from gateway.venues.config import MultiVenueConfig, load_multi_config, ports

FEED_SESSION = "VENUE"           # the session name of every venue's feed (EncoderConfig's default)
STATS_INTERVAL_S = 1.0


@dataclass
class VenueFeed:
    venue: str
    instrument_ids: list[int]
    subscriber: Subscriber
    packets: int = 0


@dataclass
class FeedConsolidator:
    """The venues' subscribers, the consolidator and the publisher; on_packet is the whole path
    from a feed packet to the NBBO updates it causes."""
    feeds: dict[str, VenueFeed]
    publisher: ZmqSender
    consolidator: Consolidator
    latency: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, 60_000_000_000, 3))
    links: list[VenueLink] = field(default_factory=list)
    seq: int = 0

    def on_packet(self, feed: VenueFeed, packet: bytes, received_ns: int) -> list[messages.NbboUpdate]:
        feed.packets += 1
        feed.subscriber.offer(packet)
        return self.refresh(feed, received_ns)

    def refresh(self, feed: VenueFeed, received_ns: int, timed: bool = True) -> list[messages.NbboUpdate]:
        """Publishes an update for each of the venue's instruments whose top of book changed;
        timed: its latency is recorded (not for the quotes of a join's snapshot)."""
        book = feed.subscriber.book
        out = []
        for inst in feed.instrument_ids:
            bbo = book.bbo(inst)
            quote = VenueQuote(feed.venue, bbo.bid_price, bbo.bid_qty if bbo.bid_price is not None else 0,
                               bbo.ask_price, bbo.ask_qty if bbo.ask_price is not None else 0)
            if not self.consolidator.update(inst, quote):
                continue
            self.seq += 1
            update = messages.NbboUpdate(self.seq, inst, self.consolidator.nbbo(inst),
                                         self.consolidator.protected(inst), feed.venue, received_ns,
                                         time.monotonic_ns(), sorted(self.consolidator.unreachable))
            self.publisher.send(messages.TOPIC_NBBO, [messages.encode(update)])
            if timed:
                self.latency.record_value(max(1, update.published_ns - received_ns))
            for link in self.links:       # after publishing: the feed's latency does not wait on engines
                link.send_away(self.consolidator, inst)
            out.append(update)
        return out

    def stats(self) -> messages.SipStats:
        h = self.latency
        return messages.SipStats(self.seq, {v: f.packets for v, f in self.feeds.items()},
                                 {v: f.subscriber.resyncs for v, f in self.feeds.items()},
                                 h.get_total_count(), h.get_value_at_percentile(50),
                                 h.get_value_at_percentile(99), h.get_max_value())


def open_feeds(cfg: MultiVenueConfig, timeout_s: float) -> dict[str, VenueFeed]:
    """A late-joining subscriber per lit venue (its snapshot fetched from the venue's recovery
    server, retried until timeout_s while the venue's publisher starts)."""
    host = cfg.host
    symbols = {i.symbol: i.id for i in cfg.template.instruments}
    feeds = {}
    for spec in cfg.venues:
        if spec.type != "lit":
            continue          # a dark venue displays nothing: it has no protected quote
        p = ports(spec)
        source = ZmqReceiver(f"tcp://{host}:{p.md_zmq}")
        recovery = RecoveryClient((host, p.md_recovery), FEED_SESSION)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sub = Subscriber(source, recovery, FEED_SESSION, late_join=True)
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise OSError(f"venue {spec.id}: no snapshot from {host}:{p.md_recovery} ({exc})") from None
                time.sleep(0.05)     # the venue's publisher is not listening yet: ask again
        feeds[spec.id] = VenueFeed(spec.id, [symbols[s] for s in spec.instruments], sub)
    return feeds


def venue_links(cfg: MultiVenueConfig) -> list[VenueLink]:
    """A link to every venue's engine: lit ones protected by the configured Rule 611 mode and held to
    the Rule 612 grid of each instrument's tick class, dark ones fed the NBBO (refreshed each half of
    their nbbo_max_age)."""
    symbols = {i.symbol: i.id for i in cfg.template.instruments}
    rules = cfg.rules()
    grids = {symbols[x]: rules.min_increment(ONE_DOLLAR, cfg.tick_class(x)) for x in symbols}
    return [VenueLink(s.id, cfg.engine_name(s.id), [symbols[x] for x in s.instruments],
                      MODES[cfg.regnms.order_protection] if s.type == "lit" else None,
                      refresh_ns=int(s.nbbo_max_age_ms * 1e6) // 2, grids=grids)
            for s in cfg.venues]


def run(cfg: MultiVenueConfig, ready_file: str | None, duration_s: float, stop: list[bool]) -> messages.SipStats:
    feeds = open_feeds(cfg, timeout_s=30.0)
    links = venue_links(cfg)
    for link in links:
        link.attach()
    core = FeedConsolidator(feeds, ZmqSender(cfg.sip.publish), Consolidator(list(feeds)), links=links)
    poller = zmq.Poller()
    by_socket = {}
    for feed in feeds.values():
        sock = feed.subscriber.source.socket  # type: ignore[attr-defined]
        poller.register(sock, zmq.POLLIN)
        by_socket[sock] = feed
        core.refresh(feed, time.monotonic_ns(), timed=False)   # the snapshot's quotes
    if ready_file:     # whole or not at all: `up` reads it as soon as the file exists
        tmp = Path(f"{ready_file}.tmp")
        tmp.write_text(json.dumps({"publish": core.publisher.endpoint, "venues": list(feeds)}))
        os.replace(tmp, ready_file)
    probe = AccessProbe({s.id: (cfg.host, ports(s).order_entry) for s in cfg.venues if s.type == "lit"})
    print(f"sip: consolidating {', '.join(feeds)}; NBBO on {core.publisher.endpoint}", flush=True)
    next_stats = time.monotonic() + STATS_INTERVAL_S
    end = time.monotonic() + duration_s
    while not stop[0] and time.monotonic() < end:
        for sock, _ in poller.poll(100):
            feed = by_socket[sock]
            while (packet := feed.subscriber.source.recv(0)) is not None:
                core.on_packet(feed, packet, time.monotonic_ns())
        if probe.poll():                   # self-help declared or lifted: new protected quotes
            core.consolidator.unreachable = set(probe.unreachable)
            for link in core.links:
                for inst in link.instrument_ids:
                    link.send_away(core.consolidator, inst)
        for link in core.links:            # dark venues: an unchanged NBBO is still current
            if link.mode is None:
                for inst in link.instrument_ids:
                    link.send_away(core.consolidator, inst)
        if time.monotonic() >= next_stats:
            core.publisher.send(messages.TOPIC_STATS, [messages.encode(core.stats())])
            next_stats = time.monotonic() + STATS_INTERVAL_S
    for link in links:
        link.close()
    return core.stats()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway sip", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="the multi-venue config ([[venues]], [sip])")
    ap.add_argument("--ready-file", type=output_file, default=None,
                    help="write {publish, venues} here once subscribed")
    ap.add_argument("--duration-s", type=float, default=float("inf"), help="stop after this long")
    args = ap.parse_args(argv)
    if not args.duration_s > 0:         # NaN too: a NaN end never came, a negative one ran to the poll
        ap.error(f"--duration-s must be > 0 (default: until stopped), got {args.duration_s}")
    try:
        cfg = load_multi_config(args.config)
    except ConfigError as exc:
        print(f"sip: {exc}", file=sys.stderr)
        return 2
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__(0, True))
    try:
        stats = run(cfg, args.ready_file, args.duration_s, stop)
    except (OSError, ValueError, zmq.ZMQError) as exc:
        print(f"sip: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"sip_stats": {f: getattr(stats, f) for f in stats.__struct_fields__}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
