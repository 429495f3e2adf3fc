"""One watcher for the venue config file, shared by everything that rotates state without a restart
(the control plane's users and CurveZMQ client keys, `up`'s gateway session credentials).

Polling, not inotify: the file is checked at most once per interval by whoever owns a loop already,
so no thread and no descriptor is added. A change is the modification time (ns) differing from the
last one seen, in either direction (an editor restoring a backup moves it backwards). A config that
no longer loads is handed to `on_error` and changes nothing; the next edit is checked again."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from gateway.control.config import ConfigError, load_config


class ConfigFileWatcher:
    """load: what reads the file (a venue file by default; gateway/venues/up.py watches a
    multi-venue file with load_multi_config); it raises ConfigError for a file that does not load."""
    CHECK_INTERVAL_S = 1.0

    def __init__(self, path: str, on_loaded: Callable[[Any], None],
                 on_error: Callable[[ConfigError], None],
                 load: Callable[[str], Any] = load_config) -> None:
        self.path = path
        self.on_loaded = on_loaded
        self.on_error = on_error
        self.load = load
        self.next_check = 0.0
        self.mtime = self._mtime()

    def _mtime(self) -> int:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return -1

    def poll(self, now: float) -> None:
        """Called from the owner's loop with a monotonic `now` (seconds)."""
        if now < self.next_check:
            return
        self.next_check = now + self.CHECK_INTERVAL_S
        mtime = self._mtime()
        if mtime == self.mtime:
            return
        self.mtime = mtime
        try:
            cfg = self.load(self.path)
        except ConfigError as exc:
            self.on_error(exc)
            return
        self.on_loaded(cfg)
