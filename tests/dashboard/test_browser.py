"""The dashboard end to end, in a real headless Chromium driven by Playwright, against a real
venue (`python -m gateway up`: engine, control plane, gateway and dashboard processes):

- the page loads, logs in with a control-plane user and goes live over its WebSocket;
- a trade sent through the order-entry gateway appears in the tape and in the ladder;
- an operator's kill switch takes effect (the account's next order is rejected) and is in the
  audit log under the operator's name; a viewer's press of the same button is refused by the
  control plane and audited as refused;
- a dropped WebSocket reconnects and catches up with what happened while it was down;
- every panel is photographed under a replayed load (reports/dashboard/*.png) for review;
- the execution-quality panel links the daily TCA report of the configured reports directory, and
  the link opens the report; names outside the directory are refused, as is a browser not logged in;
- bad requests to the dashboard's own entry points get a clear refusal.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from gateway.client import ExecType
from tests.control.cp_venue import OPERATOR, VIEWER, CpVenue, report, wait_for
from tests.dashboard import chromium
from tests.dashboard.flow import replay_burst

SHOTS = Path(__file__).resolve().parents[2] / "reports" / "dashboard"
pytestmark = pytest.mark.skipif(chromium.why_missing() is not None, reason=str(chromium.why_missing()))


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


def _page(pw: Any, venue: CpVenue, user: tuple[str, str]) -> Iterator[Any]:
    context, profile = chromium.launch(pw)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(venue.ready["dashboard"])
        page.fill("#user", user[0])
        page.fill("#token", user[1])
        page.click("#login-button")
        page.wait_for_selector("#conn.up", timeout=20_000)
        page.errors = errors
        yield page
        assert not errors, errors
    finally:
        chromium.close(context, profile)


@pytest.fixture(scope="module")
def ops(pw: Any, venue: CpVenue) -> Iterator[Any]:
    yield from _page(pw, venue, OPERATOR)


@pytest.fixture(scope="module")
def viewer(pw: Any, venue: CpVenue) -> Iterator[Any]:
    yield from _page(pw, venue, VIEWER)


def _tab(page: Any, name: str) -> None:
    page.click(f"#tabs [data-tab={name}]")
    page.wait_for_selector(f"#panel-{name}.active")


def test_page_loads_logs_in_and_goes_live(ops: Any, venue: CpVenue) -> None:
    assert ops.inner_text("#who") == "ops (operator)"
    assert ops.inner_text("#venue-name") == venue.ready["venue"]
    ops.wait_for_function("() => window.dashboard.panels.venue && window.dashboard.panels.health")
    _tab(ops, "health")
    ops.wait_for_function("() => document.querySelectorAll('#procs tbody tr').length >= 4")
    assert {"engine", "control", "gateway", "dashboard"} <= set(ops.locator("#procs tbody tr td:first-child").all_inner_texts())
    # a single venue's up runs no market-data publisher: the health panel says so, with no numbers
    ops.wait_for_selector("#md-summary[data-feed='0']")
    assert ops.inner_text("#md-summary").startswith("no feed")


def test_a_trade_through_the_gateway_appears_in_tape_and_ladder(ops: Any, venue: CpVenue) -> None:
    c = venue.connect(101)
    try:
        bid = c.buy(1, 7, "1.0050", account_id=1)
        report(c, lambda r: r.cl_ord_id == bid and r.exec_type == ExecType.NEW)
        _tab(ops, "books")
        ladder = ops.locator("#book-ACME table.ladder")
        ops.wait_for_function("() => [...document.querySelectorAll('#book-ACME tr.bid')].some("
                              "r => r.innerText.includes('1.0050') && r.innerText.includes('7'))", timeout=10_000)
        sell = c.sell(1, 3, "1.0050", account_id=2)
        report(c, lambda r: r.cl_ord_id == sell and r.exec_type == ExecType.TRADE)
        ops.wait_for_function("() => [...document.querySelectorAll('#tape tbody tr')].some("
                              "r => r.innerText.includes('ACME') && r.innerText.includes('1.0050') && r.cells[4].innerText === '3')",
                              timeout=10_000)
        ops.wait_for_function("() => [...document.querySelectorAll('#book-ACME tr.bid')].some("
                              "r => r.innerText.includes('1.0050') && r.cells[0].innerText.trim() === '4')", timeout=10_000)
        assert "1.0050" in ladder.inner_text()
        c.cancel_order(bid)
    finally:
        c.terminate()


def _audit(venue: CpVenue, user: str, command: str) -> list[dict[str, Any]]:
    return [r for r in venue.audit() if r.get("user") == user and r.get("command") == command]


def test_operator_kill_switch_takes_effect_and_is_audited(ops: Any, venue: CpVenue) -> None:
    _tab(ops, "risk")
    ops.wait_for_selector("#risk-accounts tr[data-account='2'] [data-action='kill-2']", timeout=10_000)
    ops.click("[data-action='kill-2']")
    ops.wait_for_selector("#toast.ok", timeout=10_000)
    assert "kill switch 2: done" in ops.inner_text("#toast")
    ctl = venue.control(OPERATOR)
    assert 2 in ctl.call("status")["kill_switches"]
    records = _audit(venue, "ops", "killswitch")
    assert records and records[-1]["outcome"] == "accepted" and records[-1]["args"] == {"account": 2, "engaged": True}
    c = venue.connect(101)
    try:                                            # it takes effect: account 2's orders are refused
        oid = c.buy(1, 1, "1.0000", account_id=2)
        r = report(c, lambda r: r.cl_ord_id == oid)
        assert r.exec_type == ExecType.REJECTED, c.describe(r)
    finally:
        c.terminate()
    ops.wait_for_selector("#risk-accounts tr[data-account='2'] [data-action='release-2']", timeout=10_000)
    ops.click("[data-action='release-2']")
    wait_for(lambda: 2 not in ctl.call("status")["kill_switches"], "the kill switch released", 10)
    ctl.close()


def test_a_viewers_button_is_refused_and_audited(viewer: Any, venue: CpVenue) -> None:
    assert viewer.inner_text("#who") == "watch (viewer)"
    _tab(viewer, "risk")
    viewer.wait_for_selector("[data-action='kill-1']", timeout=10_000)
    viewer.click("[data-action='kill-1']")
    viewer.wait_for_selector("#toast.bad", timeout=10_000)
    assert "refused (forbidden" in viewer.inner_text("#toast")
    records = _audit(venue, "watch", "killswitch")
    assert records and records[-1]["outcome"] == "refused" and records[-1]["code"] == "forbidden"
    ctl = venue.control(OPERATOR)
    assert 1 not in ctl.call("status")["kill_switches"]
    ctl.close()


def test_an_alert_is_acknowledged_by_an_operator_not_by_a_viewer(ops: Any, viewer: Any, venue: CpVenue) -> None:
    ctl = venue.control(OPERATOR)
    ctl.call("risk.set", scope="account", id=1, limit="notional_limit", value=1.0)   # any position breaches
    c = venue.connect(101)
    try:
        c.buy(1, 1, "1.0000", account_id=1)
        s = c.sell(1, 1, "1.0000", account_id=2)
        report(c, lambda r: r.cl_ord_id == s and r.exec_type == ExecType.TRADE)
    finally:
        c.terminate()
    alert = wait_for(lambda: next((a for a in ctl.call("alerts") if a["kind"] == "risk" and "notional" in a["message"]
                                   and not a.get("acked_by")), None), "the notional breach alert", 10)
    for page in (viewer, ops):
        _tab(page, "risk")
        page.wait_for_selector(f"[data-action='ack-{alert['id']}']", timeout=10_000)
    viewer.click(f"[data-action='ack-{alert['id']}']")
    viewer.wait_for_selector("#toast.bad", timeout=10_000)
    assert "refused (forbidden" in viewer.inner_text("#toast")
    ops.click(f"[data-action='ack-{alert['id']}']")
    ops.wait_for_selector(f"#alerts li[data-alert='{alert['id']}'] .ack", timeout=10_000)
    assert "acknowledged by ops" in ops.inner_text(f"#alerts li[data-alert='{alert['id']}']")
    viewer.wait_for_selector(f"#alerts li[data-alert='{alert['id']}'] .ack", timeout=10_000)   # every browser sees it
    acked = next(a for a in ctl.call("alerts") if a["id"] == alert["id"])
    assert acked["acked_by"] == "ops"
    assert [r["outcome"] for r in _audit(venue, "ops", "alerts.ack")] == ["accepted"]
    assert [r["code"] for r in _audit(venue, "watch", "alerts.ack")] == ["forbidden"]
    ctl.call("risk.set", scope="account", id=1, limit="notional_limit", value=0)
    ctl.close()


def test_a_dropped_websocket_reconnects_and_catches_up(ops: Any, venue: CpVenue) -> None:
    _tab(ops, "books")
    before = ops.evaluate("window.dashboard.version")
    ops.evaluate("window.dashboard.retryMs = 3000; window.dashboard.ws.close()")
    ops.wait_for_selector("#conn.down", timeout=5_000)
    c = venue.connect(101)
    try:                                            # a trade while the page is disconnected
        c.buy(1, 2, "1.0060", account_id=1)
        sell = c.sell(1, 2, "1.0060", account_id=2)
        report(c, lambda r: r.cl_ord_id == sell and r.exec_type == ExecType.TRADE)
    finally:
        c.terminate()
    assert "1.0060" not in ops.inner_text("#tape")    # still down: nothing arrives
    ops.wait_for_selector("#conn.up", timeout=15_000)
    ops.wait_for_function("() => [...document.querySelectorAll('#tape tbody tr')].some("
                          "r => r.innerText.includes('1.0060'))", timeout=10_000)
    assert ops.evaluate("window.dashboard.version") > before


def test_an_operator_starts_and_stops_a_strategy(ops: Any, venue: CpVenue) -> None:
    _tab(ops, "strategies")
    ops.fill("#strat-name", "quote")
    ops.fill("#strat-account", "3")
    ops.fill("#strat-instrument", "BETA")
    ops.fill("#strat-params", "size=5")
    ops.click("#strat-start")
    ops.wait_for_selector("#toast.ok", timeout=20_000)
    row = ops.locator("#strategies tbody tr", has_text="quote")
    row.first.wait_for(timeout=10_000)
    assert "running" in row.first.inner_text() and "size=5" in row.first.inner_text()
    ctl = venue.control(OPERATOR)
    running = [s for s in ctl.call("strategy.list") if s["state"] == "running"]
    assert [(s["strategy"], s["account"]) for s in running] == [("quote", 3)]
    sid = running[0]["id"]
    ops.wait_for_selector(f"[data-action='stop-{sid}']")
    assert [r["outcome"] for r in _audit(venue, "ops", "strategy.start")] == ["accepted"]
    ops.click(f"[data-action='spause-{sid}']")                 # pause, then resume, from its row
    wait_for(lambda: [s["state"] for s in ctl.call("strategy.list") if s["id"] == sid] == ["paused"],
             "the strategy paused", 20)
    ops.click(f"[data-action='sresume-{sid}']", timeout=15_000)
    wait_for(lambda: [s["state"] for s in ctl.call("strategy.list") if s["id"] == sid] == ["running"],
             "the strategy resumed", 20)
    assert [r["outcome"] for r in _audit(venue, "ops", "strategy.pause")] == ["accepted"]
    assert [r["outcome"] for r in _audit(venue, "ops", "strategy.resume")] == ["accepted"]
    ctl.close()


def test_an_operator_pauses_and_cancels_a_parent_order(ops: Any, venue: CpVenue) -> None:
    ctl = venue.control(OPERATOR)
    p = ctl.call("parent.add", account=1, instrument="PNL", side="buy", qty=30, algo="TWAP", duration_s=120,
                 params="max_participation=1.0,slice_s=10,decision_ms=200")
    _tab(ops, "strategies")
    ops.wait_for_selector(f"#parents tr[data-parent='{p['id']}'] [data-action='pause-{p['id']}']", timeout=15_000)
    assert "TWAP" in ops.inner_text(f"#parents tr[data-parent='{p['id']}']")
    ops.click(f"[data-action='pause-{p['id']}']")
    ops.wait_for_selector(f"[data-action='presume-{p['id']}']", timeout=15_000)
    assert ctl.call("parent.show", id=p["id"])["state"] == "paused"
    ops.click(f"[data-action='pcancel-{p['id']}']")
    wait_for(lambda: ctl.call("parent.show", id=p["id"])["state"] not in ("working", "paused", "waiting"),
             "the parent order cancelled", 20)
    ops.wait_for_function(f"() => !document.querySelector(\"[data-action='pcancel-{p['id']}']\")", timeout=15_000)
    assert [r["outcome"] for r in _audit(venue, "ops", "parent.pause")] == ["accepted"]
    assert [r["outcome"] for r in _audit(venue, "ops", "parent.cancel")] == ["accepted"]
    ctl.close()


def test_the_execution_panel_links_the_daily_report_and_the_link_opens_it(ops: Any, venue: CpVenue) -> None:
    from tests.dashboard.conftest import REPORT_DAY
    _tab(ops, "strategies")
    link = ops.locator(f"#reports li[data-report='daily-{REPORT_DAY}'] a[data-format=html]")
    link.wait_for(timeout=10_000)
    assert set(ops.locator(f"#reports li[data-report='daily-{REPORT_DAY}'] a").evaluate_all(
        "as => as.map(a => a.dataset.format)")) == {"html", "pdf", "json"}
    with ops.context.expect_page() as opened:
        link.click()
    report_page = opened.value
    report_page.wait_for_load_state()
    assert report_page.url.endswith(f"/reports/daily-{REPORT_DAY}.html")
    assert f"Daily execution report {REPORT_DAY}" in report_page.inner_text("body")
    assert report_page.evaluate("() => document.images.length") >= 1       # its charts (data: URLs) load
    report_page.close()
    pdf = ops.evaluate(f"() => fetch('/reports/daily-{REPORT_DAY}.pdf').then(async r => "
                       "[r.status, r.headers.get('content-type'), (await r.text()).slice(0, 5)])")
    assert pdf == [200, "application/pdf", "%PDF-"], pdf


def test_report_names_outside_the_directory_and_strangers_are_refused(ops: Any, venue: CpVenue) -> None:
    import http.client
    host, _, port = venue.ready["dashboard"][len("http://"):].rstrip("/").rpartition(":")
    cookie = next(c for c in ops.context.cookies() if c["name"].startswith("venue_dashboard_"))
    for path in ("/reports/../../../etc/passwd", "/reports/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                 "/reports/..%2fvenue.toml", "/reports/notes.txt", "/reports/daily-2025-12-06.html%00"):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", path, headers={"Cookie": f"{cookie['name']}={cookie['value']}"})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 404 and b"root:" not in body and json.loads(body)["code"] == "bad_name", (path, body)
        conn.close()
    from tests.dashboard.conftest import REPORT_DAY
    try:                                     # no cookie: the reports carry every firm's executions
        urllib.request.urlopen(f"{venue.ready['dashboard']}reports/daily-{REPORT_DAY}.html", timeout=10)
        raise AssertionError("served without a login")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401


def test_every_panel_under_a_replayed_load_is_photographed(ops: Any, venue: CpVenue) -> None:
    c = venue.connect(101)
    try:                                            # positions and P&L for accounts 1 and 2
        for k in range(8):
            c.buy(1, 10 + k, f"{1.0000 + k * 0.0001:.4f}", account_id=1)
            s = c.sell(1, 10 + k, f"{1.0000 + k * 0.0001:.4f}", account_id=2)
            report(c, lambda r: r.cl_ord_id == s and r.exec_type == ExecType.TRADE)
        replay_burst(venue.ready["venue"], 3000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        ops.wait_for_function("() => (window.dashboard.panels.latency || {state: {}}).state.available", timeout=15_000)
        # regime and toxicity: the order-flow monitor `up` runs publishes on the control channel
        ops.wait_for_function("() => (window.dashboard.panels.analytics || {state: {instruments: []}}).state.instruments.length",
                              timeout=30_000)
        ops.wait_for_timeout(2500)                 # one more latency interval and risk read
        for name in ("latency", "books", "risk", "strategies", "health"):
            _tab(ops, name)
            ops.wait_for_timeout(600)
            path = SHOTS / f"{name}.png"
            ops.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 10_000
        ctl = venue.control(OPERATOR)                # the strategy started above stops from its button
        running = [s for s in ctl.call("strategy.list") if s["state"] == "running"]
        for s in running:
            _tab(ops, "strategies")
            ops.click(f"[data-action='stop-{s['id']}']")
        wait_for(lambda: not [s for s in ctl.call("strategy.list") if s["state"] == "running"], "the strategy stopped", 20)
        ctl.close()
    finally:
        c.terminate()
    tape_rows = ops.locator("#tape tbody tr").count()
    assert tape_rows >= 30


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_bad_requests_to_the_dashboard_are_refused_clearly(venue: CpVenue) -> None:
    base = venue.ready["dashboard"]
    js = {"Content-Type": "application/json", "X-Dashboard": "1"}
    assert _post(base + "api/login", b'{"user":"ops","token":"x"}', {"Content-Type": "application/json"})[0] == 403
    status, body = _post(base + "api/login", b"not json", js)
    assert status == 400 and body["code"] == "bad_request"
    status, body = _post(base + "api/login", json.dumps({"user": "ops", "token": "wrong"}).encode(), js)
    assert status == 401 and body["code"] == "unauthenticated"
    status, body = _post(base + "api/action", b'{"command":"halt","args":{"instrument":"ACME"}}', js)
    assert status == 401
    status, body = _post(base + "api/login", json.dumps({"user": OPERATOR[0], "token": OPERATOR[1]}).encode(), js)
    assert status == 200 and body["user"] == "ops"
    # With a session: commands outside the dashboard's list, and nested arguments, are refused here.
    login = urllib.request.Request(base + "api/login", data=json.dumps({"user": OPERATOR[0], "token": OPERATOR[1]}).encode(),
                                   headers=js, method="POST")
    with urllib.request.urlopen(login, timeout=10) as resp:
        cookie = resp.headers["set-cookie"].split(";", 1)[0]
    status, body = _post(base + "api/action", b'{"command":"users.list","args":{}}', {**js, "Cookie": cookie})
    assert status == 400 and "command: one of" in body["message"]
    status, body = _post(base + "api/action", b'{"command":"halt","args":{"instrument":[1,2]}}', {**js, "Cookie": cookie})
    assert status == 400 and body["code"] == "bad_request"
    from websockets.sync.client import connect
    from websockets.exceptions import ConnectionClosed
    with connect(base.replace("http://", "ws://") + "ws") as ws:      # no session: closed 4401
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
