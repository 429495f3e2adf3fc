"""The engine as a real process (``python -m gateway engine``): pinned, it answers orders
submitted from Python on the producer's reply ring, publishes their events on the broadcast log,
heartbeats, keeps serving other producers when one producer is SIGKILLed, rejects bad arguments
with a clear message, and on SIGTERM drains its rings and exits 0."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from native.messages import AcceptedEvent, NewOrder
from native.records import type_name
from native._venue import lib
from shm import errors
from shm.client import EngineClient, EventStream
from shm.engine_segments import control_path
from shm.segment import KIND_CONTROL, Segment
from gateway.launcher import Venue, wait_for

from .conftest import Child


@pytest.fixture
def engine():
    cpu = max(os.sched_getaffinity(0))
    with Venue(prefix="te") as venue:
        proc = venue.start_engine("--cpu", str(cpu), "--instruments", "1,2:5:1:10000", "--producers", "3",
                                  "--no-mlock")
        yield venue.name, proc, cpu


def _order(oid: int, side: int, price: int = 10000, qty: int = 5) -> NewOrder:
    return NewOrder(instrument_id=1, order_id=oid, client_order_id=oid,
            price=price, qty=qty, side=side, ord_type=1, tif=1)


def test_engine_answers_orders_and_publishes_events(engine):
    name, _, _ = engine
    events = EventStream(name)
    with EngineClient(name) as client:
        buy = client.submit(_order(1, 1))
        sell = client.submit(_order(2, 2))
    assert isinstance(buy.first_event, AcceptedEvent) and buy.event_count == 2
    assert isinstance(sell.first_event, AcceptedEvent) and sell.seq == buy.seq + 1
    got: list = []
    wait_for(lambda: got.extend(events.poll_decoded()[0]) or len(got) >= 5, "5 events")
    assert [type_name(e) for e in got] == ["ACCEPTED", "BOOK_LEVEL", "ACCEPTED", "TRADE",
                                        "BOOK_LEVEL"]
    assert [e.seq for e in got] == [buy.seq] * 2 + [sell.seq] * 3


def test_engine_batch_of_ten_thousand_gets_one_reply_each_in_order(engine):
    name, _, _ = engine
    with EngineClient(name) as client:
        replies = client.submit_many([_order(100 + i, 1 + i % 2, qty=1) for i in range(10_000)])
    seqs = [r.seq for r in replies]
    assert seqs == list(range(seqs[0], seqs[0] + 10_000))
    assert all(isinstance(r.first_event, AcceptedEvent) for r in replies)


def test_engine_is_pinned_and_heartbeats(engine):
    name, proc, cpu = engine
    assert os.sched_getaffinity(proc.pid) == {cpu}
    seg = Segment.attach(control_path(name), KIND_CONTROL)
    first = seg.heartbeat_ns()
    wait_for(lambda: seg.heartbeat_ns() > first, "a newer heartbeat", 5.0)
    seg.detach()


def _submit_then_hang(name: str) -> int:
    client = EngineClient(name)
    client.submit(_order(9000, 1))
    return client.slot


def test_killed_producer_does_not_stop_other_producers(engine):
    name, _, _ = engine
    child = Child(lambda: (_submit_then_hang(name), time.sleep(3600)))
    with EngineClient(name) as client:
        wait_for(lambda: Segment.attach(control_path(name), KIND_CONTROL).control()
                  .commands > 0, "the child's command")
        os.kill(child.proc.pid, signal.SIGKILL)
        child.proc.join(10)
        assert isinstance(client.submit(_order(9001, 2)).first_event, AcceptedEvent)
    # The dead producer's slot is claimable again.
    clients = [EngineClient(name) for _ in range(3)]
    for c in clients:
        c.close()


def test_sigterm_drains_and_exits_zero(engine):
    name, proc, _ = engine
    with EngineClient(name) as client:
        client.submit_many([_order(500 + i, 1, qty=1) for i in range(1000)])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        with pytest.raises(errors.ShmError):
            client.submit(_order(5000, 1))
    err = proc.stderr.read()
    assert "stopped: " in err and "0 left undrained" in err
    assert not os.path.exists(control_path(name))


@pytest.mark.parametrize("argv,message", [
    (["--name", "x", "--cpu", "999"], "--cpu 999"),
    (["--name", "x", "--instruments", "1:0"], "must be >= 1"),
    (["--name", "x", "--instruments", "1:5:1:10001"], "not a multiple of tick"),
    (["--name", "x", "--wait", "nap"], "invalid choice"),
    (["--name", "bad/name"], "bad segment name"),
    pytest.param(["--name", "x", "--cpu", "0", "--sync-cpu", "0"], "is the engine's --cpu",
                 marks=pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                                          reason="one CPU: the threads must share it")),
])
def test_bad_arguments_are_refused_with_a_clear_message(argv, message):
    run = subprocess.run([sys.executable, "-m", "gateway", "engine", *argv], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0
    assert message in run.stderr
