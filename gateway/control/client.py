"""Client of the control-plane API (used by the shell, tests and scripts).

    client = ControlClient("tcp://127.0.0.1:5710", "alice", "secret")
    client.call("halt", instrument="ACME")          # -> reply data, or raises ControlError(code, message)
    for topic, body in client.subscribe([b"alert"]): ...

A DEALER socket is used rather than REQ so that a timed-out call never wedges the socket: each request
carries a fresh request_id and replies to earlier (abandoned) requests are discarded.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Any

import zmq

from gateway.control import protocol
from gateway.security import credentials, curve

SERVER_KEY_ENV = "VENUE_CURVE_SERVER_KEY"     # the control service's NAME.key
CLIENT_KEY_ENV = "VENUE_CURVE_CLIENT_KEY"     # this client's NAME.key_secret


class ControlError(Exception):
    """A refused or failed command: ``code`` is one of protocol.CODES (or "timeout" client-side)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class ControlClient:
    def __init__(self, endpoint: str = protocol.DEFAULT_COMMAND_ENDPOINT, user: str = "", token: str = "",
                 timeout_s: float = 5.0, publish_endpoint: str | None = None,
                 context: zmq.Context[zmq.Socket[bytes]] | None = None, server_key: str | None = None,
                 client_key: str | None = None) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.endpoint = endpoint
        self.publish_endpoint = publish_endpoint
        self.user = user
        self.token = token
        self.timeout_s = timeout_s
        self._context = context or zmq.Context.instance()
        self._ids = itertools.count(1)
        self._keys: tuple[bytes, bytes] | None = None
        # CurveZMQ: the service's public key file and this client's key pair (or the environment's).
        self.server_key = server_key or os.environ.get(SERVER_KEY_ENV) or None
        self.client_key = client_key or os.environ.get(CLIENT_KEY_ENV) or None
        self._socket = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._curve(self._socket)
        self._socket.connect(endpoint)

    def _roundtrip(self, request: protocol.Request, what: str) -> protocol.Reply:
        self._socket.send_multipart([b"", protocol.encode(request)])
        deadline = time.monotonic() + self.timeout_s
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0 or not self._socket.poll(remaining_ms):
                raise ControlError("timeout", f"no reply to {what!r} from {self.endpoint} within {self.timeout_s}s")
            frames = self._socket.recv_multipart()
            reply = protocol.decode_reply(frames[-1])
            if reply.request_id == request.request_id:
                return reply
            # A late reply to an earlier, abandoned request: drop it.

    def _credentials(self) -> tuple[bytes, bytes]:
        """(ClientKey, StoredKey) for this user, derived once from the server's salt (the slow step)."""
        if self._keys is None:
            reply = self._roundtrip(protocol.Request(next(self._ids), self.user, protocol.AUTH_SALT), protocol.AUTH_SALT)
            if not reply.ok or not isinstance(reply.data, dict):
                raise ControlError(reply.code, f"cannot get the salt: {reply.message}")
            d = reply.data
            key = credentials.client_key(self.token, base64.b64decode(d["salt"]), int(d["n"]), int(d["r"]), int(d["p"]))
            self._keys = (key, hashlib.sha256(key).digest())
        return self._keys

    def request(self, command: str, **args: Any) -> protocol.Reply:
        """Send one command, signed (the token never leaves this process), and return the whole
        Reply (ok or not). Raises ControlError("timeout")."""
        key, stored = self._credentials()
        request_id = next(self._ids)
        ts_ns, nonce = time.time_ns(), secrets.token_hex(16)
        proof = credentials.make_proof(key, stored, credentials.auth_message(request_id, self.user, command,
                                                                             args, ts_ns, nonce))
        return self._roundtrip(protocol.Request(request_id, self.user, command, args, ts_ns, nonce, proof), command)

    def call(self, command: str, **args: Any) -> Any:
        """Run a command and return its data; raise ControlError(code, message) when it is refused."""
        reply = self.request(command, **args)
        if not reply.ok:
            raise ControlError(reply.code, reply.message)
        return reply.data

    def subscribe(self, topics: Iterable[bytes] = protocol.TOPICS, publish_endpoint: str | None = None,
                  timeout_s: float | None = None) -> Iterator[tuple[bytes, Any]]:
        """Yield (topic, body) from the PUB side. Stops (returns) after timeout_s without a message when
        timeout_s is given; otherwise blocks forever. ZeroMQ PUB/SUB drops messages sent before the
        subscription is joined: wait for a message you know follows your subscription."""
        endpoint = publish_endpoint or self.publish_endpoint
        if endpoint is None:
            raise ValueError("subscribe needs publish_endpoint (given here or to ControlClient)")
        socket = self._context.socket(zmq.SUB)
        socket.setsockopt(zmq.LINGER, 0)
        self._curve(socket)
        for topic in topics:
            socket.setsockopt(zmq.SUBSCRIBE, topic)
        socket.connect(endpoint)
        try:
            while True:
                if timeout_s is not None and not socket.poll(int(timeout_s * 1000)):
                    return
                topic, body = socket.recv_multipart()
                yield topic, protocol.decode_published(body)
        finally:
            socket.close()

    def _curve(self, sock: zmq.Socket) -> None:  # type: ignore[type-arg]
        if self.server_key or self.client_key:
            if not (self.server_key and self.client_key):
                raise ValueError(f"CurveZMQ needs both the server's public key file (${SERVER_KEY_ENV}) "
                                 f"and this client's secret key file (${CLIENT_KEY_ENV})")
            curve.make_client(sock, self.server_key, self.client_key)

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
