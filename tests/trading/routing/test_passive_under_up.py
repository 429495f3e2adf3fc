"""A passive child live, under `python -m gateway up --config` (two lit venues, their delay lines and
the consolidator): the router's `passive` strategy posts part of a buy inside the spread on a venue,
another firm's session sells into it (a partial fill at the post's price, the venue's maker rebate
credited), the post is cancelled when its time is up, and the next wave sweeps the remainder from
the offers. Every child has one outcome; nothing fills twice."""
from __future__ import annotations

import json
import threading
from pathlib import Path

from gateway import launcher
from gateway.client import Client, ExecType
from gateway.sip.subscriber import SipSubscriber
from gateway.venues.config import load_multi_config
from tests.gateway.venues.test_multi_venue_up import START_S, wait_nbbo, write_config
from trading.routing import ParentOrder, Router
from trading.routing.live_market import LiveVenues, VenueSession, venue_feeds
from trading.routing.venue import maker_rebate_usd

SOLD_INTO_POST = 60


def _connect(endpoint: str, session: int, firm: int, key: str) -> Client:
    host, _, port = endpoint.rpartition(":")
    return Client.connect(host, int(port), session_id=session, firm_id=firm, key=key, keepalive_ms=60_000)


def _sell_into_post(maker: Client, sip: SipSubscriber, price: int, done: dict[str, object]) -> None:
    """Another firm: once the post is the NBBO bid (the consolidator shows it), sells into it."""
    try:
        wait_nbbo(sip, 1, lambda u: u.nbbo.bid == price, f"the post's {price} as the NBBO bid")
        cl = maker.sell(1, SOLD_INTO_POST, f"{price / 10_000:.2f}", account_id=3)
        done["report"] = maker.wait_report(cl, ExecType.TRADE, timeout_s=30.0)
    except BaseException as exc:     # the main thread asserts on it
        done["error"] = exc


def test_a_post_fills_partly_from_another_session_and_the_rest_is_swept_at_its_deadline(tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    multi = load_multi_config(cfg)
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mvps", log_dir=tmp_path, owns_segments=False) as v:
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
            makers["LITA"].wait_report(makers["LITA"].sell(1, 400, "100.10", account_id=3))
            makers["LITA"].wait_report(makers["LITA"].buy(1, 100, "99.90", account_id=3))
            wait_nbbo(sip, 1, lambda u: u.nbbo.ask == 1_001_000 and u.nbbo.bid == 999_000, "99.90 x 100.10")
            sessions = {}
            for vid in ("LITA", "LITB"):
                c = _connect(info["venues"][vid]["order_entry"], 101, 1, "alpha-key-101")
                clients.append(c)
                sessions[vid] = VenueSession(vid, c, 1)
            market = LiveVenues(sessions=sessions, feeds=venue_feeds(multi, ["LITA", "LITB"]))
            router = Router.from_config(multi, "ACME", market=market, timeout_floor_ns=5_000_000_000)
            parent = ParentOrder(parent_id="PS1", instrument_id=1, side="buy", qty=300, horizon_ns=60_000_000_000,
                                 wave_interval_ns=200_000_000, post_ns=6_000_000_000)
            plan = router.route_order(parent, "passive")
            posts = [c for c in plan.children if c.style == "post"]
            assert len(posts) == 1, plan.describe()
            post = posts[0]
            assert post.price == 999_100 and post.qty >= 100, plan.describe()    # a tick inside the 99.90 bid
            sold: dict[str, object] = {}
            seller = threading.Thread(target=_sell_into_post, args=(makers[post.venue_id], sip, post.price, sold))
            seller.start()
            report = router.execute_routing_plan(plan)
            seller.join(timeout=60)
            assert "error" not in sold, sold.get("error")
        finally:
            for c in clients:
                c.close()
            sip.close()
        assert v.stop("up") == 0
    outcomes = dict(zip((c.child_id for c in report.children), report.outcomes))
    assert [o.child_id for o in report.outcomes] == [c.child_id for c in report.children]
    got = outcomes[post.child_id]
    assert (got.state, got.filled_qty) == ("partial", SOLD_INTO_POST), report.describe()
    assert got.reason == "cancelled: its time was up", report.describe()
    post_fills = [f for f in report.fills if f.child_id == post.child_id]
    assert sum(f.qty for f in post_fills) == SOLD_INTO_POST and {f.price for f in post_fills} == {post.price}
    rebate = maker_rebate_usd(multi.venue(post.venue_id))
    assert abs(sum(f.fee_usd for f in post_fills) + SOLD_INTO_POST * rebate) < 1e-9
    # the sweep after the post: takes only, decided once the post was over, and the parent is done
    assert all(c.style == "take" for c in report.children if c.wave > 1), report.describe()
    assert all(p.created_ns >= got.answered_ns for p in report.plans if p.wave > 1)   # type: ignore[operator]
    assert report.filled_qty == parent.qty, report.describe()
    by_child: dict[str, int] = {}
    for f in report.fills:
        by_child[f.child_id] = by_child.get(f.child_id, 0) + f.qty
    assert all(outcomes[c].filled_qty == q for c, q in by_child.items())
