"""Sealed session cookies: what lets a browser's login outlive a restart of the dashboard process.

The cookie is the session, sealed (AES-256-GCM, RFC 5116 AEAD: encrypted and authenticated) with a
key the dashboard keeps in a file of the venue's private run directory (mode 0600, in a 0700
directory that ``up`` made): ``base64url(nonce(12) || AESGCM(key, json{sid, user, token, iat}))``.
The token (the control-plane user's secret) is therefore never on disk and never readable by the
browser or its scripts (the cookie is HttpOnly; the browser sees ciphertext only). A dashboard that
starts again with the same key file can open the cookies it issued before, and re-validates each
one against the control plane before trusting it (auth.Sessions.restore): a user removed or whose
token changed meanwhile is refused.

Without a key file (a dashboard started by hand without --session-key-file) the key lives in memory
and logins end with the process, as before.

Logout revokes: the session id goes into a revocation file beside the key (sid -> expiry; pruned
once the cookie could no longer be restored anyway), so a copied cookie of a logged-out session is
refused after a restart too.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.small_files import SECRET_LIMIT, NotASmallFile, read_small_file

KEY_BYTES = 32
NONCE_BYTES = 12
AAD = b"venue-dashboard-session-v1"     # binds a sealed blob to this use of the key
MAX_COOKIE_CHARS = 2048                  # a session's payload is a few hundred bytes


class KeyFileError(Exception):
    """The key file exists but cannot be used (unreadable, wrong size, or too open)."""


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, created (random, mode 0600, O_EXCL) when the file does not exist yet.
    Refuses a file of the wrong size or readable by others: a key anyone can read forges logins."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc.strerror}") from None
    else:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
    try:
        st = path.stat()
        key = read_small_file(path, SECRET_LIMIT)      # /dev/zero was read until memory ran out
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc.strerror}") from None
    except NotASmallFile as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    if st.st_mode & 0o077:
        raise KeyFileError(f"{path}: readable by group or others (mode {st.st_mode & 0o777:o}); chmod 600")
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path}: {len(key)} bytes, a session key is {KEY_BYTES}")
    return key


@dataclass(frozen=True)
class SealedSession:
    """What a cookie carries: the session id, the user and token to re-validate with, and when it
    was issued (wall clock, seconds: it must mean the same after a restart)."""
    sid: str
    user: str
    token: str = field(repr=False)
    issued_s: float = 0.0


class CookieSealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, s: SealedSession) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        body = json.dumps({"sid": s.sid, "user": s.user, "token": s.token, "iat": s.issued_s}).encode()
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, body, AAD)).decode().rstrip("=")

    def open(self, cookie: str | None) -> SealedSession | None:
        """The session sealed in `cookie`; None for anything this key did not seal (tampered,
        truncated, another key's, not base64): such a cookie is simply not a login."""
        if not cookie or len(cookie) > MAX_COOKIE_CHARS:
            return None
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
            body = json.loads(self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], AAD))
        except (binascii.Error, ValueError, InvalidTag):
            return None
        if not (isinstance(body, dict) and isinstance(body.get("sid"), str) and isinstance(body.get("user"), str)
                and isinstance(body.get("token"), str) and isinstance(body.get("iat"), (int, float))):
            return None
        return SealedSession(body["sid"], body["user"], body["token"], float(body["iat"]))


class Revoked:
    """Session ids logged out, with when each stops mattering (its cookie's restore deadline);
    kept in a file (JSON, 0600) when one is given, so that a restart still refuses them."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text())
                if isinstance(data, dict):
                    self._until = {k: float(v) for k, v in data.items() if isinstance(v, (int, float))}
            except (OSError, ValueError):
                self._until = {}

    def add(self, sid: str, until_s: float) -> None:
        with self._lock:
            now = time.time()
            self._until = {k: v for k, v in self._until.items() if v > now}
            self._until[sid] = until_s
            if self.path is not None:
                tmp = self.path.with_name(self.path.name + ".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    json.dump(self._until, fh)
                os.replace(tmp, self.path)

    def __contains__(self, sid: str) -> bool:
        with self._lock:
            return self._until.get(sid, 0.0) > time.time()
