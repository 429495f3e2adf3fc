"""The gateway's flow store is durable at the point that matters (issue #16 point 8, store part;
native/gateway/gw_store.c): before any bytes go to a client, the store's pages written since its
last sync are made durable (fdatasync), so what a client has seen survives a power loss as well
as a kill. Shown on the real processes: once the client holds the NEW of its order, none of the
gateway's pages of the store file is dirty any more (/proc/PID/smaps of its mapping: without the
sync they stay dirty until the kernel's writeback, 30 s by default); then the gateway is
SIGKILLed and restarted on the same store, and the order is still its owner's to cancel."""
from __future__ import annotations

from pathlib import Path

from gateway.client import ExecType, ExecutionReport, Side

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


def test_an_acknowledged_order_is_in_the_synced_store_and_survives_a_kill(
        engine_proc, tmp_path: Path) -> None:
    eng = engine_proc(["--durability", "group"])
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
        assert _dirty_kib(pid, store.parent / store.name) == 0, \
            "the flow store has dirty pages after the order's NEW left the gateway"
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
