"""Cancel-on-disconnect: on by default, the session's live orders are cancelled when its
connection drops (closed socket or Terminate); a session configured without it keeps them, and
gets their reports when it reconnects and asks for retransmission."""
from __future__ import annotations

from gateway.client import ExecType, ExecutionReport, Side
from gateway.reasons import Reason

from .gw_venue import Venue, retransmit_once_sequenced, venue  # noqa: F401  (fixture)


def _rest(c, price: int, account: int = 1) -> ExecutionReport:  # type: ignore[no-untyped-def]
    c.new_order(1, Side.SELL, 2, account, price=price)
    r = c.recv()
    assert isinstance(r, ExecutionReport) and r.exec_type == ExecType.NEW
    return r


def test_dropped_connection_cancels_the_sessions_orders(venue: Venue) -> None:
    c = venue.connect(101)
    orders = {_rest(c, 10500 + i).order_id for i in range(3)}
    c.close()                                   # no Terminate: the socket just goes away
    again = venue.connect(101)
    # The cancels went out while nobody was connected; they are in the session's log once the
    # engine answered them, which may be after this reconnect: ask until they are.
    got = retransmit_once_sequenced(again, 4, 3)
    assert {m.order_id for m in got} == orders  # type: ignore[attr-defined]
    assert all(m.exec_type == ExecType.CANCELED and m.reason_code == Reason.ENG_CXL_USER
               for m in got)  # type: ignore[attr-defined]
    taker = venue.connect(201)
    taker.new_order(1, Side.BUY, 2, 3, price=10500, time_in_force=4)  # IOC: nothing left to hit
    assert taker.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
    assert taker.recv().exec_type == ExecType.CANCELED  # type: ignore[attr-defined]


def test_session_without_cancel_on_disconnect_keeps_its_orders(venue: Venue) -> None:
    c = venue.connect(102)
    order = _rest(c, 10600)
    c.terminate()
    taker = venue.connect(201)
    taker.new_order(1, Side.BUY, 2, 3, price=10600)
    assert taker.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
    assert taker.recv().exec_type == ExecType.TRADE  # type: ignore[attr-defined]
    back = venue.connect(102)
    assert back.core.server_next_seq == 3       # the fill was sequenced while it was away
    [fill] = back.retransmit(2, 1)
    assert fill.order_id == order.order_id and fill.exec_type == ExecType.TRADE  # type: ignore[attr-defined]
