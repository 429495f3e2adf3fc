"""The dashboard's login failures and lockouts, reported to the control plane for its hash-chained
audit log and its alerts: a ZeroMQ PUSH to the control plane's publish ingest, an ipc socket in the
venue's private run directory (gateway/control/ingest.py; topic "security"), whose endpoint the
control plane writes into its endpoints file (up's run dir control.json, which the dashboard reads
already).

Bounded: failures are sent at most MAX_FAILURES_PER_S a second (a guessing flood costs the audit
log a line per FAILURES_PER_S, the rest are counted into the next one sent as "suppressed");
lockouts are always sent (at most one per source or user per lockout period). A report that cannot
be sent (no endpoints file or no ingest: a dashboard started by hand; the control plane away) is
logged here and counted in `unsent`; the login is refused all the same.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import zmq

log = logging.getLogger("dashboard.security")

TOPIC = b"security"                 # gateway/control/ingest.py SECURITY_TOPIC
MAX_FAILURES_PER_S = 20


class SecurityReporter:
    def __init__(self, endpoints_file: str | None, context: zmq.Context[Any] | None = None) -> None:
        self.endpoints_file = endpoints_file
        self._ctx = context or zmq.Context.instance()
        self._lock = threading.Lock()      # logins run in worker threads; a socket is one thread's at a time
        self._sock: zmq.Socket[bytes] | None = None
        self._endpoint: str | None = None
        self._tokens = float(MAX_FAILURES_PER_S)
        self._refilled = time.monotonic()
        self.suppressed = 0                # failures left out since the last one sent
        self.sent = 0
        self.unsent = 0

    def report(self, kind: str, user: str, peer: str) -> None:
        """kind: "login_failed", "source_locked_out" or "user_locked_out"."""
        with self._lock:
            body: dict[str, Any] = {"source": "dashboard", "kind": kind, "user": user[:64], "peer": peer[:64]}
            if kind == "login_failed":
                if not self._take_token():
                    self.suppressed += 1
                    return
                body["suppressed"], self.suppressed = self.suppressed, 0
            if self._send(body):
                self.sent += 1
            else:
                self.unsent += 1
                log.warning("dashboard: %s (user %r, peer %s) not reported to the control plane's audit "
                            "log: no publish ingest reachable", kind, user[:64], peer[:64])

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(float(MAX_FAILURES_PER_S), self._tokens + (now - self._refilled) * MAX_FAILURES_PER_S)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _ingest_endpoint(self) -> str | None:
        if not self.endpoints_file:
            return None
        try:
            ep = json.loads(Path(self.endpoints_file).read_text()).get("ingest")
        except (OSError, ValueError, AttributeError):
            return None
        return ep if isinstance(ep, str) and ep.startswith("ipc://") else None

    def _send(self, body: dict[str, Any]) -> bool:
        ep = self._ingest_endpoint()          # re-read: a restarted control plane may bind anew
        if ep is None:
            return False
        if ep != self._endpoint or self._sock is None:
            self._close_socket()
            sock = self._ctx.socket(zmq.PUSH)
            sock.setsockopt(zmq.LINGER, 500)
            sock.setsockopt(zmq.SNDHWM, 1000)
            sock.connect(ep)
            self._sock, self._endpoint = sock, ep
        try:
            self._sock.send_multipart([TOPIC, msgspec.msgpack.encode(body)], zmq.NOBLOCK)
        except zmq.ZMQError:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._close_socket()

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._endpoint = None, None
