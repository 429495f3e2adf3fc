"""Session admin over the gateway's ZeroMQ endpoint (gateway/gw_admin.py): the session table
reflects what clients did over real TCP, an operator disconnect ends the connection with
ENG_GW_ADMIN_DISCONNECT and the operator's reason text and runs cancel-on-disconnect, and bad
requests, unknown sessions and an absent gateway each get their own error code."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import msgspec
import pytest
import zmq

from gateway.client import ExecType, ExecutionReport, Side, Terminate
from gateway.orderentry.admin import AdminReply, GatewayAdmin, GatewayAdminError
from gateway.reasons import Reason

from gateway.launcher import wait_for

from .gw_venue import CONFIG, Venue, retransmit_once_sequenced, start_venue


@pytest.fixture
def admin_venue(tmp_path: Path) -> Iterator[tuple[Venue, GatewayAdmin]]:
    admin_file = tmp_path / "admin"
    for v in start_venue(tmp_path, ["--admin", "tcp://127.0.0.1:*",
                                    "--admin-file", str(admin_file)]):
        with GatewayAdmin(admin_file.read_text(), timeout_s=10.0) as adm:
            yield v, adm


def _row(adm: GatewayAdmin, session_id: int) -> dict[str, object]:
    [row] = [r for r in adm.sessions() if r["session_id"] == session_id]
    return row


def _rest(c, price: int) -> ExecutionReport:  # type: ignore[no-untyped-def]
    c.new_order(1, Side.SELL, 2, 1, price=price)
    r = c.recv()
    assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW
    return r


def test_table_lists_every_configured_session_disconnected(admin_venue) -> None:  # type: ignore[no-untyped-def]
    _, adm = admin_venue
    rows = adm.sessions()
    assert [r["session_id"] for r in rows] == [s["session_id"] for s in CONFIG["sessions"]]
    for r, s in zip(rows, CONFIG["sessions"]):
        assert r == {"session_id": s["session_id"], "firm_id": s["firm_id"], "connected": False,
                     "state": "disconnected", "peer": None, "in_seq": 0, "out_seq": 0,
                     "cancel_on_disconnect": s.get("cancel_on_disconnect", True),
                     "orders_live": 0}


def test_table_reflects_a_connected_session_and_its_orders(admin_venue) -> None:  # type: ignore[no-untyped-def]
    venue, adm = admin_venue
    c = venue.connect(101)
    _rest(c, 10500)
    _rest(c, 10501)
    host, port = c.sock.getsockname()
    row = _row(adm, 101)
    assert row == {"session_id": 101, "firm_id": 1, "connected": True, "state": "established",
                   "peer": f"{host}:{port}", "in_seq": 2, "out_seq": 2,
                   "cancel_on_disconnect": True, "orders_live": 2}
    c.cancel(_rest(c, 10502).order_id, 1)
    assert c.recv().exec_type == ExecType.CANCELED  # type: ignore[attr-defined]
    row = _row(adm, 101)
    assert (row["in_seq"], row["out_seq"], row["orders_live"]) == (4, 4, 2)
    c.terminate()
    assert _row(adm, 101)["connected"] is False


def test_disconnect_terminates_with_reason_and_cancels_orders(admin_venue) -> None:  # type: ignore[no-untyped-def]
    venue, adm = admin_venue
    c = venue.connect(101)
    orders = {_rest(c, 10500 + i).order_id for i in range(3)}
    bystander = venue.connect(201)
    res = adm.disconnect(101, "ops: runaway algo \u2013 call desk")
    assert res == {"session_id": 101, "was_connected": True, "orders_cancelling": 3}
    term = c.recv()
    assert isinstance(term, Terminate)
    assert term.reason_code == Reason.ENG_GW_ADMIN_DISCONNECT  # type: ignore[attr-defined]
    assert term.reason.decode() == "ops: runaway algo \u2013 call desk"
    wait_for(lambda: _row(adm, 101)["orders_live"] == 0, "cancel-on-disconnect to finish")
    assert _row(adm, 101)["connected"] is False
    assert _row(adm, 201)["state"] == "established"     # other sessions untouched
    again = venue.connect(101)                          # the session may come back
    got = retransmit_once_sequenced(again, 4, 3)
    assert {m.order_id for m in got} == orders  # type: ignore[attr-defined]
    assert all(m.exec_type == ExecType.CANCELED for m in got)  # type: ignore[attr-defined]
    bystander.terminate()
    again.terminate()


def test_disconnect_keeps_orders_without_cancel_on_disconnect(admin_venue) -> None:  # type: ignore[no-untyped-def]
    venue, adm = admin_venue
    c = venue.connect(102)
    _rest(c, 10600)
    assert adm.disconnect(102, "") == {"session_id": 102, "was_connected": True,
                                       "orders_cancelling": 0}
    term = c.recv()
    assert isinstance(term, Terminate) and term.reason == b""
    assert _row(adm, 102)["orders_live"] == 1


def test_long_reason_is_cut_to_the_field_on_a_character_boundary(admin_venue) -> None:  # type: ignore[no-untyped-def]
    venue, adm = admin_venue
    c = venue.connect(103)
    adm.disconnect(103, "\u00e9" * 100)                 # 200 bytes of two-byte characters
    term = c.recv()
    assert isinstance(term, Terminate) and term.reason.decode() == "\u00e9" * 64


def test_disconnect_of_an_idle_session_is_not_an_error(admin_venue) -> None:  # type: ignore[no-untyped-def]
    _, adm = admin_venue
    assert adm.disconnect(201, "nobody home") == {"session_id": 201, "was_connected": False,
                                                  "orders_cancelling": 0}


def test_unknown_session_and_bad_requests_get_their_codes(admin_venue) -> None:  # type: ignore[no-untyped-def]
    _, adm = admin_venue
    with pytest.raises(GatewayAdminError) as e:
        adm.disconnect(999, "x")
    assert e.value.code == "unknown_session"
    with pytest.raises(ValueError):
        adm.disconnect(-1, "x")
    raw = zmq.Context.instance().socket(zmq.REQ)
    raw.setsockopt(zmq.LINGER, 0)
    raw.connect(adm.endpoint)
    dec = msgspec.msgpack.Decoder(AdminReply)
    for bad in (b"\xc1garbage", msgspec.msgpack.encode({"op": "reboot"}),
                msgspec.msgpack.encode({"op": "disconnect"}),
                msgspec.msgpack.encode({"op": "sessions", "extra": 1})):
        raw.send(bad)
        assert raw.poll(10_000)
        reply = dec.decode(raw.recv())
        assert (reply.ok, reply.code) == (False, "bad_request"), bad
    raw.close()
    assert len(adm.sessions()) == len(CONFIG["sessions"])   # still serving


def test_no_gateway_is_a_timeout_not_a_hang() -> None:
    ctx = zmq.Context.instance()
    probe = ctx.socket(zmq.REP)
    probe.bind("tcp://127.0.0.1:*")
    endpoint = probe.getsockopt_string(zmq.LAST_ENDPOINT)
    probe.close(linger=0)                                   # a port nobody serves now
    with GatewayAdmin(endpoint, timeout_s=0.2) as adm:
        for _ in range(2):                                  # the socket is rebuilt after one
            with pytest.raises(GatewayAdminError) as e:
                adm.sessions()
            assert e.value.code == "timeout"


def test_unusable_admin_endpoint_is_refused_at_start(tmp_path: Path) -> None:
    for v in start_venue(tmp_path):
        cfg = tmp_path / "gateway.json"
        r = subprocess.run([sys.executable, "-m", "gateway", "gateway", "--engine", v.name,
                            "--listen", "127.0.0.1:0", "--config", str(cfg),
                            "--admin", "nonsense://x"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 2
        assert "cannot serve admin on 'nonsense://x'" in r.stderr
