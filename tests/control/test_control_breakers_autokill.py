"""Automatic controls of the control plane against a real venue: a price-band circuit breaker
halts an instrument and reopens it with an auction after the halt; the automatic kill switch
engages on a post-trade loss breach; alerts are published on the PUB socket and the system's
own actions are audited (user "system")."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import ExecType, Side
from gateway.reasons import Reason
from gateway.launcher import wait_for
from tests.control.cp_venue import CpVenue, report, start_venue

ACME, PNL = 1, 3


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    # 5 % band around the reference; a band halt lasts 0.5 s of engine time, then the auction.
    yield from start_venue(Path(tmp_path_factory.mktemp("cpbreak")), band=5.0, halt_s=0.5)


def _trade(b, s, instrument: int, price: int, qty: int, buyer: int, seller: int) -> None:  # type: ignore[no-untyped-def]
    """Seller (session 201) rests, buyer (session 101) takes it: one trade of qty at price."""
    cid = s.new_order(instrument_id=instrument, side=Side.SELL, order_qty=qty, account_id=seller, price=price)
    assert report(s, lambda m: m.cl_ord_id == cid).exec_type == ExecType.NEW
    cid = b.new_order(instrument_id=instrument, side=Side.BUY, order_qty=qty, account_id=buyer, price=price)
    report(b, lambda m: m.cl_ord_id == cid and m.exec_type == ExecType.TRADE)


def test_price_band_breach_halts_then_an_auction_reopens(venue: CpVenue) -> None:
    ctl = venue.control()
    sub = ctl.subscribe([b"alert", b"status"], timeout_s=10)
    topic, _ = next(sub)                          # subscribed: the periodic status arrived
    assert topic in (b"alert", b"status")
    with venue.connect(101) as b, venue.connect(201) as s:
        _trade(b, s, ACME, 10_600, 1, buyer=1, seller=3)     # +6 % from 10000: beyond the 5 % band
    seen = []
    for topic, body in sub:
        seen.append((topic, body))
        if topic == b"alert" and body["kind"] == "breaker":
            break
    alert = seen[-1][1]
    assert "ACME halted" in alert["message"] and "price band" in alert["message"]
    # The engine's PHASE event (published on the status topic as the service applies it) comes
    # before the alert; the halt itself may be over by now (0.5 s), so it is read there.
    assert any(t == b"status" and b.get("kind") == "phase" and b["instrument"] == "ACME" and b["phase"] == "halted"
               for t, b in seen), seen
    # After the halt (0.5 s on engine time) the service reopens through pre-open and an auction.
    wait_for(lambda: venue.phase(ctl, "ACME") == "continuous", "the reopening auction", 30)
    system = [e for e in venue.audit() if e["user"] == "system"]
    commands = [e["command"] for e in system]
    assert "breaker.halt" in commands and "timer.breaker_reopen" in commands
    assert any(a["kind"] == "breaker" for a in ctl.call("alerts"))


def test_auto_kill_switch_on_loss_breach(venue: CpVenue) -> None:
    ctl = venue.control()
    ctl.call("risk.set", scope="account", id=2, limit="loss_limit", value=50)
    ctl.call("risk.set", scope="account", id=2, limit="auto_kill", value=True)
    with venue.connect(101) as c, venue.connect(201) as s:
        cid = c.new_order(instrument_id=PNL, side=Side.SELL, order_qty=1, account_id=2, price=1040)
        resting = report(c, lambda m: m.cl_ord_id == cid)
        assert resting.exec_type == ExecType.NEW
        _trade(c, s, PNL, 1000, 10, buyer=2, seller=3)       # account 2 long 10 @ 1000
        assert 2 not in ctl.call("status")["kill_switches"]
        # Marks PNL at 990 (accounts 1 and 3 trade): account 2 now loses 100 > 50.
        _trade(c, s, PNL, 990, 1, buyer=1, seller=3)
        wait_for(lambda: 2 in ctl.call("status")["kill_switches"], "the automatic kill switch")
        r = report(c, lambda m: m.order_id == resting.order_id and m.exec_type == ExecType.CANCELED)
        assert r.reason_code == Reason.ENG_CXL_KILL_SWITCH
        cid = c.new_order(instrument_id=PNL, side=Side.SELL, order_qty=1, account_id=2, price=1040)
        assert report(c, lambda m: m.cl_ord_id == cid).reason_code == Reason.ENG_REJ_KILL_SWITCH
    shown = ctl.call("risk.show", account=2)["accounts"][0]
    assert shown["kill_switch"] and shown["usage"]["loss"] == 100
    assert any(a["metric"] == "loss" and a["level"] == "breach" for a in shown["open_alerts"])
    auto = [e for e in venue.audit() if e["user"] == "system" and e["command"] == "killswitch"]
    assert auto and auto[-1]["args"]["account"] == 2 and auto[-1]["outcome"] == "accepted"
