"""The session schedule against a real venue: pre-open at start, the opening auction into
continuous trading, the closing call and the closing auction into closed, each a sequenced
SET_PHASE the control plane sends when the schedule says (clock "start": seconds after the
control plane started). The test waits on phases, never on time; the windows are seconds wide
so that entering two orders in each is never a race."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from gateway.client import ExecType, Side
from gateway.launcher import wait_for
from tests.control.cp_venue import CpVenue, report, start_venue

ACME = 1
# open 10 s after start: room for a slow start-up on a loaded machine before the opening auction
SCHEDULE = 'pre_open = 0\nopen = 10\nclosing_call = 14\nclose = 18'


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CpVenue]:
    yield from start_venue(Path(tmp_path_factory.mktemp("cpsched")), schedule=SCHEDULE)


def _cross(venue: CpVenue, buy: int, sell: int):  # type: ignore[no-untyped-def]
    b, s = venue.connect(101), venue.connect(201)
    for c, side, price, acct in ((b, Side.BUY, buy, 1), (s, Side.SELL, sell, 3)):
        cid = c.new_order(instrument_id=ACME, side=side, order_qty=5, account_id=acct, price=price)
        assert report(c, lambda m: m.cl_ord_id == cid).exec_type == ExecType.NEW   # rests: no matching
    return b, s


def test_schedule_opens_with_an_auction_and_closes_with_one(venue: CpVenue) -> None:
    ctl = venue.control()
    assert venue.phase(ctl, "ACME") == "pre_open"
    b, s = _cross(venue, buy=10_020, sell=9_980)
    try:
        wait_for(lambda: venue.phase(ctl, "ACME") == "continuous", "the opening auction", 30)
        # Both 9980 and 10020 match 5 with no imbalance, 20 from the reference: the lower wins.
        for c in (b, s):
            assert report(c, lambda m: m.exec_type == ExecType.TRADE).last_px == 9_980
    finally:
        b.close()
        s.close()
    wait_for(lambda: venue.phase(ctl, "ACME") == "pre_open", "the closing call", 30)
    b, s = _cross(venue, buy=10_100, sell=10_000)
    try:
        wait_for(lambda: venue.phase(ctl, "ACME") == "closed", "the close", 30)
        # 10000 and 10100 both match 5; 10000 is nearer the reference (the last price 9980).
        for c in (b, s):
            assert report(c, lambda m: m.exec_type == ExecType.TRADE).last_px == 10_000
    finally:
        b.close()
        s.close()
    # Each step is audited once per instrument (ACME, BETA, PNL), as user "system".
    steps = [(e["command"], e["args"]["instrument"], e["outcome"]) for e in venue.audit() if e["user"] == "system"]
    assert steps == [(f"schedule.{step}", sym, "accepted") for step in ("pre_open", "open", "closing_call", "close")
                     for sym in ("ACME", "BETA", "PNL")]
