"""Conflation end to end: a burst of engine events (a replayed flow submitted straight to the
engine) reaches a logged-in WebSocket client as at most refresh_hz messages per panel in any
second, and the last message carries the final state. Also: the page's assets come from the
package (no network), and the WebSocket refuses a client without a session."""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import pytest

from shm.engine_segments import control_path
from shm.segment import KIND_CONTROL, Segment
from tests.control.cp_venue import OPERATOR, CpVenue, wait_for
from tests.dashboard.flow import replay_burst


def _login(base: str) -> str:
    req = urllib.request.Request(base + "api/login", data=json.dumps({"user": OPERATOR[0], "token": OPERATOR[1]}).encode(),
                                 headers={"Content-Type": "application/json", "X-Dashboard": "1"}, method="POST")
    with urllib.request.urlopen(req, timeout=20) as resp:
        return str(resp.headers["set-cookie"].split(";", 1)[0])


def _engine_events(name: str) -> int:
    seg = Segment.attach(control_path(name), KIND_CONTROL, 0, 0)
    try:
        return int(seg.control().events)
    finally:
        seg.detach()


def test_a_burst_reaches_the_browser_conflated_to_refresh_hz_per_panel(venue: CpVenue) -> None:
    from websockets.sync.client import connect
    base = venue.ready["dashboard"]
    refresh_hz = 4.0                       # cp_venue's config has no [dashboard]: the default
    got: list[tuple[float, str, Any]] = []
    with connect(base.replace("http://", "ws://") + "ws", additional_headers={"Cookie": _login(base)}) as ws:
        ws.send(json.dumps({"since": 0}))

        def read() -> None:
            try:
                for raw in ws:
                    msg = json.loads(raw)
                    if msg.get("type") == "panel":    # when the server pushed it (its monotonic clock)
                        got.append((msg["pushed_s"], msg["panel"], msg["state"]))
            except Exception:       # the socket closed at the end of the test
                return
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_for(lambda: any(p == "tape" for _, p, _ in got), "the catch-up", 20)
        e0, t0 = _engine_events(venue.ready["venue"]), time.monotonic()
        replay_burst(venue.ready["venue"], 40_000, seed=3, first_id=8_100_000_000)
        e1, t1 = _engine_events(venue.ready["venue"]), time.monotonic()
        # The last state pushed is the final one: in the end the same trade counts as the
        # control plane's (the dashboard reads the log at its own pace; it may trail the burst).
        ctl = venue.control()
        final = {i["symbol"]: i["trades"] for i in ctl.call("status")["instruments"]}
        ctl.close()

        def books_final() -> bool:
            books = [s for _, p, s in got if p == "books"]
            return bool(books) and {i["symbol"]: i["trades"] for i in books[-1]["instruments"]} == final
        wait_for(books_final, "the final books state pushed", 60)
        t2 = time.monotonic()
    reader.join(5)
    rate = (e1 - e0) / (t1 - t0)
    health = [s for _, p, s in got if p == "health"][-1]
    print(f"burst: {e1 - e0} engine events in {t1 - t0:.2f} s = {rate:,.0f} events/s; the dashboard's "
          f"final state {t2 - t0:.2f} s after the burst began; its reader: {health['events']}")
    during = [(t, p) for t, p, _ in got if t >= t0]
    assert during, "nothing was pushed during the burst"
    for panel in {p for _, p in during}:
        times = sorted(t for t, p in during if p == panel)
        # In any one-second window: at most refresh_hz pushes of this panel (+1 for a window's edge),
        # by the server's push times (a client that stalls reads several at once).
        worst = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
        assert worst <= refresh_hz + 1, (panel, worst, len(times))
        assert all(b - a >= 1 / refresh_hz - 1e-6 for a, b in zip(times, times[1:])), panel


def test_assets_are_served_from_the_package(venue: CpVenue) -> None:
    base = venue.ready["dashboard"]
    with urllib.request.urlopen(base, timeout=10) as resp:
        page = resp.read().decode()
        csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    for asset in ("/static/dashboard.js", "/static/charts.js", "/static/dashboard.css"):
        assert asset in page
        with urllib.request.urlopen(base.rstrip("/") + asset, timeout=10) as resp:
            assert resp.status == 200 and len(resp.read()) > 1000
    assert "http://" not in page and "https://" not in page          # nothing from elsewhere
