"""Shared pieces of the market-data tests: a publisher/subscriber pair on real loopback sockets,
and the comparison of a subscriber's rebuilt book with the engine's own book."""
from __future__ import annotations

import itertools
import os
import socket
import time
from typing import Any

import numpy as np

from gateway.marketdata.book import BUY, SELL, FeedBook
from gateway.marketdata.encoder import EncoderConfig
from gateway.marketdata.publisher import Publisher, PublisherConfig
from gateway.marketdata.recovery import RecoveryClient
from gateway.marketdata.subscriber import Subscriber
from gateway.marketdata.transport import UdpChannel, UdpReceiver, ZmqReceiver, multicast_works
from native import records
from native.messages import Command
from native.engine import Engine

_groups = itertools.count(1)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def udp_channel(multicast: bool) -> UdpChannel:
    port = free_udp_port()
    if multicast:
        return UdpChannel(f"239.255.{os.getpid() % 250}.{next(_groups) % 250 + 1}", port)
    return UdpChannel("127.0.0.1", port)


MULTICAST_OK, MULTICAST_WHY = multicast_works()


def book_mismatches(eng: Engine, book: FeedBook, instruments: list[int]) -> list[str]:
    """Differences between the engine's displayed book and the rebuilt one (L2 and L3)."""
    out = []
    for inst in instruments:
        if eng.instrument(inst) is None:
            continue
        for side in (BUY, SELL):
            want = eng.depth(inst, side, 10_000)
            got = [tuple(int(x) for x in r) for r in book.depth(inst, side, 10_000)[["price", "qty", "order_count"]]]
            if got != want:
                out.append(f"L2 inst {inst} side {side}: feed {got[:5]} engine {want[:5]}")
            want_o = [(o["order_id"], o["price"], o["shown_qty"]) for o in eng.orders(inst, side)]
            got_o = [(int(r["order_ref"]), int(r["price"]), int(r["shown"])) for r in book.orders(inst, side)]
            if got_o != want_o:
                out.append(f"L3 inst {inst} side {side}: feed {got_o[:5]} engine {want_o[:5]}")
    return out


class Venue:
    """An in-process engine feeding a Publisher, and subscribers on real sockets."""

    def __init__(self, transport: str = "udp", multicast: bool = False, drop_fraction: float = 0.0,
                 seed: int = 0, store_messages: int = 1 << 16, max_instruments: int = 3,
                 channel: UdpChannel | None = None, recovery_host: str = "127.0.0.1",
                 xdp_l3: Any = None, **enc: Any) -> None:
        """channel, recovery_host: where the feed and the recovery server go (default: a free
        loopback port; a veth pair's addresses for the AF_XDP tests); xdp_l3: an XdpTxConfig, the
        publisher then transmits over AF_XDP."""
        self.engine = Engine(max_orders=10_000, max_levels=4_000, max_instruments=max_instruments, max_accounts=8)
        self.channel = (channel or udp_channel(multicast)) if transport == "udp" else None
        zmq_ep = f"ipc:///tmp/venue-md-test-{os.getpid()}-{next(_groups)}" if transport == "zmq" else None
        self.publisher = Publisher(PublisherConfig(
            encoder=EncoderConfig(max_instruments=max_instruments, store_messages=store_messages, **enc),
            udp_l3=self.channel, zmq_endpoint=zmq_ep, drop_fraction=drop_fraction, drop_seed=seed,
            conflate_interval_ns=1 << 62, recovery_host=recovery_host, xdp_l3=xdp_l3))
        self.zmq_endpoint = zmq_ep
        self.instruments = list(range(1, max_instruments + 1))
        self.subscribers: list[Subscriber] = []

    def subscriber(self, late_join: bool = False, source: Any = None) -> Subscriber:
        """source: the PacketSource to read (default: a socket on the venue's channel)."""
        if source is not None:
            pass
        elif self.channel is not None:
            unicast = bool(self.publisher.udp_l3 and self.publisher.udp_l3.mode == "unicast")
            source = UdpReceiver(self.channel, unicast=unicast)
        else:
            source = ZmqReceiver(self.zmq_endpoint or "")
            self._settle_zmq(source)
        assert self.publisher.recovery is not None
        rec = RecoveryClient(self.publisher.recovery.address, "VENUE")
        sub = Subscriber(source, rec, late_join=late_join, max_instruments=len(self.instruments))
        self.subscribers.append(sub)
        return sub

    def _settle_zmq(self, source: ZmqReceiver) -> None:
        # A SUB socket only receives after its subscription reached the PUB: send heartbeats until one arrives.
        for _ in range(200):
            self.publisher.heartbeat()
            if source.recv(0.01) is not None:
                return
        raise TimeoutError("zmq subscription did not take effect within 2s")

    def step(self, cmd_records: np.ndarray) -> None:
        self.publisher.publish(self.engine.submit_records(cmd_records))

    def sync(self, sub: Subscriber, timeout_s: float = 10.0) -> None:
        """Waits until sub has every published message, sending a heartbeat per wait (as the
        publisher's idle loop does) so that a lost tail, or a lost heartbeat, shows as a gap."""
        want = self.publisher.encoder.next_seq
        deadline = time.monotonic() + timeout_s
        while sub.book.next_seq < want:
            if time.monotonic() > deadline:
                raise TimeoutError(f"subscriber did not reach seq {want} within {timeout_s}s "
                                   f"(at {sub.book.next_seq}, stats {sub.book.stats()})")
            self.publisher.heartbeat()
            sub.poll(0.01)

    def close(self) -> None:
        for s in self.subscribers:
            if s.recovery:
                s.recovery.close()
            s.source.close()  # type: ignore[attr-defined]
        self.publisher.close()
        self.engine.close()


def command_records(cmds: list[Command]) -> np.ndarray:
    return records.encode_commands(cmds)
