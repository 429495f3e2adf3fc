"""Every refusal reaches the client with a reason code from the one table: engine validation
and risk refusals as ExecutionReport(Rejected), gateway refusals (account of another firm,
duplicate seqNum, full order table, unknown order id) as BusinessMessageReject or
OrderCancelReject; the session stays up after each."""
from __future__ import annotations

from pathlib import Path

import pytest

from gateway.client import (BusinessMessageReject, ExecType, ExecutionReport, OrderCancelReject,
                            OrderFlags, OrdType, Side, TimeInForce)
from gateway.reasons import Reason

from .gw_venue import Venue, start_venue, venue  # noqa: F401  (fixture)

ENGINE_REJECTS = [
    (dict(instrument_id=9, price=10000), Reason.ENG_REJ_UNKNOWN_INSTRUMENT),
    (dict(order_qty=0, price=10000), Reason.ENG_REJ_BAD_QTY),
    (dict(instrument_id=2, price=10001), Reason.ENG_REJ_OFF_TICK),
    (dict(price=0), Reason.ENG_REJ_BAD_PRICE),
    (dict(ord_type=OrdType.MARKET, time_in_force=TimeInForce.DAY), Reason.ENG_REJ_BAD_TIF),
    (dict(ord_type=OrdType.STOP, stop_px=0, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL),
     Reason.ENG_REJ_BAD_STOP_PRICE),
    (dict(price=10000, display_qty=5, flags=OrderFlags.ICEBERG), Reason.ENG_REJ_BAD_DISPLAY_QTY),
    (dict(price=10000, time_in_force=TimeInForce.GOOD_TILL_DATE, expire_time_ns=1),
     Reason.ENG_REJ_BAD_EXPIRY),
    (dict(ord_type=OrdType.MARKET, time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL,
          flags=OrderFlags.POST_ONLY), Reason.ENG_REJ_BAD_FLAGS),
]


@pytest.mark.parametrize("fields,reason", ENGINE_REJECTS, ids=[r.name for _, r in ENGINE_REJECTS])
def test_engine_refusal_is_a_rejected_execution_report(venue: Venue, fields: dict,
                                                       reason: Reason) -> None:
    c = venue.connect(101)
    args = dict(instrument_id=1, side=Side.BUY, order_qty=5, account_id=1)
    args.update(fields)
    cid = c.new_order(**args)  # type: ignore[arg-type]
    r = c.recv()
    assert isinstance(r, ExecutionReport)
    assert (r.exec_type, r.cl_ord_id, r.reason_code) == (ExecType.REJECTED, cid, reason)
    c.new_order(1, Side.BUY, 1, 1, price=9000)       # the session goes on
    assert c.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]


def test_order_for_another_firms_account_is_refused(venue: Venue) -> None:
    c = venue.connect(101)
    cid = c.new_order(1, Side.BUY, 1, 3, price=9000)   # account 3 belongs to firm 2
    r = c.recv()
    assert isinstance(r, BusinessMessageReject)
    assert (r.reason_code, r.business_reject_ref_id, r.ref_template_id) == \
        (Reason.ENG_GW_ACCOUNT_NOT_PERMITTED, cid, 1)


def test_duplicate_seq_num_is_refused_and_not_executed(venue: Venue) -> None:
    c = venue.connect(101)
    c.new_order(1, Side.BUY, 1, 1, price=9000)
    assert c.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
    c.core.next_seq_out = 1                            # resend seqNum 1
    c.new_order(1, Side.BUY, 1, 1, price=9001)
    r = c.recv()
    assert isinstance(r, BusinessMessageReject)
    assert (r.reason_code, r.ref_seq_num) == (Reason.ENG_GW_SEQ_TOO_LOW, 1)


def test_cancel_of_an_unknown_order_id_is_refused(venue: Venue) -> None:
    c = venue.connect(101)
    cid = c.cancel(12345, 1)
    r = c.recv()
    assert isinstance(r, OrderCancelReject)
    assert (r.reason_code, r.cl_ord_id, r.cxl_rej_reason) == (Reason.ENG_GW_UNKNOWN_ORDER_ID, cid, 1)
    c.replace(12345, 1, 100, 1)
    r = c.recv()
    assert isinstance(r, OrderCancelReject) and r.cxl_rej_response_to == 2


def test_full_order_table_refuses_new_orders(tmp_path: Path) -> None:
    for v in start_venue(tmp_path, ["--order-capacity", "8"]):
        c = v.connect(101)
        for i in range(7):
            c.new_order(1, Side.BUY, 1, 1, price=9000 + i)
            assert c.recv().exec_type == ExecType.NEW  # type: ignore[attr-defined]
        c.new_order(1, Side.BUY, 1, 1, price=8000)
        r = c.recv()
        assert isinstance(r, BusinessMessageReject) and r.reason_code == Reason.ENG_GW_ORDER_CAPACITY
