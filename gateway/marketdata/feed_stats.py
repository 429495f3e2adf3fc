"""The market-data publisher's audience, written to a small JSON file once a second
(``md publish --stats-file FILE``) for whoever watches the venue (the dashboard's health panel):

- ZeroMQ subscribers connected now: a socket monitor on the PUB socket (ZMQ_EVENT_ACCEPTED +1,
  ZMQ_EVENT_DISCONNECTED -1; libzmq reports both for every TCP/IPC peer of a bound socket). The
  monitor is attached before the socket is handed to the C publisher loop and read only through
  its own PAIR socket, so the C loop remains the PUB socket's only user.
- recovery sessions open now, and the requests and errors served so far (recovery.py's server).
UDP multicast has no connections: its receivers cannot be counted by the publisher, and the file
says so (``udp_receivers_countable: false``).

The file is replaced atomically (tmp + rename), so a reader never sees half of it; ``ts`` (wall
clock, seconds) lets a reader tell a live publisher from a dead one's last word.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

from gateway.marketdata.recovery import RecoveryServer


class FeedStats:
    def __init__(self, path: str, zmq_socket: zmq.Socket | None, recovery: RecoveryServer | None,  # type: ignore[type-arg]
                 udp: bool, session: str) -> None:
        self.path = Path(path)
        self.recovery = recovery
        self.udp = udp
        self.session = session
        self.subscribers = 0
        self.connections_total = 0
        self._socket = zmq_socket
        self._monitor = (zmq_socket.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED)
                         if zmq_socket is not None else None)
        self.zmq_endpoint = zmq_socket.getsockopt_string(zmq.LAST_ENDPOINT) if zmq_socket is not None else None

    def _drain(self) -> None:
        if self._monitor is None:
            return
        while True:
            try:
                event = recv_monitor_message(self._monitor, zmq.NOBLOCK)
            except zmq.Again:
                return
            if event["event"] == zmq.EVENT_ACCEPTED:
                self.subscribers += 1
                self.connections_total += 1
            elif event["event"] == zmq.EVENT_DISCONNECTED:
                self.subscribers = max(0, self.subscribers - 1)

    def snapshot(self, running: bool = True) -> dict[str, Any]:
        self._drain()
        rec = self.recovery
        return {"pid": os.getpid(), "ts": time.time(), "running": running, "session": self.session,
                "zmq_endpoint": self.zmq_endpoint,
                "zmq_subscribers": self.subscribers if self._monitor is not None else None,
                "zmq_connections_total": self.connections_total if self._monitor is not None else None,
                "recovery_address": f"{rec.address[0]}:{rec.address[1]}" if rec else None,
                "recovery_sessions": rec.connections if rec else None,
                "recovery_requests": rec.requests if rec else None,
                "recovery_errors": rec.errors if rec else None,
                "udp": self.udp, "udp_receivers_countable": False}

    def write(self, running: bool = True) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(running)))
        os.replace(tmp, self.path)

    def close(self) -> None:
        """Stops the monitor before closing its socket: a monitored socket left sending events to a
        closed inproc pair stalls its context's I/O thread, and with it every other socket of the
        process on that context (zmq.Context.instance() is shared)."""
        if self._monitor is not None:
            if self._socket is not None and not self._socket.closed:
                self._socket.disable_monitor()
            self._monitor.close(0)
            self._monitor = None
