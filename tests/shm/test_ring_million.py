"""A million numbered, self-checking records through each ring kind, between real processes:
in order, none lost, none duplicated, every byte as written, with many wrap-arounds (small
rings) and the producer hitting FULL along the way."""
from __future__ import annotations

import mmap

import numpy as np

from native._venue import ffi, lib
from shm.segment import KIND_BROADCAST, KIND_SPSC, Segment

from .conftest import Child, stress_dict

N = 1_000_000
MIN_LEN, MAX_LEN = 8, 120
TIMEOUT_NS = 20_000_000_000
EXPECTED_SUM = N * (N - 1) // 2


def _spsc_producer(path: str) -> dict[str, int]:
    seg = Segment.attach(path, KIND_SPSC)
    ring = ffi.new("ring_spsc_t *")
    lib.ring_spsc_init(ring, seg.handle)
    res = ffi.new("ring_stress_result_t *")
    lib.ring_stress_spsc_produce(ring, N, MIN_LEN, MAX_LEN, TIMEOUT_NS, res)
    return stress_dict(res)


def test_spsc_million_records_in_order_without_loss_or_duplication(seg_name):
    seg = Segment.create(seg_name("spsc1m"), KIND_SPSC, 1 << 14)
    ring = ffi.new("ring_spsc_t *")
    lib.ring_spsc_init(ring, seg.handle)
    producer = Child(_spsc_producer, seg.path)
    res = ffi.new("ring_stress_result_t *")
    lib.ring_stress_spsc_consume(ring, N, MIN_LEN, MAX_LEN, TIMEOUT_NS, res)
    got, sent = stress_dict(res), producer.result()
    seg.close()
    assert sent["rc"] == 0 and sent["records"] == N
    assert got["rc"] == 0, f"consumer stopped with {got['rc']} after {got['records']} records"
    assert (got["records"], got["out_of_order"], got["corrupt"]) == (N, 0, 0)
    assert got["checksum"] == EXPECTED_SUM == sent["checksum"]
    assert got["bytes"] == sent["bytes"] > 16 * ring.capacity   # wrapped many times


STRIDE = 16                         # progress counters 128 bytes apart
READY = 8 * STRIDE                  # ready flags after the counters


def _bcast_reader(path: str, area: mmap.mmap, index: int) -> dict[str, int]:
    seg = Segment.attach(path, KIND_BROADCAST)
    rx = ffi.new("ring_bcast_rx_t *")
    lib.ring_bcast_rx_init(rx, seg.handle)
    words = ffi.cast("uint64_t *", ffi.from_buffer(area))
    words[READY + index * STRIDE] = 1   # attached: the writer may start
    res = ffi.new("ring_stress_result_t *")
    lib.ring_stress_bcast_receive(rx, N, MIN_LEN, MAX_LEN, words + index * STRIDE, 0, TIMEOUT_NS,
                                  res)
    return stress_dict(res)


def test_broadcast_million_records_reach_three_readers_in_order(seg_name):
    seg = Segment.create(seg_name("bc1m"), KIND_BROADCAST, 1 << 20)
    area = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED)
    readers = [Child(_bcast_reader, seg.path, area, i) for i in range(3)]
    words = np.frombuffer(area, dtype=np.uint64)
    while not all(words[READY + i * STRIDE] == 1 for i in range(3)):
        assert all(r.proc.is_alive() for r in readers), "a reader died before attaching"
    tx = ffi.new("ring_bcast_tx_t *")
    lib.ring_bcast_tx_init(tx, seg.handle)
    res = ffi.new("ring_stress_result_t *")
    # Harness flow control: the writer stays within 8000 records (< capacity) of the slowest
    # reader, so this checks loss-free in-order delivery through ~60 wraps; the log itself
    # never waits (see test_broadcast_lapped.py).
    lib.ring_stress_bcast_transmit(tx, N, MIN_LEN, MAX_LEN, ffi.cast("uint64_t *",
                                   ffi.from_buffer(area)), 3, STRIDE, 8000, TIMEOUT_NS, res)
    results = [r.result() for r in readers]
    seg.close()
    assert res.rc == 0 and res.records == N
    assert res.bytes > 50 * (1 << 20)
    for i, got in enumerate(results):
        assert got["rc"] == 0, f"reader {i} stopped with {got['rc']} after {got['records']}"
        assert (got["records"], got["out_of_order"], got["corrupt"], got["lapped"]) == \
            (N, 0, 0, 0), f"reader {i}: {got}"
        assert got["checksum"] == EXPECTED_SUM
