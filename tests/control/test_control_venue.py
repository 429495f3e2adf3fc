"""The control plane against a real venue (``python -m gateway up``: engine, control plane and
gateway as separate processes; orders over real TCP through gateway.client.Client; commands over
real ZeroMQ through ControlClient). One venue serves the whole module; each test uses its own
instrument or account so the tests do not depend on each other's order.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import ExecType, Side, TimeInForce
from gateway.control.client import ControlError
from gateway.reasons import Reason
from gateway.launcher import wait_for
from tests.control.cp_venue import OPERATOR, VIEWER, CpVenue, report, start_venue

ACME, BETA, PNL = 1, 2, 3


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    yield from start_venue(Path(tmp_path_factory.mktemp("cpvenue")))


def _accepted(c, **kw) -> int:  # type: ignore[no-untyped-def]
    cid = c.new_order(**kw)
    r = report(c, lambda m: m.cl_ord_id == cid)
    assert r.exec_type == ExecType.NEW, f"expected NEW, got {r.exec_type} reason {r.reason_code}"
    return r.order_id


def _rejected(c, **kw) -> int:  # type: ignore[no-untyped-def]
    cid = c.new_order(**kw)
    r = report(c, lambda m: m.cl_ord_id == cid)
    assert r.exec_type == ExecType.REJECTED, f"expected REJECTED, got {r.exec_type}"
    return r.reason_code


def test_limit_change_is_enforced_on_the_next_order(venue: CpVenue) -> None:
    ctl = venue.control()
    with venue.connect(101) as c:
        oid = _accepted(c, instrument_id=ACME, side=Side.BUY, order_qty=10, account_id=1, price=9000)
        # Account limit, one instrument: 10 open + 10 more would exceed 15.
        ctl.call("risk.set", scope="account", id=1, limit="max_position", value=15, instrument="ACME")
        assert _rejected(c, instrument_id=ACME, side=Side.BUY, order_qty=10, account_id=1,
                         price=9000) == Reason.ENG_REJ_POSITION_LIMIT
        _accepted(c, instrument_id=ACME, side=Side.BUY, order_qty=5, account_id=1, price=9000)
        # Instrument limit: orders above 50 are refused from the next one on.
        ctl.call("risk.set", scope="instrument", id="ACME", limit="max_order_qty", value=50)
        assert _rejected(c, instrument_id=ACME, side=Side.SELL, order_qty=60, account_id=2,
                         price=11000) == Reason.ENG_REJ_MAX_QTY
        oid2 = _accepted(c, instrument_id=ACME, side=Side.SELL, order_qty=50, account_id=2, price=11000)
        shown = ctl.call("risk.show", account=1)
        assert shown["accounts"][0]["max_position"]["ACME"] == 15
        assert shown["instruments"]["ACME"]["max_order_qty"] == 50
        # Put things back for the other tests.
        ctl.call("risk.set", scope="instrument", id="ACME", limit="max_order_qty", value="none")
        ctl.call("risk.set", scope="account", id=1, limit="max_position", value=1000, instrument="ACME")
        c.mass_cancel(instrument_id=ACME)
        report(c, lambda m: m.order_id == oid2 and m.exec_type == ExecType.CANCELED)
        wait_for(lambda: not ctl.call("orders", account=1) and not ctl.call("orders", account=2),
                 "the control plane to see the cancels")
        assert oid


def test_kill_switch_cancels_the_accounts_orders_and_rejects_new_ones(venue: CpVenue) -> None:
    ctl = venue.control()
    with venue.connect(201) as c:
        ids = {_accepted(c, instrument_id=ACME, side=Side.BUY, order_qty=3, account_id=4, price=8000 + i)
               for i in range(3)}
        other = _accepted(c, instrument_id=ACME, side=Side.BUY, order_qty=3, account_id=3, price=8000)
        wait_for(lambda: {o["order_id"] for o in ctl.call("orders", account=4)} == ids, "orders of account 4")
        res = ctl.call("killswitch", account=4, engaged=True)
        assert res["cancelled"] == 3
        for _ in ids:
            r = report(c, lambda m: m.exec_type == ExecType.CANCELED)
            assert r.order_id in ids and r.reason_code == Reason.ENG_CXL_KILL_SWITCH
        assert ctl.call("orders", account=4) == []
        assert [o["order_id"] for o in ctl.call("orders", account=3)] == [other]   # untouched
        assert _rejected(c, instrument_id=ACME, side=Side.BUY, order_qty=1, account_id=4,
                         price=8000) == Reason.ENG_REJ_KILL_SWITCH
        assert 4 in ctl.call("status")["kill_switches"]
        ctl.call("killswitch", account=4, engaged=False)
        _accepted(c, instrument_id=ACME, side=Side.BUY, order_qty=1, account_id=4, price=8000)
        c.mass_cancel(instrument_id=ACME)
        wait_for(lambda: not ctl.call("orders", account=3) and not ctl.call("orders", account=4), "cancels")


def test_resume_of_a_closed_instrument_says_how_to_open_it(venue: CpVenue) -> None:
    """resume reopens a halted instrument; refused on a closed one, the refusal says which
    command opens it (before it said only what resume does)."""
    ctl = venue.control()
    ctl.call("phase", instrument="PNL", phase="closed")
    try:
        reply = ctl.request("resume", instrument="PNL", call_s=0)
        assert reply.code == "bad_request"
        assert "PNL is closed" in reply.message and "`phase PNL continuous`" in reply.message
        assert "`phase PNL pre_open`" in reply.message
    finally:
        ctl.call("phase", instrument="PNL", phase="continuous")
    assert venue.phase(ctl, "PNL") == "continuous"


def test_resume_all_with_nothing_halted_says_so(venue: CpVenue) -> None:
    """`resume all` (the shell's, after `halt all`) reopens every halted instrument; with none
    halted it is refused saying so, instead of a bare ok that did nothing."""
    ctl = venue.control()
    ctl.call("halt", instrument="BETA")
    res = ctl.call("resume", instrument="all", call_s=0)
    assert [r["instrument"] for r in res] == ["BETA"] and venue.phase(ctl, "BETA") == "continuous"
    reply = ctl.request("resume", instrument="all", call_s=0)
    assert reply.code == "bad_request" and reply.message.startswith("nothing to resume: no instrument is halted")
    assert "ACME continuous" in reply.message


def test_halt_stops_matching_and_the_resume_auction_reopens(venue: CpVenue) -> None:
    ctl = venue.control()
    with venue.connect(101) as buyer, venue.connect(201) as seller:
        ctl.call("halt", instrument="BETA")
        assert venue.phase(ctl, "BETA") == "halted"
        assert _rejected(buyer, instrument_id=BETA, side=Side.BUY, order_qty=10, account_id=1,
                         price=5010) == Reason.ENG_REJ_PHASE
        # The call period: orders rest crossed without matching.
        ctl.call("phase", instrument="BETA", phase="pre_open")
        _accepted(buyer, instrument_id=BETA, side=Side.BUY, order_qty=10, account_id=1, price=5010)
        _accepted(seller, instrument_id=BETA, side=Side.SELL, order_qty=10, account_id=3, price=4990)
        book = wait_for(lambda: (b := ctl.call("book", instrument="BETA")) and b["bids"] and b["asks"] and b,
                        "both sides in the book")
        assert book["bids"][0][:2] == [5010, 10] and book["asks"][0][:2] == [4990, 10]
        res = ctl.call("resume", instrument="BETA", call_s=0)
        # Auction price: both 4990 and 5010 match 10 with no imbalance and are 10 from the
        # reference 5000: the lower price wins (ENGINE.md, SET_PHASE).
        assert res[0]["phase"] == "continuous" and res[0]["auction"]["price"] == 4990
        for c in (buyer, seller):
            r = report(c, lambda m: m.exec_type == ExecType.TRADE)
            assert r.last_px == 4990 and r.last_qty == 10
        assert venue.phase(ctl, "BETA") == "continuous"
        st = next(i for i in ctl.call("status")["instruments"] if i["symbol"] == "BETA")
        assert st["last"] == 4990
        # Continuous again: a new crossing order matches at once.
        _accepted(seller, instrument_id=BETA, side=Side.SELL, order_qty=1, account_id=3, price=5000)
        cid = buyer.new_order(instrument_id=BETA, side=Side.BUY, order_qty=1, account_id=1, price=5000,
                              time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
        assert report(buyer, lambda m: m.cl_ord_id == cid and m.exec_type == ExecType.TRADE).last_px == 5000


def test_positions_and_pnl_match_a_hand_computed_scenario(venue: CpVenue) -> None:
    """Account 2 buys 10 @ 1000 and 5 @ 1030 (average 1010), then sells 6 @ 1020 to account 3:
    realized 6 x (1020 - 1010) = 60, 9 left at 1010 marked at 1020: unrealized 90. Account 3 is
    the mirror image: realized -60, unrealized -90, short 9 at 1010."""
    ctl = venue.control()
    with venue.connect(101) as a, venue.connect(201) as b:
        for qty, price in ((10, 1000), (5, 1030)):
            _accepted(b, instrument_id=PNL, side=Side.SELL, order_qty=qty, account_id=3, price=price)
            cid = a.new_order(instrument_id=PNL, side=Side.BUY, order_qty=qty, account_id=2, price=price)
            report(a, lambda m: m.cl_ord_id == cid and m.exec_type == ExecType.TRADE)
        _accepted(a, instrument_id=PNL, side=Side.SELL, order_qty=6, account_id=2, price=1020)
        cid = b.new_order(instrument_id=PNL, side=Side.BUY, order_qty=6, account_id=3, price=1020)
        report(b, lambda m: m.cl_ord_id == cid and m.exec_type == ExecType.TRADE)

    def rows() -> dict[int, dict]:  # type: ignore[type-arg]
        return {r["account"]: r for r in ctl.call("positions") if r["instrument"] == PNL}

    got = wait_for(lambda: (r := rows()) and r.get(3, {}).get("position") == -9 and r, "the last fill")
    assert {k: got[2][k] for k in ("position", "avg_price", "realized_pnl", "unrealized_pnl")} == \
        {"position": 9, "avg_price": 1010, "realized_pnl": 60, "unrealized_pnl": 90}
    assert {k: got[3][k] for k in ("position", "avg_price", "realized_pnl", "unrealized_pnl")} == \
        {"position": -9, "avg_price": 1010, "realized_pnl": -60, "unrealized_pnl": -90}
    assert got[2]["symbol"] == "PNL"
    assert [r["account"] for r in ctl.call("positions", account=2) if r["instrument"] == PNL] == [2]


def test_audit_log_records_each_operator_action(venue: CpVenue) -> None:
    ctl = venue.control()
    before = len(venue.audit())
    ctl.call("risk.set", scope="instrument", id="PNL", limit="price_collar_ticks", value=500)
    ctl.call("risk.set", scope="account", id=2, limit="loss_limit", value=1_000_000)
    with pytest.raises(ControlError) as err:
        ctl.call("halt", instrument="NOPE")
    assert err.value.code == "bad_request" and "NOPE" in err.value.message
    ctl.call("status")   # reads are not audited
    entries = venue.audit()[before:]
    assert [(e["user"], e["role"], e["command"], e["outcome"], e["code"]) for e in entries] == [
        ("ops", "operator", "risk.set", "accepted", "ok"),
        ("ops", "operator", "risk.set", "accepted", "ok"),
        ("ops", "operator", "halt", "refused", "bad_request")]
    assert entries[0]["args"] == {"scope": "instrument", "id": "PNL", "limit": "price_collar_ticks", "value": 500}
    assert all(e["ts"].endswith("+00:00") and e["ts_ns"] > 0 for e in entries)
    assert "token" not in str(entries)


def test_viewer_cannot_change_anything(venue: CpVenue) -> None:
    viewer = venue.control(VIEWER)
    assert viewer.call("whoami") == {"user": "watch", "role": "viewer"}
    before_status = viewer.call("status")["instruments"]
    before_risk = viewer.call("risk.show")
    before = len(venue.audit())
    attempts = [("halt", {"instrument": "ACME"}), ("phase", {"instrument": "all", "phase": "closed"}),
                ("killswitch", {"account": 1, "engaged": True}),
                ("risk.set", {"scope": "account", "id": 1, "limit": "max_position", "value": 0}),
                ("resume", {"instrument": "ACME"}), ("sessions.disconnect", {"session_id": 101})]
    for command, args in attempts:
        with pytest.raises(ControlError) as err:
            viewer.call(command, **args)
        assert err.value.code == "forbidden", command
    entries = venue.audit()[before:]
    assert [(e["user"], e["role"], e["command"], e["outcome"], e["code"]) for e in entries] == \
        [("watch", "viewer", c, "refused", "forbidden") for c, _ in attempts]
    assert [(i["symbol"], i["phase"]) for i in viewer.call("status")["instruments"]] == \
        [(i["symbol"], i["phase"]) for i in before_status]
    assert viewer.call("risk.show") == before_risk
    assert 1 not in viewer.call("status")["kill_switches"]


def test_bad_token_or_unknown_user_is_unauthenticated(venue: CpVenue) -> None:
    before = len(venue.audit())
    for user in (("ops", "wrong-token"), ("nobody", "operator-token-1"), (VIEWER[0], OPERATOR[1])):
        with pytest.raises(ControlError) as err:
            venue.control(user).call("status")
        assert err.value.code == "unauthenticated"
    entries = venue.audit()[before:]
    assert [(e["user"], e["outcome"], e["code"]) for e in entries] == \
        [("ops", "refused", "unauthenticated"), ("nobody", "refused", "unauthenticated"),
         ("watch", "refused", "unauthenticated")]


def test_bad_requests_get_clear_codes(venue: CpVenue) -> None:
    ctl = venue.control()
    cases = [(("frobnicate", {}), "unknown_command"), (("book", {}), "bad_request"),
             (("book", {"instrument": "ACME", "depth": 3}), "bad_request"),
             (("phase", {"instrument": "ACME", "phase": "lunch"}), "bad_request"),
             (("killswitch", {"account": 999, "engaged": True}), "bad_request"),
             (("risk.set", {"scope": "account", "id": 1, "limit": "max_position", "value": -1}), "bad_request"),
             (("resume", {"instrument": "ACME"}), "bad_request")]   # ACME is continuous
    for (command, args), code in cases:
        with pytest.raises(ControlError) as err:
            ctl.call(command, **args)
        assert err.value.code == code, (command, args, err.value)
        assert err.value.message
    assert venue.phase(ctl, "ACME") == "continuous"


def test_sessions_list_and_status_show_the_gateway(venue: CpVenue) -> None:
    ctl = venue.control()
    with venue.connect(201):
        rows = wait_for(lambda: [s for s in ctl.call("sessions.list") if s["session_id"] == 201 and s["connected"]],
                        "session 201 to show as connected")
        assert rows[0]["firm_id"] == 2
        assert ctl.call("status")["sessions_connected"] >= 1


def test_operator_disconnects_a_session(venue: CpVenue) -> None:
    ctl = venue.control()
    before = len(venue.audit())
    with venue.connect(201) as c:
        wait_for(lambda: any(s["session_id"] == 201 and s["connected"] for s in ctl.call("sessions.list")),
                 "session 201 connected")
        res = ctl.call("sessions.disconnect", session_id=201)
        assert res["was_connected"] is True
        msg = c.recv_until(lambda m: type(m).__name__ == "Terminate", 10)[0]
        assert "ops" in msg.reason.decode()   # type: ignore[attr-defined]
    wait_for(lambda: not any(s["session_id"] == 201 and s["connected"] for s in ctl.call("sessions.list")),
             "session 201 disconnected")
    entry = venue.audit()[before]
    assert (entry["user"], entry["command"], entry["args"], entry["outcome"]) == \
        ("ops", "sessions.disconnect", {"session_id": 201}, "accepted")


def test_every_protocol_command_has_a_handler() -> None:
    from gateway.control import protocol
    from gateway.control.service import ControlService
    from gateway.control.api import SECURITY_VERBS      # answered by the API server itself
    missing = [c for c in protocol.COMMANDS
               if c not in SECURITY_VERBS and not hasattr(ControlService, "cmd_" + c.replace(".", "_"))]
    assert missing == []


def test_undecodable_request_is_refused_and_audited(venue: CpVenue) -> None:
    import zmq

    from gateway.control import protocol
    before = len(venue.audit())
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(venue.ready["command"])
    try:
        sock.send_multipart([b"", b"\xc1 not msgpack"])
        assert sock.poll(10_000), "no reply to a malformed request"
        reply = protocol.decode_reply(sock.recv_multipart()[-1])
    finally:
        sock.close()
    assert (reply.ok, reply.code) == (False, "bad_request") and "undecodable" in reply.message
    assert venue.audit()[before]["code"] == "bad_request"
    assert venue.control().call("whoami")["user"] == "ops"    # the server keeps serving


def test_a_request_the_typed_decoder_refuses_is_answered_to_its_caller(venue: CpVenue) -> None:
    """A list among the arguments is not an ArgValue: the refusal carries the request's own id, so
    the client gets bad_request naming the field instead of waiting out its timeout."""
    ctl = venue.control()
    with pytest.raises(ControlError) as err:
        ctl.call("book", instrument=["ACME", "BETA"])
    assert err.value.code == "bad_request" and "args" in err.value.message
    assert ctl.call("whoami")["user"] == "ops"


def test_status_lists_accounts_ticks_and_the_price_scale_for_the_shell(venue: CpVenue) -> None:
    from gateway.control.shell_commands import catalog_from
    from gateway.control.shell_render import Formats
    status = venue.control(VIEWER).call("status")
    assert status["price_scale"] == 10_000
    assert [(a["id"], a["firm"]) for a in status["accounts"]] == [(1, 1), (2, 1), (3, 2), (4, 2)]
    assert {i["symbol"]: (i["tick_size"], i["lot_size"]) for i in status["instruments"]} == {
        "ACME": (1, 1), "BETA": (5, 1), "PNL": (1, 1)}
    # The shell completes accounts and formats prices from this reply alone.
    assert catalog_from(status).accounts == (1, 2, 3, 4)
    fmt = Formats.from_status(status)
    assert fmt.price_scale == 10_000 and fmt.ticks["BETA"] == 5 and fmt.price(5005, "BETA") == "0.5005"


def test_a_post_trade_limit_change_is_an_acknowledged_engine_command(venue: CpVenue) -> None:
    ctl = venue.control()
    res = ctl.call("risk.set", scope="account", id=2, limit="drawdown_limit", value=250.25)
    assert res["value"] == 250.25 and res["seq"] > 0
    assert ctl.call("risk.show", account=2)["accounts"][0]["limits"]["drawdown_limit"] == 250.25
    with pytest.raises(ControlError) as bad:
        ctl.call("risk.set", scope="account", id=2, limit="concentration_limit", value=1.5)
    assert bad.value.code == "bad_request"
    ctl.call("risk.set", scope="account", id=2, limit="drawdown_limit", value=0)
    assert ctl.call("risk.show", account=2)["accounts"][0]["limits"]["drawdown_limit"] is None


@pytest.mark.parametrize("command, args, words", [
    ("strategy.stop", {"id": float("inf")}, "id: expected a whole number, got inf"),
    ("strategy.pause", {"id": True}, "id: expected a whole number, got True"),
    ("strategy.resume", {"id": 1.5}, "id: expected a whole number, got 1.5"),
    ("strategy.set", {"id": float("nan"), "params": "size=1"}, "id: expected a whole number, got nan"),
    ("strategy.set", {"id": 1, "params": -1}, "params: expected k=v[,k=v...] text, got -1"),
    ("strategy.start", {"strategy": "noop", "account": 1, "instrument": "ACME", "params": -1},
     "params: expected k=v[,k=v...] text, got -1"),
])
def test_strategy_commands_name_a_bad_id_or_params(venue: CpVenue, command: str, args: dict[str, object],
                                                   words: str) -> None:
    """qa4's sweep: id=inf was an internal OverflowError, id=True or 1.5 acted on strategy 1, and a
    non-string params an internal AttributeError; each is now a bad_request naming the argument."""
    with pytest.raises(ControlError) as err:
        venue.control().call(command, **args)
    assert err.value.code == "bad_request" and words in err.value.message, err.value
    assert venue.control().call("strategy.list") == []      # nothing was started
