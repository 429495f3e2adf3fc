"""Python faces of the two ring kinds. Writes and every cursor move go through C (which carries
the acquire/release); reads give numpy views or copies made by C in one call per batch.

SpscProducer / SpscConsumer wrap one side of an SPSC ring each; BroadcastReader keeps its own
cursor over the broadcast log. None of these is thread-safe: one handle, one thread."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from native._venue import ffi, lib
from shm.errors import RingEmpty, check
from shm.segment import KIND_BROADCAST, KIND_SPSC, Segment

RECORD_HDR = lib.RING_RECORD_HDR_BYTES


class Message(NamedTuple):
    type: int
    payload: np.ndarray             # uint8 view into the ring; valid until release()


class SpscProducer:
    def __init__(self, segment: Segment) -> None:
        if segment.kind != KIND_SPSC:
            raise ValueError(f"{segment.path} is not an SPSC segment")
        self.segment = segment
        self.ring = ffi.new("ring_spsc_t *")
        check(lib.ring_spsc_init(self.ring, segment.handle), segment.path)
        self._data = segment.data()

    def write(self, type_: int, payload: bytes | bytearray | memoryview | np.ndarray) -> None:
        """Writes one record; raises RingFull (nothing written: retry), RingInvalid."""
        buf = ffi.from_buffer(payload)
        check(lib.ring_spsc_write(self.ring, type_, buf, len(buf)), self.segment.path)

    def claim(self, type_: int, length: int) -> tuple[int, np.ndarray]:
        """Claims room; returns (offset, writable view). Fill it, then commit(offset)."""
        off = check(lib.ring_spsc_claim(self.ring, type_, length), self.segment.path)
        return off, self._data[off:off + length]

    def commit(self, offset: int) -> None:
        check(lib.ring_spsc_commit(self.ring, offset), self.segment.path)

    def abort(self, offset: int) -> None:
        check(lib.ring_spsc_abort(self.ring, offset), self.segment.path)

    @property
    def full_count(self) -> int:
        return int(self.ring.full_count)


class SpscConsumer:
    def __init__(self, segment: Segment, batch_max: int = 256) -> None:
        if segment.kind != KIND_SPSC:
            raise ValueError(f"{segment.path} is not an SPSC segment")
        self.segment = segment
        self.ring = ffi.new("ring_spsc_t *")
        check(lib.ring_spsc_init(self.ring, segment.handle), segment.path)
        self._data = segment.data()
        self._msgs = ffi.new("ring_msg_t[]", batch_max)
        self._batch_max = batch_max

    def read_batch(self, max_records: int | None = None) -> list[Message]:
        """Up to max_records complete records as zero-copy views (one C call). The views stay
        valid until release(); call it once per batch."""
        n = lib.ring_spsc_read_batch(self.ring, self._msgs, min(max_records or self._batch_max,
                                                                self._batch_max))
        out = []
        for i in range(n):
            m = self._msgs[i]
            out.append(Message(int(m.type), self._data[m.offset:m.offset + m.length]))
        return out

    def read_one(self) -> Message:
        """The next record (a view, valid until release()); raises RingEmpty if none."""
        msgs = self.read_batch(1)
        if not msgs:
            raise RingEmpty(f"{self.segment.path}: nothing to read")
        return msgs[0]

    def release(self) -> int:
        """Hands consumed bytes back to the producer (one head store). Returns bytes freed."""
        return int(lib.ring_spsc_release(self.ring))


class Batch(NamedTuple):
    types: np.ndarray               # int32 per record
    payloads: list[np.ndarray]      # uint8 copies, one per record
    lapped: bool                    # a lap ended this batch: records after the gap are lost


class BroadcastReader:
    """One reader of the broadcast log; starts at the current tail."""

    def __init__(self, segment: Segment, buffer_bytes: int = 1 << 20) -> None:
        if segment.kind != KIND_BROADCAST:
            raise ValueError(f"{segment.path} is not a broadcast segment")
        self.segment = segment
        self.rx = ffi.new("ring_bcast_rx_t *")
        check(lib.ring_bcast_rx_init(self.rx, segment.handle), segment.path)
        self._buf = np.zeros(buffer_bytes, dtype=np.uint8)
        self._cbuf = ffi.from_buffer(self._buf)
        self._lapped = ffi.new("uint32_t *")
        self._used = ffi.new("uint64_t *")

    def poll_raw(self, max_records: int = 1 << 16) -> tuple[np.ndarray, int, bool]:
        """Copies up to max_records framed records (8-byte header + payload padded to 8) into
        this reader's buffer in one C call. Returns (bytes view, record count, lapped)."""
        n = check(lib.ring_bcast_receive_batch(self.rx, self._cbuf, len(self._buf), max_records,
                                               self._lapped, self._used), self.segment.path)
        return self._buf[:int(self._used[0])], n, bool(self._lapped[0])

    def poll_fixed(self, payload_bytes: int, max_records: int = 1 << 16
                   ) -> tuple[np.ndarray, np.ndarray, bool]:
        """For logs whose records all carry payload_bytes (a multiple of 8), e.g. engine events:
        returns (types int32[n], payloads uint8[n, payload_bytes] copy, lapped)."""
        raw, n, lapped = self.poll_raw(max_records)
        rec = RECORD_HDR + payload_bytes
        if len(raw) != n * rec:
            raise ValueError(f"{self.segment.path}: records are not all {payload_bytes} bytes")
        grid = raw.reshape(n, rec)
        return grid[:, 4:8].copy().view(np.int32).reshape(n), grid[:, RECORD_HDR:].copy(), lapped

    @property
    def lapped_count(self) -> int:
        return int(self.rx.lapped)

    @property
    def received(self) -> int:
        return int(self.rx.received)

    def backlog_bytes(self) -> int:
        return int(lib.ring_bcast_backlog(self.rx))


class BroadcastWriter:
    """The log's single writer (the engine in production; tests and benches use this)."""

    def __init__(self, segment: Segment) -> None:
        if segment.kind != KIND_BROADCAST:
            raise ValueError(f"{segment.path} is not a broadcast segment")
        self.segment = segment
        self.tx: Any = ffi.new("ring_bcast_tx_t *")
        check(lib.ring_bcast_tx_init(self.tx, segment.handle), segment.path)

    def transmit(self, type_: int, payload: bytes | bytearray | memoryview | np.ndarray) -> None:
        buf = ffi.from_buffer(payload)
        check(lib.ring_bcast_transmit(self.tx, type_, buf, len(buf)), self.segment.path)
