"""Producer and subscriber faces of a running engine (``python -m gateway engine``).

EngineClient claims a producer slot, then submits commands through that slot's SPSC ring and
collects one reply per command from its reply ring: one C call per batch
(runner_client_submit), so Python never crosses into C per record. EventStream reads the
engine's broadcast log. Both validate the segments on attach (shm.segment)."""
from __future__ import annotations

import os
from typing import Any, Sequence

import msgspec
import numpy as np

from native import records
from native._venue import ffi, lib
from native.messages import Command, Event
from shm.engine_segments import cmd_path, control_path, events_path, reply_path
from shm.errors import RingInvalid, ShmError, check
from shm.segment import KIND_BROADCAST, KIND_CONTROL, KIND_SPSC, Segment
from shm.rings import BroadcastReader

REPLY_DTYPE = np.dtype({"names": ["seq", "ts_ns", "event_count"],
                        "formats": ["<u8", "<i8", "<u4"],
                        "offsets": [ffi.offsetof("ring_reply_t", "seq"),
                                    ffi.offsetof("ring_reply_t", "ts_ns"),
                                    ffi.offsetof("ring_reply_t", "event_count")],
                        "itemsize": ffi.sizeof("ring_reply_t")})
_FIRST = ffi.offsetof("ring_reply_t", "first")
EVENT_BYTES = ffi.sizeof("eng_evt_t")
DEFAULT_STALE_NS = 2_000_000_000


class Reply(msgspec.Struct, frozen=True):
    """One ring_reply_t: the engine's answer to one command."""

    seq: int                        # the sequence the engine gave the command (0: malformed)
    ts_ns: int
    event_count: int
    first_event: Event              # its first event, decoded by native.records


def decode_replies(raw: np.ndarray) -> list[Reply]:
    """ring_reply_t records (a uint8 or REPLY_DTYPE array) -> Reply objects."""
    arr = np.ascontiguousarray(raw).view(np.uint8).reshape(-1, REPLY_DTYPE.itemsize)
    head = arr.view(REPLY_DTYPE).reshape(-1)
    events = records.decode_events(arr[:, _FIRST:_FIRST + EVENT_BYTES].copy())
    return [Reply(int(h["seq"]), int(h["ts_ns"]), int(h["event_count"]), ev)
            for h, ev in zip(head, events)]


class EngineClient:
    """One producer of one engine. Not thread-safe: one client per thread."""

    def __init__(self, name: str, directory: str | None = None,
                 timeout_ns: int = 5_000_000_000, stale_ns: int = DEFAULT_STALE_NS,
                 spin: bool = False) -> None:
        self.name = name
        self.timeout_ns = timeout_ns
        self.control = Segment.attach(control_path(name, directory), KIND_CONTROL, 0, stale_ns)
        self._pid = os.getpid()
        slot = lib.runner_slot_claim(self.control.handle, self._pid)
        check(slot, self.control.path)
        self.slot = slot
        try:
            self.cmd_seg = Segment.attach(cmd_path(name, slot, directory), KIND_SPSC, 0, stale_ns)
            self.reply_seg = Segment.attach(reply_path(name, slot, directory), KIND_SPSC, 0,
                                            stale_ns)
        except BaseException:
            lib.runner_slot_release(self.control.handle, slot, self._pid)
            raise
        self._cmd = ffi.new("ring_spsc_t *")
        self._reply = ffi.new("ring_spsc_t *")
        check(lib.ring_spsc_init(self._cmd, self.cmd_seg.handle), self.cmd_seg.path)
        check(lib.ring_spsc_init(self._reply, self.reply_seg.handle), self.reply_seg.path)
        c = ffi.new("runner_client_t *")
        c.control = ffi.cast("ring_control_t *", self.control.handle.ctl)
        c.control_seg = self.control.handle
        c.cmd = self._cmd
        c.reply = self._reply
        ctl = c.control
        # The engine never sleeps in SPIN mode, so ringing its doorbell would only cost a fence.
        c.engine_bell = ffi.NULL if ctl.wait_mode == lib.RING_WAIT_SPIN else ffi.addressof(
            ctl, "engine_bell")
        mode = lib.RING_WAIT_SPIN if spin else lib.RING_WAIT_BACKOFF
        check(lib.ring_wait_init(ffi.addressof(c, "wait"), mode, 2000, 50, 1_000_000))
        c.slot = slot
        c.pid = self._pid
        self.handle: Any = c
        self._done = ffi.new("uint32_t *")
        self._one_reply = np.zeros(ffi.sizeof("ring_reply_t"), dtype=np.uint8)

    def submit_records(self, cmds: np.ndarray) -> np.ndarray:
        """Submits n 96-byte command records (records.RECORD_DTYPE or uint8[n, 96]) and returns
        their n replies as a uint8 array [n, sizeof(ring_reply_t)]; replies[i] answers cmds[i].
        Raises RingTimeout, SegmentClosed (the engine stopped), RingInvalid."""
        recs = np.ascontiguousarray(cmds).view(np.uint8)
        if recs.size % records.RECORD_SIZE:
            raise RingInvalid(f"{self.cmd_seg.path}: commands must be 96-byte records")
        n = recs.size // records.RECORD_SIZE
        out = np.zeros((n, ffi.sizeof("ring_reply_t")), dtype=np.uint8)
        if n == 0:
            return out
        rc = lib.runner_client_submit(self.handle, ffi.cast("eng_cmd_t *", ffi.from_buffer(recs)),
                                      n, ffi.cast("ring_reply_t *", ffi.from_buffer(out)),
                                      self.timeout_ns, self._done)
        check(rc, self.cmd_seg.path)
        return out

    def submit(self, command: Command) -> Reply:
        """Submits one command Struct (native.messages) and waits for its reply."""
        return decode_replies(self.submit_records(np.frombuffer(records.encode_command(command),
                                                                dtype=np.uint8)))[0]

    def submit_many(self, commands: Sequence[Command]) -> list[Reply]:
        return decode_replies(self.submit_records(records.encode_commands(commands)))

    def submit_bytes(self, record: bytes) -> None:
        """Latency path for one pre-encoded 96-byte record: reply left in last_reply_raw."""
        rc = lib.runner_client_submit(self.handle, ffi.cast("eng_cmd_t *", ffi.from_buffer(record)),
                                      1, ffi.cast("ring_reply_t *",
                                                  ffi.from_buffer(self._one_reply)),
                                      self.timeout_ns, self._done)
        if rc != 0:
            check(rc, self.cmd_seg.path)

    @property
    def cmd_ring(self) -> Any:
        """This producer's command ring (a cffi ring_spsc_t *), for C code that writes it directly
        (the gateway's engine bridge); valid until close()."""
        return self._cmd

    @property
    def reply_ring(self) -> Any:
        """This producer's reply ring (a cffi ring_spsc_t *); valid until close()."""
        return self._reply

    @property
    def last_reply_raw(self) -> np.ndarray:
        return self._one_reply

    def close(self) -> None:
        """Frees the producer slot and unmaps. Safe to call twice."""
        if getattr(self, "handle", None) is None:
            return
        lib.runner_slot_release(self.control.handle, self.slot, self._pid)
        for seg in (self.cmd_seg, self.reply_seg, self.control):
            seg.detach()
        self.handle = None

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventStream:
    """A reader of one engine's event log; starts at the current end of the log."""

    def __init__(self, name: str, directory: str | None = None,
                 stale_ns: int = DEFAULT_STALE_NS, buffer_events: int = 1 << 14) -> None:
        self.segment = Segment.attach(events_path(name, directory), KIND_BROADCAST, 0, stale_ns)
        self.reader = BroadcastReader(self.segment,
                                      buffer_bytes=buffer_events * (8 + EVENT_BYTES))

    def poll(self, max_events: int = 1 << 14) -> tuple[np.ndarray, bool]:
        """Up to max_events event records (uint8 [n, 96] copy) and whether a lap cut them short
        (events were lost: resync from a snapshot of the books)."""
        types, payloads, lapped = self.reader.poll_fixed(EVENT_BYTES, max_events)
        if len(types) and not np.all(types == lib.RING_MSG_ENG_EVT):
            raise ShmError(f"{self.segment.path}: a record that is not an engine event")
        return payloads, lapped

    def poll_decoded(self, max_events: int = 1 << 14) -> tuple[list[Event], bool]:
        payloads, lapped = self.poll(max_events)
        return records.decode_events(payloads), lapped

    def close(self) -> None:
        self.segment.detach()
