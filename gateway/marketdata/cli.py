"""``python -m gateway md SUBCOMMAND``: run the market-data publisher, or watch a live depth ladder.

  publish --engine NAME   publish a running engine's broadcast log (C loop) until it stops
  publish --log PATH      the same, naming the log segment's path
  publish --demo          publish a seeded order flow through an in-process engine (for trying it)
  ladder                  subscribe (UDP/multicast + recovery) and print one instrument's ladder
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import signal
import sys
import time

from gateway.cli_numbers import seed as seed_arg
from gateway.marketdata.book import BUY, SELL
from gateway.marketdata.encoder import EncoderConfig
from gateway.marketdata.feed_stats import FeedStats
from gateway.marketdata.log_publisher import LogPublisher, LoopConfig
from gateway.marketdata.publisher import InstrumentInfo, Publisher, PublisherConfig
from gateway.marketdata.errors import RecoveryError
from gateway.marketdata.recovery import RecoveryClient
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import UdpChannel, UdpReceiver
from gateway.marketdata.xdp_transport import XdpReceiver, XdpTxConfig, XdpUnavailable, parse_mac
from shm.errors import ShmError

STATS_PERIOD_S = 1.0        # --stats-file: how often the counts are written


def _channel(text: str) -> UdpChannel:
    host, _, port = text.rpartition(":")
    try:
        return UdpChannel(host, int(port))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc} (expected ADDRESS:PORT)") from exc


def _host_port(text: str) -> tuple[str, int]:
    """The recovery server's HOST:PORT (TCP; any host, unlike a UDP channel)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT with a port 1..65535")
    return host, int(port)


def parse_instruments(text: str) -> tuple[InstrumentInfo, ...]:
    """``ID:SYMBOL:TICK:LOT:REF,...``: the instrument configuration the engine was started with
    (MD1: the engine's events do not carry it; the directory then says config_known=1)."""
    out = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) != 5:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: use ID:SYMBOL:TICK:LOT:REF")
        try:
            iid, tick, lot, ref = int(parts[0]), int(parts[2]), int(parts[3]), int(parts[4])
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: ID, TICK, LOT and REF must be "
                                             "integers") from None
        sym = parts[1]
        if not 1 <= len(sym) <= 8 or not sym.isascii() or not sym.isprintable() or " " in sym:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: SYMBOL must be 1-8 printable "
                                             "ASCII characters without spaces")
        if iid < 1 or tick < 1 or lot < 1 or ref < 1:
            raise argparse.ArgumentTypeError(f"bad instrument {item!r}: ID, TICK, LOT, REF must be >= 1")
        out.append(InstrumentInfo(iid, sym, tick, lot, ref))
    ids = [i.instrument_id for i in out]
    if len(set(ids)) != len(ids):
        raise argparse.ArgumentTypeError(f"instrument ids repeat: {text!r}")
    return tuple(out)


def render_ladder(sub: Subscriber, instrument_id: int, levels: int) -> str:
    bids = sub.book.depth(instrument_id, BUY, levels)
    asks = sub.book.depth(instrument_id, SELL, levels)
    bbo = sub.book.bbo(instrument_id)
    lines = [f"instrument {instrument_id}  seq {sub.book.next_seq - 1}  last "
             f"{bbo.last_price if bbo.last_price is not None else '-'} x {bbo.last_qty}  phase {bbo.phase}",
             f"{'orders':>7} {'bid qty':>10} {'price':>12} {'ask qty':>10} {'orders':>7}"]
    for a in asks[::-1]:
        lines.append(f"{'':>7} {'':>10} {int(a['price']):>12} {int(a['qty']):>10} {int(a['order_count']):>7}")
    for b in bids:
        lines.append(f"{int(b['order_count']):>7} {int(b['qty']):>10} {int(b['price']):>12} {'':>10} {'':>7}")
    return "\n".join(lines)


def _ladder_source(args: argparse.Namespace) -> UdpReceiver | XdpReceiver:
    """AF_XDP on --xdp IFACE where it can be set up here, else the UDP socket (saying why)."""
    if args.xdp:
        try:
            src = XdpReceiver(args.xdp, args.udp.port)
            print(f"md ladder: {src.description}", file=sys.stderr, flush=True)
            return src
        except XdpUnavailable as exc:
            print(f"md ladder: {exc}; receiving on the UDP socket instead", file=sys.stderr,
                  flush=True)
    return UdpReceiver(args.udp, unicast=args.unicast)


def _ladder(args: argparse.Namespace) -> int:
    rec: RecoveryClient | None = None
    try:        # no recovery server (a wrong --recovery, no publisher yet): one line, not a traceback
        rec = RecoveryClient(args.recovery, args.session)
        sub = Subscriber(_ladder_source(args), rec, args.session, late_join=True)
        deadline = time.monotonic() + args.duration_s
        while time.monotonic() < deadline:
            sub.poll(args.refresh_s)
            print("\x1b[2J\x1b[H" + render_ladder(sub, args.instrument, args.levels), flush=True)
    except (RecoveryError, OSError, ValueError) as exc:
        print(f"md ladder: {exc}", file=sys.stderr)
        return 1
    finally:
        if rec is not None:
            rec.close()
    return 0


def _number(ap: argparse.ArgumentParser, flag: str, value: float, low: float, high: float = math.inf,
            low_open: bool = False) -> None:
    """--flag within [low, high] (or (low, high]) and finite; NaN fails every comparison, so it is
    refused too (a NaN --duration-s made the demo run forever, a NaN deadline never passing)."""
    ok = (low < value if low_open else low <= value) and value <= high and math.isfinite(value)
    if not ok:
        bound = f"{'(' if low_open else '['}{low:g}, {high:g}]" if high != math.inf else \
            (f"> {low:g}" if low_open else f">= {low:g}")
        ap.error(f"{flag} must be a finite number {bound}, got {value}")


def _check_publish(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every publish option checked before a socket is opened: the numbers, the options that only
    apply to some sources (they used to be ignored in silence), and the configs' own validation
    (EncoderConfig, PublisherConfig, LoopConfig) as one usage line instead of a traceback."""
    _number(ap, "--duration-s", args.duration_s, 0, low_open=True)
    _number(ap, "--pace-s", args.pace_s, 0, 60)
    _number(ap, "--heartbeat-ms", args.heartbeat_ms, 0, low_open=True)
    _number(ap, "--idle-sleep-us", args.idle_sleep_us, 0)
    _number(ap, "--conflate-ms", args.conflate_ms, 0)
    if not 0 <= args.recovery_port <= 65535:
        ap.error(f"--recovery-port must be 0..65535 (0: any free port), got {args.recovery_port}")
    from_log = bool(args.engine or args.log)
    for flag, given in (("--stats-file", args.stats_file), ("--dir", args.dir)):
        if given is not None and not from_log:
            ap.error(f"{flag} is for --engine/--log; --demo does not use it")
    if (args.zmq_curve_secret or args.zmq_curve_clients) and not args.zmq:
        ap.error("--zmq-curve-secret/--zmq-curve-clients secure the --zmq endpoint: give --zmq too")
    try:
        _publisher_config(args).validate()
        if from_log:
            _loop_config(args)
    except ValueError as exc:
        ap.error(str(exc))


def _check_ladder(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    _number(ap, "--duration-s", args.duration_s, 0, low_open=True)
    _number(ap, "--refresh-s", args.refresh_s, 0, 60, low_open=True)
    if not 1 <= args.levels <= 1000:
        ap.error(f"--levels must be 1..1000, got {args.levels}")
    if args.instrument < 1:
        ap.error(f"--instrument must be an instrument id >= 1, got {args.instrument}")


def _loop_config(args: argparse.Namespace) -> LoopConfig:
    return LoopConfig(spin_polls=args.spin_polls, idle_sleep_ns=int(args.idle_sleep_us * 1000),
                      heartbeat_interval_ns=int(args.heartbeat_ms * 1e6))


def _publisher_config(args: argparse.Namespace) -> PublisherConfig:
    instruments = args.instruments or ()
    max_id = max((i.instrument_id for i in instruments), default=0)
    enc = EncoderConfig(max_instruments=max(args.max_instruments, max_id),
                        depth_levels=args.depth_levels)
    return PublisherConfig(encoder=enc, udp_l3=None if args.no_udp else args.udp,
                           udp_l2=None if args.no_udp else args.udp_l2, zmq_endpoint=args.zmq,
                           zmq_curve_secret=args.zmq_curve_secret, zmq_curve_clients=args.zmq_curve_clients,
                           recovery_port=args.recovery_port, recovery_host=args.recovery_host,
                           xdp_l3=XdpTxConfig(args.xdp_tx, args.xdp_dst_mac) if args.xdp_tx else None,
                           conflate_interval_ns=int(args.conflate_ms * 1e6),
                           drop_fraction=args.drop_fraction, instruments=instruments)


def _publish_log(args: argparse.Namespace, path: str) -> int:
    """The C loop on the engine's log; this thread only waits for a signal or the engine's end."""
    try:
        pub = LogPublisher(path, _publisher_config(args), _loop_config(args))
    except (OSError, ValueError, OverflowError, ShmError) as exc:
        print(f"md publish: {exc}", file=sys.stderr)
        return 1
    try:
        rec = f"{pub.recovery.address[0]}:{pub.recovery.address[1]}" if pub.recovery else "off"
        zmq_ep = pub.zmq.endpoint if pub.zmq else "off"
        print(f"publishing {path}: {pub.transport_note}; zmq {zmq_ep}; recovery on {rec}", flush=True)
        stop = {"flag": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
        signal.signal(signal.SIGINT, lambda *_: stop.update(flag=True))
        try:
            stats = _feed_stats(args, pub)
        except OSError as exc:
            print(f"md publish: --stats-file {args.stats_file}: {exc.strerror}", file=sys.stderr)
            return 2
        pub.start()
        deadline = time.monotonic() + args.duration_s
        next_stats = 0.0
        while not stop["flag"] and pub.running and time.monotonic() < deadline:
            pub.wait(0.05)
            if stats is not None and time.monotonic() >= next_stats:
                stats.write()
                next_stats = time.monotonic() + STATS_PERIOD_S
        if pub.running:
            pub.stop()
        if stats is not None:
            stats.write(running=False)
            stats.close()
        pub.end_session()
        print(json.dumps({"md_publisher_stats": pub.stats(), "run_status": pub.run_status}), flush=True)
        return 0 if not pub.run_status else 1
    finally:
        pub.close()


def _feed_stats(args: argparse.Namespace, pub: LogPublisher) -> FeedStats | None:
    """--stats-file: who listens (feed_stats.py), attached before the C loop takes the socket."""
    if not args.stats_file:
        return None
    stats = FeedStats(args.stats_file, pub.zmq.socket if pub.zmq else None, pub.recovery,
                      udp=not args.no_udp, session=pub.config.encoder.session)
    stats.write()
    return stats


def _publish(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.engine or args.log:
        from shm.engine_segments import events_path
        return _publish_log(args, args.log or events_path(args.engine, args.dir))
    try:
        pub = Publisher(_publisher_config(args))
    except (OSError, ValueError, OverflowError) as exc:     # a port in use, an endpoint refused
        print(f"md publish: {exc}", file=sys.stderr)
        return 1
    assert pub.recovery is not None
    print(f"publishing: {pub.transport_note}; recovery on {pub.recovery.address[0]}:{pub.recovery.address[1]}",
          flush=True)
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(flag=True))
    deadline = time.monotonic() + args.duration_s
    should_stop = lambda: stop["flag"] or time.monotonic() > deadline  # noqa: E731
    try:
        from gateway.demo.flow import DemoFlow
        from native import records
        from native.engine import Engine
        eng = Engine()
        cmds = records.encode_commands(DemoFlow(seed=args.seed).session())
        for start in range(0, len(cmds), 20):
            if should_stop():
                break
            pub.publish(eng.submit_records(cmds[start:start + 20]))
            pub.heartbeat()
            time.sleep(args.pace_s)
        pub.end_session()
        print(pub.stats(), flush=True)
    finally:
        pub.close()
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m gateway md", description=__doc__.splitlines()[0])
    subs = ap.add_subparsers(dest="cmd", required=True)
    p = subs.add_parser("publish", help="run the publisher")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--engine", help="name of a running engine (python -m gateway engine --name)")
    src.add_argument("--log", help="path of the engine's broadcast log segment")
    src.add_argument("--demo", action="store_true", help="in-process engine with a seeded demo flow")
    p.add_argument("--udp", type=_channel, default=UdpChannel("239.255.42.1", 31001))
    p.add_argument("--udp-l2", type=_channel, default=UdpChannel("239.255.42.2", 31002))
    p.add_argument("--zmq", default=None, help="ZeroMQ PUB endpoint, e.g. tcp://127.0.0.1:31003")
    p.add_argument("--zmq-curve-secret", default=None, metavar="FILE",
                   help="serve --zmq over CurveZMQ with this key pair (python -m gateway keys curve)")
    p.add_argument("--zmq-curve-clients", default=None, metavar="DIR",
                   help="with --zmq-curve-secret: admit only the subscribers whose NAME.key is here")
    p.add_argument("--no-udp", action="store_true", help="ZeroMQ only")
    p.add_argument("--dir", default=None, help="--engine: segment directory (as the engine's --dir)")
    p.add_argument("--instruments", type=parse_instruments, default=None,
                   help="ID:SYMBOL:TICK:LOT:REF,... as the engine was configured (directory "
                        "config_known=1); without it the directory says config_known=0")
    p.add_argument("--max-instruments", type=int, default=64)
    p.add_argument("--depth-levels", type=int, default=10, help="N of the Level 2 messages")
    p.add_argument("--drop-fraction", type=float, default=0.0,
                   help="loss injection on live L3 datagrams (drills)")
    p.add_argument("--heartbeat-ms", type=float, default=1000.0,
                   help="log: idle this long, send a heartbeat (a lost tail shows as a gap)")
    p.add_argument("--spin-polls", type=int, default=2000, help="log: empty polls before sleeping")
    p.add_argument("--idle-sleep-us", type=float, default=20.0,
                   help="log: sleep per empty poll after spinning (0: spin only)")
    p.add_argument("--recovery-port", type=int, default=31004)
    p.add_argument("--stats-file", default=None, metavar="FILE",
                   help="--engine/--log: write the ZeroMQ subscriber and recovery session counts here "
                        "(JSON, once a second; the dashboard's health panel reads it)")
    p.add_argument("--xdp-tx", default=None, metavar="IFACE",
                   help="send the --udp channel through an AF_XDP TX ring on this interface (root; "
                        "with --xdp-dst-mac, the next hop's MAC; else the UDP socket, saying why)")
    p.add_argument("--xdp-dst-mac", default=None, metavar="MAC",
                   help="with --xdp-tx: destination MAC (the subscriber's end of the veth pair)")
    p.add_argument("--recovery-host", default="127.0.0.1",
                   help="address the recovery server listens on: 127.x, or a 169.254.x (veth) one")
    p.add_argument("--conflate-ms", type=float, default=100.0)
    p.add_argument("--duration-s", type=float, default=60.0)
    p.add_argument("--pace-s", type=float, default=0.01, help="demo: pause between command batches")
    p.add_argument("--seed", type=seed_arg, default=1)
    p.set_defaults(func=_publish, parser=p)
    la = subs.add_parser("ladder", help="print a live depth ladder")
    la.add_argument("--udp", type=_channel, default=UdpChannel("239.255.42.1", 31001))
    la.add_argument("--unicast", action="store_true", help="the publisher fell back to unicast")
    la.add_argument("--xdp", default=None, metavar="IFACE",
                    help="receive the --udp port's datagrams with AF_XDP on this interface (root; "
                         "an XDP program steers only that port; else the UDP socket, saying why)")
    la.add_argument("--recovery", type=_host_port, default=("127.0.0.1", 31004),
                    help="the publisher's recovery HOST:PORT (TCP)")
    la.add_argument("--session", default="VENUE")
    la.add_argument("--instrument", type=int, default=1)
    la.add_argument("--levels", type=int, default=10)
    la.add_argument("--refresh-s", type=float, default=0.25)
    la.add_argument("--duration-s", type=float, default=30.0)
    la.set_defaults(func=_ladder, parser=la)
    args = ap.parse_args(argv)
    (_check_publish if args.func is _publish else _check_ladder)(args.parser, args)
    if getattr(args, "xdp_tx", None) and not args.xdp_dst_mac:
        ap.error("--xdp-tx needs --xdp-dst-mac (the next hop's MAC, aa:bb:cc:dd:ee:ff)")
    if getattr(args, "xdp_dst_mac", None) and not args.xdp_tx:
        ap.error("--xdp-dst-mac is for --xdp-tx")
    if getattr(args, "xdp_dst_mac", None):
        try:
            parse_mac(args.xdp_dst_mac)
        except ValueError as exc:
            ap.error(f"--xdp-dst-mac: {exc}")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
