"""What the reader thread makes of the control plane's publications (no processes: the messages
are handed to it as its SUB socket would)."""
from __future__ import annotations

from gateway.control import protocol
from gateway.control.config import load_config
from gateway.dashboard.conflate import Conflator
from gateway.dashboard.feeds import Feeds


def _feeds() -> tuple[Feeds, Conflator]:
    hub = Conflator(4.0)
    return Feeds(load_config(), hub, None, None, lambda: None, lambda: 0), hub


def test_analytics_alerts_acknowledgements_and_audit_become_panels() -> None:
    feeds, hub = _feeds()
    feeds._on_published(protocol.TOPIC_ANALYTICS, {"source": "analytics", "instrument": 2, "symbol": "GLOBX",
                                                   "vpin_last": 0.41, "vol_regime": 1.0})
    feeds._on_published(protocol.TOPIC_ANALYTICS, {"source": "analytics", "instrument": 1, "symbol": "ACME",
                                                   "vpin_last": 0.2})
    feeds._on_published(protocol.TOPIC_ANALYTICS, {"source": "analytics", "instrument": 2, "symbol": "GLOBX",
                                                   "vpin_last": 0.55})
    assert [(a["symbol"], a["vpin_last"]) for a in hub.get("analytics")["instruments"]] == [("ACME", 0.2), ("GLOBX", 0.55)]
    feeds._on_published(protocol.TOPIC_ALERT, {"id": 7, "ts_ns": 1, "level": "breach", "kind": "risk", "message": "m"})
    feeds._on_published(protocol.TOPIC_STATUS, {"kind": "alert_ack", "id": 7, "acked_by": "ops", "acked_ts_ns": 2})
    assert hub.get("alerts")["alerts"][0]["acked_by"] == "ops"
    feeds._on_published(protocol.TOPIC_AUDIT, {"user": "ops", "command": "halt", "outcome": "accepted"})
    assert hub.get("audit")["records"][0]["command"] == "halt"
    feeds._on_published(protocol.TOPIC_STATUS, {"kind": "status", "venue": "main", "instruments": []})
    assert hub.get("venue")["status"]["venue"] == "main"
