"""The audit log: one JSON line per operator action (accepted or refused) and per refused request
(unauthenticated, forbidden), with who, what, when and the outcome.

Lines are appended and flushed + fsync'ed one by one before the reply leaves the service, so an
acknowledged action is always on disk. Tokens never reach the log (the Request's token is not an
argument). Fields: ts (UTC ISO-8601 with microseconds), ts_ns (wall clock ns), user, role
("" when unauthenticated), command, args, outcome ("accepted" or "refused"), code (protocol code),
message.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import time
from pathlib import Path
from typing import Any


class AuditLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: each line is one write(2), so concurrent writers never interleave inside a line.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)

    def record(self, user: str, role: str, command: str, args: Any, ok: bool, code: str,
               message: str = "") -> dict[str, Any]:
        ts_ns = time.time_ns()
        entry = {
            "ts": _dt.datetime.fromtimestamp(ts_ns / 1e9, _dt.timezone.utc).isoformat(timespec="microseconds"),
            "ts_ns": ts_ns, "user": user, "role": role, "command": command, "args": args,
            "outcome": "accepted" if ok else "refused", "code": code, "message": message,
        }
        line = json.dumps(entry, default=repr, sort_keys=True) + "\n"
        os.write(self._fd, line.encode())
        os.fsync(self._fd)
        return entry

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_audit(path: str | Path) -> list[dict[str, Any]]:
    """Every entry of an audit log, oldest first (for tests and tools)."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
