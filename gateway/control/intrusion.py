"""Intrusion detection's response on the control plane: the gateway's detections (failed-logon
lockouts, replayed logons, and the per-session detectors of native/gateway/gw_security.c), fetched
through its admin endpoint, become one hash-chained audit record and one alert each; a detector
whose action is "kill" also engages the kill switch of every account of the session's firm
(audited like any automatic kill). The dashboard's failed logins and login lockouts arrive through
the publish ingest instead (answer_dashboard_report): an audit record each, an alert per lockout.

Polled from the control plane's main loop every POLL_INTERVAL_S; a gateway that is not reachable
(starting, restarting) is asked again later. A restarted gateway numbers its events from 0
again: a cursor past the gateway's end is reset (the gateway answers next < cursor).
"""
from __future__ import annotations

import logging
from typing import Any

from gateway.control import protocol
from gateway.control.service import CommandError, ControlService

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.25
_BREACH = {"disconnect", "kill"}
_LOCKOUTS = {"source_locked_out", "session_locked_out", "logon_replayed"}


def describe(ev: dict[str, Any]) -> str:
    who = f"session {ev['session_id']}" if ev["session_id"] else "a logon"
    peer = f" from {ev['peer']}" if ev["peer"] else ""
    if ev["kind"] in _LOCKOUTS:
        what = {"source_locked_out": f"source locked out after {ev['count']} failed logons",
                "session_locked_out": f"locked out after {ev['count']} failed logons",
                "logon_replayed": "logon proof replayed or stale"}[ev["kind"]]
        return f"{who}{peer}: {what}"
    return (f"{who}{peer}: {ev['kind']} {ev['count']} over limit {ev['limit']}; "
            f"action {ev['action']}")


DASHBOARD_KINDS = {"login_failed", "source_locked_out", "user_locked_out"}


def answer_dashboard_report(service: ControlService, body: dict[str, Any], lockout_s: float) -> None:
    """One report of the dashboard's login guard (gateway/dashboard/login_guard.py): a refused login
    is a refused "dashboard.login" audit record (with the failures its rate cap left out since the
    last one), a lockout an "intrusion" record and a breach alert, as the control API's own."""
    kind = body.get("kind")
    if body.get("source") != "dashboard" or kind not in DASHBOARD_KINDS:
        log.warning("security report of an unknown source or kind ignored: %r", body)
        return
    user, peer = str(body.get("user") or "")[:64], str(body.get("peer") or "")[:64]
    if kind == "login_failed":
        suppressed = body.get("suppressed")
        args = {"user": user, "peer": peer, "suppressed": suppressed if isinstance(suppressed, int) else 0}
        service._system_audit("dashboard.login", args, False, protocol.CODE_UNAUTHENTICATED,
                              f"dashboard login refused from {peer}: unknown user or wrong token")
        return
    what = f"user {user}" if kind == "user_locked_out" else f"source {peer}"
    text = f"dashboard: {what} locked out for {lockout_s:.0f} s after repeated failed logins"
    event = {"kind": f"dashboard_{kind}", "user": user, "peer": peer}
    service._system_audit("intrusion", event, True, protocol.CODE_OK, text)
    service.alert("breach", "intrusion", text, detection=f"dashboard_{kind}", user=user, peer=peer)


class IntrusionRelay:
    def __init__(self, service: ControlService) -> None:
        self.service = service
        self.cursor = 0
        self.next_poll = 0.0
        self.relayed = 0
        self.lost = 0

    def poll(self, now: float) -> int:
        """Fetches and answers the gateway's new detections; returns how many."""
        admin = self.service.gateway_admin
        if admin is None or now < self.next_poll:
            return 0
        self.next_poll = now + POLL_INTERVAL_S
        try:
            got = admin.security_events(self.cursor)
        except Exception as exc:          # GatewayAdminError, or an old gateway without the op
            log.debug("security events not available: %s", exc)
            return 0
        if got["next"] < self.cursor:     # a restarted gateway counts from 0 again
            self.cursor = 0
            return 0
        self.cursor = got["next"]
        if got["lost"]:
            self.lost += got["lost"]
            self.service.alert("warn", "intrusion", f"{got['lost']} gateway security events were "
                               "overwritten before they were collected")
        for ev in got["events"]:
            try:
                self._answer(ev)
            except Exception:       # one bad record must not stop the control plane
                log.exception("intrusion event %r not answered", ev)
        self.relayed += len(got["events"])
        return len(got["events"])

    def _answer(self, ev: dict[str, Any]) -> None:
        text = describe(ev)
        self.service._system_audit("intrusion", ev, True, protocol.CODE_OK, text)
        level = "breach" if ev["action"] in _BREACH or ev["kind"] in _LOCKOUTS else "warn"
        self.service.alert(level, "intrusion", text, detection=ev["kind"],
                           **{k: v for k, v in ev.items() if k != "kind"})
        if ev["action"] == "kill":
            self._kill(ev)

    def _kill(self, ev: dict[str, Any]) -> None:
        cfg = self.service.cfg
        firm = next((s.firm_id for s in cfg.sessions if s.session_id == ev["session_id"]), None)
        accounts = next((list(f.accounts) for f in cfg.firms if f.firm_id == firm), [])
        for acct in accounts:
            if acct in self.service.kill_engaged:
                continue
            args = {"account": acct, "engaged": True, "auto": f"intrusion {ev['kind']}"}
            try:
                r = self.service.set_kill_switch(acct, True)
            except CommandError as exc:
                self.service._system_audit("killswitch", args, False, exc.code, exc.message)
                continue
            self.service._system_audit("killswitch", args, True, protocol.CODE_OK)
            self.service.alert("breach", "killswitch", f"account {acct}: kill switch engaged "
                               f"(intrusion: {ev['kind']} of session {ev['session_id']}), "
                               f"{r.cancelled} orders cancelled", account=acct)
