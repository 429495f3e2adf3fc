"""A midpoint child through LiveVenues to a real dark venue (engine process in midpoint mode behind
the real order-entry gateway; the NBBO from another producer as the sequenced command): it goes as
a MidpointPeg IOC with its minimum quantity as MAQ and comes back filled at the half-tick midpoint,
or unfilled when the resting contra's MAQ is not met."""
from __future__ import annotations

import json
import time
from pathlib import Path

import msgspec

from gateway import launcher
from gateway.client import Client, ExecType, ExecutionReport, OrdType, Side, TimeInForce
from native.dark import nbbo
from shm.client import EngineClient
from tests.gateway.gw_venue import CONFIG, KEYS
from trading.routing.execution import ChildEvent
from trading.routing.live_market import LiveVenues, VenueSession
from trading.routing.plan import ChildOrder

BID, ASK, MID = 1_000_000, 1_000_100, 1_000_050


def _connect(port: int, session_id: int) -> Client:
    firm, key = KEYS[session_id]
    return Client.connect("127.0.0.1", port, session_id, firm, key, keepalive_ms=1000)


def _child(n: int, qty: int, min_qty: int) -> ChildOrder:
    return ChildOrder(child_id=f"P.1.{n}", parent_id="P", wave=1, venue_id="DARK", side="buy", qty=qty, price=0,
                      style="midpoint", min_qty=min_qty)


def _answers(market: LiveVenues, child_id: str) -> list[ChildEvent]:
    got: list[ChildEvent] = []
    end = time.monotonic_ns() + 10_000_000_000
    while not any(e.kind in ("done", "rejected") for e in got) and time.monotonic_ns() < end:
        got += [e for e in market.wait(end) if e.child_id == child_id]
    return got


def test_midpoint_children_on_a_live_dark_venue(tmp_path: Path) -> None:
    cfg = tmp_path / "gateway.json"
    cfg.write_text(json.dumps(CONFIG))
    with launcher.Venue(prefix="rdk") as procs:
        procs.start_engine("--instruments", f"1:100:1:{BID}", "--dark", "5000000000", "--producers", "4",
                           "--no-mlock", "--sleep-us", "200")
        _, port = procs.start_gateway(tmp_path / "port", "--listen", "127.0.0.1:0", "--config", str(cfg))
        with EngineClient(procs.name) as sip:
            sip.submit(nbbo(1, bid_price=BID, ask_price=ASK, bid_qty=500, ask_qty=300, quote_ts_ns=time.monotonic_ns()))
            seller, router = _connect(port, 201), _connect(port, 101)
            try:
                seller.new_order(1, Side.SELL, 500, 3, ord_type=OrdType.MIDPOINT_PEG,
                                 time_in_force=TimeInForce.GOOD_TILL_CANCEL, display_qty=200)
                seller.recv_until(lambda m: isinstance(m, ExecutionReport) and m.exec_type == ExecType.NEW)
                market = LiveVenues(sessions={"DARK": VenueSession("DARK", router, 1)}, dark=frozenset({"DARK"}))
                market.send(_child(1, 100, 0), 1)          # 100 < the seller's MAQ of 200: nothing
                first = _answers(market, "P.1.1")
                assert [e.kind for e in first] == ["done"]
                market.send(_child(2, 300, 300), 1)
                second = _answers(market, "P.1.2")
                assert [(e.kind, e.price, e.qty) for e in second] == [("fill", MID, 300), ("done", 0, 0)], second
                assert market.sent == ["P.1.1", "P.1.2"] and not market.pending
                # a venue the market holds no session with: refused at once (the router re-routes), nothing sent
                market.send(msgspec.structs.replace(_child(3, 100, 0), venue_id="LITX"), 1)
                refused = market.wait(time.monotonic_ns() + 1_000_000_000)
                assert [(e.child_id, e.kind, e.reason) for e in refused] == [("P.1.3", "rejected", "no session with venue LITX")]
            finally:
                seller.close()
                router.close()
