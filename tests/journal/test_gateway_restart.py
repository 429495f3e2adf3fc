"""A gateway restarted after its process died goes on where it was (issue #16, point 6): its
flow store (--state-file) keeps each session's sequence numbers and outbound log, and it
rebuilds its orders, owner sessions included, from the engine's journal
(native/gateway/gw_restore.c). Real engine with a journal, real gateway processes, clients over
TCP; the gateway is SIGKILLed (the engine alive, or SIGKILLed too and restarted from its
journal)."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gateway.client import (BusinessMessageReject, Client, ExecType, ExecutionReport, Side,
                            TimeInForce)
from gateway.reasons import Reason
from tests.gateway.gw_venue import KEYS, retransmit_once_sequenced

from .test_crash_recovery_gateway import GatewayProc


def _connect(port: int, session_id: int, next_seq: int | None = None) -> Client:
    firm, key = KEYS[session_id]
    kw = {} if next_seq is None else {"next_seq_no": next_seq}
    return Client.connect("127.0.0.1", port, session_id, firm, key, keepalive_ms=5000,
                          **kw)  # type: ignore[arg-type]


def _state_gateway(eng_name: str, tmp: Path) -> GatewayProc:
    gw = GatewayProc(eng_name, tmp)
    gw.extra = ["--state-file", str(tmp / "gateway.state")]
    return gw


def _rested_bid(port: int) -> Client:
    """Session 102 connected, with a bid of 10 at 9000 (order 1) acknowledged."""
    owner = _connect(port, 102)
    owner.new_order(1, Side.BUY, 10, 1, price=9000)
    ack = owner.recv(30.0)
    assert isinstance(ack, ExecutionReport) and ack.exec_type == ExecType.NEW, ack
    return owner


@pytest.mark.parametrize("engine_too", [False, True])
def test_a_restarted_gateway_keeps_sessions_orders_and_unreported_fills(
        engine_proc, tmp_path: Path, engine_too: bool) -> None:
    eng = engine_proc(["--durability", "group"])
    eng.start()
    gw = _state_gateway(eng.name, tmp_path)
    try:
        gw.start()
        owner = _connect(gw.port, 102)         # no cancel-on-disconnect: its orders stay
        for i in range(3):
            owner.new_order(1, Side.BUY, 10, 1, price=9000 + i)
        acks = [owner.recv(30.0) for _ in range(3)]
        assert all(isinstance(m, ExecutionReport) and m.exec_type == ExecType.NEW for m in acks)
        ids = [m.order_id for m in acks]  # type: ignore[attr-defined]
        resend_seq = owner.core.next_seq_out - 1       # the last NEW's seqNum
        next_seq = owner.core.next_seq_out
        gw.venue.kill(gw.role)
        if engine_too:
            eng.kill()
            eng.start()
        gw.start()
        # Another firm sells into the first bid while the owner is away.
        taker = _connect(gw.port, 202)
        taker.new_order(1, Side.SELL, 4, 3, price=9002, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
        fill = taker.recv(30.0)
        assert isinstance(fill, ExecutionReport), fill
        taker.terminate()
        # The owner reconnects: its numbering goes on, the fill waits for it, its orders are its.
        again = _connect(gw.port, 102, next_seq)
        got = retransmit_once_sequenced(again, 4, 1)
        trades = [m for m in got if isinstance(m, ExecutionReport)
                  and m.exec_type == ExecType.TRADE]
        assert trades and trades[0].order_id == ids[2] and trades[0].last_qty == 4, got
        for oid in ids:
            again.cancel(oid, 1)
        cancels = [again.recv(30.0) for _ in ids]
        assert all(isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED
                   for m in cancels), cancels
        # A resent message (an old seqNum) is refused, never executed twice.
        again.core.next_seq_out = resend_seq
        again.new_order(1, Side.BUY, 10, 1, price=9000)
        dup = again.recv(30.0)
        assert isinstance(dup, BusinessMessageReject), dup
        assert dup.reason_code == Reason.ENG_GW_SEQ_TOO_LOW
        again.terminate()
    finally:
        gw.close()


@pytest.mark.parametrize("content, says", [
    (b"\0" * 100, "holds 100 bytes"),                      # not its size
    (None, "not a gateway flow store"),                   # its size, but not a store
], ids=["wrong-size", "not-a-store"])
def test_a_state_file_that_is_not_this_gateways_store_is_refused_with_a_reason(
        engine_proc, tmp_path: Path, content: bytes | None, says: str) -> None:
    eng = engine_proc(["--durability", "group"])
    eng.start()
    good = _state_gateway(eng.name, tmp_path)
    good.start()                                            # makes a store of the right size
    good.venue.stop(good.role)
    state = tmp_path / "gateway.state"
    state.write_bytes(content if content is not None else b"\x5a" * state.stat().st_size)
    bad = _state_gateway(eng.name, tmp_path)
    bad.starts = good.starts
    try:
        bad.start()
        rc = bad.wait_exit()
        assert rc == 1, rc
        log = bad.log_path.read_text()
        assert "--state-file" in log and says in log, log
    finally:
        bad.close()
        good.close()
    assert eng.stop() == 0


def _all_sent(port: int, session_id: int, next_seq: int) -> list[ExecutionReport]:
    """Every application message the gateway logged for the session, by retransmission."""
    c = _connect(port, session_id, next_seq)
    try:
        n = c.core.server_next_seq - 1
        got = retransmit_once_sequenced(c, 1, n) if n else []
    finally:
        c.terminate()
    assert all(isinstance(m, ExecutionReport) for m in got), got
    return got  # type: ignore[return-value]


@pytest.mark.parametrize("die_at", [2, 3, 4])
def test_a_gateway_killed_between_a_reports_commit_and_its_event_note_logs_it_once(
        engine_proc, tmp_path: Path, die_at: int) -> None:
    """gw_store.c S1: a message's slot, its commit, then the note of the event it reports. The
    gateway's test hook SIGKILLs it between the last two on its die_at-th event-made message (the
    bid's NEW is the first; the taker's NEW and the two fill reports follow); the restart must take the note from
    the committed slot (gw_restore.c) and not log that event's report a second time. Each
    session's log then holds each report once: one NEW for the bid, one TRADE per side."""
    eng = engine_proc(["--durability", "group"])
    eng.start()
    gw = _state_gateway(eng.name, tmp_path)
    try:
        gw.env = {**os.environ, "VENUE_GW_TEST_DIE_BEFORE_EVENT_NOTE": str(die_at)}
        gw.start()
        owner = _rested_bid(gw.port)
        owner_next = owner.core.next_seq_out
        taker = _connect(gw.port, 202)
        taker.new_order(1, Side.SELL, 4, 3, price=9000, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
        taker_next = taker.core.next_seq_out
        assert gw.proc is not None
        assert gw.proc.wait(60) == -signal.SIGKILL, "the test hook did not fire"
        gw.venue.stop(gw.role)
        gw.env = None
        gw.start()
        for session_id, next_seq in ((102, owner_next), (202, taker_next)):
            sent = _all_sent(gw.port, session_id, next_seq)
            # a relogged report would have its own seqNum (and exec id): the fields of the event
            keys = [(m.exec_type, m.order_id, m.last_qty, m.leaves_qty, m.cum_qty) for m in sent]
            assert len(keys) == len(set(keys)), f"session {session_id} was sent a report twice: {sent}"
            trades = [m for m in sent if m.exec_type == ExecType.TRADE]
            assert [m.last_qty for m in trades] == [4], f"session {session_id}: {sent}"
    finally:
        gw.close()


def test_a_malformed_test_hook_value_is_refused_at_start(engine_proc, tmp_path: Path) -> None:
    eng = engine_proc(["--durability", "group"])
    eng.start()
    gw = _state_gateway(eng.name, tmp_path)
    try:
        gw.env = {**os.environ, "VENUE_GW_TEST_DIE_BEFORE_EVENT_NOTE": "soon"}
        gw.start()          # the port file is written before the C gateway is made
        assert gw.proc is not None and gw.proc.wait(60) != 0
        log = gw.log_path.read_text()
        assert "VENUE_GW_TEST_DIE_BEFORE_EVENT_NOTE=soon is not a count" in log, log
    finally:
        gw.close()


def test_a_store_ahead_of_the_engines_journal_is_refused_not_served_with_repeated_exec_ids(
        engine_proc, tmp_path: Path) -> None:
    """An execID is its engine event's key (gw_store.c P1). A gateway restarted on its store in
    front of an engine on a fresh journal (seqs from 1 again) would give the new events the keys
    of events this flow already reported: refused, saying why (before the fix it served, and the
    next order's ack repeated the first ack's execID, 117440512 = seq 7 << 24, on the same
    session's flow)."""
    eng = engine_proc(["--durability", "group"])
    eng.start()
    gw = _state_gateway(eng.name, tmp_path)
    try:
        gw.start()
        _owner = _rested_bid(gw.port)      # its connection held open until the kill
        gw.venue.kill(gw.role)
        eng.kill()
        eng.journal_dir = tmp_path / "another-journal"      # the engine starts afresh: seq 1
        eng.start()
        gw.start()
        assert gw.wait_exit() == 1          # before the fix: it served (the wait times out)
        log = gw.log_path.read_text()
        assert "--state-file" in log and "the store is another journal's" in log, log
    finally:
        gw.close()
    assert eng.stop() == 0
