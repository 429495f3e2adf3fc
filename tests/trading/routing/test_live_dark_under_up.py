"""`python -m trading route live` with dark_first against two lit venues and a dark pool started by
`python -m gateway up --config` (the consolidator feeds the dark engine the lit NBBO): the first
wave goes to the dark pool as a MidpointPeg IOC and fills at the lit NBBO's midpoint."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import launcher
from gateway.client import Client, ExecType, ExecutionReport, OrdType, TimeInForce
from gateway.orderentry.sbe_codec import Side
from gateway.sip.subscriber import SipSubscriber
from tests.gateway.venues.test_multi_venue_up import START_S, wait_nbbo, write_config
from trading.routing.cli import main as route_cli


def _connect(endpoint: str) -> Client:
    host, _, port = endpoint.rpartition(":")
    return Client.connect(host, int(port), session_id=201, firm_id=2, key="beta-key-201", keepalive_ms=60_000)


def test_dark_first_fills_in_the_live_dark_pool_at_the_midpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENUE_SESSION_KEY", "alpha-key-101")   # the key from the environment, never the command line
    cfg, _ = write_config(tmp_path, venues=3)
    ready = tmp_path / "ready.json"
    with launcher.Venue(prefix="mvd", log_dir=tmp_path, owns_segments=False) as v:
        v.spawn("up", launcher.gateway_command("up", "--config", str(cfg), "--ready-file", str(ready)),
                stdout_to_log=True, cwd=tmp_path)
        v.wait_for(ready.exists, "the multi-venue ready file", deadline_s=START_S)
        info = json.loads(ready.read_text())
        v.allow_stop_time("up", info)       # its clean stop may take its announced budget
        assert "DARK" in info["venues"]
        sip = SipSubscriber(info["sip"])
        makers = {vid: _connect(info["venues"][vid]["gateway"]) for vid in ("LITA", "LITB", "DARK")}
        try:
            makers["LITA"].wait_report(makers["LITA"].buy(1, 100, "99.98", account_id=3))
            makers["LITB"].wait_report(makers["LITB"].sell(1, 100, "100.02", account_id=3))
            wait_nbbo(sip, 1, lambda u: u.nbbo.bid == 999_800 and u.nbbo.ask == 1_000_200, "99.98 x 100.02")
            d = makers["DARK"]
            d.new_order(1, Side.SELL, 500, 3, ord_type=OrdType.MIDPOINT_PEG, time_in_force=TimeInForce.GOOD_TILL_CANCEL)
            d.recv_until(lambda m: isinstance(m, ExecutionReport) and m.exec_type == ExecType.NEW)
            rc = route_cli(["live", "--config", str(cfg), "--symbol", "ACME", "--side", "buy", "--qty", "300",
                            "--strategy", "dark_first", "--session", "101", "--firm", "1",
                            "--account", "1"])
            out, err = capsys.readouterr()
            assert rc == 0 and "filled 300 of 300 avg 100.0000 in 1 wave(s)" in out, out + err
            assert "DARK" in out and "midpoint" in out
            fill, _ = d.recv_until(lambda m: isinstance(m, ExecutionReport) and m.exec_type == ExecType.TRADE)
            assert isinstance(fill, ExecutionReport) and (fill.last_px, fill.last_qty) == (1_000_000, 300)
        finally:
            for c in makers.values():
                c.close()
            sip.close()
        assert v.stop("up") == 0
