"""``python -m gateway md SUBCOMMAND``: run the market-data publisher, or watch a live depth ladder.

  publish --log PATH      publish the engine's broadcast log (a running venue) until stopped
  publish --demo          publish a seeded order flow through an in-process engine (for trying it)
  ladder                  subscribe (UDP/multicast + recovery) and print one instrument's ladder
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

from gateway.marketdata.book import BUY, SELL
from gateway.marketdata.publisher import Publisher, PublisherConfig
from gateway.marketdata.recovery import RecoveryClient
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import UdpChannel, UdpReceiver


def _channel(text: str) -> UdpChannel:
    host, _, port = text.rpartition(":")
    try:
        return UdpChannel(host, int(port))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc} (expected ADDRESS:PORT)") from exc


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


def _ladder(args: argparse.Namespace) -> int:
    host, _, port = args.recovery.rpartition(":")
    rec = RecoveryClient((host, int(port)), args.session)
    sub = Subscriber(UdpReceiver(args.udp, unicast=args.unicast), rec, args.session, late_join=True)
    deadline = time.monotonic() + args.duration_s
    while time.monotonic() < deadline:
        sub.poll(args.refresh_s)
        print("\x1b[2J\x1b[H" + render_ladder(sub, args.instrument, args.levels), flush=True)
    rec.close()
    return 0


def _publish(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    pub = Publisher(PublisherConfig(udp_l3=args.udp, udp_l2=args.udp_l2, zmq_endpoint=args.zmq,
                                    recovery_port=args.recovery_port,
                                    conflate_interval_ns=int(args.conflate_ms * 1e6)))
    assert pub.recovery is not None
    print(f"publishing: {pub.transport_note}; recovery on {pub.recovery.address[0]}:{pub.recovery.address[1]}",
          flush=True)
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(flag=True))
    deadline = time.monotonic() + args.duration_s
    should_stop = lambda: stop["flag"] or time.monotonic() > deadline  # noqa: E731
    try:
        if args.log:
            pub.run_from_log(args.log, should_stop)
        else:
            from gateway.demo_flow import DemoFlow
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
    src.add_argument("--log", help="path of the engine's broadcast log segment")
    src.add_argument("--demo", action="store_true", help="in-process engine with a seeded demo flow")
    p.add_argument("--udp", type=_channel, default=UdpChannel("239.255.42.1", 31001))
    p.add_argument("--udp-l2", type=_channel, default=UdpChannel("239.255.42.2", 31002))
    p.add_argument("--zmq", default=None, help="ZeroMQ PUB endpoint, e.g. tcp://127.0.0.1:31003")
    p.add_argument("--recovery-port", type=int, default=31004)
    p.add_argument("--conflate-ms", type=float, default=100.0)
    p.add_argument("--duration-s", type=float, default=60.0)
    p.add_argument("--pace-s", type=float, default=0.01, help="demo: pause between command batches")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=_publish)
    la = subs.add_parser("ladder", help="print a live depth ladder")
    la.add_argument("--udp", type=_channel, default=UdpChannel("239.255.42.1", 31001))
    la.add_argument("--unicast", action="store_true", help="the publisher fell back to unicast")
    la.add_argument("--recovery", default="127.0.0.1:31004")
    la.add_argument("--session", default="VENUE")
    la.add_argument("--instrument", type=int, default=1)
    la.add_argument("--levels", type=int, default=10)
    la.add_argument("--refresh-s", type=float, default=0.25)
    la.add_argument("--duration-s", type=float, default=30.0)
    la.set_defaults(func=_ladder)
    args = ap.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
