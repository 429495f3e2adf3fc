"""Panel state and conflation: however fast the venue changes, a browser gets at most
``rate_hz`` updates per second per panel, each carrying the panel's latest whole state.

Writers (the feed thread) call ``put(panel, state)`` as often as their sources change; each call
replaces the panel's pending state (the older one is dropped, never queued), so memory and the
browser's work are bounded by the number of panels, not by the event rate. The pusher calls
``due(now)`` on its own clock and gets the panels changed since their last push whose last push is
at least 1/rate_hz ago. Every put bumps a version; a browser that reconnects asks for everything
newer than the version it saw last (``since``), which is how it catches up.

Thread safety: one lock around a dict; put() does no work beyond a dict store under the lock.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class PanelState:
    version: int          # the hub's version counter when this state was put
    state: Any
    puts: int = 0         # puts since the last push (for the conflation figures)


class Conflator:
    def __init__(self, rate_hz: float) -> None:
        if not 0 < rate_hz <= 1000:
            raise ValueError(f"rate_hz must be in (0, 1000], got {rate_hz}")
        self.min_interval_s = 1.0 / rate_hz
        self._lock = threading.Lock()
        self._panels: dict[str, PanelState] = {}
        self._pushed_version: dict[str, int] = {}
        self._pushed_at: dict[str, float] = {}
        self._version = 0
        self.puts = 0

    def put(self, panel: str, state: Any) -> None:
        with self._lock:
            self._version += 1
            self.puts += 1
            old = self._panels.get(panel)
            self._panels[panel] = PanelState(self._version, state, (old.puts if old else 0) + 1)

    def get(self, panel: str) -> Any:
        with self._lock:
            p = self._panels.get(panel)
            return None if p is None else p.state

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    def due(self, now: float) -> list[tuple[str, PanelState]]:
        """The panels to push now: changed since their last push, and last pushed at least
        min_interval_s ago (a change inside the interval waits for its end, it is not lost)."""
        out = []
        with self._lock:
            for name, p in self._panels.items():
                if p.version <= self._pushed_version.get(name, 0):
                    continue
                if now - self._pushed_at.get(name, float("-inf")) < self.min_interval_s:
                    continue
                self._pushed_version[name] = p.version
                self._pushed_at[name] = now
                out.append((name, PanelState(p.version, p.state, p.puts)))
                p.puts = 0
        return out

    def since(self, version: int) -> list[tuple[str, PanelState]]:
        """Every panel whose state is newer than `version` (all of them for 0): a browser's
        catch-up after it (re)connects."""
        with self._lock:
            return [(n, PanelState(p.version, p.state)) for n, p in self._panels.items() if p.version > version]
