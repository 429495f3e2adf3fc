"""Cancel-on-disconnect and mass cancel finish, whatever the count: the cancels that do not fit
in the command ring's free room are queued and sent as it frees (issue #16, points 1 and 2).
Checked through real TCP against a real engine and gateway: the owner's reports (asked again by
retransmission after reconnecting), one mass-cancel report with the true total, and another
firm's aggressive IOC that finds nothing left to trade with."""
from __future__ import annotations

import pytest

from gateway.client import (BusinessMessageReject, Client, ExecType, ExecutionReport,
                            OrderMassCancelReport, Side, TimeInForce)
from gateway.reasons import Reason

from .gw_venue import Venue, retransmit_once_sequenced, venue  # noqa: F401  (fixture)

BATCH = 500         # requests in flight at once: the reports of one batch fit the tx buffer
PRICES = 20


def rest_many(c: Client, n: int, base_price: int = 10500) -> list[int]:
    """Rests n one-lot sells of account 1 on instrument 1; returns their order ids in order."""
    ids: list[int] = []
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        for i in range(start, start + count):
            c.new_order(1, Side.SELL, 1, 1, price=base_price + 5 * (i % PRICES))
        for _ in range(count):
            msg = c.recv(timeout_s=30.0)
            assert isinstance(msg, ExecutionReport) and msg.exec_type == ExecType.NEW, msg
            ids.append(msg.order_id)
    return ids


def nothing_left_to_hit(venue: Venue, n: int, base_price: int = 10500) -> None:
    """Another firm buys everything up to the highest price, immediate-or-cancel: it must
    trade nothing (every order of the first session is gone from the book)."""
    taker = venue.connect(201)
    taker.new_order(1, Side.BUY, n, 3, price=base_price + 5 * PRICES,
                    time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
    first = taker.recv(timeout_s=30.0)
    assert isinstance(first, ExecutionReport) and first.exec_type == ExecType.NEW, first
    second = taker.recv(timeout_s=30.0)
    assert isinstance(second, ExecutionReport), second
    assert second.exec_type == ExecType.CANCELED, f"traded with an order left live: {second}"
    assert second.last_qty == n
    taker.terminate()


def retransmit_all(c: Client, first: int, count: int) -> list[object]:
    got: list[object] = []
    while count:
        take = min(count, 5000)
        got += retransmit_once_sequenced(c, first, take)
        first += take
        count -= take
    return got


@pytest.mark.parametrize("n", [1500, 20000])
def test_cancel_on_disconnect_cancels_every_order(venue: Venue, n: int) -> None:
    c = venue.connect(101)
    ids = rest_many(c, n)
    c.close()                                   # no Terminate: the socket just goes away
    again = venue.connect(101, keepalive_ms=5000)
    got = retransmit_all(again, n + 1, n)
    assert [m.order_id for m in got] == ids  # type: ignore[attr-defined]
    assert all(isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED
               for m in got)
    again.terminate()
    nothing_left_to_hit(venue, n)


def test_mass_cancel_of_10000_orders_is_one_request_with_one_true_report(venue: Venue) -> None:
    n = 10000
    c = venue.connect(102, keepalive_ms=5000)   # without cancel-on-disconnect
    ids = rest_many(c, n)
    c.mass_cancel()
    report, before = c.recv_until(lambda m: isinstance(m, OrderMassCancelReport), timeout_s=60.0)
    cancelled = [m.order_id for m in before
                 if isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED]
    assert cancelled == ids
    assert report.total_affected_orders == n  # type: ignore[attr-defined]
    assert report.reason_code == Reason.ENG_OK  # type: ignore[attr-defined]
    c.terminate()
    nothing_left_to_hit(venue, n)


def test_mass_cancel_with_every_slot_busy_has_its_own_reason(venue: Venue) -> None:
    """A mass cancel needs one of the gateway's 256 mass-cancel slots for as long as its cancels
    are in flight; when none is free the answer says so (not "throttled")."""
    c = venue.connect(102, keepalive_ms=5000)
    rest_many(c, 3000)
    for _ in range(300):                        # each asks for the same orders again
        c.mass_cancel()
    reasons = []
    reports = 0
    while reports + len(reasons) < 300:
        m = c.recv(timeout_s=60.0)
        if isinstance(m, BusinessMessageReject):
            reasons.append(m.reason_code)
        elif isinstance(m, OrderMassCancelReport):
            reports += 1
    assert set(reasons) <= {Reason.ENG_GW_MASS_CANCEL_BUSY}
    assert reports >= 1
    c.terminate()
