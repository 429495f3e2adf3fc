"""The gateway's flow store is durable at the point that matters (issue #16 point 8, store part;
native/gateway/gw_store.c P1/P2): before bytes go to a client, the store is synced if what they
carry cannot be made again from the journal (a reject the gateway made itself), or, when the
engine's journal may lose what it released (--durability async), whatever was written. A report
of an engine event leaves without a sync when the journal is durable before the event is
released (--durability group): a restart makes it again from the journal
(tests/journal/test_gateway_power_loss.py). Shown on the real processes through
/proc/PID/smaps of the store's mapping: a page written and not synced stays dirty until the
kernel's writeback (30 s by default). Then the gateway is SIGKILLed and restarted on the same
store, and the order is still its owner's to cancel."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.client import BusinessMessageReject, ExecType, ExecutionReport, Side
from gateway.reasons import Reason

from .test_crash_recovery_gateway import GatewayProc
from .test_gateway_restart import _connect, _state_gateway


def _dirty_kib(pid: int, path: Path) -> int:
    """Dirty pages (shared or private) of the process's mappings of path, in KiB."""
    total, inside = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:     # a mapping's header line
            inside = len(fields) >= 6 and fields[5] == str(path)
        elif inside and fields[0] in ("Shared_Dirty:", "Private_Dirty:"):
            total += int(fields[1])
    return total


def _gateway_pid(gw: GatewayProc) -> int:
    proc = gw.proc
    assert proc is not None and proc.poll() is None
    return proc.pid


@pytest.mark.parametrize("durability", ["group", "async"])
def test_a_local_reject_is_synced_before_it_leaves_an_event_report_only_without_a_durable_journal(
        engine_proc, tmp_path: Path, durability: str) -> None:
    eng = engine_proc(["--durability", durability])
    eng.start()
    gw = _state_gateway(eng.name, tmp_path)
    store = (tmp_path / "gateway.state").resolve()
    try:
        gw.start()
        owner = _connect(gw.port, 102)         # no cancel-on-disconnect: its order stays
        owner.new_order(1, Side.BUY, 10, 1, price=9000)
        ack = owner.recv(30.0)
        assert isinstance(ack, ExecutionReport) and ack.exec_type == ExecType.NEW, ack
        pid = _gateway_pid(gw)
        dirty = _dirty_kib(pid, store.parent / store.name)
        if durability == "group":
            assert dirty > 0, "the NEW (made again from a durable journal) waited for a sync"
        else:
            assert dirty == 0, "the flow store has dirty pages after the order's NEW left"
        owner.new_order(1, Side.BUY, 10, 3, price=9000)      # account 3 is not its firm's
        bmr = owner.recv(30.0)
        assert isinstance(bmr, BusinessMessageReject), bmr
        assert bmr.reason_code == Reason.ENG_GW_ACCOUNT_NOT_PERMITTED, bmr
        assert _dirty_kib(pid, store.parent / store.name) == 0, \
            "the flow store has dirty pages after a reject the gateway made left it"
        owner.new_order(1, Side.BUY, 10, 1, price=9000)      # and now one more NEW,
        assert owner.recv(30.0).exec_type == ExecType.NEW    # type: ignore[attr-defined]
        owner.core.next_seq_out -= 1                         # then its seqNum again:
        owner.new_order(1, Side.BUY, 10, 1, price=9000)      # refused, no request taken
        dup = owner.recv(30.0)
        assert isinstance(dup, BusinessMessageReject), dup
        assert dup.reason_code == Reason.ENG_GW_SEQ_TOO_LOW, dup
        assert _dirty_kib(pid, store.parent / store.name) == 0, \
            "the flow store has dirty pages after a duplicate's reject left"
        next_seq = owner.core.next_seq_out
        gw.venue.kill(gw.role)
        gw.start()
        again = _connect(gw.port, 102, next_seq)
        again.cancel(ack.order_id, 1)
        m = again.recv(30.0)
        assert isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED, m
        again.terminate()
    finally:
        gw.close()
