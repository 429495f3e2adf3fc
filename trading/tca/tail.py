"""Released events of a journal directory, batch by batch, as raw 96-byte records: the live
counterpart of tape.load_tape for incremental monitoring. Built on the journal's own tailing
reader (native/journal/jrnl_cursor.h: jrnl_tail_events, the reader the control plane's history
uses), which returns only what the engine has released, so a follower never sees a command's
events half written."""
from __future__ import annotations

from typing import Any

import numpy as np

from gateway.enginehost import journal
from native import records
from native._venue import ffi, lib
from trading.tca.errors import CorruptJournal, TcaInputError


class EventTail:
    """A forward-only cursor over released events; poll() returns the next batch (possibly empty)."""

    def __init__(self, directory: str, batch: int = 1 << 15) -> None:
        self._cur: Any = ffi.new("jrnl_cursor_t *")
        rc = lib.jrnl_cursor_open(self._cur, directory.encode(), journal.KIND_EVT)
        if rc != 0:
            raise TcaInputError(f"{directory}: cannot open the event journal ({rc})")
        self._buf = np.zeros((batch, records.RECORD_SIZE), dtype=np.uint8)
        self.directory = directory

    def poll(self) -> np.ndarray:
        n = lib.jrnl_tail_events(self._cur, ffi.cast("eng_evt_t *", ffi.from_buffer(self._buf)), len(self._buf))
        if n < 0:
            msg = ffi.string(self._cur.message).decode(errors="replace")
            raise CorruptJournal(f"{self.directory}: event journal cannot be read: {msg or n}")
        return self._buf[:n].copy()

    def close(self) -> None:
        if self._cur is not None:
            lib.jrnl_cursor_close(self._cur)
            self._cur = None
