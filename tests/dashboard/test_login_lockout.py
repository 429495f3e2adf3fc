"""Password guessing against the dashboard (issue #25): the dashboard's logins have their own
lockout per browser address and per user, with the control API's policy ([security.logon],
gateway/security/lockout.py), each failure and each lockout audited in the control plane's
hash-chained log and each lockout alerted; the guesses never reach the control API, so they no
longer lock the dashboard's own address (and every dashboard user and local shell) out of it.

A real venue under ``up`` with its dashboard; the guesses come over real HTTP from other loopback
source addresses (127.0.0.2 ... : the browser's address is what a source lockout keys on)."""
from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.control.cp_venue import OPERATOR, VIEWER, CpVenue, start_venue, wait_for

SECURITY = """
[security.logon]
max_failures_per_source = 3
max_failures_per_session = 5
window_ms = 60000
lockout_ms = 60000
"""


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[CpVenue]:
    gen = start_venue(tmp_path, extra_users=SECURITY)
    v = next(gen)
    assert v.ready.get("dashboard"), v.output()
    try:
        yield v
    finally:
        gen.close()


def _login(v: CpVenue, user: str, token: str, source: str) -> tuple[int, dict[str, Any]]:
    """POST /api/login from the loopback address `source`: (HTTP status, JSON body)."""
    host, _, port = v.ready["dashboard"].removeprefix("http://").rstrip("/").rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", "/api/login", body=json.dumps({"user": user, "token": token}),
                     headers={"Content-Type": "application/json", "X-Dashboard": "1"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def test_guessing_at_the_dashboard_locks_the_source_and_the_user_out_and_is_audited(venue: CpVenue) -> None:
    v = venue
    ops, watch = OPERATOR[0], VIEWER[0]
    # one browser address guessing the operator's token: locked out at the third failure
    assert [_login(v, ops, f"guess-{i}-wrong-token", "127.0.0.2")[0] for i in range(3)] == [401] * 3
    status, body = _login(v, ops, OPERATOR[1], "127.0.0.2")       # even the right token, unchecked
    assert (status, body["code"]) == (429, "locked_out") and "source" in body["message"]
    assert _login(v, ops, OPERATOR[1], "127.0.0.9")[0] == 200      # the operator elsewhere: fine

    # one user guessed from many addresses: that user is locked out wherever it comes from
    for i in range(5):
        assert _login(v, watch, f"spread-guess-{i}-token", f"127.0.0.{3 + i}")[0] == 401
    status, body = _login(v, watch, VIEWER[1], "127.0.0.20")
    assert (status, body["code"]) == (429, "locked_out") and "user" in body["message"]
    assert _login(v, ops, OPERATOR[1], "127.0.0.20")[0] == 200     # other users are not

    # the control API never saw the guesses: the dashboard's address is not locked out there
    ctl = v.control()
    assert ctl.call("whoami")["user"] == ops

    def audited() -> list[dict[str, Any]] | None:
        recs = v.audit()
        failed = [r for r in recs if r.get("command") == "dashboard.login"]
        locks = [r for r in recs if r.get("command") == "intrusion"
                 and str(r.get("args", {}).get("kind", "")).startswith("dashboard_")]
        return recs if len(failed) == 8 and len(locks) == 2 else None
    recs = wait_for(audited, "8 refused dashboard logins and 2 lockouts in the audit log", 30)
    failed = [r for r in recs if r.get("command") == "dashboard.login"]
    assert all(r["outcome"] == "refused" and r["code"] == "unauthenticated" for r in failed)
    assert sorted(r["args"]["peer"] for r in failed) == ["127.0.0.2"] * 3 + [f"127.0.0.{3 + i}" for i in range(5)]
    locks = {r["args"]["kind"]: r["args"] for r in recs if r.get("command") == "intrusion"}
    assert locks["dashboard_source_locked_out"]["peer"] == "127.0.0.2"
    assert locks["dashboard_user_locked_out"]["user"] == watch
    alerts = {a.get("detection") for a in ctl.call("alerts", limit=50) if a.get("kind") == "intrusion"}
    assert {"dashboard_source_locked_out", "dashboard_user_locked_out"} <= alerts
    # and the chain holds
    assert ctl.call("audit.verify")["whole"] is True
