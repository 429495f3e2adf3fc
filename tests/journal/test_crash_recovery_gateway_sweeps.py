"""Owed cancels finish across an engine crash (issue #16): a session's cancel-on-disconnect or
mass cancel of thousands of orders is swept into the command ring as it has room; the engine is
SIGKILLed while that goes on and restarted from its journal, and the gateway, which outlived it,
sends the cancels still owed to the new engine. Every order ends cancelled exactly once, the mass
cancel's one report carries the true total, and the journal holds none of them live. Real
processes over real TCP."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.client import (Client, ExecType, ExecutionReport, OrderMassCancelReport,
                            RetransmitReject, Side, Terminate)
from gateway.reasons import Reason
from tests.gateway.gw_venue import KEYS

from .test_crash_recovery_gateway import GatewayProc, _journal_live_by_account

N = 3000
BATCH = 500


def _rest(c: Client) -> list[int]:
    ids: list[int] = []
    for start in range(0, N, BATCH):
        for i in range(start, start + BATCH):
            c.new_order(1, Side.BUY, 1, 1, price=9000 + 5 * (i % 20))
        for _ in range(BATCH):
            m = c.recv(30.0)
            assert isinstance(m, ExecutionReport) and m.exec_type == ExecType.NEW, m
            ids.append(m.order_id)
    return ids


def _all_after(port: int, session_id: int, next_seq: int, first: int, count: int
               ) -> list[object]:
    """Reconnects and asks for first..first+count-1 until all are sequenced."""
    firm, key = KEYS[session_id]
    c = Client.connect("127.0.0.1", port, session_id, firm, key, timeout_s=30.0,
                       keepalive_ms=5000, next_seq_no=next_seq)
    got: list[object] = []
    end = time.monotonic() + 60
    while len(got) < count:
        take = min(1000, count - len(got))
        part = c.retransmit(first + len(got), take, 30.0)
        if isinstance(part[0], RetransmitReject):
            assert part[0].reason_code == Reason.ENG_GW_RETRANSMIT_RANGE, part
            assert time.monotonic() < end, f"only {len(got)} of {count} reports were sequenced"
            time.sleep(0.05)            # the new engine is still answering the owed cancels
            continue
        got += part
    c.terminate()
    return got


@pytest.mark.parametrize("how", ["cancel_on_disconnect", "mass_cancel", "mass_cancel_midway"])
def test_owed_cancels_finish_across_an_engine_crash(engine_proc, tmp_path: Path, how: str
                                                    ) -> None:
    eng = engine_proc(["--durability", "group"])
    eng.start()
    gw = GatewayProc(eng.name, tmp_path)
    session = 101 if how == "cancel_on_disconnect" else 102     # 102: no cancel-on-disconnect
    try:
        gw.start()
        firm, key = KEYS[session]
        c = Client.connect("127.0.0.1", gw.port, session, firm, key, keepalive_ms=5000)
        ids = _rest(c)
        next_seq = c.core.next_seq_out
        if how == "cancel_on_disconnect":
            c.close()
        else:
            c.mass_cancel(cl_ord_id=424242)
            next_seq = c.core.next_seq_out
        if how == "mass_cancel_midway":     # some cancels are journaled and answered first
            first = c.recv(30.0)
            assert isinstance(first, ExecutionReport) and first.exec_type == ExecType.CANCELED
        eng.kill()                      # while the sweep is (most likely) still going on
        if how != "cancel_on_disconnect":
            while not isinstance(c.recv(30.0), Terminate):
                pass                    # reports before the Terminate are retransmitted below
            c.close()
        eng.start()
        reports = N + (0 if how == "cancel_on_disconnect" else 1)
        got = _all_after(gw.port, session, next_seq, N + 1, reports)
        cancelled = [m.order_id for m in got if isinstance(m, ExecutionReport)
                     and m.exec_type == ExecType.CANCELED]
        assert sorted(cancelled) == sorted(ids), "an order was not cancelled, or twice"
        if how != "cancel_on_disconnect":
            last = got[-1]
            assert isinstance(last, OrderMassCancelReport), last
            assert last.cl_ord_id == 424242 and last.total_affected_orders == N
            assert last.reason_code == Reason.ENG_OK
        assert gw.proc is not None and gw.proc.poll() is None, gw.log_path.read_text()
    finally:
        gw.close()
    live = _journal_live_by_account(str(eng.journal_dir))
    assert not set(ids) & live.get(1, set())
    assert eng.stop() == 0
