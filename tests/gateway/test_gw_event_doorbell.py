"""An idle gateway is woken by the engine's event-log doorbell (native/gateway/gw_waker.c): a resting
order filled by an order that did not come through this gateway (another producer of the engine)
gets its ExecutionReport although nothing else wakes the gateway for 15 s: its --idle-sleep-ms
is 30 s and the client, with a 30 s keepalive, sends its first heartbeat after 15 s. The report
is awaited for at most 10 s, a failure bound, not a latency assertion (with --no-event-doorbell
this test fails: the report then comes after the client's heartbeat). The engine's wake-up count
on the log's reader bell shows that the engine rang it (the waker thread's own 10 ms re-check
would also find the event: without the count this test would not tell the two apart), and the
gateway's stop line counts the doorbell wake-ups."""
from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import ExecType, ExecutionReport, OrdStatus, Side
from native.messages import NewOrder
from native import records
from native._venue import ffi
from shm.client import EngineClient
from shm.engine_segments import events_path
from shm.segment import KIND_BROADCAST, Segment

from gateway.launcher import wait_for
from .gw_venue import Venue, start_venue

LONG_MS = 30_000


@pytest.fixture
def sleepy_venue(tmp_path: Path) -> Iterator[Venue]:
    yield from start_venue(tmp_path, ["--idle-sleep-ms", str(LONG_MS), "--idle-spin-us", "0"])


def test_idle_gateway_reports_a_passive_fill_caused_elsewhere(sleepy_venue: Venue) -> None:
    maker = sleepy_venue.connect(101, keepalive_ms=LONG_MS)
    cid = maker.new_order(1, Side.SELL, 10, 1, price=10000)
    msg, _ = maker.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == cid)
    assert msg.exec_type == ExecType.NEW
    log = Segment.attach(events_path(sleepy_venue.name), KIND_BROADCAST)
    bell = ffi.cast("ring_bcast_ctl_t *", log.handle.ctl).reader_bell
    wakes_before = int(bell.wakes)
    # Only a gateway that has announced its sleep on the bell is rung: wait until it has (on a
    # loaded host it may still be finishing the NEW report's send when the trade is published).
    wait_for(lambda: int(bell.sleepers) > 0, "the gateway asleep on the event log's reader bell")
    # The aggressor goes straight to the engine on its own producer slot: the gateway hears of
    # the trade only through the event log, while blocked in epoll_wait.
    with EngineClient(sleepy_venue.name) as engine:
        reply = engine.submit(NewOrder(instrument_id=1, order_id=7_000_001,
                               price=10000, qty=4, account_id=3,
                               side=int(records.Side.BUY), ord_type=int(records.OrdType.LIMIT),
                               tif=int(records.Tif.DAY)))
        assert reply.event_count >= 2, reply
    fill, _ = maker.recv_until(lambda m: isinstance(m, ExecutionReport)
                               and m.exec_type == ExecType.TRADE, timeout_s=10.0)
    assert (fill.ord_status, fill.last_qty, fill.leaves_qty, fill.aggressor) == (
        OrdStatus.PARTIALLY_FILLED, 4, 6, 0)
    assert int(bell.wakes) > wakes_before, "the engine never rang the event log's reader bell"
    log.detach()
    maker.close()
    gw = sleepy_venue.gateway
    gw.send_signal(signal.SIGTERM)
    _, err = gw.communicate(timeout=30)
    wakes = re.search(r"(\d+) doorbell wakes", err)
    assert wakes and int(wakes.group(1)) >= 1, err


def test_gateway_blocks_while_its_command_is_in_flight(sleepy_venue: Venue) -> None:
    """A gateway whose order waits for the engine blocks (announced on the event log's reader
    bell, its waker thread watching the log and its reply ring) instead of polling until the
    answer: the engine is stopped with the order in flight, the gateway is seen asleep on the
    bell (a polling gateway never announces itself: this fails on the old loop), and once the
    engine runs again the NEW report comes within 10 s although --idle-sleep-ms is 30 s: the
    engine's answer woke it (a failure bound, not a latency assertion)."""
    client = sleepy_venue.connect(101, keepalive_ms=LONG_MS)
    log = Segment.attach(events_path(sleepy_venue.name), KIND_BROADCAST)
    bell = ffi.cast("ring_bcast_ctl_t *", log.handle.ctl).reader_bell
    engine = sleepy_venue.engine
    engine.send_signal(signal.SIGSTOP)
    try:
        cid = client.new_order(1, Side.BUY, 10, 1, price=9000)
        wait_for(lambda: int(bell.sleepers) > 0,
                 "the gateway asleep on the event log's reader bell with its order in flight")
    finally:
        engine.send_signal(signal.SIGCONT)
    msg, _ = client.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == cid,
                               timeout_s=10.0)
    assert msg.exec_type == ExecType.NEW
    log.detach()
    client.close()


def _doorbell_wakes_of(venue: Venue) -> int:
    gw = venue.gateway
    gw.send_signal(signal.SIGTERM)
    _, err = gw.communicate(timeout=30)
    wakes = re.search(r"(\d+) doorbell wakes", err)
    assert wakes, err
    return int(wakes.group(1))


@pytest.mark.parametrize("inflight_spin_us", [0, 1_000_000])
def test_gateway_polls_for_a_prompt_answer_before_it_blocks(tmp_path: Path,
                                                            inflight_spin_us: int) -> None:
    """While its command is in flight the gateway polls for --inflight-spin-us after the last
    work before it blocks on the waker (gw_server.c): an answer that comes within the spin is
    taken without the two thread wake-ups of the doorbell (engine -> waker thread -> eventfd).
    The engine here sleeps 200 us between polls, so each order waits for it. With no in-flight
    spin (and no idle spin) the gateway blocks with each order in flight and the answers end its
    waits on the doorbell; with a spin far longer than any answer none does (the engine is never
    that slow: a failure would show as a doorbell wake, not as a wrong report)."""
    venues = start_venue(tmp_path, ["--idle-sleep-ms", str(LONG_MS), "--idle-spin-us", "0",
                                    "--inflight-spin-us", str(inflight_spin_us)])
    venue = next(venues)
    try:
        client = venue.connect(101, keepalive_ms=LONG_MS)
        for i in range(20):
            cid = client.new_order(1, Side.BUY, 10, 1, price=9000 - i)
            msg, _ = client.recv_until(lambda m: isinstance(m, ExecutionReport)
                                       and m.cl_ord_id == cid, timeout_s=10.0)
            assert msg.exec_type == ExecType.NEW
        client.close()
        wakes = _doorbell_wakes_of(venue)
    finally:
        venues.close()
    if inflight_spin_us:
        assert wakes == 0, f"{wakes} waits on the doorbell with a 1 s in-flight spin"
    else:
        assert wakes >= 1, "the gateway never blocked with an order in flight"


def test_inflight_spin_out_of_range_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "gateway", "gateway", "--engine", "x",
                          "--listen", "127.0.0.1:0", "--config", str(tmp_path / "none.json"),
                          "--inflight-spin-us", "-1"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--inflight-spin-us must be 0..1000000, got -1" in out.stderr, \
        out.stderr
