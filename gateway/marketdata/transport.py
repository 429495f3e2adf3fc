"""Datagram transports for feed packets: UDP multicast on loopback (a 239.x group, IP_MULTICAST_LOOP,
the loopback interface, TTL 0 so nothing leaves the host), UDP unicast to 127.0.0.1 with the same
MoldUDP64 framing where multicast cannot work here, and ZeroMQ PUB/SUB carrying the same packets as
[channel, packet] frames. Only 127.0.0.0/8 endpoints are accepted, and link-local 169.254.0.0/16
ones (a veth pair's, for the AF_XDP transport: gateway/marketdata/xdp_transport.py), which no
router forwards: this venue's feeds stay on the host.
"""
from __future__ import annotations

import ipaddress
import logging
import select
import socket
import time
from dataclasses import dataclass

import zmq

from gateway.security import curve
from gateway.security.curve import ZapHandler
from gateway.security.zmq_guard import ZmqConnectionGuard

log = logging.getLogger("gateway.marketdata")

CHANNEL_L3 = b"L3"
CHANNEL_L2 = b"L2"


def host_local(address: str) -> bool:
    """A loopback (127.x) or link-local (169.254.x, never routed) IPv4 address."""
    ip = ipaddress.IPv4Address(address)
    return ip.is_loopback or ip.is_link_local


@dataclass(frozen=True)
class UdpChannel:
    """Where a channel's datagrams go: a 239.x group (multicast), a 127.x address (unicast), or
    a 169.254.x address on a veth pair (unicast; the AF_XDP transport's)."""
    address: str
    port: int

    def __post_init__(self) -> None:
        ip = ipaddress.IPv4Address(self.address)
        if not (host_local(self.address) or (ip.is_multicast and str(ip).startswith("239."))):
            raise ValueError(f"{self.address}: use a 239.x multicast group, a 127.x address or a "
                             f"169.254.x (link-local) address")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port}: must be 1..65535")

    @property
    def multicast(self) -> bool:
        return ipaddress.IPv4Address(self.address).is_multicast


def multicast_works(group: str = "239.255.77.1", timeout_s: float = 0.5) -> tuple[bool, str]:
    """Tries one datagram through a loopback multicast group. (ok, reason if not)."""
    rx = tx = None
    try:
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        rx.bind((group, 0))
        port = rx.getsockname()[1]
        rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                      socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
        tx = _multicast_sender()
        tx.sendto(b"probe", (group, port))
        ready, _, _ = select.select([rx], [], [], timeout_s)
        if not ready:
            return False, f"a datagram sent to {group} on loopback did not arrive within {timeout_s}s"
        rx.recv(16)
        return True, ""
    except OSError as exc:
        return False, f"multicast on loopback failed: {exc}"
    finally:
        for s in (rx, tx):
            if s is not None:
                s.close()


def _multicast_sender() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
    return s


class UdpSender:
    """Sends packets to one channel. A multicast channel is checked once; if multicast does not
    work here the sender falls back to unicast 127.0.0.1 on the same port, logs why, and says so
    in ``mode`` / ``fallback_reason``."""

    def __init__(self, channel: UdpChannel) -> None:
        self.fallback_reason = ""
        self.target = (channel.address, channel.port)
        if channel.multicast:
            ok, why = multicast_works(channel.address)
            if ok:
                self.mode = "multicast"
                self._sock = _multicast_sender()
            else:
                self.mode = "unicast"
                self.fallback_reason = why
                self.target = ("127.0.0.1", channel.port)
                log.warning("market data: %s; falling back to UDP unicast to 127.0.0.1:%d with the same "
                            "MoldUDP64 framing", why, channel.port)
                self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        else:
            self.mode = "unicast"
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)

    def send(self, packets: list[bytes]) -> None:
        for p in packets:
            self._sock.sendto(p, self.target)

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()


class UdpReceiver:
    """Receives one channel's datagrams (joins the group for multicast, binds 127.0.0.1 for
    unicast, or for a multicast channel the sender had to downgrade: pass unicast=True)."""

    def __init__(self, channel: UdpChannel, unicast: bool = False, rcvbuf_bytes: int = 8 << 20,
                 busy_poll_us: int = 0) -> None:
        """busy_poll_us > 0: SO_BUSY_POLL on the socket (a blocking receive spins on the device
        queue that long first; needs CAP_NET_ADMIN above net.core.busy_read: OSError)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if busy_poll_us > 0:
            s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_BUSY_POLL", 46), busy_poll_us)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            # FORCE lifts net.core.rmem_max where we may (root): a subscriber busy rebuilding a
            # book must not lose bursts in the kernel; otherwise the plain request is capped.
            s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), rcvbuf_bytes)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf_bytes)
        if channel.multicast and not unicast:
            s.bind((channel.address, channel.port))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                         socket.inet_aton(channel.address) + socket.inet_aton("127.0.0.1"))
        elif ipaddress.IPv4Address(channel.address).is_link_local:
            s.bind((channel.address, channel.port))     # a veth pair's address
        else:
            s.bind(("127.0.0.1", channel.port))
        s.setblocking(False)
        self._sock = s
        self._buf = bytearray(65536)

    def fileno(self) -> int:
        return self._sock.fileno()

    def recv(self, timeout_s: float) -> bytes | None:
        """One datagram, or None when nothing came within timeout_s (0: do not wait)."""
        try:
            n = self._sock.recv_into(self._buf)
            return bytes(self._buf[:n])
        except BlockingIOError:
            pass
        if timeout_s <= 0:
            return None
        ready, _, _ = select.select([self._sock], [], [], timeout_s)
        if not ready:
            return None
        try:
            n = self._sock.recv_into(self._buf)
        except BlockingIOError:
            return None
        return bytes(self._buf[:n])

    def close(self) -> None:
        self._sock.close()


def check_zmq_endpoint(endpoint: str) -> str:
    if endpoint.startswith("ipc://") or endpoint.startswith("inproc://"):
        return endpoint
    if endpoint.startswith("tcp://"):
        host = endpoint[len("tcp://"):].rsplit(":", 1)[0]
        if ipaddress.IPv4Address(host).is_loopback:
            return endpoint
    raise ValueError(f"{endpoint}: use tcp://127.x.x.x:PORT, ipc:// or inproc://")


class ZmqSender:
    """PUB socket: each packet goes out as [channel, packet]."""

    def __init__(self, endpoint: str, context: zmq.Context | None = None, curve_secret: str | None = None,
                 curve_clients: str | None = None) -> None:
        """curve_secret + curve_clients: serve CurveZMQ, admitting only the subscribers whose public
        keys are in that directory (refusals are logged)."""
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.PUB)
        self._sock.setsockopt(zmq.SNDHWM, 1_000_000)
        self._sock.setsockopt(zmq.LINGER, 0)
        ZmqConnectionGuard.configure_publisher(self._sock)
        self.zap: ZapHandler | None = None
        if curve_secret or curve_clients:
            if not (curve_secret and curve_clients):
                raise ValueError("CurveZMQ needs both the server's secret key file and the clients' key directory")
            curve.make_server(self._sock, curve_secret)
            self.zap = ZapHandler(self._ctx, curve_clients, log=lambda m: log.warning("md zmq: %s", m))
        self._sock.bind(check_zmq_endpoint(endpoint))
        self.endpoint = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)

    def send(self, channel: bytes, packets: list[bytes]) -> None:
        for p in packets:
            self._sock.send_multipart((channel, p), copy=False)

    @property
    def socket(self) -> zmq.Socket:
        """The PUB socket (handed to the C publisher loop, which then alone sends on it)."""
        return self._sock

    def close(self) -> None:
        self._sock.close(0)
        if self.zap is not None:
            self.zap.close()


class ZmqReceiver:
    """SUB socket for one channel."""

    def __init__(self, endpoint: str, channel: bytes = CHANNEL_L3, context: zmq.Context | None = None,
                 server_key: str | None = None, client_key: str | None = None) -> None:
        """server_key (the publisher's public key file) + client_key (this subscriber's secret key
        file): subscribe over CurveZMQ."""
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.RCVHWM, 1_000_000)
        self._sock.setsockopt(zmq.LINGER, 0)
        if server_key or client_key:
            if not (server_key and client_key):
                raise ValueError("CurveZMQ needs both the server's public key file and the client's secret key file")
            curve.make_client(self._sock, server_key, client_key)
        self._sock.setsockopt(zmq.SUBSCRIBE, channel)
        self._sock.connect(check_zmq_endpoint(endpoint))
        self._channel = channel

    def recv(self, timeout_s: float) -> bytes | None:
        if timeout_s > 0 and not self._sock.poll(int(timeout_s * 1000) or 1):
            return None
        try:
            frames = self._sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return None
        if len(frames) != 2 or frames[0] != self._channel:
            raise ValueError(f"zmq feed: expected [channel, packet] frames, got {len(frames)} frames")
        return frames[1]

    def close(self) -> None:
        self._sock.close(0)

    @property
    def socket(self) -> zmq.Socket:
        """The SUB socket (handed to md_subrx_poll, which then alone receives on it)."""
        return self._sock


def wait_until(predicate, timeout_s: float, what: str, step=None) -> None:  # type: ignore[no-untyped-def]
    """Runs step() until predicate() holds; raises TimeoutError naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s}s")
        if step is not None:
            step()
