"""The seven stage stamps on the real order path: orders sent over TCP to a live gateway and engine
process are each recorded once in every stage histogram of the venue's shared-memory regions
(decoded in Python), the stages are consistent with end to end, and `python -m gateway report
--venue NAME` reports them all while the venue runs. Stamps never reach the engine's output: the
determinism tests (tests/journal) cover the journal and the hash with stamping on by default."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import Client
from gateway.latency import END_TO_END, STAGE_NAMES
from gateway.latency.venue import region_paths, snapshot_venue
from gateway.orderentry.sbe_codec import ExecutionReport, OrderCancelReject, Side, TimeInForce

from gateway.launcher import wait_for
from tests.gateway.gw_venue import Venue, start_venue

ORDERS = 300        # new orders: half rest, half IOC that trade against them
CANCELS = 50        # cancels of resting orders, stamped like any single-command request


@pytest.fixture
def live_venue(tmp_path: Path) -> Iterator[Venue]:
    yield from start_venue(tmp_path)


def _answer(client: Client, cl_ord_id: int):  # type: ignore[no-untyped-def]
    """The first report naming this request (each request is answered before the next goes)."""
    msg, _ = client.recv_until(
        lambda m: isinstance(m, (ExecutionReport, OrderCancelReject)) and m.cl_ord_id == cl_ord_id,
        timeout_s=30.0)
    return msg


def _drive(venue: Venue) -> int:
    """Sends the orders and cancels; returns how many single-command requests reached the engine."""
    sent = 0
    untouched: list[int] = []       # asks above 10000: the IOC buys never reach them
    with venue.connect(101) as client:
        for i in range(ORDERS):
            if i % 2 == 0:
                price = 10_000 + 5 * (i % 40)
                cid = client.new_order(1, Side.SELL, 100, 1, price=price)
                er = _answer(client, cid)
                if price > 10_000:
                    untouched.append(er.order_id)
            else:
                cid = client.new_order(1, Side.BUY, 1, 2, price=10_000,
                                       time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
                _answer(client, cid)
            sent += 1
        for oid in untouched[:CANCELS]:
            er = _answer(client, client.cancel(oid, 1))
            assert isinstance(er, ExecutionReport)      # reached the engine and cancelled
            sent += 1
    return sent


def test_every_request_is_stamped_once_in_every_stage(live_venue: Venue) -> None:
    assert len(region_paths(live_venue.name)) == 2          # the engine's and the gateway's
    sent = _drive(live_venue)
    # The transmit stamp is taken after the flush pass that sent the report we already read:
    # wait for the gateway's loop to reach it.
    wait_for(lambda: snapshot_venue(live_venue.name).get(END_TO_END).total_count >= sent,
             "the end-to-end record of the last request")
    snap = snapshot_venue(live_venue.name)
    assert snap.names == STAGE_NAMES
    for hist in snap.hists:
        assert hist.total_count == sent, hist.name
        assert hist.overflow_count == 0 and hist.underflow_count == 0, hist.name
    e2e = snap.get(END_TO_END)
    stages = [h for h in snap.hists if h.name != END_TO_END]
    # Per request the six stages add up to end to end exactly (each interval ends where the
    # next begins); the histograms keep 3 significant figures, so their means agree within
    # 0.1% per value plus 1 ns of tick rounding per stage.
    stage_sum = sum(h.mean_ns() for h in stages)
    assert stage_sum <= e2e.mean_ns() * 1.002 + len(stages)
    assert stage_sum >= e2e.mean_ns() * 0.998 - len(stages)
    for hist in stages:
        assert hist.percentiles_ns((100.0,))[100.0] <= e2e.percentiles_ns((100.0,))[100.0] * 1.001
    assert "clock:" in snap.clock_description


def test_report_of_a_live_venue_names_every_stage(live_venue: Venue, tmp_path: Path) -> None:
    sent = _drive(live_venue)
    wait_for(lambda: snapshot_venue(live_venue.name).get(END_TO_END).total_count >= sent,
             "the end-to-end record of the last request")
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "gateway", "report", "--venue", live_venue.name,
                           "--out", str(out), "--interval-s", "0.05", "--intervals", "2"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in STAGE_NAMES:
        assert any(line.startswith(name) for line in done.stdout.splitlines()), name
    assert "dominant stage:" in done.stdout and "clock: " in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["intervals"] == 3           # since start-up, then two monitoring intervals
    counts = {h["name"]: h["total_count"] for h in summary["histograms"]}
    assert counts == {name: sent for name in STAGE_NAMES}
    assert set(summary["breakdown"]["P99"]["stages"]) == set(STAGE_NAMES) - {END_TO_END}


def test_processes_say_which_clock_they_stamp_with(tmp_path: Path) -> None:
    lines: dict[str, str] = {}
    venues = start_venue(tmp_path)
    venue = next(venues)
    try:
        for proc, who in ((venue.engine, "engine"), (venue.gateway, "gateway")):
            assert proc.stderr is not None
            for line in proc.stderr:
                if "latency stamps" in line:
                    lines[who] = line
                    break
    finally:
        venues.close()
    for who in ("engine", "gateway"):
        assert "latency stamps on" in lines[who]
        assert "clock: tsc" in lines[who] or "clock: monotonic" in lines[who]
    assert "adopted from the engine" in lines["gateway"]
    assert not region_paths(venue.name)              # both removed their region at exit


def test_no_latency_flag_turns_every_stamp_off(tmp_path: Path) -> None:
    venues = start_venue(tmp_path, gateway_args=["--no-latency"])
    venue = next(venues)
    try:
        _drive(venue)
        snap = snapshot_venue(venue.name)                 # the engine's region alone
        assert all(h.total_count == 0 for h in snap.hists)
    finally:
        venues.close()


def test_sampling_stamps_one_frame_in_n_and_keeps_the_stages_consistent(tmp_path: Path) -> None:
    venues = start_venue(tmp_path, gateway_args=["--latency-sample", "4"])
    venue = next(venues)
    try:
        sent = _drive(venue)
        wait_for(lambda: snapshot_venue(venue.name).get(END_TO_END).total_count
                 >= snapshot_venue(venue.name).get(STAGE_NAMES[0]).total_count > 0,
                 "the end-to-end record of the last sampled request")
        snap = snapshot_venue(venue.name)
    finally:
        venues.close()
    counts = {h.name: h.total_count for h in snap.hists}
    assert len(set(counts.values())) == 1, counts         # the same requests in every stage
    # The requests read by every 4th recv() of the gateway: one request at a time, so mostly one
    # recv() each (Negotiate and Establish come first), give or take a merged or split read.
    assert abs(counts[END_TO_END] - sent / 4) <= sent / 20, (counts, sent)
