"""Browser sessions over the control plane's own users and roles.

A browser logs in with a [[users]] name and token; the dashboard checks the token against the
config's hash and locks failed logins out per browser address and per user (login_guard.py, which
reports each failure and lockout to the control plane's audit log), then asks the control plane
(``whoami``, signed with the user's key: the token never leaves this process). The user must be allowed to read
the whole venue (``alerts`` is the probe: every role but the own-firm trader may), since every
panel shows the whole venue. The browser gets an HttpOnly, SameSite=Strict cookie holding its
session sealed with the dashboard's key (session_cookie.py); the dashboard keeps, per session, a
ControlClient signed as that user.

A restarted dashboard (same key file) does not know the sessions in memory any more: the first
request carrying a cookie it sealed re-validates that cookie's user and token against the control
plane, exactly as a login does (``restore``), and the session goes on under the same id. Cookies
older than RESTORE_MAX_S, logged out (revoked), or whose user the control plane now refuses are
not restored; the page then asks for a login.

Every change a browser asks for is run by that user's ControlClient: the control plane checks the
user's roles (gateway/security/roles.py) and writes the audit log exactly as for a shell command.
The dashboard itself grants nothing.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gateway.control.client import ControlClient, ControlError
from gateway.dashboard.api_reads import Reader
from gateway.dashboard.session_cookie import CookieSealer, Revoked, SealedSession

SESSION_IDLE_S = 8 * 3600
MAX_SESSIONS = 64
FAILED_LOGINS_PER_MIN = 10           # per client address
RESTORE_MAX_S = 12 * 3600           # a cookie older than this is not restored after a restart
REFUSED_KEPT = 1024                  # sids whose restore the control plane refused (not asked again)
COOKIE = "venue_dashboard"


def cookie_name(venue: str) -> str:
    """The session cookie's name for one venue's dashboard: cookies are kept per host, not per
    port, so the dashboards of several venues on one host (a multi-venue up) need names of their
    own, or logging into one would log the browser out of the others."""
    return f"{COOKIE}_{re.sub(r'[^A-Za-z0-9_]', '_', venue)[:64]}"


class Unavailable(Exception):
    """The control plane did not answer a restore: the session may be fine, ask again later."""


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
    cookie: str = field(repr=False)
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
    def __init__(self, command_endpoint: Callable[[], str | None], sealer: CookieSealer,
                 revoked: Revoked, guard: Callable[[str, str, str], None] | None = None) -> None:
        """command_endpoint: a callable returning the control plane's command endpoint now;
        sealer/revoked: the cookie key and the logged-out sessions (session_cookie.py); guard(user,
        token, peer): the dashboard's own check and failed-login lockout (login_guard.py), which
        raises LoginRefused before the control plane is asked."""
        self.command_endpoint = command_endpoint
        self.guard = guard
        self.sealer = sealer
        self.revoked = revoked
        self._lock = threading.Lock()
        self._restore_lock = threading.Lock()     # one re-validation at a time (a page opens several requests)
        self._sessions: dict[str, BrowserSession] = {}
        self._failed: dict[str, list[float]] = {}
        self._refused: dict[str, None] = {}       # insertion-ordered, at most REFUSED_KEPT
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
        try:
            if self.guard is not None:
                self.guard(user, token, peer)
            client, who = self._validate(user, token)
        except LoginRefused as exc:
            if exc.code in ("unauthenticated", "forbidden"):
                with self._lock:
                    self._failed.setdefault(peer, []).append(now)
            raise
        sealed = SealedSession(secrets.token_urlsafe(32), user, token, time.time())
        return self._add(sealed, client, who, now)

    def _validate(self, user: str, token: str) -> tuple[ControlClient, dict[str, Any]]:
        """A ControlClient signed as `user` and its whoami, after the control plane said this user
        may read the whole venue; LoginRefused otherwise (status 503 when it did not answer)."""
        ep = self.command_endpoint()
        if not ep:
            raise LoginRefused(503, "unavailable", "the control plane has not said where it listens yet")
        client = ControlClient(ep, user, token, timeout_s=5.0)
        try:
            who = client.call("whoami")
            client.call("alerts", limit=1)
        except ControlError as exc:
            client.close()
            status = {"unauthenticated": 401, "forbidden": 403, "timeout": 503}.get(exc.code, 400)
            message = ("unknown user or wrong token" if exc.code == "unauthenticated" else
                       "the dashboard shows the whole venue; your roles do not let you read it"
                       if exc.code == "forbidden" else exc.message)
            raise LoginRefused(status, exc.code, message) from None
        return client, who if isinstance(who, dict) else {}

    def _add(self, sealed: SealedSession, client: ControlClient, who: dict[str, Any], now: float) -> BrowserSession:
        session = BrowserSession(sealed.sid, str(who.get("user", sealed.user)), str(who.get("role", "")),
                                 self.sealer.seal(sealed), sealed.token, client, self.command_endpoint, now)
        with self._lock:
            self._expire(now)
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.last_used)
                self._drop(oldest.sid)
            self._sessions[session.sid] = session
        return session

    def restorable(self, cookie: str | None) -> SealedSession | None:
        """The sealed session in a cookie this process does not hold in memory but may restore
        (sealed with this key, recent enough, not logged out, not refused already); None else.
        Cheap: no control-plane call."""
        sealed = self.sealer.open(cookie)
        if sealed is None or sealed.sid in self._refused or sealed.sid in self.revoked:
            return None
        if not 0 <= time.time() - sealed.issued_s <= RESTORE_MAX_S:
            return None
        return sealed

    def restore(self, cookie: str | None) -> BrowserSession | None:
        """Blocking: the session a cookie from before a restart stands for, re-validated against
        the control plane like a login; None when it is not restorable or refused. Raises
        Unavailable when the control plane does not answer (the session is not given up)."""
        sealed = self.restorable(cookie)
        if sealed is None:
            return None
        with self._restore_lock:
            known = self.get(cookie)              # another request restored it meanwhile
            if known is not None:
                return known
            try:
                client, who = self._validate(sealed.user, sealed.token)
            except LoginRefused as exc:
                if exc.status == 503:
                    raise Unavailable(exc.message) from None
                with self._lock:
                    self._refused[sealed.sid] = None
                    while len(self._refused) > REFUSED_KEPT:
                        del self._refused[next(iter(self._refused))]
                return None
            return self._add(sealed, client, who, time.monotonic())

    def get(self, cookie: str | None) -> BrowserSession | None:
        """The session in memory that `cookie` stands for (no control-plane call)."""
        sealed = self.sealer.open(cookie)
        if sealed is None:
            return None
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            s = self._sessions.get(sealed.sid)
            if s is not None:
                s.last_used = now
            return s

    def logout(self, cookie: str | None) -> None:
        """Ends the session here and revokes its cookie (a restart does not bring it back)."""
        sealed = self.sealer.open(cookie)
        if sealed is None:
            return
        self.revoked.add(sealed.sid, sealed.issued_s + RESTORE_MAX_S)
        with self._lock:
            self._drop(sealed.sid)

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
