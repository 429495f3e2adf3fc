"""CurveZMQ for the venue's ZeroMQ endpoints (the control API, its publish channel, market data):
key files, server and client socket set-up, and the ZAP handler that admits only known clients.

Keys are pyzmq's certificate files (``zmq.auth.create_certificates``): ``NAME.key`` holds the
public key (shareable), ``NAME.key_secret`` the public and secret keys (mode 0600), both Z85 text.
``python -m gateway keys curve --dir DIR --name NAME`` makes a pair. A server is configured with
its secret file and a directory of the public key files of the clients it admits.

Admission (ZAP, ZeroMQ RFC 27): libzmq asks the handler on inproc://zeromq.zap.01 about each
CURVE handshake; this handler answers 200 for a client key among the admitted ones and 400 for any
other, and keeps each refusal (peer address, key) for its owner to audit. The handshake itself
already proves the client holds the secret of the key it shows, and that it knew the server's
public key; a client with a wrong server key never completes a handshake at all (libzmq reports
it to the server's monitor as a failed handshake).
"""
from __future__ import annotations

import collections
import os
import threading
from pathlib import Path
from typing import Callable

import zmq
import zmq.auth

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_DOMAIN = "venue"
_MAX_DENIALS = 1024


class CurveError(ValueError):
    """A key file that is missing, unreadable or not a CurveZMQ certificate."""


def generate(directory: str | Path, name: str) -> tuple[Path, Path]:
    """(public file, secret file) of a fresh key pair; the secret file is 0600."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(d, name)
    os.chmod(secret, 0o600)
    return Path(public), Path(secret)


def load(path: str | Path, need_secret: bool) -> tuple[bytes, bytes | None]:
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise CurveError(f"{path}: not a CurveZMQ key file ({exc})") from None
    if need_secret and not secret:
        raise CurveError(f"{path}: holds no secret key (use the NAME.key_secret file)")
    return public, secret


def admitted_keys(directory: str | Path) -> set[bytes]:
    """The public keys of every *.key file in directory."""
    d = Path(directory)
    if not d.is_dir():
        raise CurveError(f"{d}: not a directory of client public keys")
    return {load(p, need_secret=False)[0] for p in sorted(d.glob("*.key"))}


def make_server(sock: zmq.Socket, secret_file: str | Path) -> None:  # type: ignore[type-arg]
    """Before bind: sock serves CURVE with this key pair, admission by the ZAP handler."""
    public, secret = load(secret_file, need_secret=True)
    sock.setsockopt(zmq.CURVE_SERVER, 1)
    sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
    sock.setsockopt(zmq.CURVE_SECRETKEY, secret)  # type: ignore[arg-type]
    sock.setsockopt(zmq.ZAP_DOMAIN, ZAP_DOMAIN.encode())


def make_client(sock: zmq.Socket, server_public_file: str | Path,  # type: ignore[type-arg]
                client_secret_file: str | Path) -> None:
    """Before connect: sock talks CURVE to the server whose public key file is given."""
    server_public, _ = load(server_public_file, need_secret=False)
    public, secret = load(client_secret_file, need_secret=True)
    sock.setsockopt(zmq.CURVE_SERVERKEY, server_public)
    sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
    sock.setsockopt(zmq.CURVE_SECRETKEY, secret)  # type: ignore[arg-type]


class ZapHandler:
    """Admits CURVE clients whose public key is in `clients_dir`, refuses and records the rest.
    One per context (libzmq's ZAP endpoint is per context); serves on its own thread."""

    def __init__(self, context: zmq.Context, clients_dir: str | Path,  # type: ignore[type-arg]
                 log: Callable[[str], None] | None = None) -> None:
        """log: also called (from the handler's thread) with a line for each refusal."""
        self.clients_dir = Path(clients_dir)
        self._log = log
        self._keys = admitted_keys(self.clients_dir)
        self._lock = threading.Lock()
        self._denials: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=_MAX_DENIALS)
        self.denied = 0
        self._sock = context.socket(zmq.REP)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.bind(ZAP_ENDPOINT)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zap", daemon=True)
        self._thread.start()

    def reload(self) -> int:
        """Reads the admitted keys again (a key added or removed takes effect now); returns how many."""
        keys = admitted_keys(self.clients_dir)
        with self._lock:
            self._keys = keys
        return len(keys)

    def denials(self) -> list[tuple[str, str, str]]:
        """(peer address, client key (Z85), why) refused since the last call."""
        with self._lock:
            out = list(self._denials)
            self._denials.clear()
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._sock.poll(100):
                    continue
                frames = self._sock.recv_multipart()
                self._sock.send_multipart(self._answer(frames))
            except zmq.ZMQError:
                if self._stop.is_set():
                    return

    def _answer(self, frames: list[bytes]) -> list[bytes]:
        if len(frames) < 6:
            return [b"1.0", frames[1] if len(frames) > 1 else b"", b"400", b"malformed ZAP request", b"", b""]
        version, request_id, _domain, address, _identity, mechanism = frames[:6]
        credentials = frames[6:]
        peer = address.decode(errors="replace")
        if version != b"1.0":
            return [b"1.0", request_id, b"400", b"bad ZAP version", b"", b""]
        if mechanism != b"CURVE" or len(credentials) != 1 or len(credentials[0]) != 32:
            self._deny(peer, "", f"mechanism {mechanism.decode(errors='replace')} (CURVE required)")
            return [version, request_id, b"400", b"CURVE required", b"", b""]
        key = zmq.utils.z85.encode(credentials[0])
        with self._lock:
            known = key in self._keys
        if not known:
            self._deny(peer, key.decode(), "unknown client key")
            return [version, request_id, b"400", b"unknown client key", b"", b""]
        return [version, request_id, b"200", b"OK", key, b""]

    def _deny(self, peer: str, key: str, why: str) -> None:
        with self._lock:
            self.denied += 1
            self._denials.append((peer, key, why))
        if self._log is not None and (self.denied <= 100 or self.denied % 1000 == 0):
            self._log(f"CurveZMQ client refused from {peer} (key {key or '-'}): {why} ({self.denied} refused)")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close(0)
