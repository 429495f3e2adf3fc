"""The production publisher: the engine's broadcast log in, the feed out, with the per-message
loop in C (native/md/md_pub.c) on a thread of its own. Python opens the sockets, maps the log,
starts, supervises and stops that loop, and serves recovery (which reads the encoder through the
C publisher's mutex). Instrument configuration (MD1) comes from the caller: the same values the
engine was configured with, sent in the directory with config_known=1.
"""
from __future__ import annotations

import ipaddress
import logging
import threading
from dataclasses import dataclass

import numpy as np

from gateway.marketdata import zmq_native
from gateway.marketdata.encoder import Encoder
from gateway.marketdata.publisher import PublisherConfig, l3_sender
from gateway.marketdata.recovery import RecoveryServer
from gateway.marketdata.transport import UdpSender, ZmqSender
from gateway.marketdata.xdp_transport import XdpSender
from native import records
from native._venue import ffi, lib
from shm.errors import check as ring_check
from shm.segment import KIND_BROADCAST, Segment

log = logging.getLogger("gateway.marketdata")


@dataclass(frozen=True)
class LoopConfig:
    """How the C loop waits and batches. spin_polls empty polls, then idle_sleep_ns per poll:
    on a machine with spare cores spin (idle_sleep_ns=0); on a shared core sleep."""
    batch_events: int = 4096
    spin_polls: int = 2000
    idle_sleep_ns: int = 20_000
    heartbeat_interval_ns: int = 1_000_000_000
    from_start: bool = True

    def validate(self) -> None:
        if not 1 <= self.batch_events <= 65536:
            raise ValueError(f"batch_events {self.batch_events}: must be 1..65536")
        if self.spin_polls < 0 or self.idle_sleep_ns < 0 or self.heartbeat_interval_ns <= 0:
            raise ValueError("spin_polls and idle_sleep_ns must be >= 0, heartbeat_interval_ns > 0")


def _ipv4(address: str) -> int:
    return int(ipaddress.IPv4Address(address))


class LogPublisher:
    """Publishes one engine's broadcast log until stop() or until the engine closes the log."""

    def __init__(self, events_path: str, config: PublisherConfig = PublisherConfig(),
                 loop: LoopConfig = LoopConfig()) -> None:
        config.validate()
        loop.validate()
        self.config = config
        self.encoder = Encoder(config.encoder)
        for info in config.instruments:
            self.encoder.set_instrument(info.instrument_id, info.symbol, info.tick_size,
                                        info.lot_size, info.reference_price)
        self.segment = Segment.attach(events_path, KIND_BROADCAST)
        self.udp_l3 = l3_sender(config)
        self.udp_l2 = UdpSender(config.udp_l2) if config.udp_l2 else None
        self.zmq = ZmqSender(config.zmq_endpoint, curve_secret=config.zmq_curve_secret,
                             curve_clients=config.zmq_curve_clients) if config.zmq_endpoint else None
        cfg = ffi.new("md_pub_config_t *")
        cfg.l3_fd = cfg.l2_fd = -1
        if isinstance(self.udp_l3, XdpSender):
            cfg.l3_xdp = self.udp_l3.handle         # the C loop sends on its TX ring
        elif self.udp_l3:
            cfg.l3_fd = self.udp_l3.fileno()
            cfg.l3_addr, cfg.l3_port = _ipv4(self.udp_l3.target[0]), self.udp_l3.target[1]
        if self.udp_l2:
            cfg.l2_fd = self.udp_l2.fileno()
            cfg.l2_addr, cfg.l2_port = _ipv4(self.udp_l2.target[0]), self.udp_l2.target[1]
        if self.zmq:
            cfg.zmq_socket = zmq_native.socket_handle(self.zmq.socket)
            cfg.zmq_send = zmq_native.send_fn()
        cfg.conflate_interval_ns = config.conflate_interval_ns
        cfg.heartbeat_interval_ns = loop.heartbeat_interval_ns
        cfg.idle_sleep_ns = loop.idle_sleep_ns
        cfg.spin_polls = loop.spin_polls
        cfg.batch_events = loop.batch_events
        cfg.drop_ppm = int(round(config.drop_fraction * 1_000_000))
        cfg.drop_seed = config.drop_seed
        cfg.from_start = int(loop.from_start)
        out = ffi.new("md_pub_t **")
        rc = lib.md_pub_create(cfg, self.encoder.handle, self.segment.handle, out)
        if rc < -1000:
            ring_check(rc, events_path)
        if rc != 0:
            raise ValueError(f"md_pub_create refused the configuration (rc {rc}): {config} {loop}")
        self._pub = out[0]
        self._cfg = cfg
        self._stats = ffi.new("md_pub_stats_t *")
        self._enc_stats = ffi.new("md_enc_stats_t *")
        self._thread: threading.Thread | None = None
        self.run_status: int | None = None
        self.recovery: RecoveryServer | None = None
        if config.recovery_port is not None:
            self.recovery = RecoveryServer(config.encoder.session, self._retransmit,
                                           self._snapshot, host=config.recovery_host,
                                           port=config.recovery_port)

    @property
    def transport_note(self) -> str:
        if not self.udp_l3:
            return "ZeroMQ only"
        if self.udp_l3.fallback_reason:
            return f"UDP unicast fallback ({self.udp_l3.fallback_reason})"
        return f"UDP {self.udp_l3.mode}"

    def _retransmit(self, first_seq: int, count: int) -> list[bytes]:
        return self.encoder.pack(first_seq, count, via=self._pub)

    def _snapshot(self) -> bytes:
        return self.encoder.snapshot(via=self._pub)

    def start(self) -> None:
        """Starts the C loop on its own thread (the GIL is released for the whole run)."""
        if self._thread is not None:
            raise RuntimeError("publisher already started")
        self._thread = threading.Thread(target=self._run, name="md-publisher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.run_status = int(lib.md_pub_run(self._pub))
        if self.run_status != 0:
            log.error("market data: publisher loop stopped: ring status %d on %s", self.run_status,
                      self.segment.path)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Waits for the loop to end (engine stopped or stop()); True if it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        lib.md_pub_stop(self._pub)
        if not self.wait(timeout_s):
            raise TimeoutError(f"publisher loop did not stop within {timeout_s}s")

    def heartbeat(self) -> None:
        rc = lib.md_pub_control_packet(self._pub, 0)
        if rc < 0:
            raise OSError(-rc, "heartbeat send failed")

    def end_session(self) -> None:
        rc = lib.md_pub_control_packet(self._pub, 1)
        if rc < 0:
            raise OSError(-rc, "end-of-session send failed")

    @property
    def next_seq(self) -> int:
        return self.stats()["next_seq"]

    def stats(self) -> dict[str, int]:
        lib.md_pub_get_stats(self._pub, self._stats, self._enc_stats)
        st = records.struct_to_dict(self._enc_stats[0])
        st.update(records.struct_to_dict(self._stats[0]))
        if self.recovery:
            st.update(recovery_requests=self.recovery.requests, recovery_errors=self.recovery.errors)
        return st

    def book_depth(self, instrument_id: int, side: int, max_levels: int = 64) -> np.ndarray:
        """The publisher's derived book (read while the loop is stopped, or for display)."""
        return self.encoder.book_depth(instrument_id, side, max_levels)

    def close(self) -> None:
        if self.running:
            self.stop()
        if self.recovery:
            self.recovery.close()
        lib.md_pub_destroy(self._pub)
        self._pub = ffi.NULL
        for s in (self.udp_l3, self.udp_l2, self.zmq):
            if s is not None:
                s.close()
        self.segment.detach()
