"""Failed logons locked out per source address and per user, for the control API and the dashboard's
logins (the order-entry gateway has the same rule in C, native/gateway/gw_security.c; all take the
venue config's [security.logon], through from_policy here).

A failure counts in a fixed window of window_s that starts at the first failure after the last
one ended; reaching max_failures_per_source (per_user) locks the source (the user) for
lockout_s, during which its requests are refused without checking anything. Thresholds of 0
switch a kind off. Per-user counting is for known users only, and both tables are bounded
(MAX_TRACKED, the stalest entry goes), so a flood of invented names or addresses grows nothing.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Protocol

MAX_TRACKED = 4096


@dataclass
class _Count:
    failures: int
    window_start: float
    locked_until: float = 0.0


class LogonPolicyFields(Protocol):
    """The [security.logon] fields a lockout is made of (gateway/orderentry/config.py LogonPolicy)."""
    @property
    def max_failures_per_source(self) -> int: ...
    @property
    def max_failures_per_session(self) -> int: ...
    @property
    def window_ms(self) -> int: ...
    @property
    def lockout_ms(self) -> int: ...


def from_policy(policy: LogonPolicyFields) -> "LogonLockout | None":
    """The lockout of a [security.logon] policy, None when both limits are 0 (off); its
    per-session limit counts per user here."""
    if not policy.max_failures_per_source and not policy.max_failures_per_session:
        return None
    return LogonLockout(policy.max_failures_per_source, policy.max_failures_per_session,
                        policy.window_ms / 1e3, policy.lockout_ms / 1e3)


class LogonLockout:
    def __init__(self, max_failures_per_source: int, max_failures_per_user: int, window_s: float,
                 lockout_s: float) -> None:
        self.max_source = max_failures_per_source
        self.max_user = max_failures_per_user
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._sources: collections.OrderedDict[str, _Count] = collections.OrderedDict()
        self._users: collections.OrderedDict[str, _Count] = collections.OrderedDict()
        self.refused = 0

    def locked(self, source: str, user: str, now: float) -> str | None:
        """"source" or "user" while that one is locked out (the request is then refused), else None."""
        s = self._sources.get(source)
        if s is not None and s.locked_until > now:
            self.refused += 1
            return "source"
        u = self._users.get(user)
        if u is not None and u.locked_until > now:
            self.refused += 1
            return "user"
        return None

    @staticmethod
    def _count(table: collections.OrderedDict[str, _Count], key: str, limit: int, now: float,
               window_s: float, lockout_s: float) -> bool:
        if limit <= 0:
            return False
        c = table.get(key)
        if c is None or now - c.window_start >= window_s:
            c = _Count(0, now, c.locked_until if c is not None else 0.0)
            table[key] = c
        table.move_to_end(key)
        while len(table) > MAX_TRACKED:
            table.popitem(last=False)
        c.failures += 1
        if c.failures < limit:
            return False
        c.failures = 0
        c.locked_until = now + lockout_s
        return True

    def failed(self, source: str, user: str | None, now: float) -> list[str]:
        """Counts one failure (user None: not a known user, only the source counts); returns the
        lockouts it starts: "source_locked_out", "user_locked_out"."""
        out = []
        if self._count(self._sources, source, self.max_source, now, self.window_s, self.lockout_s):
            out.append("source_locked_out")
        if user is not None and self._count(self._users, user, self.max_user, now, self.window_s,
                                            self.lockout_s):
            out.append("user_locked_out")
        return out
