"""Mass cancel and cancel-on-disconnect walk the session's own chain of live orders (not the whole
order table): every matching order is cancelled, oldest first, after orders left the chain at its
head, middle and tail (fills and single cancels), and nothing of another session is touched."""
from __future__ import annotations

from gateway.client import ExecType, ExecutionReport, OrderMassCancelReport, Side

from .gw_venue import Venue, retransmit_once_sequenced, venue  # noqa: F401  (fixture)


def _rest(c, instrument: int, price: int, qty: int = 1) -> int:  # type: ignore[no-untyped-def]
    cid = c.new_order(instrument, Side.BUY, qty, 1, price=price)
    msg, _ = c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == cid)
    assert msg.exec_type == ExecType.NEW  # type: ignore[attr-defined]
    return int(msg.order_id)  # type: ignore[attr-defined]


def _mass(c, **filters: int) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    c.mass_cancel(**filters)
    report, before = c.recv_until(lambda m: isinstance(m, OrderMassCancelReport))
    cancelled = [m.order_id for m in before
                 if isinstance(m, ExecutionReport) and m.exec_type == ExecType.CANCELED]
    return int(report.total_affected_orders), cancelled  # type: ignore[attr-defined]


def test_mass_cancel_takes_the_matching_orders_oldest_first(venue: Venue) -> None:
    c = venue.connect(101)
    other = venue.connect(102)                      # same firm and account, other session
    kept = _rest(other, 2, 9700)
    ids = [_rest(c, 1 + i % 2, 9800 + 5 * i) for i in range(40)]
    inst2 = [oid for i, oid in enumerate(ids) if i % 2 == 1]
    inst1 = [oid for i, oid in enumerate(ids) if i % 2 == 0]
    # Take orders out of the chain at its head, in its middle and at its tail.
    for oid in (inst1[0], inst1[7], inst1[-1]):
        c.cancel(oid, 1)
        msg, _ = c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.order_id == oid)
        assert msg.exec_type == ExecType.CANCELED  # type: ignore[attr-defined]
    assert _mass(c, instrument_id=2) == (len(inst2), inst2)
    rest1 = [oid for oid in inst1 if oid not in (inst1[0], inst1[7], inst1[-1])]
    assert _mass(c) == (len(rest1), rest1)
    assert _mass(c) == (0, [])
    cxl = other.cancel(kept, 2)                     # the other session's order was untouched
    msg, _ = other.recv_until(lambda m: isinstance(m, ExecutionReport) and m.cl_ord_id == cxl)
    assert msg.exec_type == ExecType.CANCELED  # type: ignore[attr-defined]


def test_disconnect_cancels_every_live_order_of_the_session(venue: Venue) -> None:
    c = venue.connect(101)
    ids = [_rest(c, 1, 9800 + i) for i in range(60)]
    taker = venue.connect(201)                      # fills the best bid: leaves the chain
    taker.new_order(1, Side.SELL, 1, 3, price=9859)
    fill, _ = c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.exec_type == ExecType.TRADE)
    c.close()
    again = venue.connect(101)
    got = retransmit_once_sequenced(again, 62, 59)  # 60 News, 1 fill, then the cancels
    assert [m.order_id for m in got] == [oid for oid in ids  # type: ignore[attr-defined]
                                         if oid != fill.order_id]  # type: ignore[attr-defined]
    assert all(m.exec_type == ExecType.CANCELED for m in got)  # type: ignore[attr-defined]
