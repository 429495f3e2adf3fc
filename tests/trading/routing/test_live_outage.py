"""The router against real venues: two lit venues and the consolidator started by
`python -m gateway up --config` (real processes, real TCP through each venue's delay line, the
NBBO from the venues' real feeds). One venue stops answering after the plan is made and is killed
while its child is on the way: the plan completes on the other venue, nothing is sent twice, every
child is accounted for, and the dead venue's book shows that nothing executed there."""
from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import pytest

from gateway import launcher
from gateway.client import Client, ExecType
from gateway.sip.subscriber import SipSubscriber
from gateway.venues.config import load_multi_config
from tests.gateway.venues.test_multi_venue_up import START_S, wait_nbbo, write_config
from trading.routing import ParentOrder, Router
from trading.routing.cli import main as route_cli
from trading.routing.live_market import LiveVenues, VenueSession

ROUTER = dict(session_id=101, firm_id=1, key="alpha-key-101", account=1)
MAKER = dict(session_id=201, firm_id=2, key="beta-key-201", account=3)


def _connect(endpoint: str, who: dict[str, object], keepalive_ms: int = 1000) -> Client:
    host, _, port = endpoint.rpartition(":")
    return Client.connect(host, int(port), session_id=who["session_id"], firm_id=who["firm_id"], key=who["key"],  # type: ignore[arg-type]
                          keepalive_ms=keepalive_ms)


def _port_open(endpoint: str) -> bool:
    host, _, port = endpoint.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_a_venue_killed_mid_route_the_plan_completes_on_the_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # venue-side Rule 611 on (order_protection = "reject"): LITA's 100.00 offer stays visible to
    # LITB while the router holds LITA set aside (self-help), so the router's later children to LITB
    # go as intermarket sweeps, which LITB accepts
    cfg, _ = write_config(tmp_path)
    assert load_multi_config(cfg).regnms.order_protection == "reject"
    multi = load_multi_config(cfg)
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mvr", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        sip = SipSubscriber(info["sip"])
        clients: list[Client] = []
        try:
            # makers straight to each venue's gateway (not through the delay line we will kill)
            # (idle while the router works: a long keepalive, or the gateway ends them and cancels their orders)
            makers = {vid: _connect(info["venues"][vid]["gateway"], MAKER, keepalive_ms=60_000) for vid in ("LITA", "LITB")}
            clients += makers.values()
            m = MAKER["account"]
            resting = makers["LITA"].sell(1, 300, "100.00", account_id=m)
            makers["LITA"].wait_report(resting)
            for price, qty in (("100.00", 200), ("100.02", 1000)):
                makers["LITB"].wait_report(makers["LITB"].sell(1, qty, price, account_id=m))
            for mk in makers.values():
                mk.wait_report(mk.buy(1, 100, "99.90", account_id=m))
            wait_nbbo(sip, 1, lambda u: u.nbbo.ask == 1_000_000 and u.nbbo.ask_size == 500 and u.nbbo.bid == 999_000,
                      "both venues' asks at 100.00")
            sessions = {}
            for vid in ("LITA", "LITB"):
                c = _connect(info["venues"][vid]["order_entry"], ROUTER)
                clients.append(c)
                sessions[vid] = VenueSession(vid, c, ROUTER["account"])  # type: ignore[arg-type]
            market = LiveVenues(sessions=sessions, sip=sip)
            router = Router.from_config(multi, "ACME", market=market, timeout_floor_ns=2_000_000_000)
            parent = ParentOrder(parent_id="LIVE1", instrument_id=1, side="buy", qty=700, horizon_ns=30_000_000_000,
                                 wave_interval_ns=300_000_000)
            plan = router.route_order(parent, "cost_minimization")
            assert {c.venue_id: c.qty for c in plan.children} == {"LITA": 300, "LITB": 200}, plan.describe()

            victim = info["pids"]["LITA/delay"]
            os.kill(victim, signal.SIGSTOP)        # LITA stops answering ...
            send = market.send

            def send_then_kill(child, instrument_id):  # type: ignore[no-untyped-def]
                send(child, instrument_id)
                if child.venue_id == "LITA":
                    os.kill(victim, signal.SIGKILL)   # ... and dies with our child in its socket buffer
            market.send = send_then_kill  # type: ignore[method-assign]
            report = router.execute_routing_plan(plan)

            ids = [c.child_id for c in report.children]
            assert len(ids) == len(set(ids)) and ids == market.sent, "a child sent twice"
            assert [o.child_id for o in report.outcomes] == ids, "every child has one outcome"
            assert report.filled_qty == 700, report.describe()
            lita = [o for o in report.outcomes if o.venue_id == "LITA"]
            assert len(lita) == 1 and lita[0].state == "timed_out" and lita[0].filled_qty == 0
            assert {f.venue_id for f in report.fills} == {"LITB"}
            assert report.venues_down == ("LITA",)
            assert all(c.venue_id == "LITB" for c in report.children if c.wave > 1)
            assert all(c.intermarket_sweep for c in report.children if c.wave > 1 and c.price > 1_000_000)
            assert not any(o.state == "rejected" for o in report.outcomes), report.describe()
            # nothing executed on LITA: the maker's 300 are all still there
            makers["LITA"].cancel_order(resting)
            done = makers["LITA"].wait_report(resting, ExecType.CANCELED)
            assert done.leaves_qty == 0 and done.order_qty == 300 and done.cum_qty == 0
            # the command line routes through the same deployment (LITA's delay line is back, up restarted it)
            for c in clients[2:]:
                c.terminate()
            del clients[2:]
            v.wait_for(lambda: _port_open(info["venues"]["LITA"]["order_entry"]), "LITA's delay line back", deadline_s=60)
            key_file = tmp_path / "session-101.key"     # the key from a file, never the command line
            key_file.write_text("alpha-key-101\n")
            key_file.chmod(0o600)
            rc = route_cli(["live", "--config", str(cfg), "--symbol", "ACME", "--side", "buy", "--qty", "100",
                            "--strategy", "implementation_shortfall", "--session", "101", "--firm", "1",
                            "--key-file", str(key_file), "--account", "1", "--next-seq-no", "1000"])
            out, err = capsys.readouterr()
            assert rc == 0 and "filled 100 of 100" in out, out + err
        finally:
            for c in clients:
                try:
                    c.terminate()
                except Exception:
                    c.close()
            sip.close()
        assert v.stop("up") == 0
