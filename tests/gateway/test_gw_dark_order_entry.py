"""A dark midpoint venue behind the real order-entry gateway (engine process started with --dark):
midpoint pegs travel as NewOrderSingle with ordType MidpointPeg (displayQty: the minimum acceptable
quantity), the NBBO comes from another producer as the sequenced NBBO command, and fills come back
as ExecutionReports at the exact half-tick midpoint; a quote that goes stale, and a lit order type,
are refused with their reason codes."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import pytest

from gateway import launcher
from gateway.client import Client, ExecType, ExecutionReport, OrdStatus, OrdType, Side, TimeInForce
from gateway.reasons import Reason
from native.dark import nbbo
from shm.client import EngineClient

from .gw_venue import CONFIG, KEYS

MAX_AGE_NS = 1_000_000_000  # 1 s: one order's trip through the gateway fits in it even on a loaded host
BID, ASK, MID = 1_000_000, 1_000_100, 1_000_050  # 100.00 / 100.01 at 1/10000 USD, tick 100


@pytest.fixture
def dark_venue(tmp_path: Path) -> Iterator[tuple[launcher.Venue, int]]:
    cfg = tmp_path / "gateway.json"
    cfg.write_text(json.dumps(CONFIG))
    with launcher.Venue(prefix="td") as procs:
        procs.start_engine("--instruments", f"1:100:1:{BID}", "--dark", str(MAX_AGE_NS),
                           "--producers", "4", "--no-mlock", "--sleep-us", "200")
        _, port = procs.start_gateway(tmp_path / "port", "--listen", "127.0.0.1:0", "--config", str(cfg),
                                      "--keepalive-min-ms", "20")
        yield procs, port


def _connect(port: int, session_id: int) -> Client:
    firm, key = KEYS[session_id]
    # sync clients say nothing while the test sleeps: the gateway ends a session silent for two
    # keepalives, so the stale-quote wait below (2 * MAX_AGE_NS) must fit well inside that
    return Client.connect("127.0.0.1", port, session_id, firm, key, keepalive_ms=10_000)


def _report(c: Client, exec_type: ExecType) -> ExecutionReport:
    msg, _ = c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.exec_type == exec_type)
    assert isinstance(msg, ExecutionReport)
    return msg


def test_midpoint_pegs_fill_at_the_half_tick_through_the_gateway(dark_venue) -> None:
    procs, port = dark_venue
    with EngineClient(procs.name) as sip:
        def fresh_quote() -> None:
            """The NBBO again, stamped now: sent right before each order that needs a usable
            quote, so only that order's own trip must fit in MAX_AGE_NS (not the logins and the
            orders before it, which a loaded host can stretch past it)."""
            ack = sip.submit(nbbo(1, bid_price=BID, ask_price=ASK, bid_qty=500, ask_qty=300,
                                  quote_ts_ns=time.monotonic_ns())).first_event
            assert type(ack).__name__ == "CmdAckEvent", ack

        seller, buyer = _connect(port, 101), _connect(port, 201)
        seller.new_order(1, Side.SELL, 500, 1, ord_type=OrdType.MIDPOINT_PEG,
                         time_in_force=TimeInForce.GOOD_TILL_CANCEL, display_qty=200)
        assert _report(seller, ExecType.NEW).ord_type == OrdType.MIDPOINT_PEG
        fresh_quote()
        buyer.new_order(1, Side.BUY, 100, 3, ord_type=OrdType.MIDPOINT_PEG,
                        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)   # below the seller's MAQ
        cxl = _report(buyer, ExecType.CANCELED)
        assert (cxl.reason_code, cxl.leaves_qty) == (Reason.ENG_CXL_IOC_REMAINDER, 0)
        fresh_quote()
        buyer.new_order(1, Side.BUY, 300, 3, price=BID + 100, ord_type=OrdType.MIDPOINT_PEG,
                        time_in_force=TimeInForce.DAY)
        fill = _report(buyer, ExecType.TRADE)
        assert (fill.last_px, fill.last_qty, fill.ord_status) == (MID, 300, OrdStatus.FILLED)
        maker = _report(seller, ExecType.TRADE)
        assert (maker.last_px, maker.leaves_qty, maker.cum_qty) == (MID, 200, 300)

        buyer.new_order(1, Side.BUY, 100, 3, price=BID, time_in_force=TimeInForce.DAY)  # a limit order
        rej = _report(buyer, ExecType.REJECTED)
        assert rej.reason_code == Reason.ENG_REJ_DARK_ORDER_TYPE
        time.sleep(2 * MAX_AGE_NS / 1e9)   # no new quote: the one held goes stale
        buyer.new_order(1, Side.BUY, 200, 3, ord_type=OrdType.MIDPOINT_PEG,
                        time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
        stale = _report(buyer, ExecType.CANCELED)
        assert (stale.reason_code, stale.leaves_qty) == (Reason.ENG_CXL_NBBO_STALE, 0)
        seller.close()
        buyer.close()
