"""The TLS rows of bench/wire.py: a session on the gateway's TLS 1.3 listener, driven by the same
C load generator as the plain rows (native/bench/gw_loadgen.c, reading and writing through the
bench's C TLS client, native/bench/tls_client.c), so that the TLS / plain ratios compare one
session's order-to-ack latency and throughput with and without TLS, nothing else changed.

The certificates are made for the run by gateway.security.tls_keys (the code behind `python -m
gateway keys tls`): a CA, the gateway's certificate for 127.0.0.1, a client certificate, which
the listener requires."""
from __future__ import annotations

import select
import socket
from pathlib import Path
from typing import Any

from gateway.client import Client
from gateway.client.orders import DEFAULT_PRICE_SCALE
from gateway.client.session import SessionCore
from gateway.security.tls_keys import make_ca, make_leaf
from native._venue import ffi, lib


def make_pki(d: Path) -> dict[str, str]:
    """The listener's [tls] section (paths in d) and the client's files."""
    make_ca(d, "ca")
    make_leaf(d, "ca", "gateway", ["127.0.0.1"], client=False)
    make_leaf(d, "ca", "bench-client", [], client=True)
    return {"listen": "127.0.0.1:0", "cert": str(d / "gateway.crt"), "key": str(d / "gateway.key"),
            "client_ca": str(d / "ca.crt"), "require_client_cert": True,
            "_client_cert": str(d / "bench-client.crt"), "_client_key": str(d / "bench-client.key")}


class TlsClientSocket:
    """The socket calls gateway.client.Client makes, over the C TLS client, so the session's
    handshake is done in Python as for a plain session and the load generator then takes the
    same TLS connection over (LoadRun reads .handle)."""

    def __init__(self, sock: socket.socket, handle: Any) -> None:
        self.raw = sock
        self.handle = handle
        self.timeout: float | None = None

    def fileno(self) -> int:
        return self.raw.fileno()

    def settimeout(self, t: float | None) -> None:
        self.timeout = t
        self.raw.setblocking(True)

    def setblocking(self, flag: bool) -> None:
        self.raw.setblocking(flag)

    def sendall(self, data: bytes) -> None:
        buf = ffi.from_buffer(data)
        if lib.tls_client_send_all(self.handle, buf, len(data)) != 0:
            raise ConnectionError("TLS send failed")

    def recv(self, n: int) -> bytes:
        if lib.tls_client_pending(self.handle) == 0:
            ready, _, _ = select.select([self.raw], [], [], self.timeout)
            if not ready:
                raise socket.timeout("timed out")
        buf = ffi.new("uint8_t[]", n)
        got = lib.tls_client_recv(self.handle, buf, n)
        if got < 0:
            raise ConnectionError(f"TLS receive failed ({got})")
        return bytes(ffi.buffer(buf, got))

    def close(self) -> None:
        if self.handle != ffi.NULL:
            lib.tls_client_free(self.handle)
            self.handle = ffi.NULL
        self.raw.close()


def connect_tls(port: int, pki: dict[str, str], session_id: int, firm_id: int, key: str,
                keepalive_ms: int) -> Client:
    """An established session over TLS 1.3 (Negotiate and Establish as Client.connect does)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5.0)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw.setblocking(True)
    why = ffi.new("char[512]")
    handle = lib.tls_client_open(raw.fileno(), pki["client_ca"].encode(),
                                 pki["_client_cert"].encode(), pki["_client_key"].encode(),
                                 why, len(why))
    if handle == ffi.NULL:
        raw.close()
        raise ConnectionError(f"TLS client: {ffi.string(why).decode()}")
    core = SessionCore(session_id, firm_id, key.encode(), keepalive_ms, DEFAULT_PRICE_SCALE)
    c = Client(TlsClientSocket(raw, handle), core)  # type: ignore[arg-type]
    c.send_raw(core.negotiate())
    core.check_negotiated(c._next(5.0))
    c.send_raw(core.establish())
    core.check_established(c._next(5.0))
    return c


def tls_version(client: Client) -> str:
    sock = client.sock
    if isinstance(sock, TlsClientSocket):
        return str(ffi.string(lib.tls_client_version(sock.handle)).decode())
    return "none"
