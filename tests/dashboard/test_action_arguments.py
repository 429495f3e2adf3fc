"""The dashboard's action endpoint refuses arguments it cannot pass on with a 400 and keeps serving
(qa6: a whole number beyond 64 bits, e.g. {"account": 99999999999999999999999}, made the control
client's msgpack encoder raise OverflowError: an HTTP 500 and a traceback in the dashboard's log)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.control.cp_venue import OPERATOR, CpVenue


def _post(base: str, path: str, body: bytes, cookie: str = "") -> tuple[int, dict[str, Any], str]:
    headers = {"Content-Type": "application/json", "X-Dashboard": "1", "Origin": base.rstrip("/")}
    if cookie:
        headers["Cookie"] = cookie
    req = urllib.request.Request(base + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read()), str(resp.headers.get("set-cookie") or "")
    except urllib.error.HTTPError as err:
        text = err.read()
        return err.code, json.loads(text) if text.startswith(b"{") else {"raw": text.decode()}, ""


def test_arguments_the_venue_cannot_take_are_a_400_and_the_dashboard_keeps_serving(venue: CpVenue) -> None:
    base = venue.ready["dashboard"]
    status, body, set_cookie = _post(base, "api/login",
                                     json.dumps({"user": OPERATOR[0], "token": OPERATOR[1]}).encode())
    assert status == 200 and body["ok"], body
    cookie = set_cookie.split(";", 1)[0]
    for raw in (b'{"command": "killswitch", "args": {"account": 99999999999999999999999, "engaged": true}}',
                b'{"command": "strategy.stop", "args": {"id": -99999999999999999999999}}',
                b'{"command": "halt", "args": {"instrument": 18446744073709551616}}'):
        status, body, _ = _post(base, "api/action", raw, cookie)
        assert status == 400 and body["code"] == "bad_request" and "64 bits" in body["message"], (raw, status, body)
    # the largest whole number that fits is passed on, and the control plane answers it
    status, body, _ = _post(base, "api/action",
                            b'{"command": "killswitch", "args": {"account": 9223372036854775807, "engaged": true}}',
                            cookie)
    assert status == 400 and body["code"] == "bad_request" and "account" in body["message"], body
