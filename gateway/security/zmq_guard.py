"""Bounds what one peer can make a ZeroMQ socket hold: subscriptions on a PUB, connections on any.

A PUB socket keeps every subscription it is sent, per connection, in a trie: a neighbour that sends
200,000 distinct subscriptions grows the publisher by gigabytes, and nothing in libzmq caps it
(XPUB_MANUAL keeps its own copy too). A subscriber legitimately sends its greeting, its handshake
and a handful of topics, so this guard caps the bytes each connection may send (the kernel counts
them: TCP_INFO tcpi_bytes_received) and the number of connections, and shuts down a connection over
either cap; libzmq then ends the pipe and frees its subscriptions.

How it knows the connections: a socket monitor reports each accepted descriptor (and each closed
one). A descriptor is acted on only while its local and peer addresses are still the ones recorded
at accept, so a descriptor number reused by something else is never touched. The per-call cost is
one monitor poll plus, at most every CHECK_INTERVAL_S, one getsockopt per connection.

Messages are bounded too: MAXMSGSIZE (a subscription longer than that ends the connection) and a
small receive high-water mark (libzmq moves at most that many subscriptions per connection into the
trie between two calls of ours).
"""
from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

import zmq
from zmq.utils.monitor import recv_monitor_message

MAX_SUBSCRIPTION_BYTES = 1024       # longest message a subscriber may send (ZMQ_MAXMSGSIZE; a CurveZMQ
                                    # handshake command is about 300 bytes)
INBOUND_HWM = 100                   # subscriptions queued per connection before libzmq stops reading
CHECK_INTERVAL_S = 0.01
_TCPI_BYTES_RECEIVED = 128          # offsetof(struct tcp_info, tcpi_bytes_received), Linux >= 4.1
_TCP_INFO_LEN = 232
_HANDSHAKE_FAILED = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                     | zmq.EVENT_HANDSHAKE_FAILED_AUTH)


@dataclass
class _Conn:
    local: tuple[str, int]
    peer: tuple[str, int]
    accepted: float


def _addresses(fd: int) -> tuple[tuple[str, int], tuple[str, int]] | None:
    """(local, peer) of a TCP descriptor without taking ownership of it; None if it is not one."""
    try:
        s = socket.socket(fileno=fd)
    except OSError:
        return None
    try:
        return s.getsockname()[:2], s.getpeername()[:2]
    except OSError:
        return None
    finally:
        s.detach()


def _bytes_received(fd: int) -> int | None:
    s = socket.socket(fileno=fd)
    try:
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_LEN)
    except OSError:
        return None
    finally:
        s.detach()
    if len(info) < _TCPI_BYTES_RECEIVED + 8:
        return None
    return int(struct.unpack_from("=Q", info, _TCPI_BYTES_RECEIVED)[0])


class ZmqConnectionGuard:
    """Call `configure(sock)` before binding and `check()` before each use of the socket."""

    def __init__(self, sock: zmq.Socket, max_inbound_bytes: int | None = 64 * 1024,  # type: ignore[type-arg]
                 max_connections: int = 256) -> None:
        """max_inbound_bytes None: only the connection count is capped (a command socket)."""
        self.max_inbound_bytes = max_inbound_bytes
        self.max_connections = max_connections
        self._sock = sock
        self._monitor = sock.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED
                                                | _HANDSHAKE_FAILED)
        self._handshake_failures: list[str] = []
        self.endpoint = ""
        self._conns: dict[int, _Conn] = {}
        self._next_check = 0.0
        self.cuts = 0

    @staticmethod
    def configure_publisher(sock: zmq.Socket) -> None:  # type: ignore[type-arg]
        """Before bind: bounded subscription size and per-connection inbound queue."""
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_SUBSCRIPTION_BYTES)
        sock.setsockopt(zmq.RCVHWM, INBOUND_HWM)

    def _drain_monitor(self) -> None:
        while True:
            try:
                event = recv_monitor_message(self._monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            fd = int(event["value"])
            if event["event"] & _HANDSHAKE_FAILED:
                self.endpoint = event["endpoint"].decode(errors="replace")
                kind = int(event["event"])
                what = ("refused by the authenticator" if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH else
                        "protocol error (e.g. a wrong server key)" if kind == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                        else "no detail (e.g. a wrong server key or no CURVE)")
                if len(self._handshake_failures) < 1000:
                    self._handshake_failures.append(f"{what} (status {fd})")
                continue
            if event["event"] == zmq.EVENT_ACCEPTED:
                addrs = _addresses(fd)
                if addrs is not None:
                    self._conns[fd] = _Conn(addrs[0], addrs[1], time.monotonic())
            else:
                self._conns.pop(fd, None)

    def _cut(self, fd: int, conn: _Conn, why: str) -> list[tuple[str, str]]:
        if _addresses(fd) != (conn.local, conn.peer):
            self._conns.pop(fd, None)       # closed (and maybe reused) since we recorded it
            return []
        s = socket.socket(fileno=fd)
        try:
            s.shutdown(socket.SHUT_RDWR)    # libzmq sees the end of the stream and drops the pipe
        except OSError:
            pass
        finally:
            s.detach()
        self._conns.pop(fd, None)
        self.cuts += 1
        return [(f"{conn.peer[0]}:{conn.peer[1]}", why)]

    def check(self) -> list[tuple[str, str]]:
        """Cuts connections over their caps; returns the (peer, why) cut by this call."""
        self._drain_monitor()
        now = time.monotonic()
        if now < self._next_check:
            return []
        self._next_check = now + CHECK_INTERVAL_S
        cut: list[tuple[str, str]] = []
        limit = self.max_inbound_bytes
        if limit is not None:
            for fd, conn in list(self._conns.items()):
                got = _bytes_received(fd)
                if got is not None and got > limit:
                    cut += self._cut(fd, conn, f"sent {got} bytes of subscriptions (limit {limit})")
        if len(self._conns) > self.max_connections:
            newest = sorted(self._conns.items(), key=lambda kv: kv[1].accepted)[self.max_connections:]
            for fd, conn in newest:
                cut += self._cut(fd, conn, f"over {self.max_connections} subscriber connections")
        return cut

    def handshake_failures(self) -> list[str]:
        """Failed handshakes (CurveZMQ refusals) reported since the last call."""
        self._drain_monitor()
        out, self._handshake_failures = self._handshake_failures, []
        return out

    def close(self) -> None:
        # The monitor is stopped before its socket closes: a monitored socket left sending events to
        # a closed inproc pair stalls the context's I/O thread (and every socket on that context).
        if not self._sock.closed:
            self._sock.disable_monitor()
        self._monitor.close(0)
