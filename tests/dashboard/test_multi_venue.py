"""The dashboards of a multi-venue `up` (gateway/venues/multi_venue.toml, two lit venues and the
consolidator), in headless Chromium: the deployment's index lists both venues with a link to each
venue's own dashboard, their feeds' subscriber counts and the consolidator's NBBO built from orders
entered at both venues; a venue's link opens its dashboard, whose health panel shows its
market-data publisher's subscribers (the consolidator is one); logins at two venues on one host
live side by side (one cookie per venue)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway import launcher
from gateway.client import Client, ExecType
from tests.dashboard import chromium
from tests.gateway.venues.test_multi_venue_up import START_S, write_config

SHOTS = Path(__file__).resolve().parents[2] / "reports" / "dashboard"
OPS = ("ops", "change-me-operator")
pytestmark = pytest.mark.skipif(chromium.why_missing() is not None, reason=str(chromium.why_missing()))


def _login(page: Any, url: str) -> None:
    page.goto(url)
    page.fill("#user", OPS[0])
    page.fill("#token", OPS[1])
    page.click("#login-button")
    page.wait_for_selector("#conn.up", timeout=30_000)


def _health_shows_the_feed(page: Any) -> None:
    page.click("#tabs [data-tab=health]")
    page.wait_for_function("() => { const c = document.getElementById('md-summary'); return c && c.dataset.feed === '1'"
                           " && Number(c.dataset.subscribers) >= 1; }", timeout=30_000)
    assert "ZeroMQ subscribers" in page.inner_text("#md-summary")


def _orders_at_both_venues(info: dict[str, Any]) -> list[Client]:
    clients = []
    for vid, sess, firm, key, acct, side, price in (("LITA", 101, 1, "alpha-key-101", 1, "buy", "99.50"),
                                                    ("LITB", 201, 2, "beta-key-201", 3, "sell", "100.10")):
        host, _, port = info["venues"][vid]["order_entry"].rpartition(":")
        # a long keepalive: the test drives the browser for a while without reading from this client
        c = Client.connect(host, int(port), session_id=sess, firm_id=firm, key=key, keepalive_ms=60_000)
        clients.append(c)
        r = c.wait_report(getattr(c, side)(1, 100, price, account_id=acct))
        assert r.exec_type == ExecType.NEW, c.describe(r)
    return clients


def test_the_deployment_index_links_each_venues_dashboard_and_shows_the_nbbo(tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path, **{"[sip]\npublish": "[analytics]\nenabled = false\n\n[sip]\npublish"})
    ready = tmp_path / "ready.json"
    from playwright.sync_api import sync_playwright
    with launcher.Venue(prefix="mvd", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        assert info["dashboard"] and "dashboard index" in v.log("up")
        assert {info["venues"][x]["dashboard"] for x in ("LITA", "LITB")} != {None}
        clients = _orders_at_both_venues(info)
        try:
            with sync_playwright() as pw:
                context, profile = chromium.launch(pw)
                try:
                    index = context.new_page()
                    index.goto(info["dashboard"])
                    index.wait_for_selector("#venues tr[data-venue=LITA] a.venue-dashboard", timeout=30_000)
                    index.wait_for_selector("#venues tr[data-venue=LITB] a.venue-dashboard")
                    index.wait_for_function("() => { const r = document.querySelector('#nbbo tr[data-symbol=ACME]');"
                                            " return r && r.querySelector('.nbbo-bid') && r.querySelector('.nbbo-bid').textContent === '99.5000'"
                                            " && r.querySelector('.nbbo-ask').textContent === '100.1000'; }", timeout=30_000)
                    row = index.inner_text("#nbbo tr[data-symbol=ACME]")
                    assert "LITA" in row and "LITB" in row
                    index.wait_for_function("() => [...document.querySelectorAll('#venues td.md')].every("
                                            "c => Number(c.dataset.subscribers) >= 1)", timeout=30_000)
                    SHOTS.mkdir(parents=True, exist_ok=True)
                    index.screenshot(path=str(SHOTS / "deployment-index.png"), full_page=True)
                    with context.expect_page() as opened:
                        index.click("#venues tr[data-venue=LITA] a.venue-dashboard")
                    lita = opened.value
                    assert lita.url == info["venues"]["LITA"]["dashboard"]
                    _login(lita, lita.url)
                    assert lita.inner_text("#venue-name") == info["venues"]["LITA"]["engine"]
                    _health_shows_the_feed(lita)
                    litb = context.new_page()
                    _login(litb, info["venues"]["LITB"]["dashboard"])
                    _health_shows_the_feed(litb)
                    lita.reload()                              # LITB's login did not end LITA's
                    lita.wait_for_selector("#conn.up", timeout=30_000)
                    assert lita.inner_text("#who") == "ops (operator)"
                    assert len({c["name"] for c in context.cookies()}) == 2
                finally:
                    chromium.close(context, profile)
        finally:
            for c in clients:
                c.terminate()
        assert v.stop("up") == 0
