"""The dashboard outlives the venue's other processes: the control plane SIGKILLed under `up`
comes back on new ports (this config binds port *), and the dashboard follows it: its status panel
moves again and a logged-in operator's action reaches the new control plane, without a new login.
The dashboard itself SIGKILLed is restarted by `up` on the port it had."""
from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.control.cp_venue import OPERATOR, CpVenue, start_venue, wait_for


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


def test_a_killed_dashboard_comes_back_on_its_port(own_venue: CpVenue) -> None:
    before = _ready(own_venue)
    os.kill(before["pids"]["dashboard"], signal.SIGKILL)
    wait_for(lambda: _ready(own_venue)["pids"].get("dashboard") not in (None, before["pids"]["dashboard"]),
             "up to restart the dashboard", 60)
    assert _ready(own_venue)["dashboard"] == before["dashboard"]

    def serves() -> bool:
        try:
            with urllib.request.urlopen(before["dashboard"], timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False
    wait_for(serves, "the restarted dashboard to serve", 30)
    # Sessions lived in the dead process: a new login is needed, and works.
    status, body, _ = _post(before["dashboard"] + "api/login", {"user": OPERATOR[0], "token": OPERATOR[1]})
    assert status == 200, body
    assert "up: dashboard killed by SIGKILL" in own_venue.output()
