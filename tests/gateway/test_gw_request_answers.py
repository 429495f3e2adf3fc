"""The smaller answers of issue #16 point 5, through real TCP against a real engine and gateway:
a cancel of an order that already filled is too late to cancel (OrderCancelReject with
cxlRejReason TooLateToCancel and its own reason code), not an unknown order; a reject of an
application message whose body failed to decode carries its seqNum and clOrdId when the root
block's first fields were readable; and SBE versions: 0 and newer ones are refused (README)."""
from __future__ import annotations

import struct

from gateway.client import (BusinessMessageReject, ExecType, ExecutionReport, OrderCancelReject,
                            Side)
from gateway.client.orders import OrderRequest
from gateway.orderentry.sbe_codec import CxlRejReason, Terminate
from gateway.reasons import Reason

from .gw_venue import Venue, venue  # noqa: F401  (fixture)

SIDE_OFFSET = 6 + 8 + 76        # SOFH + SBE header + the fields of NewOrderSingle before side


def test_cancel_of_a_filled_order_is_too_late_not_unknown(venue: Venue) -> None:
    maker = venue.connect(101)
    maker.new_order(1, Side.SELL, 2, 1, price=10200)
    ack = maker.recv()
    assert isinstance(ack, ExecutionReport) and ack.exec_type == ExecType.NEW
    taker = venue.connect(201)
    taker.new_order(1, Side.BUY, 2, 3, price=10200)
    fill, _ = maker.recv_until(lambda m: isinstance(m, ExecutionReport)
                               and m.exec_type == ExecType.TRADE)
    assert fill.leaves_qty == 0  # type: ignore[attr-defined]
    maker.cancel(ack.order_id, 1, cl_ord_id=55)
    rej = maker.recv()
    assert isinstance(rej, OrderCancelReject), rej
    assert rej.cxl_rej_reason == CxlRejReason.TOO_LATE_TO_CANCEL
    assert rej.reason_code == Reason.ENG_GW_ORDER_DONE
    assert rej.order_id == ack.order_id and rej.cl_ord_id == 55
    # another firm's cancel of it is still refused as not its own
    taker.cancel(ack.order_id, 1, cl_ord_id=56)
    other = taker.recv_until(lambda m: isinstance(m, OrderCancelReject))[0]
    assert other.reason_code == Reason.ENG_GW_NOT_OWNER  # type: ignore[attr-defined]
    maker.terminate()
    taker.terminate()


def test_a_decode_reject_names_the_message_it_refuses(venue: Venue) -> None:
    c = venue.connect(101)
    c.core.next_seq_out = 42
    frame = bytearray(c.core.new_order(OrderRequest(instrument_id=1, side=Side.BUY, order_qty=1,
                                                    account_id=1, price=9500), 4242))
    frame[SIDE_OFFSET] = 9                      # no such Side
    c.send_raw(bytes(frame))
    rej = c.recv()
    assert isinstance(rej, BusinessMessageReject), rej
    assert rej.reason_code == Reason.ENG_GW_BAD_ENUM
    assert rej.ref_seq_num == 42 and rej.business_reject_ref_id == 4242
    # not executed, and the seqNum is still free for the corrected message
    c.core.next_seq_out = 42
    c.send_raw(c.core.new_order(OrderRequest(instrument_id=1, side=Side.BUY, order_qty=1,
                                             account_id=1, price=9500), 4242))
    ok = c.recv()
    assert isinstance(ok, ExecutionReport) and ok.exec_type == ExecType.NEW
    c.terminate()


def _with_version(frame: bytes, version: int) -> bytes:
    return frame[:12] + struct.pack("<H", version) + frame[14:]


def test_schema_versions_zero_and_newer_are_refused(venue: Venue) -> None:
    for version in (0, 2):
        c = venue.connect(101)
        c.send_raw(_with_version(c.core.new_order(OrderRequest(
            instrument_id=1, side=Side.BUY, order_qty=1, account_id=1, price=9500), 1), version))
        term = c.recv()
        assert isinstance(term, Terminate) and term.reason_code == Reason.ENG_GW_SCHEMA_VERSION
        c.close()
