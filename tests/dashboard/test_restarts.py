"""The dashboard outlives the venue's other processes: the control plane SIGKILLed under `up`
comes back on new ports (this config binds port *), and the dashboard follows it: its status panel
moves again and a logged-in operator's action reaches the new control plane, without a new login.
The dashboard itself SIGKILLed is restarted by `up` on the port it had, and its logins survive:
the session cookie, sealed with a key in up's private run directory, is re-validated against the
control plane by the new process (a logged-out cookie is not); a Chromium page logged in before the
kill reconnects and goes on as the same user without a new login."""
from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.control.cp_venue import OPERATOR, VIEWER, CpVenue, start_venue, wait_for
from tests.dashboard import chromium


@pytest.fixture(scope="module")
def own_venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    yield from start_venue(tmp_path_factory.mktemp("dash-restart"))


def _ready(v: CpVenue) -> dict[str, Any]:
    return dict(json.loads((Path(v.audit_path).parent / "ready.json").read_text()))


def _post(url: str, body: dict[str, Any], cookie: str = "") -> tuple[int, dict[str, Any], str]:
    headers = {"Content-Type": "application/json", "X-Dashboard": "1", **({"Cookie": cookie} if cookie else {})}
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read()), resp.headers.get("set-cookie", "")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), ""


def test_a_restarted_control_plane_is_followed_without_a_new_login(own_venue: CpVenue) -> None:
    from websockets.sync.client import connect
    base = own_venue.ready["dashboard"]
    status, body, set_cookie = _post(base + "api/login", {"user": OPERATOR[0], "token": OPERATOR[1]})
    assert status == 200, body
    cookie = set_cookie.split(";", 1)[0]
    before = _ready(own_venue)
    os.kill(before["pids"]["control"], signal.SIGKILL)
    wait_for(lambda: _ready(own_venue)["pids"]["control"] != before["pids"]["control"], "up to restart the control plane", 60)
    after = _ready(own_venue)
    assert after["command"] != before["command"]          # port *: it came back elsewhere
    with connect(base.replace("http://", "ws://") + "ws", additional_headers={"Cookie": cookie}) as ws:
        ws.send(json.dumps({"since": 0}))
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello"

        def status_after_restart() -> bool:
            # newer than anything the dashboard had when this socket joined: the old control
            # plane is dead by then, so it is the new one's
            msg = json.loads(ws.recv(timeout=10))
            return (msg.get("panel") == "venue" and msg["version"] > hello["version"]
                    and msg["state"]["status"].get("engine", {}).get("alive") is True)
        wait_for(status_after_restart, "a status from the new control plane", 30)
    status, body, _ = _post(base + "api/action", {"command": "halt", "args": {"instrument": "ACME"}}, cookie)
    assert status == 200 and body["ok"], body
    status, body, _ = _post(base + "api/action", {"command": "resume", "args": {"instrument": "ACME", "call_s": 0}}, cookie)
    assert status == 200 and body["ok"], body
    halts = [r for r in own_venue.audit() if r["command"] == "halt" and r["user"] == "ops"]
    assert halts and halts[-1]["outcome"] == "accepted"


def _get(url: str, cookie: str = "") -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _login(base: str, user: tuple[str, str]) -> str:
    status, body, set_cookie = _post(base + "api/login", {"user": user[0], "token": user[1]})
    assert status == 200, body
    return set_cookie.split(";", 1)[0]


def _kill_dashboard(v: CpVenue) -> dict[str, Any]:
    """SIGKILLs the dashboard and waits until up's new one serves; returns ready.json from before."""
    before = _ready(v)
    os.kill(before["pids"]["dashboard"], signal.SIGKILL)
    wait_for(lambda: _ready(v)["pids"].get("dashboard") not in (None, before["pids"]["dashboard"]),
             "up to restart the dashboard", 60)
    assert _ready(v)["dashboard"] == before["dashboard"]

    def serves() -> bool:
        try:
            with urllib.request.urlopen(before["dashboard"], timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False
    wait_for(serves, "the restarted dashboard to serve", 30)
    return before


def test_a_killed_dashboard_comes_back_on_its_port_and_keeps_its_logins(own_venue: CpVenue) -> None:
    base = own_venue.ready["dashboard"]
    kept = _login(base, OPERATOR)
    viewer = _login(base, VIEWER)
    gone = _login(base, OPERATOR)
    status, body, _ = _post(base + "api/logout", {}, gone)
    assert status == 200, body
    _kill_dashboard(own_venue)
    assert "up: dashboard killed by SIGKILL" in own_venue.output()
    # The new process never saw these sessions: it re-validates each cookie with the control plane.
    status, body = _get(base + "api/me", kept)
    assert status == 200 and body["user"] == "ops" and body["role"] == "operator", body
    status, body = _get(base + "api/me", viewer)
    assert status == 200 and body["user"] == "watch", body
    status, body = _get(base + "api/me", gone)              # logged out before the kill: revoked
    assert status == 401 and body["code"] == "unauthenticated", body
    forged = kept[:-6] + ("AAAAAA" if not kept.endswith("AAAAAA") else "BBBBBB")
    assert _get(base + "api/me", forged)[0] == 401
    # The restored operator still acts as itself, audited under its name.
    status, body, _ = _post(base + "api/action", {"command": "halt", "args": {"instrument": "BETA"}}, kept)
    assert status == 200 and body["ok"], body
    status, body, _ = _post(base + "api/action", {"command": "resume", "args": {"instrument": "BETA", "call_s": 0}}, kept)
    assert status == 200 and body["ok"], body
    # ... and the restored viewer is still refused what a viewer may not do.
    status, body, _ = _post(base + "api/action", {"command": "halt", "args": {"instrument": "BETA"}}, viewer)
    assert status == 403 and body["code"] == "forbidden", body
    key = Path(own_venue.audit_path).parent / "run" / "dashboard-session.key"    # up's private run dir
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32


@pytest.mark.skipif(chromium.why_missing() is not None, reason=str(chromium.why_missing()))
def test_a_browser_stays_logged_in_across_a_dashboard_restart(own_venue: CpVenue) -> None:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        context, profile = chromium.launch(pw)
        try:
            page = context.new_page()
            page.goto(own_venue.ready["dashboard"])
            page.fill("#user", OPERATOR[0])
            page.fill("#token", OPERATOR[1])
            page.click("#login-button")
            page.wait_for_selector("#conn.up", timeout=20_000)
            page.evaluate("() => { window.sawDown = false; new MutationObserver(() => { "
                          "if (document.querySelector('#conn.down')) window.sawDown = true; })"
                          ".observe(document.getElementById('conn'), {attributes: true}); }")
            _kill_dashboard(own_venue)
            page.wait_for_function("() => window.sawDown", timeout=30_000)      # it did lose the server
            page.wait_for_selector("#conn.up", timeout=30_000)                  # ... and is back, same login
            assert page.evaluate("() => document.body.classList.contains('logged-out')") is False
            assert page.inner_text("#who") == "ops (operator)"
            page.wait_for_function("() => window.dashboard.panels.venue", timeout=20_000)
            me = page.evaluate("() => fetch('/api/me').then(r => r.json())")
            assert me["ok"] and me["user"] == "ops", me
            page.reload()                                                       # a fresh page load too
            page.wait_for_selector("#conn.up", timeout=30_000)
            assert page.inner_text("#who") == "ops (operator)"
        finally:
            chromium.close(context, profile)
