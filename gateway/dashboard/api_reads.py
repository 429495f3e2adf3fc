"""The control plane's API, read once a second in a thread of its own (a busy control plane answers
slowly, and the event-log reader must never wait on it): positions and P&L, risk usage, strategies,
gateway sessions, the alerts kept before this dashboard started, and the books after the event
log lapped the dashboard's reader.

Reads are signed with a logged-in user's credentials (auth.Sessions.reader) and happen only while a
browser is connected. Results go to the Conflator (risk, strategies) or, for what the event thread
owns (books, alerts), into `handoff`, which that thread drains.
"""
from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gateway.control.client import ControlClient, ControlError
from gateway.control.config import VenueConfig
from gateway.dashboard.conflate import Conflator

PERIOD_S = 1.0
ALERTS_READ = 200


@dataclass(frozen=True)
class Reader:
    """The credentials the reads are signed with (a logged-in user's)."""
    user: str
    token: str = field(repr=False)


class ApiReads:
    def __init__(self, cfg: VenueConfig, hub: Conflator, endpoints_file: str | None,
                 reader: Callable[[], Reader | None], clients: Callable[[], int]) -> None:
        self.cfg = cfg
        self.hub = hub
        self.endpoints_file = Path(endpoints_file) if endpoints_file else None
        self.reader = reader
        self.clients = clients
        self.sessions: Any = None                 # the last sessions.list answer (for health)
        self.handoff: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.resync = threading.Event()           # set by the event thread after a lap
        self.alerts_read = False
        self._api: ControlClient | None = None
        self._as: tuple[Reader | None, str | None] = (None, None)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dashboard-api", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(10)
        self._drop()

    def command_endpoint(self) -> str | None:
        if self.endpoints_file is None:
            return self.cfg.control.command_endpoint
        try:
            return str(json.loads(self.endpoints_file.read_text())["command"])
        except (OSError, ValueError, KeyError):
            return None

    def _client(self) -> ControlClient | None:
        want = (self.reader(), self.command_endpoint())
        if want != self._as:
            self._drop()
            self._as = want
        reader, ep = want
        if reader is None or not ep:
            return None
        if self._api is None:
            self._api = ControlClient(ep, reader.user, reader.token, timeout_s=5.0)
        return self._api

    def _drop(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def call(self, api: ControlClient, command: str, **args: Any) -> Any:
        """The reply's data, or {"error": "code: message"} (shown as such on the panel)."""
        try:
            return api.call(command, **args)
        except ControlError as exc:
            if exc.code == "timeout":
                self._drop()           # a fresh socket next time (e.g. a restarted control plane)
            return {"error": f"{exc.code}: {exc.message}"}

    def _run(self) -> None:
        while not self.stop.wait(PERIOD_S):
            if self.clients() == 0 and not self.resync.is_set():
                continue
            api = self._client()
            if api is not None:
                self.read_once(api)

    def read_once(self, api: ControlClient) -> None:
        if self.resync.is_set():
            for ins in self.cfg.instruments:
                book = self.call(api, "book", instrument=ins.id, levels=50)
                if isinstance(book, dict) and "bids" in book:
                    self.handoff.put(("book", (ins.id, book)))
            self.resync.clear()
        if not self.alerts_read:
            got = self.call(api, "alerts", limit=ALERTS_READ)
            if isinstance(got, list):
                self.handoff.put(("alerts", got))
                self.alerts_read = True
        self.sessions = self.call(api, "sessions.list")
        strategies = self.call(api, "strategy.list")
        self.hub.put("risk", {"positions": self.call(api, "positions"), "risk": self.call(api, "risk.show"),
                              "strategies": strategies if isinstance(strategies, list) else []})
        self.hub.put("strategies", {"strategies": strategies})
        self.hub.put("parents", {"parents": self.call(api, "parent.list")})
