"""Sleeping readers of the broadcast log (venue_layout.h Section 4, B1-B4): a reader asleep on the
log's reader bell is woken by a publish; a writer with no sleeping reader makes no wake-up
(no system call); and no wake-up is lost when publishes race with readers going to sleep, across
real processes. Timeouts here are failure bounds, never latency assertions."""
from __future__ import annotations

import time

import pytest

from native._venue import ffi, lib
from shm.segment import KIND_BROADCAST, Segment

from .conftest import Child

BOUND_NS = 20_000_000_000          # a wait this long means the wake-up was lost
STRESS_WAIT_NS = 2_000_000_000     # per-wait bound in the stress; a lost wake-up runs it out
STRESS_ROUNDS = 20000


def _bell(seg: Segment):
    return ffi.cast("ring_bcast_ctl_t *", seg.handle.ctl).reader_bell


def _wait_until(cond, what: str, bound_s: float = 20.0) -> None:
    end = time.monotonic() + bound_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)   # polling interval of a condition wait


def _sleep_then_receive(path: str) -> dict[str, int]:
    seg = Segment.attach(path, KIND_BROADCAST)
    rx = ffi.new("ring_bcast_rx_t *")
    lib.ring_bcast_rx_init(rx, seg.handle)
    woke = lib.ring_bcast_wait(rx, BOUND_NS)
    buf = ffi.new("uint64_t[2]")
    typ, length = ffi.new("int32_t *"), ffi.new("uint32_t *")
    rc = lib.ring_bcast_receive(rx, buf, 16, typ, length)
    seg.detach()
    return {"woke": woke, "rc": rc, "type": typ[0], "value": int(buf[0])}


def test_reader_asleep_on_the_bell_is_woken_by_a_publish(seg_name):
    seg = Segment.create(seg_name("bell1"), KIND_BROADCAST, 1 << 14)
    reader = Child(_sleep_then_receive, seg.path)
    bell = _bell(seg)
    _wait_until(lambda: bell.sleepers == 1, "the reader to announce its sleep")
    tx = ffi.new("ring_bcast_tx_t *")
    lib.ring_bcast_tx_init(tx, seg.handle)
    lib.ring_bcast_transmit(tx, 7, ffi.new("uint64_t[2]", [42, 0]), 16)
    lib.ring_bcast_wake_readers(tx)
    got = reader.result(timeout_s=BOUND_NS / 1e9 + 10)
    assert got == {"woke": 1, "rc": 1, "type": 7, "value": 42}
    assert bell.wakes == 1 and bell.sleepers == 0
    seg.close()


def test_writer_rings_nothing_when_no_reader_sleeps(seg_name):
    seg = Segment.create(seg_name("bell2"), KIND_BROADCAST, 1 << 14)
    tx = ffi.new("ring_bcast_tx_t *")
    lib.ring_bcast_tx_init(tx, seg.handle)
    rx = ffi.new("ring_bcast_rx_t *")
    lib.ring_bcast_rx_init(rx, seg.handle)
    for i in range(100):
        lib.ring_bcast_transmit(tx, 7, ffi.new("uint64_t[2]", [i, 0]), 16)
        lib.ring_bcast_wake_readers(tx)
    assert _bell(seg).wakes == 0        # no sleeper announced: no futex_wake was issued
    assert lib.ring_bcast_wait(rx, BOUND_NS) == 1    # news already there: returns at once
    assert _bell(seg).sleepers == 0
    seg.close()


def _split_wait(rx, bound_ns: int) -> int:
    """The gateway's form of the sleep (native/gateway/gw_waker.c), in one thread: announce and re-check
    (B1-B2), then ticket, re-check and futex wait (B3), then withdraw. 1: news, 0: none."""
    if lib.ring_bcast_announce_sleep(rx.ctl, rx.cursor):
        return 1
    ticket = lib.ring_bcast_bell_ticket(rx.ctl)
    if not lib.ring_bcast_published_since(rx.ctl, rx.cursor):
        lib.ring_bcast_bell_wait(rx.ctl, ticket, bound_ns)
    lib.ring_bcast_withdraw_sleep(rx.ctl)
    return int(lib.ring_bcast_published_since(rx.ctl, rx.cursor))


def _ping_pong(inbox: str, outbox: str, rounds: int, split: bool) -> dict[str, int]:
    """Each round: publish our round number on outbox and wake, then sleep on inbox's bell
    until the peer's record for this round arrives. Neither side spins, so every publish races
    with the peer going to sleep, in both orders."""
    seg_in = Segment.attach(inbox, KIND_BROADCAST)
    seg_out = Segment.attach(outbox, KIND_BROADCAST)
    rx = ffi.new("ring_bcast_rx_t *")
    tx = ffi.new("ring_bcast_tx_t *")
    lib.ring_bcast_rx_init(rx, seg_in.handle)
    rx.cursor = 0                       # the peer may have published before we attached
    lib.ring_bcast_tx_init(tx, seg_out.handle)
    buf = ffi.new("uint64_t[2]")
    typ, length = ffi.new("int32_t *"), ffi.new("uint32_t *")
    lost = early = 0
    for i in range(rounds):
        buf[0] = i
        lib.ring_bcast_transmit(tx, 7, buf, 16)
        lib.ring_bcast_wake_readers(tx)
        while True:
            rc = lib.ring_bcast_receive(rx, buf, 16, typ, length)
            if rc == 1:
                if int(buf[0]) != i:
                    raise AssertionError(f"round {i}: got the peer's round {int(buf[0])}")
                break
            assert rc == lib.RING_EMPTY, rc
            t0 = time.monotonic_ns()
            woke = _split_wait(rx, STRESS_WAIT_NS) if split else lib.ring_bcast_wait(
                rx, STRESS_WAIT_NS)
            if woke == 0:
                if time.monotonic_ns() - t0 >= STRESS_WAIT_NS:
                    lost += 1           # slept the whole bound although the peer had published
                    if lost == 3:       # enough to fail; do not run out every later bound
                        return {"lost": lost, "early": early, "round": i}
                else:
                    early += 1          # a stale wake (an older round's bell): wait again
    seg_in.detach()
    seg_out.detach()
    return {"lost": lost, "early": early}


@pytest.mark.parametrize("split", [False, True], ids=["ring_bcast_wait", "split_as_gateway"])
def test_no_lost_wake_up_when_publishes_race_with_sleeps(seg_name, split):
    a_to_b = Segment.create(seg_name("pp_ab"), KIND_BROADCAST, 1 << 16)
    b_to_a = Segment.create(seg_name("pp_ba"), KIND_BROADCAST, 1 << 16)
    b = Child(_ping_pong, a_to_b.path, b_to_a.path, STRESS_ROUNDS, split)
    a = Child(_ping_pong, b_to_a.path, a_to_b.path, STRESS_ROUNDS, split)
    bound = 180.0
    got_a, got_b = a.result(timeout_s=bound), b.result(timeout_s=bound)
    assert got_a["lost"] == 0 and got_b["lost"] == 0, (got_a, got_b)
    bells = _bell(a_to_b).wakes + _bell(b_to_a).wakes
    assert bells > 0, "no reader ever slept: the race was not exercised"
    assert _bell(a_to_b).sleepers == 0 and _bell(b_to_a).sleepers == 0
    a_to_b.close()
    b_to_a.close()
