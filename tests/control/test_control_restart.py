"""The control plane rebuilds its state from the venue's journals: after a SIGKILL of the control
plane alone, and after a SIGKILL of the engine and a restart of the whole venue from its journal
(``python -m gateway up`` again), orders, positions and P&L, kill switches, limits (engine-enforced
and post-trade) and phases are what they were - each fill counted once.

The scenario (instrument PNL, tick 1, every trade at a price the test chooses):
  acct 3 sells 10 @ 1000; acct 1 buys 4 @ 1000, then 6 @ 1000    -> acct 1 +10 @ 1000, acct 3 -10 @ 1000
  acct 4 bids 3 @ 1020; acct 1 sells 3 @ 1020                    -> acct 1 +7, realized 3 x 20 = 60
                                                                    acct 4 +3 @ 1020; last price 1020
  acct 2 bids 5 @ 990 (stays live); acct 4 offers 2 @ 1050, then its kill switch cancels it
  run-time changes: PNL max_order_qty 500; acct 1 max_position 33 on PNL (config: 1000);
  acct 2 var_limit 12345.5; acct 3 auto_kill on; BETA halted.
Unrealized at 1020: acct 1 7 x 20 = 140, acct 3 -10 x 20 = -200, acct 4 0.
"""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from gateway.client import ExecType, Side, Terminate
from gateway.control.client import ControlClient
from gateway.reasons import Reason
from native import records
from native.messages import SetPostTradeLimit
from shm.client import EngineClient
from gateway.launcher import wait_for
from tests.control.cp_venue import SplitVenue, report, start_venue

PNL = 3
EXPECTED_POSITIONS = [
    {"account": 1, "symbol": "PNL", "position": 7, "avg_price": 1000, "realized_pnl": 60, "unrealized_pnl": 140},
    {"account": 3, "symbol": "PNL", "position": -10, "avg_price": 1000, "realized_pnl": 0, "unrealized_pnl": -200},
    {"account": 4, "symbol": "PNL", "position": 3, "avg_price": 1020, "realized_pnl": 0, "unrealized_pnl": 0},
]


def _order(c: Any, expect: ExecType, **kw: Any) -> Any:
    """Sends an order on PNL and returns its report of type `expect` (NEW, TRADE: the aggressor's
    fill, REJECTED); a REJECTED while expecting something else fails at once."""
    cid = c.new_order(instrument_id=PNL, **kw)
    r = report(c, lambda m: m.cl_ord_id == cid and m.exec_type in (expect, ExecType.REJECTED))
    assert r.exec_type == expect, f"expected {expect!r}, got {r.exec_type!r} (reason {r.reason_code})"
    return r


def _scenario(connect: Any, ctl: ControlClient) -> Any:
    """Runs the module docstring's scenario; returns the two open clients (closing them would
    cancel their sessions' orders)."""
    c1, c2 = connect(101), connect(201)
    _order(c2, ExecType.NEW, side=Side.SELL, order_qty=10, account_id=3, price=1000)
    _order(c1, ExecType.TRADE, side=Side.BUY, order_qty=4, account_id=1, price=1000)
    _order(c1, ExecType.TRADE, side=Side.BUY, order_qty=6, account_id=1, price=1000)
    _order(c2, ExecType.NEW, side=Side.BUY, order_qty=3, account_id=4, price=1020)
    _order(c1, ExecType.TRADE, side=Side.SELL, order_qty=3, account_id=1, price=1020)
    _order(c1, ExecType.NEW, side=Side.BUY, order_qty=5, account_id=2, price=990)
    _order(c2, ExecType.NEW, side=Side.SELL, order_qty=2, account_id=4, price=1050)
    assert ctl.call("killswitch", account=4, engaged=True)["cancelled"] == 1
    ctl.call("risk.set", scope="instrument", id="PNL", limit="max_order_qty", value=500)
    ctl.call("risk.set", scope="account", id=1, limit="max_position", value=33, instrument="PNL")
    ctl.call("risk.set", scope="account", id=2, limit="var_limit", value=12345.5)
    ctl.call("risk.set", scope="account", id=3, limit="auto_kill", value=True)
    ctl.call("halt", instrument="BETA")
    return c1, c2


def _view(ctl: ControlClient) -> dict[str, Any]:
    """What the control plane knows, minus counters that legitimately differ across restarts."""
    status = ctl.call("status")
    risk = ctl.call("risk.show")
    keys = ("account", "symbol", "position", "avg_price", "realized_pnl", "unrealized_pnl")
    return {
        "positions": [{k: r[k] for k in keys} for r in ctl.call("positions") if r["position"] or r["realized_pnl"]],
        "orders": {a: [{k: o[k] for k in ("instrument", "side", "price", "qty", "leaves")}
                       for o in ctl.call("orders", account=a)] for a in (1, 2, 3, 4)},
        "kill_switches": status["kill_switches"],
        "phases": {i["symbol"]: i["phase"] for i in status["instruments"]},
        "last": {i["symbol"]: i["last"] for i in status["instruments"]},
        "book": {s: (b["bids"], b["asks"]) for s in ("ACME", "BETA", "PNL")
                 for b in [ctl.call("book", instrument=s)]},
        "account_limits": {a["account"]: (a["kill_switch"], a["max_position"], a["limits"])
                           for a in risk["accounts"]},
        "instrument_limits": risk["instruments"],
    }


def _check_hand_computed(view: dict[str, Any], bid_990_live: bool = True) -> None:
    """bid_990_live False: session 101 (cancel-on-disconnect) lost its connection since, so the
    gateway cancelled acct 2's bid."""
    assert view["positions"] == EXPECTED_POSITIONS
    bid = [{"instrument": "PNL", "side": "buy", "price": 990, "qty": 5, "leaves": 5}]
    assert view["orders"] == {1: [], 2: bid if bid_990_live else [], 3: [], 4: []}
    assert view["kill_switches"] == [4]
    assert view["phases"] == {"ACME": "continuous", "BETA": "halted", "PNL": "continuous"}
    assert view["last"]["PNL"] == 1020
    assert view["book"]["PNL"] == (([[990, 5, 1]] if bid_990_live else []), [])
    limits = view["account_limits"]
    assert limits[1][1] == {"ACME": 1000, "BETA": 1000, "PNL": 33}
    assert limits[2][2]["var_limit"] == 12345.5
    assert limits[3][2]["auto_kill"] is True and limits[1][2]["auto_kill"] is False
    assert [a for a, (killed, _, _) in limits.items() if killed] == [4]
    assert view["instrument_limits"]["PNL"]["max_order_qty"] == 500


def test_a_killed_control_plane_restarts_with_the_same_state(tmp_path: Path) -> None:
    jdir = tmp_path / "journal"
    venue = SplitVenue(tmp_path, journal=str(jdir))
    try:
        venue.start()
        c1, c2 = _scenario(venue.connect, venue.control())
        # A control command the service did not send (another producer of the engine): the
        # service reads it from the command journal when its CMD_ACK goes by.
        other = EngineClient(venue.name)
        try:
            other.submit(SetPostTradeLimit(account_id=1, limit=int(records.PostTradeLimit.LOSS),
                                           value_e6=777_000_000))
        finally:
            other.close()
        wait_for(lambda: venue.control().call("risk.show", account=1)["accounts"][0]["limits"]["loss_limit"] == 777,
                 "the service to apply the other producer's limit")
        before = _view(venue.control())
        _check_hand_computed(before)

        venue.kill("control")
        venue.start_control()
        ctl = venue.control()
        after = _view(ctl)
        assert after == before
        assert after["account_limits"][1][2]["loss_limit"] == 777
        history = ctl.call("status")["history"]
        assert history["first_seq"] == 1 and history["through_seq"] > 0

        # The restart did not send the configured max_position (1000) over the run-time 33 ...
        r = _order(c1, ExecType.REJECTED, side=Side.BUY, order_qty=30, account_id=1, price=990)
        assert r.reason_code == Reason.ENG_REJ_POSITION_LIMIT
        # ... and the live log continues after the journal: a new fill is counted once.
        _order(c2, ExecType.TRADE, side=Side.SELL, order_qty=1, account_id=3, price=990)
        rows = {r["account"]: r["position"] for r in ctl.call("positions", account=None)}
        assert rows[2] == 1 and rows[3] == -11 and rows[1] == 7
        c1.close()
        c2.close()
    finally:
        venue.stop()

    # The post-trade limits are sequenced, journaled commands like the others.
    from gateway.enginehost import journal
    _, _, payloads = journal.read_records(str(jdir), journal.KIND_CMD)
    ptl = [(c.account_id, records.PostTradeLimit(c.limit).name, c.value_e6)
           for c in records.decode_commands(payloads) if isinstance(c, SetPostTradeLimit)]
    assert ptl == [(2, "VAR", 12_345_500_000), (3, "AUTO_KILL", 1_000_000), (1, "LOSS", 777_000_000)]


def test_after_an_engine_crash_the_restarted_venue_rebuilds_the_control_state(tmp_path: Path) -> None:
    jdir = tmp_path / "journal"
    gen = start_venue(tmp_path, journal=str(jdir))
    venue = next(gen)
    endpoints = tmp_path / "run" / "control.json"
    try:
        c1, c2 = _scenario(venue.connect, venue.control())
        _check_hand_computed(_view(venue.control()))
        # SIGKILL the engine: `up` restarts it from its journal, then the control plane (new
        # endpoints); the gateway outlives the crash, and session 101's cancel-on-disconnect (its
        # connection was terminated with 959) cancels acct 2's bid on the recovered engine.
        import json
        import os
        first_endpoints = endpoints.read_text()
        os.kill(venue.ready["pids"]["engine"], signal.SIGKILL)
        for c in (c1, c2):
            msg, _ = c.recv_until(lambda m: isinstance(m, Terminate), 30.0)
            assert msg.reason_code == Reason.ENG_GW_ENGINE_GONE, msg  # type: ignore[attr-defined]
            c.close()
        seen_101 = c1.core.last_seq_in
        wait_for(lambda: endpoints.exists() and endpoints.read_text() != first_endpoints,
                 "the restarted control plane", 60)
        ep = json.loads(endpoints.read_text())
        ctl = ControlClient(ep["command"], "ops", "operator-token-1", timeout_s=10.0)
        wait_for(lambda: not _view(ctl)["orders"][2], "the owed cancel-on-disconnect", 60)
        _check_hand_computed(_view(ctl), bid_990_live=False)
        assert venue.proc.poll() is None, "up stopped instead of restarting the engine"
        # The same sessions on the same gateway: 101 asks for what it missed.
        c1 = venue.connect(101)
        assert c1.core.server_next_seq == seen_101 + 2  # one report missed: the cancel
        got = c1.retransmit(seen_101 + 1, 1)
        assert got[0].exec_type == ExecType.CANCELED and got[0].price == 990  # type: ignore[attr-defined]
        c1.terminate()
    finally:
        gen.close()
    out = venue.output()
    assert "up: engine killed by SIGKILL after " in out and "; restarting it (restart 1," in out, \
        out[-3000:]
    assert "gateway: resumed on engine" in out

    # `up` again on the same configuration: the engine recovers from its journal (its new event
    # log is empty); the control plane rebuilds everything from the journals.
    gen = start_venue(tmp_path, journal=str(jdir))
    venue = next(gen)
    try:
        ctl = venue.control()
        view = _view(ctl)
        _check_hand_computed(view, bid_990_live=False)
        wait_for(lambda: ctl.call("status")["engine"]["alive"], "the engine to be alive")
    finally:
        gen.close()
