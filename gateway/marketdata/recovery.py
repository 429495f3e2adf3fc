"""Gap recovery and late-join snapshots over TCP (request/reply).

A client sends one md_rq_t (native/md/md_feed.h) per request: 'R' retransmit (first_seq, count) or
'S' snapshot. The server answers with md_rsp_hdr_t frames: 'P' MoldUDP64 packets cut from the
encoder's store (the very bytes the live feed carried), or 'M' the snapshot's messages, then 'Z';
or one 'E' frame with the md_status_t code and a reason, after which the connection stays usable.
A request that is malformed gets 'E' and the connection is closed (its framing cannot be trusted).
The server is one thread with bounded waits; it never lets a bad client stop the publisher.
"""
from __future__ import annotations

import logging
import selectors
import socket
import threading
from typing import Callable

import numpy as np

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


class RecoveryServer:
    """Serves retransmissions and snapshots. `retransmit(first, count)` returns packets or raises
    MarketDataError; `snapshot()` returns the snapshot bytes; both are called from this server's
    thread, so the publisher passes functions that take its encoder lock."""

    def __init__(self, session: str, retransmit: Callable[[int, int], list[bytes]],
                 snapshot: Callable[[], bytes], host: str = "127.0.0.1", port: int = 0) -> None:
        if not host.startswith("127."):
            raise ValueError(f"recovery host {host}: only 127.0.0.0/8 addresses")
        self._session = schema.session_bytes(session)
        self._retransmit = retransmit
        self._snapshot = snapshot
        self._listener = socket.create_server((host, port))
        self._listener.setblocking(False)
        self.address = self._listener.getsockname()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._listener, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self.requests = 0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name="md-recovery", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for key in list(self._sel.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._sel.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._sel.select(timeout=0.05):
                if key.data is None:
                    try:
                        conn, _ = self._listener.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(True)
                    conn.settimeout(2.0)
                    self._sel.register(conn, selectors.EVENT_READ, bytearray())
                else:
                    self._serve(key.fileobj, key.data)  # type: ignore[arg-type]

    def _drop(self, conn: socket.socket) -> None:
        self._sel.unregister(conn)
        conn.close()

    def _serve(self, conn: socket.socket, pending: bytearray) -> None:
        try:
            chunk = conn.recv(4096)
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(conn)
            return
        pending += chunk
        while len(pending) >= RQ_SIZE:
            raw = bytes(pending[:RQ_SIZE])
            rq = np.frombuffer(raw, dtype=schema.REQUEST)[0]
            del pending[:RQ_SIZE]
            self.requests += 1
            try:
                reply = self._answer(rq, raw[:schema.SESSION_LEN])
            except MalformedError as exc:
                self.errors += 1
                log.warning("recovery: malformed request: %s", exc)
                self._send(conn, error_frame(exc.code, str(exc)))
                self._drop(conn)
                return
            except MarketDataError as exc:
                self.errors += 1
                reply = [error_frame(exc.code, str(exc))]
            if not self._send(conn, b"".join(reply)):
                return

    def _send(self, conn: socket.socket, data: bytes) -> bool:
        try:
            conn.sendall(data)
            return True
        except OSError as exc:
            log.warning("recovery: client went away: %s", exc)
            self._drop(conn)
            return False

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


class RecoveryClient:
    """One TCP connection to a RecoveryServer, reused across requests."""

    def __init__(self, address: tuple[str, int], session: str, timeout_s: float = 5.0) -> None:
        self._address = address
        self._session = session
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None

    def _conn(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection(self._address, timeout=self._timeout_s)
            except OSError as exc:
                raise RecoveryError(f"recovery server {self._address}: {exc}") from exc
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
                raise RecoveryError(f"recovery server {self._address}: {exc}") from exc
            if not chunk:
                self.close()
                raise RecoveryError(f"recovery server {self._address} closed the connection mid-answer")
            buf += chunk
        return bytes(buf)

    def request_raw(self, request: bytes) -> list[tuple[int, bytes]]:
        """Sends request bytes; returns the answer's (kind, payload) frames up to 'Z'. An 'E'
        frame raises NotAvailableError / MalformedError with the server's reason."""
        try:
            self._conn().sendall(request)
        except OSError as exc:
            self.close()
            raise RecoveryError(f"recovery server {self._address}: {exc}") from exc
        frames: list[tuple[int, bytes]] = []
        while True:
            hdr = np.frombuffer(self._read_exact(RSP_SIZE), dtype=schema.RESPONSE_HDR)[0]
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

    def retransmit(self, first_seq: int, count: int) -> list[bytes]:
        """Packets carrying [first_seq, first_seq + count)."""
        frames = self.request_raw(encode_request(self._session, lib.MD_RQ_RETRANSMIT, first_seq, count))
        return [p for k, p in frames if k == lib.MD_RSP_PACKET]

    def snapshot(self) -> bytes:
        frames = self.request_raw(encode_request(self._session, lib.MD_RQ_SNAPSHOT))
        return b"".join(p for k, p in frames if k == lib.MD_RSP_MESSAGES)
