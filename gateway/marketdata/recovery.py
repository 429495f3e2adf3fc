"""Gap recovery and late-join snapshots over TCP (request/reply).

A client sends one md_rq_t (native/md/md_feed.h) per request: 'R' retransmit (first_seq, count) or
'S' snapshot. The server answers with md_rsp_hdr_t frames: 'P' MoldUDP64 packets cut from the
encoder's store (the very bytes the live feed carried), or 'M' the snapshot's messages, then 'Z';
or one 'E' frame with the md_status_t code and a reason, after which the connection stays usable.
A request that is malformed gets 'E' and the connection is closed (its framing cannot be trusted).
The server is one thread on non-blocking sockets with a bounded output queue per connection and a
bounded number of connections (RecoveryServer says how); no client, and no number of them, stops
it or stalls another client's answer.
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import selectors
import socket
import threading
import time
from typing import Callable

import numpy as np

from gateway.marketdata.transport import host_local
from gateway.marketdata import schema
from gateway.marketdata.errors import MalformedError, MarketDataError, NotAvailableError, RecoveryError, status_name
from native._venue import lib

log = logging.getLogger("gateway.marketdata")

RQ_SIZE = schema.REQUEST.itemsize
RSP_SIZE = schema.RESPONSE_HDR.itemsize


def encode_request(session: str, kind: int, first_seq: int = 0, count: int = 0) -> bytes:
    rq = np.zeros(1, dtype=schema.REQUEST)
    rq["session"] = schema.session_bytes(session)
    rq["kind"] = kind
    rq["count"] = count
    rq["first_seq"] = first_seq
    return rq.tobytes()


def _frame(kind: int, payload: bytes = b"", status: int = 0) -> bytes:
    h = np.zeros(1, dtype=schema.RESPONSE_HDR)
    h["length"] = len(payload)
    h["status"] = status
    h["kind"] = kind
    return h.tobytes() + payload


def error_frame(code: int, reason: str) -> bytes:
    return _frame(lib.MD_RSP_ERROR, reason.encode("ascii", "replace"), -code)


class _Conn:
    """One client connection: unparsed request bytes in, unsent answer bytes out."""
    __slots__ = ("sock", "pending", "out", "out_bytes", "last_active", "last_progress", "closing")

    def __init__(self, sock: socket.socket, now: float) -> None:
        self.sock = sock
        self.pending = bytearray()
        self.out: collections.deque[memoryview] = collections.deque()
        self.out_bytes = 0
        self.last_active = now          # last request read or answer byte written
        self.last_progress = now        # last answer byte written (or the moment output was queued)
        self.closing = False            # close once the output is sent (after a malformed request)


class RecoveryServer:
    """Serves retransmissions and snapshots. `retransmit(first, count)` returns packets or raises
    MarketDataError; `snapshot()` returns the snapshot bytes; both are called from this server's
    thread, so the publisher passes functions that take its encoder lock.

    Hostile neighbours: every socket is non-blocking and each connection's answer waits in its own
    output queue, so a client that does not read stalls only itself; a connection does not get its
    next request read while its last answer is unsent (its output is at most one answer), one that
    accepts no byte for STALL_TIMEOUT_S, or pushes the total queued output past
    MAX_QUEUED_BYTES, is closed. At most MAX_CONNECTIONS are open: a new one evicts the connection
    idle longest, so idle hoarders cannot lock a subscriber out. Running out of descriptors
    (EMFILE/ENFILE) is survived: a reserve descriptor is given up to accept and close the waiting
    connection, idle connections are shed, and the loop goes on."""

    MAX_CONNECTIONS = 64
    MAX_QUEUED_BYTES = 256 << 20
    STALL_TIMEOUT_S = 5.0
    IDLE_TIMEOUT_S = 60.0

    def __init__(self, session: str, retransmit: Callable[[int, int], list[bytes]],
                 snapshot: Callable[[], bytes], host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            local = host_local(host)
        except ValueError:
            local = False
        if not local:
            raise ValueError(f"recovery host {host}: only 127.0.0.0/8 or 169.254.0.0/16 addresses")
        self._session = schema.session_bytes(session)
        self._retransmit = retransmit
        self._snapshot = snapshot
        self._listener = socket.create_server((host, port), backlog=128)
        self._listener.setblocking(False)
        self.address = self._listener.getsockname()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._conns: dict[int, _Conn] = {}
        self._queued = 0
        self._reserve_fd: int | None = os.open(os.devnull, os.O_RDONLY)
        self._stop = threading.Event()
        self.requests = 0
        self.errors = 0
        self.evicted = 0
        self.descriptor_exhaustions = 0
        self._thread = threading.Thread(target=self._run, name="md-recovery", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in list(self._conns.values()):
            conn.sock.close()
        self._conns.clear()
        self._listener.close()
        self._sel.close()
        if self._reserve_fd is not None:
            os.close(self._reserve_fd)
            self._reserve_fd = None

    @property
    def connections(self) -> int:
        return len(self._conns)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._pass()
            except Exception:       # a bug must not end recovery for everyone: log and go on
                log.exception("recovery: unexpected error (the server goes on)")

    def _pass(self) -> None:
        for key, events in self._sel.select(timeout=0.05):
            if key.data is None:
                self._accept()
                continue
            conn: _Conn = key.data
            if conn.sock.fileno() < 0:
                continue
            if events & selectors.EVENT_WRITE:
                self._flush(conn)
            if events & selectors.EVENT_READ and conn.sock.fileno() >= 0 and not conn.out:
                self._read(conn)
        self._sweep(time.monotonic())
        if self._reserve_fd is None:
            try:
                self._reserve_fd = os.open(os.devnull, os.O_RDONLY)
            except OSError:
                pass

    def _accept(self) -> None:
        for _ in range(64):         # a bounded batch: a connect flood cannot hog the loop
            try:
                sock, _addr = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self._out_of_descriptors(exc)
                    return
                continue            # ECONNABORTED and the like: that connection is gone
            sock.setblocking(False)
            now = time.monotonic()
            if len(self._conns) >= self.MAX_CONNECTIONS and not self._evict_idlest():
                sock.close()        # every slot is busy answering: the client retries
                continue
            conn = _Conn(sock, now)
            self._conns[sock.fileno()] = conn
            self._sel.register(sock, selectors.EVENT_READ, conn)

    def _out_of_descriptors(self, exc: OSError) -> None:
        """Accept fails for want of a descriptor: shed the idlest connection, and use the reserve
        descriptor to take the waiting connection off the backlog (closing it at once) so the
        listener does not spin on it."""
        self.descriptor_exhaustions += 1
        if self.descriptor_exhaustions in (1, 10, 100) or self.descriptor_exhaustions % 1000 == 0:
            log.warning("recovery: accept: %s (%d times); shedding idle connections",
                        exc.strerror, self.descriptor_exhaustions)
        self._evict_idlest()
        if self._reserve_fd is not None:
            os.close(self._reserve_fd)
            self._reserve_fd = None
            try:
                sock, _ = self._listener.accept()
                sock.close()
            except OSError:
                pass

    def _evict_idlest(self) -> bool:
        idle = [c for c in self._conns.values() if not c.out]
        if not idle:
            return False
        self._drop(min(idle, key=lambda c: c.last_active))
        self.evicted += 1
        return True

    def _sweep(self, now: float) -> None:
        for conn in list(self._conns.values()):
            if conn.out and now - conn.last_progress > self.STALL_TIMEOUT_S:
                log.warning("recovery: dropping a client that read nothing for %.0f s", self.STALL_TIMEOUT_S)
                self._drop(conn)
            elif not conn.out and now - conn.last_active > self.IDLE_TIMEOUT_S:
                self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        fd = conn.sock.fileno()
        if fd >= 0:
            self._sel.unregister(conn.sock)
            self._conns.pop(fd, None)
        self._queued -= conn.out_bytes
        conn.out.clear()
        conn.out_bytes = 0
        conn.sock.close()

    def _read(self, conn: _Conn) -> None:
        try:
            chunk = conn.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(conn)
            return
        conn.last_active = time.monotonic()
        conn.pending += chunk
        if len(conn.pending) >= RQ_SIZE:
            raw = bytes(conn.pending[:RQ_SIZE])
            del conn.pending[:RQ_SIZE]
            self._request(conn, raw)
        if len(conn.pending) > 64 * RQ_SIZE:    # pipelined far ahead of its answers: not a client
            self.errors += 1
            self._drop(conn)

    def _request(self, conn: _Conn, raw: bytes) -> None:
        rq = np.frombuffer(raw, dtype=schema.REQUEST)[0]
        self.requests += 1
        try:
            reply = self._answer(rq, raw[:schema.SESSION_LEN])
        except MalformedError as exc:
            self.errors += 1
            log.warning("recovery: malformed request: %s", exc)
            conn.closing = True
            reply = [error_frame(exc.code, str(exc))]
        except MarketDataError as exc:
            self.errors += 1
            reply = [error_frame(exc.code, str(exc))]
        self._queue(conn, b"".join(reply))

    def _queue(self, conn: _Conn, data: bytes) -> None:
        conn.out.append(memoryview(data))
        conn.out_bytes += len(data)
        self._queued += len(data)
        conn.last_progress = time.monotonic()
        self._sel.modify(conn.sock, selectors.EVENT_WRITE, conn)   # no reads until it is sent
        self._flush(conn)
        if conn.sock.fileno() >= 0 and self._queued > self.MAX_QUEUED_BYTES:
            stalled = max((c for c in self._conns.values() if c.out), key=lambda c: c.out_bytes)
            log.warning("recovery: %d bytes queued for slow clients; dropping the largest", self._queued)
            self._drop(stalled)

    def _flush(self, conn: _Conn) -> None:
        while conn.out:
            head = conn.out[0]
            try:
                sent = conn.sock.send(head)
            except BlockingIOError:
                return
            except OSError as exc:
                log.warning("recovery: client went away: %s", exc)
                self._drop(conn)
                return
            now = time.monotonic()
            conn.last_progress = conn.last_active = now
            conn.out_bytes -= sent
            self._queued -= sent
            if sent == len(head):
                conn.out.popleft()
            else:
                conn.out[0] = head[sent:]
        if conn.closing:
            self._drop(conn)
            return
        self._sel.modify(conn.sock, selectors.EVENT_READ, conn)
        if len(conn.pending) >= RQ_SIZE:        # a request that arrived with the last one
            raw = bytes(conn.pending[:RQ_SIZE])
            del conn.pending[:RQ_SIZE]
            self._request(conn, raw)

    def _answer(self, rq: np.void, raw_session: bytes) -> list[bytes]:
        # raw bytes: numpy's 'S' field drops trailing NULs, so it would accept "VENUE\0\0\0\0\0"
        if raw_session != self._session:
            raise MalformedError(f"request for session {raw_session!r}, this server serves "
                                 f"{self._session!r}", int(lib.MD_E_SESSION))
        kind, first, count = int(rq["kind"]), int(rq["first_seq"]), int(rq["count"])
        if kind == lib.MD_RQ_RETRANSMIT:
            if first < 1 or not 1 <= count <= lib.MD_RQ_MAX_COUNT:
                raise MalformedError(f"retransmit first_seq={first} count={count}: need first_seq >= 1 and "
                                     f"count 1..{lib.MD_RQ_MAX_COUNT}", int(lib.MD_E_REQUEST))
            packets = self._retransmit(first, count)
            return [_frame(lib.MD_RSP_PACKET, p) for p in packets] + [_frame(lib.MD_RSP_END)]
        if kind == lib.MD_RQ_SNAPSHOT:
            return [_frame(lib.MD_RSP_MESSAGES, self._snapshot()), _frame(lib.MD_RSP_END)]
        raise MalformedError(f"request kind {kind}: expected 'R' or 'S'", int(lib.MD_E_REQUEST))


class _NoAnswer(Exception):
    """The request was not sent, or not a byte of its answer came back."""


class RecoveryClient:
    """One TCP connection to a RecoveryServer, reused across requests."""

    def __init__(self, address: tuple[str, int], session: str, timeout_s: float = 5.0) -> None:
        self._address = address
        self._where = f"{address[0]}:{address[1]}"      # as a person writes it, not a tuple's repr
        self._session = session
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None

    def _conn(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection(self._address, timeout=self._timeout_s)
            except OSError as exc:
                raise RecoveryError(f"recovery server {self._where}: {exc}") from exc
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _read_exact(self, n: int) -> bytes:
        sock = self._conn()
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = sock.recv(n - len(buf))
            except OSError as exc:
                self.close()
                raise RecoveryError(f"recovery server {self._where}: {exc}") from exc
            if not chunk:
                self.close()
                raise RecoveryError(f"recovery server {self._where} closed the connection mid-answer")
            buf += chunk
        return bytes(buf)

    def request_raw(self, request: bytes) -> list[tuple[int, bytes]]:
        """Sends request bytes; returns the answer's (kind, payload) frames up to 'Z'. An 'E'
        frame raises NotAvailableError / MalformedError with the server's reason. A kept-open
        connection that the server has since closed (it sheds idle connections under load) is
        replaced once, transparently, when nothing of the answer had arrived."""
        reused = self._sock is not None
        try:
            return self._request_once(request)
        except _NoAnswer as exc:
            if not reused:
                raise RecoveryError(str(exc)) from exc
        try:
            return self._request_once(request)
        except _NoAnswer as exc:
            raise RecoveryError(str(exc)) from exc

    def _request_once(self, request: bytes) -> list[tuple[int, bytes]]:
        sock = self._conn()     # RecoveryError, saying where, if nothing answers: not wrapped again
        try:
            sock.sendall(request)
        except OSError as exc:
            self.close()
            raise _NoAnswer(f"recovery server {self._where}: {exc}") from exc
        try:
            hdr_bytes = self._read_exact(RSP_SIZE)
        except RecoveryError as exc:
            raise _NoAnswer(str(exc)) from exc
        return self._read_answer(hdr_bytes)

    def _read_answer(self, hdr_bytes: bytes) -> list[tuple[int, bytes]]:
        frames: list[tuple[int, bytes]] = []
        while True:
            hdr = np.frombuffer(hdr_bytes, dtype=schema.RESPONSE_HDR)[0]
            kind, length = int(hdr["kind"]), int(hdr["length"])
            payload = self._read_exact(length) if length else b""
            if kind == lib.MD_RSP_END:
                return frames
            if kind == lib.MD_RSP_ERROR:
                code = -int(hdr["status"])
                text = f"recovery server: {status_name(code)}: {payload.decode('ascii', 'replace')}"
                if code in (lib.MD_E_NOT_RETAINED, lib.MD_E_NOT_YET):
                    raise NotAvailableError(text, code)
                self.close()
                raise MalformedError(text, code)
            if kind not in (lib.MD_RSP_PACKET, lib.MD_RSP_MESSAGES):
                self.close()
                raise MalformedError(f"recovery server sent frame kind {kind}", int(lib.MD_E_REQUEST))
            frames.append((kind, payload))
            hdr_bytes = self._read_exact(RSP_SIZE)

    def retransmit(self, first_seq: int, count: int) -> list[bytes]:
        """Packets carrying [first_seq, first_seq + count)."""
        frames = self.request_raw(encode_request(self._session, lib.MD_RQ_RETRANSMIT, first_seq, count))
        return [p for k, p in frames if k == lib.MD_RSP_PACKET]

    def snapshot(self) -> bytes:
        frames = self.request_raw(encode_request(self._session, lib.MD_RQ_SNAPSHOT))
        return b"".join(p for k, p in frames if k == lib.MD_RSP_MESSAGES)
