"""Per-session throttle (5 messages/s in the test config): past the limit a 'reject' session gets
BusinessMessageReject(THROTTLED) for each refused message and stays up; a 'disconnect' session is
terminated with THROTTLED. Other sessions are not throttled."""
from __future__ import annotations

from gateway.client import BusinessMessageReject, ExecutionReport, OrderRequest, Side, Terminate
from gateway.reasons import Reason

from .gw_venue import Venue, venue  # noqa: F401  (fixture)


def test_reject_mode_refuses_messages_past_the_rate(venue: Venue) -> None:
    c = venue.connect(301)
    for i in range(20):
        c.new_order(1, Side.BUY, 1, 4, price=9000 + i)
    got = c.recv_n(20)
    rejects = [m for m in got if isinstance(m, BusinessMessageReject)]
    accepted = [m for m in got if isinstance(m, ExecutionReport)]
    assert rejects and accepted and len(accepted) <= 6
    assert all(r.reason_code == Reason.ENG_GW_THROTTLED and r.business_reject_reason == 8
               for r in rejects)
    unthrottled = venue.connect(101)
    for i in range(20):
        unthrottled.new_order(1, Side.BUY, 1, 1, price=8000 + i)
    assert all(isinstance(m, ExecutionReport) for m in unthrottled.recv_n(20))


def test_disconnect_mode_terminates_the_session(venue: Venue) -> None:
    c = venue.connect(302)
    # One write: the gateway may close the socket as soon as it has terminated the session, and
    # a client still sending then gets EPIPE instead of reading the Terminate.
    frames = [c.core.new_order(OrderRequest(1, Side.BUY, 1, 4, price=9000 + i), c.core.cl_ord_id(None))
              for i in range(20)]
    c.send_raw(b"".join(frames))
    msg, _ = c.recv_until(lambda m: isinstance(m, Terminate))
    assert msg.reason_code == Reason.ENG_GW_THROTTLED  # type: ignore[attr-defined]
