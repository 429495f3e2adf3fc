"""Rule 611 route-away under `python -m gateway up --config` with order_protection = "route_away":
the router sends a child to LITA on a stale view of the market (LITB's better offer not in it), LITA's
engine executes nothing beyond LITB's protected offer and cancels the rest with 430; the router
picks up that cancel reason (the child's outcome says "route away") and routes the rest at once in
a new wave on the market as it is, LITB's protected offer first. Where the routing lives: in the
router (trading/routing/live_market.py states it); the venue only returns the rest."""
from __future__ import annotations

import json
from pathlib import Path

from gateway import launcher
from gateway.client import Client
from gateway.sip.subscriber import SipSubscriber
from gateway.venues.config import load_multi_config
from tests.gateway.venues.test_multi_venue_up import START_S, wait_nbbo, write_config
from trading.routing import ParentOrder, Router
from trading.routing.live_market import LiveVenues, VenueSession, venue_feeds
from trading.routing.market import Level, MarketSnapshot, VenueBook


def _connect(endpoint: str, session: int, firm: int, key: str) -> Client:
    host, _, port = endpoint.rpartition(":")
    return Client.connect(host, int(port), session_id=session, firm_id=firm, key=key, keepalive_ms=60_000)


def test_the_rest_a_venue_routes_away_goes_to_the_protected_venue(tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path, **{'order_protection = "reject"': 'order_protection = "route_away"'})
    multi = load_multi_config(cfg)
    assert multi.regnms.order_protection == "route_away"
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mvra", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        sip = SipSubscriber(info["sip"])
        clients: list[Client] = []
        try:
            makers = {vid: _connect(info["venues"][vid]["gateway"], 201, 2, "beta-key-201") for vid in ("LITA", "LITB")}
            clients += makers.values()
            makers["LITA"].wait_report(makers["LITA"].sell(1, 200, "100.02", account_id=3))
            makers["LITB"].wait_report(makers["LITB"].sell(1, 100, "100.01", account_id=3))
            makers["LITA"].wait_report(makers["LITA"].buy(1, 100, "99.98", account_id=3))
            wait_nbbo(sip, 1, lambda u: u.nbbo.ask == 1_000_100 and u.nbbo.bid == 999_800, "99.98 x 100.01")
            sessions = {}
            for vid in ("LITA", "LITB"):
                c = _connect(info["venues"][vid]["order_entry"], 101, 1, "alpha-key-101")
                clients.append(c)
                sessions[vid] = VenueSession(vid, c, 1)
            market = LiveVenues(sessions=sessions, feeds=venue_feeds(multi, ["LITA", "LITB"]))
            router = Router.from_config(multi, "ACME", market=market, timeout_floor_ns=2_000_000_000)
            parent = ParentOrder(parent_id="RA1", instrument_id=1, side="buy", qty=150, horizon_ns=20_000_000_000,
                                 wave_interval_ns=200_000_000)
            # the stale view: LITB's 100.01 offer not there yet
            stale = MarketSnapshot(ts_ns=market.now_ns(), instrument_id=1, books=(
                VenueBook(venue_id="LITA", bids=(Level(999_800, 100),), asks=(Level(1_000_200, 200),)),
                VenueBook(venue_id="LITB")))
            plan = router.route_order(parent, "largest_venue", snapshot=stale, now_ns=market.now_ns())
            assert [(c.venue_id, c.qty, c.price, c.intermarket_sweep) for c in plan.children] == \
                [("LITA", 150, 1_000_200, False)], plan.describe()
            report = router.execute_routing_plan(plan)
            first, *rest = report.outcomes
            assert (first.venue_id, first.filled_qty) == ("LITA", 0) and "route away" in first.reason \
                and "ENG_CXL_REGNMS_TRADE_THROUGH (430)" in first.reason, report.describe()
            # the rest, routed at once: LITB's protected 100.01 first, then LITA's 100.02 as a sweep
            wave2 = [c for c in report.children if c.wave == 2]
            assert sorted((c.venue_id, c.qty, c.price, c.intermarket_sweep) for c in wave2) == \
                [("LITA", 50, 1_000_200, True), ("LITB", 100, 1_000_100, False)], report.describe()
            assert report.filled_qty == 150
            assert sorted((f.venue_id, f.price, f.qty) for f in report.fills) == \
                [("LITA", 1_000_200, 50), ("LITB", 1_000_100, 100)]
        finally:
            for c in clients:
                c.close()
            sip.close()
        assert v.stop("up") == 0
