"""Every cost measure on the small day of conftest.py, against numbers worked out by hand.

Units: prices in engine units (1000000 = $100.00, scale 10000); currency amounts in dollars;
bps = 1e-4. Fees: taker $0.003/share, maker rebate $0.002/share.
"""
from __future__ import annotations

import math

import pytest

from tests.trading.tca.conftest import REFERENCE, S, T0
from trading.tca.analysis import Decision, analyze, keyed
from trading.tca.tape import END_FILLED, load_tape

DECISIONS = {7: Decision(T0 + 25 * S, 1_000_000, 100)}


@pytest.fixture
def an(small_day: str):  # type: ignore[no-untyped-def]
    return analyze(load_tape(small_day), REFERENCE, DECISIONS)


def approx(x: float, rel: float = 1e-6) -> object:
    return pytest.approx(x, rel=rel, abs=1e-9)


def test_tape_rebuilds_orders_fills_and_quotes(small_day: str) -> None:
    tape = load_tape(small_day)
    assert tape.trades == 5 and len(tape.fills) == 10          # 2+1+1+1 trades, two sides each
    o = {int(r["order_id"]): r for r in tape.orders}
    # order 10 arrived on 99.99 / 100.01; filled 150 for 100x100.01 + 50x100.02 = $15,002
    assert (o[10]["bid0"], o[10]["ask0"]) == (999_900, 1_000_100)
    assert o[10]["filled_qty"] == 150 and o[10]["filled_notional"] == 15_002 * 10_000
    assert o[10]["end_reason"] == END_FILLED and o[10]["marketable"]
    # order 21 got 20 and its 10 rest was cancelled: the ask side was empty
    assert o[21]["filled_qty"] == 20 and o[21]["cancelled_qty"] == 10
    # order 12 was priced below the bid: not marketable, cancelled by its owner
    assert not o[12]["marketable"] and o[12]["cancelled_qty"] == 50
    rows = tape.quotes[1].rows
    assert (rows["bid"][-1], rows["ask"][-1]) == (1_000_000, 1_000_300)


def test_taker_account_costs(an) -> None:  # type: ignore[no-untyped-def]
    a2 = keyed(an.summary("account"))["2"]
    # shares 150 + 60 = 210; notional 15,002 + 6,000 = $21,002; fees (150 + 60) x 0.003 = $0.63
    assert (a2.orders, a2.executions, a2.shares) == (3, 3, 210)
    assert a2.notional == approx(21_002.0) and a2.fees == approx(0.63) and a2.rebates == 0
    # arrival slippage: order 10 pays half-spread 150 x $0.01 = 1.50 and walks 50 x $0.01 = 0.50
    # beyond the touch; order 11 sells at 100.00 against a 100.01 mid: 60 x $0.01 = 0.60.
    # 2.60 / (150 x 100.00 + 60 x 100.01 = 21,000.6) = 1.238060 bps
    assert a2.slippage_arrival_bps == approx(2.6 / 21_000.6 * 1e4)
    assert a2.half_spread_bps == approx(2.1 / 21_000.6 * 1e4)
    assert a2.impact_bps == approx(0.5 / 21_000.6 * 1e4)
    assert a2.timing_bps == approx(0.0)
    # effective spread: 2 x (100 x 0.01 + 50 x 0.02 + 60 x 0.01) / 21,000.6 x 1e4
    assert a2.effective_spread_bps == approx(2 * 2.6 / 21_000.6 * 1e4)
    # realised at 15 s: order 10 at 17 s mid 100.01: 2(100.01-100.01)=0 and 2(100.02-100.01)=0.02
    # for 50 sh; order 11 at 35 s mid 100.01: 2 x (100.01 - 100.00) = 0.02 for 60 sh
    # (1.00 + 1.20) / 21,000.6 x 1e4
    assert a2.realised_spread_bps["15s"] == approx(2.2 / 21_000.6 * 1e4)
    # markout at 60 s (mid 100.015 from 50 s on): order 10 +0.005/100.01 (100 sh) and
    # -0.005/100.02 (50 sh); order 11 sold at 100.00: -(100.015 - 100.00)/100.00 = -1.5 bps (60 sh)
    m60 = (100 * 50 / 1_000_100 * 1e4 - 50 * 50 / 1_000_200 * 1e4 - 60 * 1.5) / 210
    assert a2.markout_bps["60s"] == approx(m60)
    # 100 ms: order 10 at 2.1 s mid 100.005: -0.005/100.01, -0.015/100.02; order 11: -0.01/100.00
    m100 = (-100 * 50 / 1_000_100 * 1e4 - 50 * 150 / 1_000_200 * 1e4 - 60 * 1.0) / 210
    assert a2.markout_bps["100ms"] == approx(m100)
    # fill rates: market 150/150; limit (60 + 0) / (60 + 50)
    assert a2.fill_rate_market == approx(1.0) and a2.fill_rate_limit == approx(60 / 110)
    # marketable orders 10 and 11 both traded at (or beyond) the far touch: none improved
    assert a2.price_improved_pct == approx(0.0)
    # order messages: new 10, 11, 12 and the cancel of 12 = 4, over 3 executions
    assert a2.order_messages == 4 and a2.order_to_trade == approx(4 / 3)
    # implementation shortfall (own parents, no decision price: P_d = arrival mid):
    # order 10: 2.00 + fees 0.45 = 2.45; order 11: 0.60 + 0.18 = 0.78; order 12 (unfilled,
    # arrival mid 100.01, close 100.02): opportunity 50 x 0.01 = 0.50. Paper: 150 x 100.00 +
    # 60 x 100.01 + 50 x 100.01 = 26,001.1
    assert a2.shortfall == approx(3.73)
    assert a2.shortfall_bps == approx(3.73 / 26_001.1 * 1e4)
    assert a2.opportunity_bps == approx(0.5 / 26_001.1 * 1e4)
    assert a2.delay_bps == approx(0.0)


def test_parent_order_perold_decomposition(an) -> None:  # type: ignore[no-untyped-def]
    p7 = keyed(an.summary("parent"))["TEST:3:P7"]
    # decided: buy 100 at 100.00; arrival mid 100.01 (first child at 30 s); executed 30 + 20 at
    # 100.02; the other 50 abandoned, close 100.02; fees 50 x 0.003 = 0.15
    # delay 50 x (100.01 - 100.00) = 0.50; half-spread 50 x (100.02 - 100.01) = 0.50; impact 0;
    # timing 0 (both children arrived on a 100.01 mid); opportunity 50 x (100.02 - 100.00) = 1.00
    # IS = 2.15 = (50 x 100.02 - 50 x 100.00) + 1.00 + 0.15 ; paper 100 x 100.00 = 10,000
    assert p7.shortfall == approx(2.15)
    assert p7.shortfall_bps == approx(2.15)
    assert p7.delay_bps == approx(0.5) and p7.opportunity_bps == approx(1.0)
    assert p7.fill_rate_market == approx(50 / 60)
    par = an.parent_table[an.parent_table["parent_id"] == 7][0]
    assert (par["x"], par["x_exec"], par["children"]) == (100, 50, 2)
    parts = par["delay"] + par["timing"] + par["half_spread"] + par["impact"] + par["opportunity"] + par["fees"]
    assert parts == approx(par["shortfall"]) and par["half_spread"] == approx(0.5)


def test_order_level_against_vwap_and_close(an) -> None:  # type: ignore[no-untyped-def]
    o10 = keyed(an.summary("order"))["TEST:10@7"]
    # interval VWAP of order 10 (2 s .. 2 s) is its own fills: slippage 0; against the close 100.02:
    # (150 x 100.013333 - 150 x 100.02) / (150 x 100.02) = -10000 / 150,030,000 x 1e4
    assert o10.slippage_vwap_bps == approx(0.0)
    assert o10.slippage_close_bps == approx(-10_000 / 150_030_000 * 1e4)


def test_maker_rebates_and_venue_totals(an) -> None:  # type: ignore[no-untyped-def]
    a1 = keyed(an.summary("account"))["1"]
    # the maker provided 100 + 100 + 60 = 260 shares: rebates 260 x 0.002 = 0.52
    assert a1.shares == 260 and a1.rebates == approx(0.52) and a1.fees == approx(-0.52)
    venue = an.total()
    assert (venue.executions, venue.shares) == (10, 520) and venue.notional == approx(52_006.0)
    # a one-venue market: what takers pay in markouts makers earn, share for share
    assert venue.markout_bps["1s"] == approx(0.0, rel=1e-9) or abs(venue.markout_bps["1s"]) < 1e-9


def test_one_sided_book_is_excluded_not_guessed(an) -> None:  # type: ignore[no-untyped-def]
    # the maker's oids 1, 2 and 5 arrived on an empty or one-sided book: no arrival mid,
    # so no shortfall for them (excluded and counted, never guessed)
    a1 = keyed(an.summary("account"))["1"]
    assert a1.parents_without_arrival_quote == 3
    assert math.isfinite(a1.shortfall_bps)
