"""The dashboard's own failed-login lockout, per browser address and per user, with the control
API's policy objects: gateway/security/lockout.py's LogonLockout made from the venue config's
[security.logon] (from_policy), the same thresholds, window and lockout period. Each refused login
and each lockout it starts is reported to the control plane's audit log and alerts
(security_report.py).

Why the token is checked here first, against the config's token_hash with the control API's
formula (StoredKey = SHA-256(ClientKey(scrypt(token, salt))), gateway/security/credentials.py):
the dashboard asks the control plane from its own address, so guesses it relayed all counted
toward that one source at the control API, and a guesser at the dashboard locked every dashboard
user and every shell on the dashboard's host out of the control API. Now a wrong token stops here,
where the browser's own address and the user it names are what count; only a token that passes
goes on to the control plane (whoami, for the user's roles). An unknown user costs the same scrypt
as a known one (a decoy salt), so timing does not say who exists.

While locked, a login is refused unchecked (no scrypt): guessing on costs a dictionary lookup.
A rotated token (the venue config edited under a running `up`) is picked up by `poll`, which the
dashboard calls before each check (at most one stat a second, gateway/control/config_watch.py).
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Callable, Iterable

from gateway.control.config import User
from gateway.dashboard.auth import LoginRefused
from gateway.security.credentials import (SALT_BYTES, SCRYPT_N, SCRYPT_P, SCRYPT_R, TokenHash, client_key,
                                          decoy_salt, parse_token_hash)
from gateway.security.lockout import LogonLockout

Report = Callable[[str, str, str], None]          # (kind, user, peer)
_DECOY_SECRET = b"venue-in-a-box dashboard decoy salt"


class LoginGuard:
    def __init__(self, users: Iterable[User], lockout: LogonLockout | None, report: Report,
                 poll: Callable[[float], None] | None = None) -> None:
        """lockout None: [security.logon] switches both limits off (failures are still reported);
        poll(now): re-reads the users when the config file changed (calls set_users)."""
        self.lockout = lockout
        self.report = report
        self._poll = poll
        self._lock = threading.Lock()          # logins run in worker threads
        self._hashes: dict[str, TokenHash] = {}
        self.set_users(users)
        self.refused_locked = 0

    def set_users(self, users: Iterable[User]) -> None:
        hashes = {u.name: parse_token_hash(u.token_hash) for u in users if u.token_hash}
        with self._lock:
            self._hashes = hashes

    def check(self, user: str, token: str, peer: str) -> None:
        """Returns when the token is the user's; raises LoginRefused (429 locked_out while the
        browser's address or the user is locked out, 401 unauthenticated for a wrong token)."""
        now = time.monotonic()
        if self._poll is not None:
            self._poll(now)
        with self._lock:
            locked = self.lockout.locked(peer, user, now) if self.lockout is not None else None
            th = self._hashes.get(user)
        if locked is not None:
            self.refused_locked += 1
            raise LoginRefused(429, "locked_out", f"locked out ({locked}) after repeated failed logins; "
                                                  "try again later")
        if self._token_ok(th, user, token):
            return
        with self._lock:
            started = (self.lockout.failed(peer, user if th is not None else None, now)
                       if self.lockout is not None else [])
        self.report("login_failed", user, peer)
        for kind in started:
            self.report(kind, user if kind == "user_locked_out" else "", peer)
        raise LoginRefused(401, "unauthenticated", "unknown user or wrong token")

    @staticmethod
    def _token_ok(th: TokenHash | None, user: str, token: str) -> bool:
        if th is None:      # the same scrypt for an unknown user, then a refusal
            client_key(token, decoy_salt(_DECOY_SECRET, user)[:SALT_BYTES], SCRYPT_N, SCRYPT_R, SCRYPT_P)
            return False
        key = client_key(token, th.salt, th.n, th.r, th.p)
        return hmac.compare_digest(hashlib.sha256(key).digest(), th.stored_key)
