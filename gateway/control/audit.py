"""The audit log: one JSON line per operator action (accepted or refused) and per refused request
(unauthenticated, forbidden, undecodable), with who, what, when and the outcome.

Durability: an accepted action's line is written and fsync'ed before the reply leaves the service,
so an acknowledged action is always on disk. A refusal's line is written at once but fsync'ed
lazily (by the next accepted action's fsync, or by ``sync_if_due`` within SYNC_INTERVAL_S): a flood
of garbage must not buy one fsync per message. Tokens never reach the log (the Request's token is
not an argument).

Size: a record never carries an attacker's payload whole. Strings longer than FIELD_MAX_CHARS and
argument maps whose encoding exceeds ARGS_MAX_BYTES are replaced by a summary (length and SHA-256),
so a 10 MB refused request costs a line of a few hundred bytes.

Tamper evidence: every record is sealed into a hash chain (gateway/security/audit_chain.py: seq,
prev, hash) and the head (last seq and hash) is rewritten beside the log at each fsync;
``python -m gateway audit verify LOG`` names each edited, removed or reordered record. A log that
already exists is continued from its last record.

Fields: ts (UTC ISO-8601 with microseconds), ts_ns (wall clock ns), user, role ("" when
unauthenticated), command, args, outcome ("accepted" or "refused"), code (protocol code), message,
peer when the transport knows it, and seq, prev, hash.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from gateway.security import audit_chain

FIELD_MAX_CHARS = 200           # user, command, message and string arguments beyond this are summarised
ARGS_MAX_BYTES = 2048           # an argument map whose JSON is longer is replaced by its summary
SYNC_INTERVAL_S = 0.2           # a refusal's line reaches the disk within this (plus one loop pass)


def summarise_text(text: str, limit: int = FIELD_MAX_CHARS) -> str:
    """text itself when short; else its head, its length and its SHA-256 prefix."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode(errors="replace")).hexdigest()[:16]
    return f"{text[:48]}... ({len(text)} chars, sha256 {digest})"


def summarise_args(args: Any) -> Any:
    """args when small; else {"_summary": ...} naming its size and SHA-256 prefix."""
    try:
        text = json.dumps(args, default=repr, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(type(args))
    if len(text) <= ARGS_MAX_BYTES:
        if isinstance(args, dict):
            return {summarise_text(str(k)): summarise_text(v) if isinstance(v, str) else v
                    for k, v in args.items()}
        return args
    digest = hashlib.sha256(text.encode(errors="replace")).hexdigest()[:16]
    return {"_summary": f"{len(text)} bytes of arguments not kept (sha256 {digest})"}


class AuditLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_APPEND: each line is one write(2), so concurrent writers never interleave inside a line.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        self._seq, self._last_hash = audit_chain.last_link(self.path)
        self._unsynced_since: float | None = None
        self.records = 0

    def record(self, user: str, role: str, command: str, args: Any, ok: bool, code: str,
               message: str = "", peer: str = "") -> dict[str, Any]:
        """Appends one line; fsync'ed now when ok (an accepted action), lazily when refused."""
        ts_ns = time.time_ns()
        entry: dict[str, Any] = {
            "ts": _dt.datetime.fromtimestamp(ts_ns / 1e9, _dt.timezone.utc).isoformat(timespec="microseconds"),
            "ts_ns": ts_ns, "user": summarise_text(user), "role": role, "command": summarise_text(command),
            "args": summarise_args(args), "outcome": "accepted" if ok else "refused", "code": code,
            "message": summarise_text(message),
        }
        if peer:
            entry["peer"] = summarise_text(peer)
        line = audit_chain.seal(entry, self._seq + 1, self._last_hash)
        os.write(self._fd, (line + "\n").encode())
        sealed: dict[str, Any] = json.loads(line)
        self._seq, self._last_hash = sealed["seq"], sealed["hash"]
        self.records += 1
        if ok:
            self._sync()
        elif self._unsynced_since is None:
            self._unsynced_since = time.monotonic()
        return sealed

    def _sync(self) -> None:
        os.fsync(self._fd)
        audit_chain.write_head(self.path, self._seq, self._last_hash)
        self._unsynced_since = None

    def sync_if_due(self) -> None:
        """fsync when a refusal's line has waited SYNC_INTERVAL_S (called from the service loop)."""
        if self._unsynced_since is not None and time.monotonic() - self._unsynced_since >= SYNC_INTERVAL_S:
            self._sync()

    def close(self) -> None:
        if self._fd >= 0:
            if self._unsynced_since is not None:
                self._sync()
            os.close(self._fd)
            self._fd = -1


def read_audit(path: str | Path) -> list[dict[str, Any]]:
    """Every entry of an audit log, oldest first (for tests and tools)."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
