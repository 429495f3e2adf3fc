"""Parent orders run by the control plane across several venues (issue 22): a multi-venue
deployment started by `python -m gateway up --config` (two lit venues and the consolidator); a TWAP
parent added through one venue's control plane with ``route_session`` runs as a routed parent
(trading/execution/routed_live.py): its slices go through the smart order router to both venues'
books, the participation cap follows the volume both venues' feeds print, the desk shows its
progress with the shares filled per venue, and a routed parent cannot be amended. Bad input (no
such session, an unknown routing strategy) is refused with nothing started."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gateway import launcher
from gateway.client import Client, ExecType, ExecutionReport
from gateway.control.client import ControlClient, ControlError
from gateway.sip.subscriber import SipSubscriber
from tests.gateway.venues.test_multi_venue_up import START_S, wait_nbbo, write_config

ROUTE_SESSION = ('[[sessions]]\nsession_id = 201', '[[sessions]]\nsession_id = 102\nfirm_id = 1\nkey = "alpha-key-102"\n\n'
                 '[[sessions]]\nsession_id = 201')


def _connect(endpoint: str, session: int, firm: int, key: str) -> Client:
    host, _, port = endpoint.rpartition(":")
    return Client.connect(host, int(port), session_id=session, firm_id=firm, key=key, keepalive_ms=60_000)


def _wait(pred, what: str, timeout_s: float = 90.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_control_plane_parent_executes_across_the_deployments_venues(tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path, venues=2, **dict([ROUTE_SESSION]))
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mvp", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        sip = SipSubscriber(info["sip"])
        makers = {vid: _connect(info["venues"][vid]["gateway"], 201, 2, "beta-key-201") for vid in ("LITA", "LITB")}
        taker = _connect(info["venues"]["LITB"]["gateway"], 101, 1, "alpha-key-101")
        ctl = ControlClient(info["venues"]["LITA"]["command"], "ops", "change-me-operator", timeout_s=20.0)
        try:
            makers["LITA"].wait_report(makers["LITA"].sell(1, 200, "100.02", account_id=3))
            makers["LITB"].wait_report(makers["LITB"].sell(1, 200, "100.01", account_id=3))
            makers["LITA"].wait_report(makers["LITA"].buy(1, 100, "99.98", account_id=3))
            wait_nbbo(sip, 1, lambda u: u.nbbo.bid == 999_800 and u.nbbo.ask == 1_000_100, "99.98 x 100.01")
            # bad input: refused, nothing started
            for params, words in (("route_session=999", "not a session of this venue"),
                                  ("route_session=102,route_strategy=teleport", "route_strategy")):
                with pytest.raises(ControlError, match=words):
                    ctl.call("parent.add", account=1, instrument="ACME", side="buy", qty=150, algo="TWAP",
                             duration_s=20, params=params)
            assert ctl.call("parent.list") == []
            p = ctl.call("parent.add", account=1, instrument="ACME", side="buy", qty=150, algo="TWAP", duration_s=20,
                         params="route_session=102,max_participation=1.0,slice_s=2,decision_ms=500")
            assert p["routed"] and p["state"] == "working"
            _wait(lambda: ctl.call("parent.show", id=p["id"])["arrival_mid"] is not None, "the parent's first decision")
            # market volume after the parent's start: account 2 lifts 100 of LITB's offer; the cap
            # (100 % of the volume both feeds print, own fills included) then lets the parent trade
            tid = taker.new_order(1, 1, 100, 2, price=1_000_100)
            taker.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == tid
                             and m.exec_type == ExecType.TRADE)
            with pytest.raises(ControlError, match="not amended"):
                ctl.call("parent.amend", id=p["id"], changes="qty=120")
            done = _wait(lambda: (lambda s: s if s["state"] in ("done", "expired") else None)(
                ctl.call("parent.show", id=p["id"])), "the routed parent to end", 120)
            assert done["state"] == "done" and done["filled"] == 150, done
            # LITB's 100 left at 100.01 first, then LITA's 100.02: both venues
            assert done["venue_fills"] == {"LITB": 100, "LITA": 50}, done
            assert done["avg_price"] == pytest.approx((100 * 100.01 + 50 * 100.02) / 150)
            assert all(s["filled_before"] + s["qty"] <= s["market_volume"] for s in done["recent_children"])
        finally:
            for c in (*makers.values(), taker):
                c.close()
            sip.close()
            ctl.close()
        assert v.stop("up") == 0
