"""Inbound sequence numbers across reconnects, and sequence arithmetic at the top of the uint64
range (issue #16, points 3 and 4), through real TCP against a real engine and gateway:
Establish never lowers the next expected seqNum, so a message resent after a reconnect is
answered as a duplicate (950) and never executed twice; a seqNum whose successor does not fit
is refused without moving the expected number; a RetransmitRequest whose range wraps is refused."""
from __future__ import annotations

from gateway.client import (BusinessMessageReject, ExecType, ExecutionReport, RetransmitReject,
                            Side)
from gateway.client.orders import OrderRequest
from gateway.orderentry.sbe_codec import RetransmitRequest
from gateway.reasons import Reason

from .gw_venue import Venue, venue  # noqa: F401  (fixture)

U64_MAX = (1 << 64) - 1


def _order(price: int) -> OrderRequest:
    return OrderRequest(instrument_id=1, side=Side.BUY, order_qty=1, account_id=1, price=price)


def test_a_message_resent_after_reconnecting_is_not_executed_twice(venue: Venue) -> None:
    c = venue.connect(102)                      # keeps its orders when it drops
    c.core.next_seq_out = 100                   # idempotent flow: a gap is allowed
    frame = c.core.new_order(_order(9500), 7777)
    c.send_raw(frame)
    ack = c.recv()
    assert isinstance(ack, ExecutionReport) and ack.exec_type == ExecType.NEW
    c.close()
    again = venue.connect(102, next_seq_no=100)     # Establish says: my next is 100 again
    again.send_raw(frame)                           # the same message, resent
    dup = again.recv()
    assert isinstance(dup, BusinessMessageReject), f"executed twice: {dup}"
    assert dup.reason_code == Reason.ENG_GW_SEQ_TOO_LOW
    assert dup.ref_seq_num == 100 and dup.business_reject_ref_id == 7777
    # and the session goes on from where it was
    again.core.next_seq_out = 101
    again.send_raw(again.core.new_order(_order(9505), 7778))
    ok = again.recv()
    assert isinstance(ok, ExecutionReport) and ok.exec_type == ExecType.NEW
    again.mass_cancel()
    again.terminate()


def test_establish_with_a_higher_next_seq_skips_ahead(venue: Venue) -> None:
    c = venue.connect(102)
    c.close()
    again = venue.connect(102, next_seq_no=50)
    again.core.next_seq_out = 49
    again.send_raw(again.core.new_order(_order(9500), 1))
    low = again.recv()
    assert isinstance(low, BusinessMessageReject) and low.reason_code == Reason.ENG_GW_SEQ_TOO_LOW
    again.terminate()


def test_the_last_seqnum_is_refused_and_does_not_wrap_the_expected_number(venue: Venue) -> None:
    c = venue.connect(101)
    c.core.next_seq_out = 10
    c.send_raw(c.core.new_order(_order(9500), 1))
    assert c.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
    c.core.next_seq_out = U64_MAX
    c.send_raw(c.core.new_order(_order(9505), 2))
    top = c.recv()
    assert isinstance(top, BusinessMessageReject), f"executed: {top}"
    assert top.reason_code == Reason.ENG_GW_VALUE_RANGE and top.ref_seq_num == U64_MAX
    c.core.next_seq_out = 9                 # below the expected 11: a duplicate
    c.send_raw(c.core.new_order(_order(9510), 3))
    low = c.recv()
    assert isinstance(low, BusinessMessageReject), f"executed: {low}"
    assert low.reason_code == Reason.ENG_GW_SEQ_TOO_LOW
    c.terminate()


def _retransmit_raw(c, first: int, count: int) -> object:  # type: ignore[no-untyped-def]
    c.send_raw(c.core.encoder.encode(RetransmitRequest(
        session_id=c.core.session_id, timestamp_ns=1, from_seq_no=first, count=count)))
    msg, _ = c.recv_until(lambda m: type(m).__name__ in ("Retransmission", "RetransmitReject"))
    return msg


def test_a_retransmit_range_that_wraps_is_refused(venue: Venue) -> None:
    c = venue.connect(101)
    c.send_raw(c.core.new_order(_order(9500), 1))
    assert c.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
    for first, count in ((U64_MAX, 1), (U64_MAX - 1, 3), (U64_MAX - 1, 2), (2, 1)):
        got = _retransmit_raw(c, first, count)
        assert isinstance(got, RetransmitReject), f"{first} + {count}: {got}"
        assert got.reason_code == Reason.ENG_GW_RETRANSMIT_RANGE
    ok = _retransmit_raw(c, 1, 1)
    assert type(ok).__name__ == "Retransmission"
    c.terminate()
