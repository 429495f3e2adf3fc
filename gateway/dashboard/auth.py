"""Browser sessions over the control plane's own users and roles.

A browser logs in with a [[users]] name and token; the dashboard checks them by asking the control
plane (``whoami``, signed with the user's key: the token never leaves this process, and the
control plane audits a refused login like any refused request). The user must be allowed to read
the whole venue (``alerts`` is the probe: every role but the own-firm trader may), since every
panel shows the whole venue. The browser gets a random session id in an HttpOnly, SameSite=Strict
cookie; the dashboard keeps, per session, a ControlClient signed as that user.

Every change a browser asks for is run by that user's ControlClient: the control plane checks the
user's roles (gateway/security/roles.py) and writes the audit log exactly as for a shell command.
The dashboard itself grants nothing.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gateway.control.client import ControlClient, ControlError
from gateway.dashboard.api_reads import Reader

SESSION_IDLE_S = 8 * 3600
MAX_SESSIONS = 64
FAILED_LOGINS_PER_MIN = 10           # per client address
COOKIE = "venue_dashboard"


class LoginRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class BrowserSession:
    sid: str
    user: str
    role: str
    token: str = field(repr=False)
    client: ControlClient = field(repr=False)
    endpoint: Callable[[], str | None] = field(repr=False)
    last_used: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def call(self, command: str, args: dict[str, Any]) -> Any:
        """Runs one control-plane command as this user (blocking: call it from a worker thread).
        Returns the reply (ok or refused); raises ControlError("timeout"). A control plane that
        restarted on other ports (an endpoint with port *) is followed: its endpoints file says
        where it listens now."""
        with self.lock:                  # a DEALER socket is used by one thread at a time
            ep = self.endpoint()
            if ep and ep != self.client.endpoint:
                self.client.close()
                self.client = ControlClient(ep, self.user, self.token, timeout_s=5.0)
            return self.client.request(command, **args)


class Sessions:
    def __init__(self, command_endpoint: Callable[[], str | None]) -> None:
        """command_endpoint: a callable returning the control plane's command endpoint now."""
        self.command_endpoint = command_endpoint
        self._lock = threading.Lock()
        self._sessions: dict[str, BrowserSession] = {}
        self._failed: dict[str, list[float]] = {}
        self._reader_sid: str | None = None

    def login(self, user: str, token: str, peer: str) -> BrowserSession:
        """Blocking (scrypt key derivation, a control-plane round trip). Raises LoginRefused."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failed.get(peer, []) if now - t < 60]
            self._failed[peer] = recent
            if len(recent) >= FAILED_LOGINS_PER_MIN:
                raise LoginRefused(429, "throttled", "too many failed logins from this address; wait a minute")
        if not (0 < len(user) <= 64 and 0 < len(token) <= 256):
            raise LoginRefused(400, "bad_request", "user (1..64 characters) and token (1..256) are needed")
        ep = self.command_endpoint()
        if not ep:
            raise LoginRefused(503, "unavailable", "the control plane has not said where it listens yet")
        client = ControlClient(ep, user, token, timeout_s=5.0)
        try:
            who = client.call("whoami")
            client.call("alerts", limit=1)
        except ControlError as exc:
            client.close()
            if exc.code in ("unauthenticated", "forbidden"):
                with self._lock:
                    self._failed.setdefault(peer, []).append(now)
            status = {"unauthenticated": 401, "forbidden": 403, "timeout": 503}.get(exc.code, 400)
            message = ("unknown user or wrong token" if exc.code == "unauthenticated" else
                       "the dashboard shows the whole venue; your roles do not let you read it"
                       if exc.code == "forbidden" else exc.message)
            raise LoginRefused(status, exc.code, message) from None
        session = BrowserSession(secrets.token_urlsafe(32), str(who.get("user", user)),
                                 str(who.get("role", "")), token, client, self.command_endpoint, now)
        with self._lock:
            self._expire(now)
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.last_used)
                self._drop(oldest.sid)
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str | None) -> BrowserSession | None:
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            s = self._sessions.get(sid)
            if s is not None:
                s.last_used = now
            return s

    def logout(self, sid: str | None) -> None:
        with self._lock:
            if sid:
                self._drop(sid)

    def reader(self) -> Reader | None:
        """The credentials the feed reads with: one logged-in session's, kept while that session
        lasts (a new reader costs the feed a key derivation). Any dashboard user may read the
        whole venue (see login), so whose they are changes nothing the panels show."""
        with self._lock:
            s = self._sessions.get(self._reader_sid or "")
            if s is None:
                if not self._sessions:
                    return None
                s = max(self._sessions.values(), key=lambda s: s.last_used)
                self._reader_sid = s.sid
            return Reader(s.user, s.token)

    def close(self) -> None:
        with self._lock:
            for sid in list(self._sessions):
                self._drop(sid)

    def _expire(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if now - s.last_used > SESSION_IDLE_S]:
            self._drop(sid)

    def _drop(self, sid: str) -> None:
        s = self._sessions.pop(sid, None)
        if s is not None:
            with s.lock:
                s.client.close()
