"""Every command the order-entry gateway writes carries the session it serves (eng_cmd_hdr_t.session,
venue_layout.h ENG_SESSION_TAG_*), and the engine's journal keeps it: a gateway that restarts
reads from the journal alone which session each of its commands served (issue #16, point 6).
Real engine with a journal, real gateway, two sessions over TCP: new orders, a cancel, a replace,
a mass cancel (owed cancels) and a cancel-on-disconnect."""
from __future__ import annotations

from pathlib import Path

from gateway.client import Client, ExecType, ExecutionReport, OrderMassCancelReport, Side
from gateway.enginehost import journal
from native import records
from native.records import type_name
from native._venue import lib
from tests.gateway.gw_venue import CONFIG, KEYS, retransmit_once_sequenced

from .test_crash_recovery_gateway import GatewayProc

INDEX = {s["session_id"]: i for i, s in enumerate(CONFIG["sessions"])}


def _connect(port: int, session_id: int) -> Client:
    firm, key = KEYS[session_id]
    return Client.connect("127.0.0.1", port, session_id, firm, key, keepalive_ms=5000)


def _acked(c: Client, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        m = c.recv(30.0)
        assert isinstance(m, ExecutionReport) and m.exec_type == ExecType.NEW, m
        ids.append(m.order_id)
    return ids


def test_every_gateway_command_is_journaled_with_its_session(engine_proc, tmp_path: Path) -> None:
    eng = engine_proc(["--durability", "group"])
    eng.start()
    gw = GatewayProc(eng.name, tmp_path)
    try:
        gw.start()
        a = _connect(gw.port, 101)          # cancel-on-disconnect
        b = _connect(gw.port, 102)          # no cancel-on-disconnect: mass cancel
        for i in range(4):
            a.new_order(1, Side.BUY, 1, 1, price=9000 + i)
            b.new_order(1, Side.BUY, 1, 2, price=8000 + i)
        a_ids, b_ids = _acked(a, 4), _acked(b, 4)
        a.cancel(a_ids[0], 1)
        assert isinstance(a.recv(30.0), ExecutionReport)
        a.replace(a_ids[1], 1, price=9100, order_qty=1)
        assert isinstance(a.recv(30.0), ExecutionReport)
        b.mass_cancel()
        b.recv_until(lambda m: isinstance(m, OrderMassCancelReport), timeout_s=30.0)
        a.close()                           # no Terminate: cancel-on-disconnect
        b.terminate()
        again = _connect(gw.port, 101)
        got = retransmit_once_sequenced(again, 7, 3)    # after 4 acks, the cancel, the replace
        assert all(isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED
                   for m in got), got
        again.terminate()
    finally:
        gw.close()
    assert eng.stop() == 0
    _, _, pay = journal.read_records(str(eng.journal_dir), journal.KIND_CMD)
    cmds = [c for c in records.decode_commands(pay)
            if type_name(c) in ("NEW_ORDER", "CANCEL", "REPLACE")]
    tag_a, tag_b = INDEX[101] + 1, INDEX[102] + 1
    owed = lib.ENG_SESSION_TAG_OWED
    by_order = {c.order_id: c for c in cmds if type_name(c) == "NEW_ORDER"}
    assert {o for o, c in by_order.items() if c.session == tag_a} == set(a_ids)
    assert {o for o, c in by_order.items() if c.session == tag_b} == set(b_ids)
    cancels = [(c.order_id, c.session) for c in cmds if type_name(c) == "CANCEL"]
    replaces = [(c.order_id, c.session) for c in cmds if type_name(c) == "REPLACE"]
    assert replaces == [(a_ids[1], tag_a)]
    # a's own cancel, then cancel-on-disconnect of its three others; b's mass cancel of four.
    assert sorted(cancels) == sorted([(a_ids[0], tag_a)]
                                     + [(o, tag_a | owed) for o in a_ids[1:]]
                                     + [(o, tag_b | owed) for o in b_ids])
