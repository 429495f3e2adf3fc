"""Order entry end to end over TCP with the engine in its own process: every order type and time
in force becomes an engine order, and each engine outcome comes back as the right
ExecutionReport (new, partial fill, fill, cancelled, replaced, rejected, expired, triggered),
OrderCancelReject or OrderMassCancelReport, with cum/leaves kept per order."""
from __future__ import annotations

import time

import pytest

from gateway.client import (Client, ExecType, ExecutionReport, OrderCancelReject, OrderFlags,
                            OrderMassCancelReport, OrdStatus, OrdType, SelfTradePrevention, Side,
                            TimeInForce)
from gateway.reasons import Reason

from gateway.launcher import wait_for

from .gw_venue import Venue, venue  # noqa: F401  (fixture)


def er(c: Client, exec_type: ExecType, cl_ord_id: int | None = None) -> ExecutionReport:
    msg, _ = c.recv_until(lambda m: isinstance(m, ExecutionReport) and m.exec_type == exec_type
                          and (cl_ord_id is None or m.cl_ord_id == cl_ord_id))
    assert isinstance(msg, ExecutionReport)
    return msg


def rest(c: Client, side: Side, price: int, qty: int, account: int = 1,
         instrument: int = 1) -> ExecutionReport:
    cid = c.new_order(instrument, side, qty, account, price=price)
    return er(c, ExecType.NEW, cid)


def test_limit_order_is_acknowledged_with_a_new_report(venue: Venue) -> None:
    c = venue.connect(101)
    cid = c.new_order(1, Side.BUY, 7, 1, price=9990, time_in_force=TimeInForce.GOOD_TILL_CANCEL)
    r = er(c, ExecType.NEW, cid)
    assert (r.ord_status, r.leaves_qty, r.cum_qty, r.order_qty) == (OrdStatus.NEW, 7, 0, 7)
    assert (r.price, r.side, r.time_in_force, r.seq_num) == (9990, Side.BUY,
                                                             TimeInForce.GOOD_TILL_CANCEL, 1)
    assert r.order_id >> 48 >= 1     # the gateway picked the engine order id


def test_partial_fill_then_fill_report_cum_and_leaves(venue: Venue) -> None:
    maker = venue.connect(101)
    taker = venue.connect(201)
    resting = rest(maker, Side.SELL, 10000, 10)
    taker.new_order(1, Side.BUY, 4, 3, price=10000)
    part = er(maker, ExecType.TRADE)
    assert (part.ord_status, part.cum_qty, part.leaves_qty, part.last_qty, part.last_px,
            part.aggressor) == (OrdStatus.PARTIALLY_FILLED, 4, 6, 4, 10000, 0)
    assert part.order_id == resting.order_id and part.trade_id
    aggr = er(taker, ExecType.TRADE)
    assert aggr.ord_status == OrdStatus.FILLED and aggr.aggressor == 1
    taker.new_order(1, Side.BUY, 6, 3, price=10000)
    full = er(maker, ExecType.TRADE)
    assert (full.ord_status, full.cum_qty, full.leaves_qty) == (OrdStatus.FILLED, 10, 0)


def test_cancel_reports_cancelled_with_the_cancels_cl_ord_id(venue: Venue) -> None:
    c = venue.connect(101)
    new = rest(c, Side.BUY, 9900, 5)
    cxl = c.cancel(new.order_id, 1)
    r = er(c, ExecType.CANCELED)
    assert (r.cl_ord_id, r.ord_status, r.leaves_qty, r.last_qty, r.reason_code) == \
        (cxl, OrdStatus.CANCELED, 0, 5, Reason.ENG_CXL_USER)


def test_replace_reports_new_price_and_quantity(venue: Venue) -> None:
    c = venue.connect(101)
    new = rest(c, Side.BUY, 9900, 5)
    rid = c.replace(new.order_id, 1, 9950, 8)
    r = er(c, ExecType.REPLACED)
    assert (r.cl_ord_id, r.price, r.leaves_qty, r.order_qty, r.ord_status) == \
        (rid, 9950, 8, 8, OrdStatus.NEW)


def test_mass_cancel_cancels_the_sessions_orders_then_reports_the_count(venue: Venue) -> None:
    c = venue.connect(101)
    other = venue.connect(102)           # same firm, other session: untouched
    for p in (9800, 9810, 9820):
        rest(c, Side.BUY, p, 1)
    rest(c, Side.BUY, 9830, 1, instrument=2)
    kept = rest(other, Side.BUY, 9840, 1)
    mid = c.mass_cancel(instrument_id=1)
    report, before = c.recv_until(lambda m: isinstance(m, OrderMassCancelReport))
    assert isinstance(report, OrderMassCancelReport)
    assert report.cl_ord_id == mid and report.total_affected_orders == 3
    assert [m.exec_type for m in before if isinstance(m, ExecutionReport)] == [ExecType.CANCELED] * 3
    assert all(m.reason_code == Reason.ENG_CXL_USER for m in before)  # type: ignore[attr-defined]
    c.mass_cancel()
    report, before = c.recv_until(lambda m: isinstance(m, OrderMassCancelReport))
    assert report.total_affected_orders == 1  # type: ignore[attr-defined]
    cxl = other.cancel(kept.order_id, 1)
    assert er(other, ExecType.CANCELED).cl_ord_id == cxl


def test_mass_cancel_with_nothing_live_reports_zero(venue: Venue) -> None:
    c = venue.connect(101)
    c.mass_cancel(account_id=2)
    report = c.recv()
    assert isinstance(report, OrderMassCancelReport) and report.total_affected_orders == 0


@pytest.mark.parametrize("tif,final", [(TimeInForce.IMMEDIATE_OR_CANCEL, Reason.ENG_CXL_IOC_REMAINDER),
                                       (TimeInForce.FILL_OR_KILL, Reason.ENG_CXL_FOK_NOT_FILLABLE)])
def test_ioc_and_fok_end_cancelled_with_the_engines_reason(venue: Venue, tif: TimeInForce,
                                                           final: Reason) -> None:
    c = venue.connect(101)
    c.new_order(1, Side.BUY, 5, 1, price=9000, time_in_force=tif)
    assert er(c, ExecType.NEW).time_in_force == tif
    assert er(c, ExecType.CANCELED).reason_code == final


def test_market_order_fills_against_the_book(venue: Venue) -> None:
    maker = venue.connect(201)
    c = venue.connect(101)
    rest(maker, Side.SELL, 10010, 3, account=3)
    c.new_order(1, Side.BUY, 3, 1, ord_type=OrdType.MARKET,
                time_in_force=TimeInForce.IMMEDIATE_OR_CANCEL)
    new = er(c, ExecType.NEW)
    assert new.price is None and new.ord_type == OrdType.MARKET
    fill = er(c, ExecType.TRADE)
    assert (fill.last_px, fill.ord_status) == (10010, OrdStatus.FILLED)


@pytest.mark.parametrize("ord_type,price", [(OrdType.STOP, None), (OrdType.STOP_LIMIT, 10030)])
def test_stop_orders_report_triggered_then_trade(venue: Venue, ord_type: OrdType,
                                                 price: int | None) -> None:
    c = venue.connect(101)
    mm = venue.connect(201)
    c.new_order(1, Side.BUY, 2, 1, price=price, stop_px=10020, ord_type=ord_type,
                time_in_force=TimeInForce.DAY if price else TimeInForce.IMMEDIATE_OR_CANCEL)
    assert er(c, ExecType.NEW).stop_px == 10020
    rest(mm, Side.SELL, 10020, 1, account=3)
    rest(mm, Side.SELL, 10030, 5, account=3)
    mm.new_order(1, Side.BUY, 1, 3, price=10020)       # prints 10020: the stop's condition holds
    trig = er(c, ExecType.TRIGGERED)
    assert (trig.last_px, trig.stop_px) == (10020, 10020)
    fill = er(c, ExecType.TRADE)
    assert fill.last_px == 10030 and fill.cum_qty == 2


def test_iceberg_and_post_only_flags_reach_the_engine(venue: Venue) -> None:
    c = venue.connect(101)
    c.new_order(1, Side.SELL, 10, 1, price=10100, display_qty=2, flags=OrderFlags.ICEBERG)
    new = er(c, ExecType.NEW)
    assert new.display_qty == 2
    c.new_order(1, Side.BUY, 1, 1, price=10100, flags=OrderFlags.POST_ONLY)
    rej = er(c, ExecType.REJECTED)
    assert rej.reason_code == Reason.ENG_REJ_POST_ONLY_WOULD_TAKE
    assert rej.ord_status == OrdStatus.REJECTED


def test_gtd_order_expires_with_an_expired_report(venue: Venue) -> None:
    c = venue.connect(101)
    # The engine's clock is CLOCK_MONOTONIC, the same clock as time.monotonic_ns here.
    expire = time.monotonic_ns() + 50_000_000
    c.new_order(1, Side.BUY, 4, 1, price=9700, time_in_force=TimeInForce.GOOD_TILL_DATE,
                expire_time_ns=expire)
    er(c, ExecType.NEW)
    wait_for(lambda: time.monotonic_ns() > expire + 1_000_000, "the expiry time to pass", 5)
    c.new_order(1, Side.BUY, 1, 1, price=9600)          # any command advances engine time
    exp = er(c, ExecType.EXPIRED)
    assert (exp.ord_status, exp.last_qty, exp.leaves_qty, exp.reason_code) == \
        (OrdStatus.EXPIRED, 4, 0, Reason.ENG_EXP_GTD)


def test_stp_cancel_resting_reports_the_stp_reason(venue: Venue) -> None:
    c = venue.connect(101)
    c.new_order(1, Side.SELL, 2, 1, price=10200, stp_group=7)
    first = er(c, ExecType.NEW)
    c.new_order(1, Side.BUY, 2, 2, price=10200, stp_group=7,
                stp_mode=SelfTradePrevention.CANCEL_RESTING)
    cxl = er(c, ExecType.CANCELED)
    assert cxl.order_id == first.order_id and cxl.reason_code == Reason.ENG_CXL_STP


def test_engine_refusal_of_cancel_and_replace_gives_order_cancel_reject(venue: Venue) -> None:
    c = venue.connect(101)
    new = rest(c, Side.BUY, 9500, 5, instrument=2)
    c.cancel(new.order_id, 1)                          # wrong instrument: engine UNKNOWN_ORDER
    ocr = c.recv()
    assert isinstance(ocr, OrderCancelReject) and ocr.reason_code == Reason.ENG_REJ_UNKNOWN_ORDER
    assert ocr.cxl_rej_response_to == 1
    c.replace(new.order_id, 2, 9502, 5)                # tick 5 on instrument 2
    ocr = c.recv()
    assert isinstance(ocr, OrderCancelReject) and ocr.reason_code == Reason.ENG_REJ_OFF_TICK
    assert ocr.cxl_rej_response_to == 2
