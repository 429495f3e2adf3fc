"""The broadcast writer never waits: a reader that falls more than the capacity behind is told
it was lapped (and counts it), resumes at the latest record, and never returns torn bytes; a
reader killed with SIGKILL does not hold the writer up."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from native._venue import ffi, lib
from shm import errors
from shm.rings import BroadcastReader, BroadcastWriter
from shm.segment import KIND_BROADCAST, Segment

from .conftest import Child, stress_dict

TIMEOUT_NS = 10_000_000_000


def test_reader_behind_by_more_than_capacity_reports_lapped(seg_name):
    seg = Segment.create(seg_name("lap1"), KIND_BROADCAST, 1024)
    writer, reader = BroadcastWriter(seg), BroadcastReader(seg)
    for i in range(100):                        # 100 * 24 bytes > 1024
        writer.transmit(5, i.to_bytes(8, "little") * 2)
    raw, n, lapped = reader.poll_raw()
    assert (n, lapped, reader.lapped_count) == (0, True, 1)
    raw, n, lapped = reader.poll_raw()          # resumes at the latest record
    assert (n, lapped) == (1, False)
    assert raw[8:16].view("<u8")[0] == 99
    seg.close()


def test_reader_within_capacity_sees_everything_across_wrap(seg_name):
    seg = Segment.create(seg_name("lap2"), KIND_BROADCAST, 1024)
    writer, reader = BroadcastWriter(seg), BroadcastReader(seg)
    seen = []
    for i in range(200):
        writer.transmit(5, i.to_bytes(8, "little") * 5)   # 48-byte records: pads at the end
        types, payloads, lapped = reader.poll_fixed(40)
        assert not lapped
        seen += [int(p[:8].view("<u8")[0]) for p in payloads]
    assert seen == list(range(200))
    seg.close()


def test_lapped_reader_across_processes_never_returns_torn_bytes(seg_name):
    seg = Segment.create(seg_name("lap3"), KIND_BROADCAST, 4096)
    rx = ffi.new("ring_bcast_rx_t *")
    lib.ring_bcast_rx_init(rx, seg.handle)
    n = 400_000

    def slow_reader() -> dict[str, int]:
        res = ffi.new("ring_stress_result_t *")
        lib.ring_stress_bcast_receive(rx, n, 8, 200, ffi.NULL, 200, TIMEOUT_NS, res)
        return stress_dict(res)

    reader = Child(slow_reader)
    tx = ffi.new("ring_bcast_tx_t *")
    lib.ring_bcast_tx_init(tx, seg.handle)
    res = ffi.new("ring_stress_result_t *")
    lib.ring_stress_bcast_transmit(tx, n, 8, 200, ffi.NULL, 0, 0, 0, TIMEOUT_NS, res)
    got = reader.result()
    seg.close()
    assert res.rc == 0 and res.records == n
    assert got["corrupt"] == 0 and got["out_of_order"] == 0, got
    assert got["lapped"] > 0 and got["skipped"] > 0, f"the slow reader was never lapped: {got}"
    assert got["records"] + got["skipped"] <= n


def _reader_forever(path: str) -> None:
    seg = Segment.attach(path, KIND_BROADCAST)
    rx = ffi.new("ring_bcast_rx_t *")
    lib.ring_bcast_rx_init(rx, seg.handle)
    res = ffi.new("ring_stress_result_t *")
    lib.ring_stress_bcast_receive(rx, 1 << 62, 8, 64, ffi.NULL, 0, 60_000_000_000, res)


def test_killed_reader_does_not_block_writer(seg_name):
    seg = Segment.create(seg_name("kill"), KIND_BROADCAST, 4096)
    child = Child(_reader_forever, seg.path)
    tx = ffi.new("ring_bcast_tx_t *")
    lib.ring_bcast_tx_init(tx, seg.handle)
    res = ffi.new("ring_stress_result_t *")
    lib.ring_stress_bcast_transmit(tx, 10_000, 8, 64, ffi.NULL, 0, 0, 0, TIMEOUT_NS, res)
    os.kill(child.proc.pid, signal.SIGKILL)
    child.proc.join(10)
    assert child.proc.exitcode == -signal.SIGKILL
    lib.ring_stress_bcast_transmit(tx, 200_000, 8, 64, ffi.NULL, 0, 0, 0, TIMEOUT_NS, res)
    assert res.rc == 0 and res.records == 200_000
    seg.close()


def _consume_some_then_hang(path: str) -> None:
    from shm.rings import SpscConsumer
    from shm.segment import KIND_SPSC
    cons = SpscConsumer(Segment.attach(path, KIND_SPSC))
    while not cons.read_batch(4):
        pass
    cons.release()
    os.kill(os.getpid(), signal.SIGSTOP)   # parked until the parent kills it


def test_spsc_producer_facing_killed_consumer_gets_full_not_stuck(seg_name):
    from shm.rings import SpscProducer
    from shm.segment import KIND_SPSC
    seg = Segment.create(seg_name("killc"), KIND_SPSC, 1024)
    prod = SpscProducer(seg)
    child = Child(_consume_some_then_hang, seg.path)
    prod.write(3, bytes(24))
    os.kill(child.proc.pid, signal.SIGKILL)
    child.proc.join(10)
    with pytest.raises(errors.RingFull):       # a dead consumer: the producer sees FULL
        for _ in range(1000):
            prod.write(3, bytes(24))
    seg.close()
