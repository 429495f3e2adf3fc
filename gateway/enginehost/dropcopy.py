"""``python -m gateway dropcopy``: a read-only consumer of the engine's event journal that streams
every execution report (accepted, rejected, trade, cancelled, replaced, expired, triggered) to a
JSON-lines file and to a ZeroMQ PUB socket (topic = event type) for the control plane and
compliance.

It reads the event journal, not the broadcast log: the journal is complete (a slow drop copy is
never lapped), holds only what the engine released (records up to the writer's released_seq,
so never an event that was not durable per the venue's durability mode), and survives restarts
of the engine and of the drop copy. A restarted drop copy resumes after the last (seq, index) in
its file; deleting the file rebuilds it from the whole journal. One C call per batch of events
(jrnl_tail_events); the JSON encoding per event is Python, off the order path.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any

import msgspec
import numpy as np
import zmq

from gateway.enginehost import journal
from native import records
from native._venue import ffi, lib
from native.messages import (AcceptedEvent, CancelledEvent, ExpiredEvent, RejectedEvent, ReplacedEvent,
                             TradeEvent, TriggeredEvent)

# The order lifecycle events a drop copy reports (book levels, phases, auctions and acks are not).
REPORT_EVENTS = (AcceptedEvent, RejectedEvent, TradeEvent, CancelledEvent, ReplacedEvent, ExpiredEvent,
                 TriggeredEvent)


class NotADropCopyFile(ValueError):
    """--out names a file this drop copy did not write: resuming (and cutting a torn last line)
    would damage someone else's file."""


def _record_position(line: bytes, path: str) -> tuple[int, int]:
    """(seq, index) of one drop-copy line; NotADropCopyFile when it is not one."""
    try:
        rec = json.loads(line)
    except ValueError:              # JSONDecodeError and UnicodeDecodeError alike
        rec = None
    if not (isinstance(rec, dict) and isinstance(rec.get("seq"), int) and isinstance(rec.get("index"), int)):
        raise NotADropCopyFile(f"{path}: not a drop-copy file (its last line is not a report with seq and "
                               "index); give a new file or one this drop copy wrote")
    return int(rec["seq"]), int(rec["index"])


def _resume_point(path: str) -> tuple[int, int]:
    """(seq, index) of the last complete line of an existing drop-copy file, (0, -1) if none.
    A torn last line (the drop copy died inside a write) is cut off, only once the last complete
    line shows the file is a drop copy's (a lone torn line only when it starts as a record does)."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return 0, -1
    with open(path, "rb+") as f:
        data = f.read()
        end = data.rfind(b"\n") + 1
        if end == 0:
            if not data.startswith(b'{"'):
                raise NotADropCopyFile(f"{path}: not a drop-copy file (one line that is not a report)")
            f.truncate(0)
            return 0, -1
        position = _record_position(data[data.rfind(b"\n", 0, end - 1) + 1:end], path)
        if end != len(data):
            f.truncate(end)
    return position


class DropCopy:
    """Tails one event journal; run() until stopped, or poll_once() for embedding and tests."""

    HOLD_EVERY_S = 1.0

    def __init__(self, journal_dir: str, out_path: str, zmq_endpoint: str | None,
                 batch: int = 4096, hold: str | None = "dropcopy") -> None:
        self.cursor: Any = ffi.new("jrnl_cursor_t *")
        journal.check(lib.jrnl_cursor_open(self.cursor, journal_dir.encode(), journal.KIND_EVT))
        self.resume_seq, self.resume_index = _resume_point(out_path)
        self.out = open(out_path, "ab")
        self.ctx: zmq.Context[Any] | None = None
        self.pub: zmq.Socket[Any] | None = None
        if zmq_endpoint:
            self.ctx = zmq.Context()
            self.pub = self.ctx.socket(zmq.PUB)
            # PUB drops for a subscriber that lags by more than its high-water mark (the file
            # is the complete record); the default 1000 is one burst of a busy second.
            self.pub.setsockopt(zmq.SNDHWM, 1 << 20)
            self.pub.bind(zmq_endpoint)
        self.buf = np.zeros((batch, records.RECORD_SIZE), dtype=np.uint8)
        self.last_seq = 0
        self.index = -1
        self.reports = 0
        self.encoder = msgspec.json.Encoder()
        # The journal's retention (--journal-keep-snapshots) never removes events this reader
        # still needs: it keeps a hold file saying which seqs its output has durably.
        self.journal_dir = journal_dir
        self.hold = hold
        self.held_seq = -1
        self.hold_at = 0.0
        if hold:
            self._write_hold(max(self.resume_seq - 1, 0))

    def poll_once(self) -> int:
        """Reads the released events not read yet and writes their reports; returns how many
        events it read (0: nothing new)."""
        n = lib.jrnl_tail_events(self.cursor, ffi.cast("eng_evt_t *", ffi.from_buffer(self.buf)),
                                 len(self.buf))
        journal.check(n, ffi.string(self.cursor.message).decode(errors="replace"))
        written = 0
        for event in records.decode_events(self.buf[:n]):
            seq = int(event.seq)
            self.index = self.index + 1 if seq == self.last_seq else 0
            self.last_seq = seq
            if (seq, self.index) <= (self.resume_seq, self.resume_index):
                continue
            if not isinstance(event, REPORT_EVENTS):
                continue
            ev: dict[str, int | str] = {**records.to_dict(event), "index": self.index}  # one report line
            line = self.encoder.encode(ev)
            self.out.write(line + b"\n")
            if self.pub is not None:
                self.pub.send_multipart([str(ev["type"]).encode(), line])
            written += 1
        if written:
            self.out.flush()
        self.reports += written
        if self.hold and n and time.monotonic() - self.hold_at >= self.HOLD_EVERY_S:
            self.sync_hold()
        return n

    def _write_hold(self, seq: int) -> None:
        journal.check(lib.jrnl_hold_write(self.journal_dir.encode(), self.hold.encode(), seq),
                      f"{self.journal_dir}: cannot write hold-{self.hold}")
        self.held_seq = seq
        self.hold_at = time.monotonic()

    def sync_hold(self) -> None:
        """Makes the output durable, then moves the hold up to the last seq it holds in full
        (the current seq may have more events to come)."""
        seq = max(self.last_seq - 1, 0)
        if not self.hold or seq <= self.held_seq:
            return
        self.out.flush()
        os.fsync(self.out.fileno())
        self._write_hold(seq)

    def close(self) -> None:
        if self.hold:
            self.sync_hold()
        lib.jrnl_cursor_close(self.cursor)
        self.out.close()
        if self.pub is not None:
            self.pub.close(linger=100)
        if self.ctx is not None:
            self.ctx.term()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m gateway dropcopy",
                                description="Stream every execution report from an engine's "
                                            "event journal to a file and a ZeroMQ PUB socket.")
    p.add_argument("--journal", required=True, help="the engine's journal directory")
    p.add_argument("--out", required=True, help="JSON-lines file (resumed if it exists)")
    p.add_argument("--zmq", default=None, help="PUB endpoint to bind, e.g. tcp://127.0.0.1:5599")
    p.add_argument("--poll-ms", type=float, default=5.0, help="sleep when nothing is new")
    p.add_argument("--exit-at-end", action="store_true",
                   help="stop once everything released so far is written (rebuild mode)")
    p.add_argument("--hold", default="dropcopy", metavar="NAME",
                   help="name of this reader's hold file in the journal directory (hold-NAME), "
                        "which keeps journal retention from removing events it has not written "
                        "yet (default: dropcopy); '' for none")
    args = p.parse_args(argv)
    if args.hold and ("/" in args.hold or "." in args.hold):
        p.error(f"--hold {args.hold!r}: a name without '/' or '.'")
    if not 0 <= args.poll_ms <= 60_000:         # NaN fails too; a negative sleep raised mid-run
        p.error(f"--poll-ms must be 0..60000, got {args.poll_ms}")
    if not os.path.isdir(args.journal):
        p.error(f"--journal {args.journal!r} is not a directory")
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(flag=True))
    try:
        dc = DropCopy(args.journal, args.out, args.zmq, hold=args.hold or None)
    except (journal.JournalError, OSError, zmq.ZMQError, NotADropCopyFile) as exc:
        print(f"dropcopy: {exc}", file=sys.stderr)
        return 1
    print(f"dropcopy: {args.journal} -> {args.out}"
          f"{' and ' + args.zmq if args.zmq else ''}", file=sys.stderr, flush=True)
    try:
        while not stop["flag"]:
            if dc.poll_once() == 0:
                if args.exit_at_end:
                    break
                time.sleep(args.poll_ms / 1000)   # idle poll of a file tail
    except journal.JournalError as exc:
        print(f"dropcopy: {exc}", file=sys.stderr)
        return 1
    finally:
        dc.close()
    print(f"dropcopy: stopped after {dc.reports} reports", file=sys.stderr, flush=True)
    return 0
