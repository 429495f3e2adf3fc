"""The venue's past, read back from the engine's journals, so that a (re)started control plane
knows everything that happened before it attached: orders, positions and P&L, phases (from the
event journal) and every run-time change (kill switches, engine-enforced and post-trade limits:
from the command journal, applied when the event journal holds their CMD_ACK).

Why the journals and not the broadcast log: the log is a ring that only holds the recent past,
and an engine that recovered from its journal starts a fresh, empty log. The journals hold the
whole history from seq 1 (segments are never pruned) and survive every restart.

Reads go through the journal's own readers (native/journal/jrnl_cursor.h: jrnl_tail_events for the events,
jrnl_cursor_read for the commands), one C call per batch; record shapes come from
native/records.py. Only what the engine has released is read from the event journal (records up
to the writer's released_seq, whole commands), and released_seq is published before the events go
on the broadcast log (runner_release), so "journal up to seq R, then the live log from seq R + 1"
misses nothing and counts nothing twice.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gateway.enginehost import journal
from native import records
from native.messages import Command, Event
from native._venue import ffi, lib

BATCH = 4096
_HDR_DTYPE = np.dtype({"names": ["seq", "index"], "formats": ["<u8", "<u4"],
                       "offsets": [ffi.offsetof("jrnl_rec_hdr_t", "seq"),
                                   ffi.offsetof("jrnl_rec_hdr_t", "index")],
                       "itemsize": ffi.sizeof("jrnl_rec_hdr_t")})


def _message(cursor: Any) -> str:
    text: bytes = ffi.string(cursor.message)
    return text.decode(errors="replace")


class JournalHistory:
    """Two forward-only cursors over one journal directory: released events, and commands up to
    a given seq. Raises journal.JournalError (corrupt record, other layout version, ...)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._evt: Any = ffi.new("jrnl_cursor_t *")
        self._cmd: Any = ffi.new("jrnl_cursor_t *")
        journal.check(lib.jrnl_cursor_open(self._evt, directory.encode(), journal.KIND_EVT))
        journal.check(lib.jrnl_cursor_open(self._cmd, directory.encode(), journal.KIND_CMD))
        self._evbuf = np.zeros((BATCH, records.RECORD_SIZE), dtype=np.uint8)
        self._hdrs = np.zeros(BATCH, dtype=_HDR_DTYPE)
        self._pays = np.zeros((BATCH, records.RECORD_SIZE), dtype=np.uint8)
        self.last_event_seq = 0      # seq of the last event read
        self.last_command_seq = 0    # seq of the last command read

    def released_events(self) -> list[Event]:
        """Every released event not read yet, in journal order (decoded Event Structs)."""
        out: list[Event] = []
        while True:
            n = lib.jrnl_tail_events(self._evt, ffi.cast("eng_evt_t *", ffi.from_buffer(self._evbuf)),
                                     BATCH)
            journal.check(n, _message(self._evt))
            if n == 0:
                break
            out += records.decode_events(self._evbuf[:n])
        if out:
            self.last_event_seq = int(out[-1].seq)
        return out

    def commands_through(self, seq: int) -> list[Command]:
        """The commands with seq <= `seq` not read yet (decoded Command Structs, seq order)."""
        out: list[Command] = []
        while True:
            n = lib.jrnl_cursor_read(self._cmd, seq,
                                     ffi.cast("jrnl_rec_hdr_t *", ffi.from_buffer(self._hdrs)),
                                     ffi.cast("uint8_t *", ffi.from_buffer(self._pays)), BATCH)
            journal.check(n, _message(self._cmd))
            if n == 0:
                break
            out += records.decode_commands(self._pays[:n])
            if n < BATCH:
                break
        if out:
            self.last_command_seq = int(out[-1].seq)
        return out

    def close(self) -> None:
        for cur in (self._evt, self._cmd):
            if cur is not None:
                lib.jrnl_cursor_close(cur)
        self._evt = self._cmd = None
