"""Ownership: a session may cancel or replace orders of its own firm (also those another session
of the firm entered), never another firm's; a mass cancel touches only the session's orders."""
from __future__ import annotations

from gateway.client import ExecType, ExecutionReport, OrderCancelReject, Side
from gateway.reasons import Reason

from .gw_venue import Venue, venue  # noqa: F401  (fixture)


def _rest(c, price: int, account: int) -> ExecutionReport:  # type: ignore[no-untyped-def]
    c.new_order(1, Side.BUY, 3, account, price=price)
    r = c.recv()
    assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW
    return r


def test_other_firm_cannot_cancel_or_replace(venue: Venue) -> None:
    owner = venue.connect(101)
    intruder = venue.connect(201)
    order = _rest(owner, 9000, 1)
    intruder.cancel(order.order_id, 1)
    r = intruder.recv()
    assert isinstance(r, OrderCancelReject) and r.reason_code == Reason.ENG_GW_NOT_OWNER
    intruder.replace(order.order_id, 1, 9001, 1)
    r = intruder.recv()
    assert isinstance(r, OrderCancelReject) and r.reason_code == Reason.ENG_GW_NOT_OWNER
    intruder.mass_cancel()
    assert intruder.recv().total_affected_orders == 0  # type: ignore[attr-defined]
    owner.cancel(order.order_id, 1)                    # still live: the owner can cancel it
    assert owner.recv().exec_type == ExecType.CANCELED  # type: ignore[attr-defined]


def test_same_firm_other_session_may_cancel_and_the_entering_session_is_told(venue: Venue) -> None:
    a = venue.connect(101)
    b = venue.connect(102)
    order = _rest(a, 9000, 2)
    b.cancel(order.order_id, 1)
    r = a.recv()        # reports go to the session that entered the order
    assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.CANCELED
