"""A mass cancel that cannot finish is answered so, after a bounded wait, never left hanging and
never Accepted (issue #16: "if it cannot finish (engine gone), the answer says so with its own
reason"). The engine is stopped (SIGSTOP: alive, so the gateway's process check passes, but it
takes no command) after the session rested its orders; the mass cancel then gets one report with
reason 965 ENG_GW_MASS_CANCEL_UNFINISHED, response Rejected and a total of 0 within
--mass-cancel-timeout-ms. Once the engine runs again the cancels still owed go through, each
reported, and the book holds none of the orders. Real processes over real TCP."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import Client, ExecType, ExecutionReport, OrderMassCancelReport, Side
from gateway.orderentry.sbe_codec import MassCancelResponse
from gateway.reasons import Reason

from .gw_venue import Venue, start_venue
from .test_gw_cancels_finish import nothing_left_to_hit, rest_many

TIMEOUT_MS = 400
N = 40


@pytest.fixture
def stuck_venue(tmp_path: Path) -> Iterator[Venue]:
    # --engine-stale-ms 0: liveness is the engine's process only, so a stopped engine is "stuck",
    # not dead, and the session stays connected through the whole wait.
    yield from start_venue(tmp_path, ["--engine-stale-ms", "0",
                                      "--mass-cancel-timeout-ms", str(TIMEOUT_MS)])


def test_mass_cancel_the_engine_never_answers_gets_its_own_reason(stuck_venue: Venue) -> None:
    c = stuck_venue.connect(102, keepalive_ms=5000)     # 102: no cancel-on-disconnect
    ids = rest_many(c, N)
    os.kill(stuck_venue.engine.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        c.mass_cancel(cl_ord_id=777)
        report, before = c.recv_until(lambda m: isinstance(m, OrderMassCancelReport),
                                      timeout_s=30.0)
        waited = time.monotonic() - t0
    finally:
        os.kill(stuck_venue.engine.pid, signal.SIGCONT)
    assert isinstance(report, OrderMassCancelReport)
    assert report.cl_ord_id == 777
    assert report.reason_code == Reason.ENG_GW_MASS_CANCEL_UNFINISHED
    assert report.mass_cancel_response == MassCancelResponse.REJECTED
    assert report.total_affected_orders == 0, "the stopped engine cancelled nothing"
    assert before == [], before
    assert waited >= TIMEOUT_MS / 1000 * 0.9, "answered before its bound: not a real wait"
    # The engine runs again: every order still owed its cancel is cancelled, one report each,
    # and no second mass-cancel report follows (the request had its one answer).
    cancelled: list[int] = []
    while len(cancelled) < N:
        m = c.recv(timeout_s=30.0)
        assert isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED, m
        cancelled.append(m.order_id)
    assert sorted(cancelled) == sorted(ids)
    nothing_left_to_hit(stuck_venue, N)
    c.terminate()
    assert stuck_venue.alive()


def _rest(c: Client, n: int, account: int, base_price: int) -> list[int]:
    for i in range(n):
        c.new_order(1, Side.SELL, 1, account, price=base_price + 5 * (i % 20))
    acks = [c.recv(timeout_s=30.0) for _ in range(n)]
    assert all(isinstance(m, ExecutionReport) and m.exec_type == ExecType.NEW for m in acks), acks
    return [m.order_id for m in acks]  # type: ignore[attr-defined]


def test_a_slot_reused_after_the_bound_counts_only_its_own_orders(tmp_path: Path) -> None:
    """The expired request's cancels are still in the ring when a second mass cancel takes its
    slot: their events must not count in the second one's total."""
    venue_iter = start_venue(tmp_path, ["--engine-stale-ms", "0",
                                        "--mass-cancel-timeout-ms", "1500"])
    venue = next(venue_iter)
    try:
        c = venue.connect(102, keepalive_ms=5000)
        first_ids = _rest(c, N, 1, 10500)
        second_ids = _rest(c, N // 2, 2, 10500)
        os.kill(venue.engine.pid, signal.SIGSTOP)
        try:
            c.mass_cancel(account_id=1, cl_ord_id=1)
            first, _ = c.recv_until(lambda m: isinstance(m, OrderMassCancelReport),
                                    timeout_s=30.0)
            assert first.reason_code == Reason.ENG_GW_MASS_CANCEL_UNFINISHED  # type: ignore[attr-defined]
            c.mass_cancel(account_id=2, cl_ord_id=2)    # the freed slot, first's cancels queued
        finally:
            os.kill(venue.engine.pid, signal.SIGCONT)
        second, before = c.recv_until(lambda m: isinstance(m, OrderMassCancelReport),
                                      timeout_s=30.0)
        assert isinstance(second, OrderMassCancelReport) and second.cl_ord_id == 2
        assert second.reason_code == Reason.ENG_OK, second
        assert second.total_affected_orders == len(second_ids), second
        cancelled = sorted(m.order_id for m in before if isinstance(m, ExecutionReport)
                           and m.exec_type == ExecType.CANCELED)
        assert cancelled == sorted(first_ids + second_ids)
        c.terminate()
    finally:
        venue_iter.close()
