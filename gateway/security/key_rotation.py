"""Session keys rotate without a restart: the gateway's admin thread watches its credentials file
and, when it changed, hands each session whose key hash changed to the C loop (admin mailbox
GW_ADMIN_OP_SET_KEY); from the next logon on, only the new key is accepted. ``up`` rewrites that
file (atomically) when the venue config's [[sessions]] change, so editing the venue config rotates
a key of a running venue.

What a running gateway cannot take (a session added or removed, a plain key changed) is logged as
needing a restart and otherwise ignored; a file that no longer loads leaves every key as it was.
"""
from __future__ import annotations

import os
import sys
from typing import TextIO

from gateway.orderentry.config import ConfigError, GatewayConfig, load_config
from gateway.security.gateway_security import stored_keys


class KeyRotation:
    CHECK_INTERVAL_S = 1.0

    def __init__(self, path: str, cfg: GatewayConfig, log: TextIO = sys.stderr) -> None:
        self.path = path
        self._log = log
        self._keys = stored_keys(cfg)
        self._plain = {s.session_id: s.key for s in cfg.sessions if s.key}
        self._mtime = self._stat()
        self._next_check = 0.0

    def _stat(self) -> int:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return -1

    def _say(self, line: str) -> None:
        print(f"gateway: credentials {self.path}: {line}", file=self._log, flush=True)

    def changed_keys(self, now: float) -> list[tuple[int, bytes]]:
        """(session id, new StoredKey) for each hashed key changed since the last call that
        returned it; checks the file at most every CHECK_INTERVAL_S (now: time.monotonic())."""
        if now < self._next_check:
            return []
        self._next_check = now + self.CHECK_INTERVAL_S
        mtime = self._stat()
        if mtime == self._mtime:
            return []
        self._mtime = mtime
        try:
            cfg = load_config(self.path)
        except ConfigError as exc:
            self._say(f"changed but does not load; keys unchanged: {exc}")
            return []
        known = set(self._keys) | set(self._plain)
        ids = {s.session_id for s in cfg.sessions}
        if ids != known:
            self._say(f"sessions {sorted(ids ^ known)} added or removed: that needs a gateway restart")
        plain = {s.session_id: s.key for s in cfg.sessions if s.key}
        for sid in sorted(k for k in plain if k in self._plain and plain[k] != self._plain[k]):
            self._say(f"session {sid}: a plain key changed: that needs a restart (hash it to rotate it live)")
        changed = [(sid, key) for sid, key in sorted(stored_keys(cfg).items())
                   if sid in known and self._keys.get(sid) != key]
        for sid, key in changed:
            self._keys[sid] = key
            self._plain.pop(sid, None)
        return changed
