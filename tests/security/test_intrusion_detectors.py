"""Abnormal order behaviour answered per session, against the real gateway process, by attackers
running as their own processes (tests/security/attacker.py): an order flood is throttled, a cancel
storm and sequence-number abuse are cut off (Terminate ENG_GW_SECURITY_DISCONNECT), each as the
rule's configured action says, and each detection is an event the admin endpoint hands out. A
well-behaved session trades throughout with every order acknowledged and no gap in its seqNums."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from gateway.client import BusinessMessageReject, ExecType, ExecutionReport, Side
from gateway.orderentry.admin import GatewayAdmin
from gateway.reasons import Reason

from tests.gateway.gw_venue import CONFIG, KEYS, Venue, start_venue, wait_for

ROOT = Path(__file__).resolve().parents[2]
DETECTORS = {
    "order_velocity": {"limit": 50, "window_ms": 1000, "action": "throttle", "throttle_ms": 60_000},
    "cancel_burst": {"limit": 20, "window_ms": 1000, "action": "disconnect"},
    "sequence_abuse": {"limit": 10, "window_ms": 1000, "action": "disconnect"},
    "rejects": {"limit": 100_000, "window_ms": 1000, "action": "alert"},
    "message_to_trade": {"limit": 100_000, "window_ms": 1000, "action": "alert", "min_messages": 10},
}


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[tuple[Venue, str]]:
    cfg = json.loads(json.dumps(CONFIG))
    cfg["security"] = {"detectors": DETECTORS}
    admin_file = tmp_path / "admin"
    for v in start_venue(tmp_path, ["--admin", "tcp://127.0.0.1:*", "--admin-file", str(admin_file)], config=cfg):
        yield v, admin_file.read_text()


class WellBehaved:
    """Session 201 (account 3) on its own thread: one resting order every 20 ms, each answered by
    its New report before the next; the seqNums of everything it receives are kept."""

    def __init__(self, v: Venue) -> None:
        self.client = v.connect(201, keepalive_ms=30_000)
        self.stop = threading.Event()
        self.acked = 0
        self.seqs: list[int] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        price = 20000
        try:
            while not self.stop.is_set():
                self.client.new_order(1, Side.SELL, 1, 3, price=price)
                r = self.client.recv(timeout_s=10)
                assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW, r
                self.seqs.append(r.seq_num)
                self.acked += 1
                price += 1
                self.stop.wait(0.02)
        except BaseException as exc:    # reported by finish()
            self.error = exc

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(30)
        assert self.error is None, self.error
        assert self.acked >= 10
        assert self.seqs == list(range(self.seqs[0], self.seqs[0] + len(self.seqs))), "a gap"
        self.client.terminate()


def _attack(v: Venue, mode: str, session: int, *args: str) -> dict[str, Any]:
    firm, key = KEYS[session]
    r = subprocess.run([sys.executable, "-m", "tests.security.attacker", mode, "--port", str(v.port),
                        "--session", str(session), "--firm", str(firm), *args],
                       capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env={**os.environ, "VENUE_SESSION_KEY": key})
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def test_flood_storm_and_sequence_abuse_are_answered_while_a_good_session_trades(
        guarded: tuple[Venue, str]) -> None:
    v, admin = guarded
    good = WellBehaved(v)
    flood = _attack(v, "flood", 101, "--account", "1", "--n", "400")
    assert flood.get("er_NEW") == 50, flood                         # the first 50 pass, then throttled
    assert flood.get("bmr_ENG_GW_SECURITY_THROTTLED") == 350, flood
    storm = _attack(v, "cancels", 102, "--n", "200", "--read-s", "5")
    assert storm.get("terminate_ENG_GW_SECURITY_DISCONNECT") == 1, storm
    assert storm.get("ocr", 0) >= 20, storm
    abuse = _attack(v, "seqabuse", 103, "--account", "1", "--n", "100", "--read-s", "5")
    assert abuse.get("terminate_ENG_GW_SECURITY_DISCONNECT") == 1, abuse
    good.finish()
    with GatewayAdmin(admin, timeout_s=10) as adm:
        events = adm.security_events(0)["events"]
    got = {(e["kind"], e["session_id"], e["action"]) for e in events}
    assert got >= {("order_velocity", 101, "throttle"), ("cancel_burst", 102, "disconnect"),
                   ("sequence_abuse", 103, "disconnect")}, events
    assert not any(e["session_id"] == 201 for e in events)
    assert v.alive()


def test_a_throttled_session_is_refused_until_the_throttle_ends(tmp_path: Path) -> None:
    cfg = json.loads(json.dumps(CONFIG))
    cfg["security"] = {"detectors": {"order_velocity": {"limit": 5, "window_ms": 60_000, "action": "throttle",
                                                         "throttle_ms": 500}}}
    for v in start_venue(tmp_path, config=cfg):
        c = v.connect(101, keepalive_ms=30_000)
        for i in range(6):
            c.new_order(1, Side.SELL, 1, 1, price=10700 + i)
        got = [c.recv() for _ in range(6)]      # the reject is immediate, the acks come from the engine
        [bmr] = [m for m in got if isinstance(m, BusinessMessageReject)]
        assert bmr.ref_seq_num == 6 and bmr.reason_code == Reason.ENG_GW_SECURITY_THROTTLED
        assert sum(isinstance(m, ExecutionReport) for m in got) == 5
        # the 60 s window already fired: once the throttle ends, orders pass again
        def passes() -> bool:
            c.new_order(1, Side.SELL, 1, 1, price=10800)
            return isinstance(c.recv(), ExecutionReport)
        wait_for(passes, "the throttle to end", deadline_s=10)
        c.terminate()
