"""The files through which the control plane (desk.py) and a live parent order's process talk.

control file (written by the desk, read by the strategy at each decision):
    {"version": N, "state": "working" | "paused" | "cancelled", "amend": {field: value, ...}}
The strategy applies a version once: the state, then the amendment (validated again by the
strategy; a refused one is reported in the progress file's ``control_error``).

progress file (written by the strategy after each decision, read by the desk): the strategy's
``report`` plus the control version it applied. Both are replaced atomically (write to a
temporary file, fsync, rename), so a reader never sees half a file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trading.execution.parent import ParentOrderRefused

if TYPE_CHECKING:
    from trading.execution.strategy import ExecutionStrategy
    from trading.strategy.context import Context


def write_atomic(path: str | Path, doc: dict[str, Any]) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: str | Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def apply_control(strategy: ExecutionStrategy, ctx: Context) -> None:
    doc = read_json(strategy.params["control"])
    if doc is None or int(doc.get("version", -1)) <= strategy.control_version:
        return
    strategy.control_version = int(doc["version"])
    strategy.control_error = None
    state = doc.get("state")
    if state == "paused":
        strategy.pause()
    elif state == "working":
        strategy.resume()
    elif state == "cancelled":
        strategy.cancel()
    amend = doc.get("amend") or {}
    if amend:
        try:
            strategy.amend(ctx, **amend)
        except (ParentOrderRefused, TypeError) as exc:
            strategy.control_error = str(exc)


def write_progress(path: str | Path, report: dict[str, Any]) -> None:
    write_atomic(path, report)
