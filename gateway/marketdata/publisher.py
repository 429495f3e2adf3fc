"""The in-process market-data publisher: engine events in as batch arrays (tests, the demo, the
LOBSTER replay; a live engine's broadcast log is published by log_publisher.LogPublisher, whose
loop is C), the order-by-order feed out on UDP (multicast, unicast fallback) and ZeroMQ from the
same packets, the conflated L2/L1 channel on its own UDP channel and ZeroMQ topic, and recovery.

Every per-message step is one C call per batch (md_enc_events, md_enc_pack); Python only hands
packets to sockets. One lock serialises the encoder between the publishing thread and the recovery
server's thread (cffi releases the GIL inside C calls).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from gateway.marketdata import schema
from gateway.marketdata.encoder import Encoder, EncoderConfig
from gateway.marketdata.recovery import RecoveryServer
from gateway.marketdata.transport import CHANNEL_L2, CHANNEL_L3, UdpChannel, UdpSender, ZmqSender
from gateway.marketdata.xdp_transport import XdpSender, XdpTxConfig, XdpUnavailable
from native._venue import lib

PUBLISH_CHUNK_EVENTS = 256


log = logging.getLogger("gateway.marketdata")


@dataclass(frozen=True)
class InstrumentInfo:
    instrument_id: int
    symbol: str
    tick_size: int
    lot_size: int
    reference_price: int


@dataclass(frozen=True)
class PublisherConfig:
    encoder: EncoderConfig = EncoderConfig()
    udp_l3: UdpChannel | None = None
    udp_l2: UdpChannel | None = None
    zmq_endpoint: str | None = None
    zmq_curve_secret: str | None = None     # CurveZMQ key pair of the PUB (gateway/security/curve.py)
    zmq_curve_clients: str | None = None    # directory of the subscribers' public keys it admits
    recovery_port: int | None = 0           # None: no recovery server; 0: any free port
    recovery_host: str = "127.0.0.1"        # or a 169.254.x address (a veth pair's)
    xdp_l3: XdpTxConfig | None = None       # send udp_l3's datagrams through AF_XDP (veth)
    conflate_interval_ns: int = 100_000_000  # L1/L2 at most this often; 0: after every batch
    drop_fraction: float = 0.0              # loss injection on live L3 datagrams (tests, drills)
    drop_seed: int = 0
    instruments: tuple[InstrumentInfo, ...] = field(default_factory=tuple)

    def validate(self) -> None:
        self.encoder.validate()
        if not 0.0 <= self.drop_fraction < 1.0:
            raise ValueError(f"drop_fraction {self.drop_fraction}: must be in [0, 1)")
        if self.conflate_interval_ns < 0:
            raise ValueError("conflate_interval_ns must be >= 0")


def l3_sender(config: PublisherConfig) -> UdpSender | XdpSender | None:
    """The L3 channel's sender: AF_XDP where configured and it can be set up here, else the UDP
    socket, with the reason in its fallback_reason (the publisher's transport note says it)."""
    if config.udp_l3 is None:
        return None
    if config.xdp_l3 is None:
        return UdpSender(config.udp_l3)
    try:
        return XdpSender(config.xdp_l3, config.udp_l3.address, config.udp_l3.port)
    except XdpUnavailable as exc:
        log.warning("market data: %s; sending on the UDP socket instead", exc)
        sender = UdpSender(config.udp_l3)
        sender.fallback_reason = str(exc)
        return sender


class Publisher:
    def __init__(self, config: PublisherConfig = PublisherConfig()) -> None:
        config.validate()
        self.config = config
        self.encoder = Encoder(config.encoder)
        for info in config.instruments:
            self.encoder.set_instrument(info.instrument_id, info.symbol, info.tick_size, info.lot_size,
                                        info.reference_price)
        self._lock = threading.Lock()
        self.udp_l3: UdpSender | XdpSender | None = l3_sender(config)
        self.udp_l2 = UdpSender(config.udp_l2) if config.udp_l2 else None
        self.zmq = ZmqSender(config.zmq_endpoint) if config.zmq_endpoint else None
        self._rng = random.Random(config.drop_seed)
        self.dropped_packets = 0
        self.sent_packets = 0
        self._last_conflate_ns = 0
        self.recovery: RecoveryServer | None = None
        if config.recovery_port is not None:
            self.recovery = RecoveryServer(config.encoder.session, self._retransmit, self._snapshot,
                                           host=config.recovery_host, port=config.recovery_port)

    @property
    def transport_note(self) -> str:
        """How the UDP feed travels here (multicast, or unicast and why)."""
        if not self.udp_l3:
            return "no UDP"
        if self.udp_l3.fallback_reason:
            return f"UDP unicast fallback ({self.udp_l3.fallback_reason})"
        return f"UDP {self.udp_l3.mode}"

    def _retransmit(self, first_seq: int, count: int) -> list[bytes]:
        with self._lock:
            return self.encoder.pack(first_seq, count)

    def _snapshot(self) -> bytes:
        with self._lock:
            return self.encoder.snapshot()

    def publish(self, events: np.ndarray, now_ns: int | None = None) -> int:
        """Encodes a batch of engine event records and sends the resulting packets. Returns the
        number of order-by-order messages published."""
        total = 0
        # chunked so that a huge batch never outruns the retransmission store before it is packed
        for start in range(0, len(events), PUBLISH_CHUNK_EVENTS):
            with self._lock:
                first, count = self.encoder.encode(events[start:start + PUBLISH_CHUNK_EVENTS])
                packets = self.encoder.pack(first, count) if count else []
            self._send_l3(packets)
            total += count
        self.maybe_conflate(now_ns)
        return total

    def _send_l3(self, packets: list[bytes]) -> None:
        if self.config.drop_fraction > 0.0:
            kept = [p for p in packets if self._rng.random() >= self.config.drop_fraction]
            self.dropped_packets += len(packets) - len(kept)
            packets = kept
        self.sent_packets += len(packets)
        if self.udp_l3:
            self.udp_l3.send(packets)
        if self.zmq:
            self.zmq.send(CHANNEL_L3, packets)

    def maybe_conflate(self, now_ns: int | None = None, force: bool = False, all_instruments: bool = False) -> int:
        """Sends L2/L1 for changed instruments if the conflation interval has passed (or force).
        Returns the packets sent."""
        if not (self.udp_l2 or self.zmq):
            return 0
        now = time.monotonic_ns() if now_ns is None else now_ns
        if not force and now - self._last_conflate_ns < self.config.conflate_interval_ns:
            return 0
        self._last_conflate_ns = now
        with self._lock:
            packets = self.encoder.conflated(now, all_instruments)
        if self.udp_l2:
            self.udp_l2.send(packets)
        if self.zmq:
            self.zmq.send(CHANNEL_L2, packets)
        return len(packets)

    def heartbeat(self) -> None:
        """A MoldUDP64 heartbeat (no messages, the next seq): lets subscribers see a lost tail.
        Never subject to loss injection."""
        self._control_packet(0)

    def end_session(self) -> None:
        self._control_packet(int(lib.MD_MOLD_END_OF_SESSION))

    def _control_packet(self, count: int) -> None:
        hdr = np.zeros(1, dtype=schema.MOLD_HDR)
        hdr["session"] = schema.session_bytes(self.config.encoder.session)
        hdr["sequence_number"] = self.encoder.next_seq
        hdr["message_count"] = count
        pkt = [hdr.tobytes()]
        if self.udp_l3:
            self.udp_l3.send(pkt)
        if self.zmq:
            self.zmq.send(CHANNEL_L3, pkt)

    def stats(self) -> dict[str, int]:
        with self._lock:
            st = self.encoder.stats()
        st.update(sent_packets=self.sent_packets, dropped_packets=self.dropped_packets)
        if self.recovery:
            st.update(recovery_requests=self.recovery.requests, recovery_errors=self.recovery.errors)
        return st

    def close(self) -> None:
        if self.recovery:
            self.recovery.close()
        for s in (self.udp_l3, self.udp_l2, self.zmq):
            if s is not None:
                s.close()
