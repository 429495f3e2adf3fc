"""The health panel's market-data row: the venue's feed publisher's subscriber and recovery-session
counts, from the stats file the publisher writes (``md publish --stats-file``,
gateway/marketdata/feed_stats.py).

Where the file is: ``md-stats.json`` in the run directory of the venue's ``up`` (beside the
processes file the dashboard is given). A multi-venue ``up`` (gateway/venues/up.py) runs each
venue's publisher with that file; a single venue's ``up`` runs no publisher, and the row then says
"no feed". A file older than STALE_S is shown as stale (the publisher stopped writing: dead or
stuck), never as current numbers.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

STATS_FILE = "md-stats.json"
STALE_S = 5.0
NO_FEED = ("no feed: this venue's up runs no market-data publisher (a multi-venue up runs one per "
           "venue; by hand: python -m gateway md publish --engine NAME --stats-file RUN_DIR/md-stats.json)")


def stats_path(processes_file: str | None) -> Path | None:
    return Path(processes_file).with_name(STATS_FILE) if processes_file else None


def market_data_health(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {"feed": False, "summary": NO_FEED}
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"feed": False, "summary": NO_FEED}
    except (OSError, ValueError) as exc:
        return {"feed": True, "stale": True, "summary": f"feed stats unreadable ({path.name}: {exc})"}
    if not isinstance(data, dict) or not isinstance(data.get("ts"), (int, float)):
        return {"feed": True, "stale": True, "summary": f"feed stats unreadable ({path.name}: not a stats object)"}
    age = time.time() - float(data["ts"])
    stale = age > STALE_S or data.get("running") is False
    subs, sessions = data.get("zmq_subscribers"), data.get("recovery_sessions")
    summary = (f"{'-' if subs is None else subs} ZeroMQ subscribers, {'-' if sessions is None else sessions} "
               f"recovery sessions ({data.get('recovery_requests') or 0} requests served); publisher pid "
               f"{data.get('pid')}" + (" (UDP receivers are not countable)" if data.get("udp") else ""))
    if stale:
        summary = (f"stale: the publisher last wrote {age:.0f} s ago"
                   f"{' and said it stopped' if data.get('running') is False else ''}; last counts: {summary}")
    keep = ("pid", "zmq_endpoint", "zmq_subscribers", "zmq_connections_total", "recovery_address",
            "recovery_sessions", "recovery_requests", "recovery_errors")
    return {"feed": True, "stale": stale, "age_s": age, "summary": summary, **{k: data.get(k) for k in keep}}
