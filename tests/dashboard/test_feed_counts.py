"""The market-data publisher's audience as the dashboard shows it (gateway/marketdata/feed_stats.py
written by `md publish --stats-file`, read by gateway/dashboard/market_data.py): real ZeroMQ
subscribers and recovery TCP sessions come and go and the counts follow; a stale or absent file
says so instead of showing old numbers."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import zmq

from gateway.dashboard.market_data import STALE_S, market_data_health
from gateway.launcher import wait_for
from gateway.marketdata.feed_stats import FeedStats
from gateway.marketdata.recovery import RecoveryServer
from gateway.marketdata.transport import ZmqSender


def test_subscribers_and_recovery_sessions_are_counted_as_they_come_and_go(tmp_path: Path) -> None:
    pub = ZmqSender("tcp://127.0.0.1:*")
    rec = RecoveryServer("VENUE", lambda first, count: [], lambda: b"")
    stats = FeedStats(str(tmp_path / "md-stats.json"), pub.socket, rec, udp=False, session="VENUE")
    ctx = zmq.Context.instance()
    subs = []
    try:
        for _ in range(3):
            s = ctx.socket(zmq.SUB)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(pub.endpoint)
            subs.append(s)
        conn = socket.create_connection(rec.address)
        wait_for(lambda: stats.snapshot()["zmq_subscribers"] == 3 and stats.snapshot()["recovery_sessions"] == 1,
                 "3 subscribers and 1 recovery session counted", 10)
        subs.pop().close(0)
        conn.close()
        wait_for(lambda: stats.snapshot()["zmq_subscribers"] == 2 and stats.snapshot()["recovery_sessions"] == 0,
                 "the leavers counted out", 10)
        stats.write()
        shown = market_data_health(tmp_path / "md-stats.json")
        assert shown["feed"] is True and shown["zmq_subscribers"] == 2 and shown["recovery_sessions"] == 0
        assert shown["zmq_connections_total"] == 3 and shown["stale"] is False
        assert "2 ZeroMQ subscribers" in shown["summary"] and "0 recovery sessions" in shown["summary"]
    finally:
        for s in subs:
            s.close(0)
        stats.close()
        rec.close()
        pub.close()


def test_no_feed_a_stale_one_and_a_garbled_file_are_said_plainly(tmp_path: Path) -> None:
    none = market_data_health(None)
    assert none["feed"] is False and "no feed" in none["summary"]
    absent = market_data_health(tmp_path / "md-stats.json")
    assert absent["feed"] is False and "no feed" in absent["summary"]
    path = tmp_path / "md-stats.json"
    path.write_text(json.dumps({"pid": 1, "ts": time.time() - STALE_S - 5, "running": True, "zmq_subscribers": 4,
                                "recovery_sessions": 1, "recovery_requests": 9, "recovery_errors": 0}))
    stale = market_data_health(path)
    assert stale["feed"] is True and stale["stale"] is True and "stale" in stale["summary"]
    path.write_text("{not json")
    garbled = market_data_health(path)
    assert garbled["feed"] is True and "unreadable" in garbled["summary"]
