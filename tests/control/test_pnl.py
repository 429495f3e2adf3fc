"""PnlBook: average-cost positions and P&L, hand-computed, from real engine events, and by property."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.control.pnl import BUY, SCALE, SELL, Fill, PnlBook, fills_from_event, parse_side, wire_number
from native import messages, records


def test_hand_computed_scenario_with_partial_close_and_flip_through_zero() -> None:
    b = PnlBook()
    # buy 10 @ 100: pos 10, cost 1000, avg 100
    assert b.on_fill(1, 7, "buy", 10, 100, ts_ns=1) == 0
    # buy 5 @ 106: pos 15, cost 1000 + 530 = 1530, avg 1530 / 15 = 102
    assert b.on_fill(1, 7, "buy", 5, 106, ts_ns=2) == 0
    assert b.avg_price(1, 7) == 102
    # sell 12 @ 110 (partial close): realized 12 x (110 - 102) = 96; pos 3, cost 1530 - 12 x 102 = 306
    assert b.on_fill(1, 7, "sell", 12, 110, ts_ns=3) == 96
    assert (b.position(1, 7), b.avg_price(1, 7)) == (3, 102)
    # mark is the last trade, 110: unrealized 3 x (110 - 102) = 24
    assert b.unrealized(1, 7) == 24
    # sell 7 @ 95 (flip): close 3 -> 3 x (95 - 102) = -21 (realized 96 - 21 = 75), then short 4 @ 95
    assert b.on_fill(1, 7, "sell", 7, 95, ts_ns=4) == -21
    assert (b.position(1, 7), b.avg_price(1, 7), b.realized(1, 7)) == (-4, 95, 75)
    # mark 90: short 4 from 95 gains 4 x 5 = 20
    b.mark(7, 90, ts_ns=5)
    assert b.unrealized(1, 7) == 20
    assert b.rows() == [{"account": 1, "instrument": 7, "position": -4, "avg_price": 95,
                         "realized_pnl": 75, "unrealized_pnl": 20}]
    # buy 4 @ 93 closes the short: 4 x (95 - 93) = 8 -> realized 83, flat, no unrealized
    assert b.on_fill(1, 7, "buy", 4, 93, ts_ns=6) == 8
    assert b.rows() == [{"account": 1, "instrument": 7, "position": 0, "avg_price": None,
                         "realized_pnl": 83, "unrealized_pnl": 0}]
    # cash flows: -1000 - 530 + 1320 + 665 - 372 = 83, the same as realized when flat
    assert -1000 - 530 + 1320 + 665 - 372 == 83
    # equity (realized + unrealized) after each change: 0 (10 @ 100 marked 100);
    # 15 x 106 - 1530 = 60; 96 + 24 = 120; 75 + (-4 x 95 + 380) = 75; 75 + 20 = 95; 83
    assert [e for _, e in b.equity_curve(1)] == [0, 60, 120, 75, 95, 83]
    assert [t for t, _ in b.equity_curve(1)] == [1, 2, 3, 4, 5, 6]


def test_short_first_then_partial_cover() -> None:
    b = PnlBook()
    b.on_fill("acc", "XYZ", SELL, 5, 200)   # short 5 @ 200: cost -1000
    # buy 2 @ 190: realized 2 x (200 - 190) = 20; short 3, cost -600, avg 200
    assert b.on_fill("acc", "XYZ", BUY, 2, 190) == 20
    assert (b.position("acc", "XYZ"), b.avg_price("acc", "XYZ")) == (-3, 200)
    # mark 190 (the last trade): unrealized 3 x (200 - 190) = 30
    assert b.unrealized("acc", "XYZ") == 30


def test_fractional_average_stays_exact_and_its_rounding_never_loses_a_unit() -> None:
    b = PnlBook()
    b.on_fill(1, 1, "buy", 1, 100)
    b.on_fill(1, 1, "buy", 2, 101)          # cost 302, avg 302/3 (exact: adding lots never rounds)
    assert b.avg_price(1, 1) == Fraction(302, 3)
    # sell 1 @ 102: the closed lot's cost 302/3 = 100.666666666(6) is rounded to a nano-unit,
    # 100.666666667, so realized = 102 - 100.666666667 = 1.333333333 (true value 4/3)
    assert b.on_fill(1, 1, "sell", 1, 102) == Fraction(1_333_333_333, SCALE)
    assert abs(b.realized(1) - Fraction(4, 3)) < Fraction(1, SCALE)
    # remaining cost 302 - 100.666666667 = 201.333333333; unrealized at 102: 204 - 201.333333333
    assert b.unrealized(1, 1) == Fraction(2_666_666_667, SCALE)
    # the sum is exact: realized + unrealized = 4 = cash flows + pos x mark = (-100 - 202 + 102) + 2 x 102
    assert b.equity(1) == 4 == (-100 - 202 + 102) + 2 * 102
    exact = b.rows(exact=True)[0]
    assert exact["realized_pnl"] == Fraction(1_333_333_333, SCALE)
    wire = b.rows()[0]
    assert wire["realized_pnl"] == pytest.approx(4 / 3) and isinstance(wire["realized_pnl"], float)
    # sell the other 2 @ 101: flat, so realized is exactly the cash flows -100 - 202 + 102 + 202 = 2
    b.on_fill(1, 1, "sell", 2, 101)
    assert b.realized(1, 1) == 2 and isinstance(b.rows()[0]["realized_pnl"], int)
    assert b.rows(exact=True)[0]["unrealized_pnl"] == 0


def test_long_lived_positions_keep_small_numbers() -> None:
    """Exact rationals would grow a digit or more per partial close; nano-units stay bounded."""
    b = PnlBook()
    for i in range(2_000):
        b.on_fill(1, 1, "buy", 7, 1000 + i % 13)
        b.on_fill(1, 1, "sell", 3, 1000 + i % 11)
    assert abs(b.rows(exact=True)[0]["realized_pnl"]).denominator <= SCALE
    assert b.position(1, 1) == 8_000


def test_wire_number_keeps_ints_ints() -> None:
    assert wire_number(Fraction(10, 2)) == 5 and isinstance(wire_number(Fraction(10, 2)), int)
    assert wire_number(Fraction(1, 4)) == 0.25
    assert wire_number(7) == 7


def test_mark_moves_every_holder_and_rows_filter_by_account() -> None:
    b = PnlBook()
    b.on_fill(1, 5, "buy", 10, 50)
    b.on_fill(2, 5, "sell", 10, 50)
    b.on_fill(3, 6, "buy", 1, 1000)
    b.mark(5, 55)
    # 1 long 10 from 50: +50; 2 short 10 from 50: -50; 3 holds another instrument: unaffected
    assert (b.unrealized(1), b.unrealized(2), b.unrealized(3)) == (50, -50, 0)
    assert [r["account"] for r in b.rows(2)] == [2]
    assert b.exposures(1) == {5: 550} and b.exposures(2) == {5: -550}
    assert b.last_price(5) == 55


def _trade_event(**fields: int) -> records.Event:
    """A TRADE record built with the engine's own layout (venue_layout.h), decoded by records into
    the Event Struct the control plane reads."""
    rec = np.zeros(1, dtype=records.EVT_DTYPES[int(records.EvtType.TRADE)])
    rec["type"] = int(records.EvtType.TRADE)
    for k, v in fields.items():
        rec[k] = v
    return records.decode_events(rec.view(records.RECORD_DTYPE))[0]


def test_trade_event_becomes_a_buy_for_the_buyer_and_a_sell_for_the_seller() -> None:
    ev = _trade_event(instrument_id=3, ts_ns=123, trade_id=1, buy_order_id=10, sell_order_id=11,
                      price=10_050, qty=7, buy_account_id=4, sell_account_id=9,
                      aggressor_side=int(records.Side.SELL))
    assert isinstance(ev, messages.TradeEvent)
    assert fills_from_event(ev) == [Fill(4, 3, BUY, 7, 10_050, 123), Fill(9, 3, SELL, 7, 10_050, 123)]
    b = PnlBook()
    assert b.apply_event(ev) == 2
    assert (b.position(4, 3), b.position(9, 3)) == (7, -7)
    assert b.apply_event(messages.AcceptedEvent(ts_ns=1)) == 0


def test_self_trade_leaves_the_account_flat() -> None:
    b = PnlBook()
    b.apply_event(_trade_event(instrument_id=1, ts_ns=5, price=100, qty=3, buy_account_id=2, sell_account_id=2))
    assert b.position(2, 1) == 0 and b.realized(2) == 0


def test_positions_match_the_real_engine_over_a_random_stream() -> None:
    """Every TRADE of a seeded random stream through the C engine; positions agree with the
    engine's own, and P&L is zero-sum across accounts (every buy has a seller at the same price)."""
    from native.engine import Engine
    from tests.native.streams import INSTRUMENT_SPECS, N_ACCOUNTS, seeded_stream

    cmds = seeded_stream(seed=8, n_commands=3000, n_instruments=3)
    with Engine(max_orders=2000, max_levels=2000, max_instruments=3, max_accounts=N_ACCOUNTS) as eng:
        events = list(eng.submit(cmds))
        b = PnlBook()
        n_fills = b.apply_events(events)
        assert n_fills == 2 * sum(isinstance(e, messages.TradeEvent) for e in events) > 100
        for spec in INSTRUMENT_SPECS:
            for acc in range(N_ACCOUNTS):
                assert b.position(acc, spec.instrument_id) == eng.position(acc, spec.instrument_id)["position"]
            last = eng.instrument(spec.instrument_id)
            if last["has_last_trade"]:
                assert b.last_price(spec.instrument_id) == last["last_trade_price"]
    assert sum(b.equity(a) for a in b.accounts()) == 0


def test_replay_gives_the_same_book() -> None:
    from native.engine import Engine
    from tests.native.streams import N_ACCOUNTS, seeded_stream

    with Engine(max_orders=2000, max_levels=2000, max_instruments=3, max_accounts=N_ACCOUNTS) as eng:
        events = list(eng.submit(seeded_stream(seed=3, n_commands=1500)))
    a, b = PnlBook(), PnlBook()
    a.apply_events(events)
    b.apply_events(events)
    assert a.rows(exact=True) == b.rows(exact=True)
    assert all(a.equity_curve(x) == b.equity_curve(x) for x in a.accounts())


@pytest.mark.parametrize("side,qty,price,message", [
    ("buy", -5, 100, "qty must be > 0"),
    ("buy", 0, 100, "qty must be > 0"),
    ("buy", 1.5, 100, "qty must be an integer"),
    ("buy", 1, float("nan"), "price must be an integer"),
    ("buy", 1, 100.0, "price must be an integer"),
    ("hold", 1, 100, "unknown side 'hold'"),
    (3, 1, 100, "unknown side 3"),
    (True, 1, 100, "unknown side True"),
    (None, 1, 100, "unknown side None"),
])
def test_bad_fill_is_refused_with_a_clear_message_and_changes_nothing(side, qty, price, message) -> None:
    b = PnlBook()
    b.on_fill(1, 1, "buy", 2, 100)
    with pytest.raises(ValueError, match=message):
        b.on_fill(1, 1, side, qty, price)
    assert b.rows(exact=True) == [{"account": 1, "instrument": 1, "position": 2, "avg_price": 100,
                                   "realized_pnl": 0, "unrealized_pnl": 0}]


def test_other_bad_input() -> None:
    b = PnlBook()
    with pytest.raises(ValueError, match="account must be given"):
        b.on_fill(None, 1, "buy", 1, 1)
    with pytest.raises(ValueError, match="account must be given"):
        b.on_fill(math.nan, 1, "buy", 1, 1)
    with pytest.raises(ValueError, match="price must be an integer"):
        b.mark(1, math.nan)
    # a trade with a bad quantity changes neither side
    with pytest.raises(ValueError, match="qty must be > 0"):
        b.apply_event(messages.TradeEvent(instrument_id=1, price=1, qty=0, ts_ns=0,
                                          buy_account_id=1, sell_account_id=2))
    assert b.rows() == []
    with pytest.raises(ValueError, match="max_history"):
        PnlBook(max_history=0)


def test_side_spellings() -> None:
    assert [parse_side(s) for s in ("BUY", "b", " sell ", "S", 1, 2, records.Side.SELL)] == [1, 1, 2, 2, 1, 2, 2]


fills = st.lists(st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 50), st.integers(1, 1000)),
                 min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(fills, st.integers(1, 1000))
def test_realized_plus_unrealized_equals_cash_flow_mark_to_market(seq, mark) -> None:
    b = PnlBook()
    cash, pos = 0, 0
    ref_pos, ref_cost, ref_realized = 0, Fraction(0), Fraction(0)   # textbook average cost in rationals
    for side, qty, price in seq:
        b.on_fill(1, 1, side, qty, price)
        d = qty if side == "buy" else -qty
        cash -= d * price
        pos += d
        if ref_pos == 0 or (ref_pos > 0) == (d > 0):
            ref_pos, ref_cost = ref_pos + d, ref_cost + d * price
        else:                                   # close at the average, then maybe flip
            avg = ref_cost / ref_pos
            sign = 1 if ref_pos > 0 else -1
            closed = min(abs(d), abs(ref_pos))
            ref_realized += closed * (price - avg) * sign
            ref_cost -= closed * avg * sign
            ref_pos -= closed * sign
            rest = d + closed * sign
            if rest:
                ref_pos, ref_cost = rest, Fraction(rest * price)
    b.mark(1, mark)
    assert b.position(1, 1) == pos == ref_pos
    assert b.realized(1) + b.unrealized(1) == cash + pos * mark   # exact, no tolerance
    # each partial close rounds the closed cost by at most half a nano-unit
    assert abs(b.realized(1) - ref_realized) <= Fraction(len(seq), 2 * SCALE)
    avg = b.avg_price(1, 1)
    assert avg is None if pos == 0 else min(p for _, _, p in seq) <= avg <= max(p for _, _, p in seq)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 20), st.integers(90, 110)),
                min_size=1, max_size=40))
def test_two_sided_trades_are_zero_sum(trades) -> None:
    b = PnlBook()
    for ts, (buyer, seller, qty, price) in enumerate(trades):
        b.apply_event(messages.TradeEvent(instrument_id=1, ts_ns=ts, price=price, qty=qty,
                                          buy_account_id=buyer, sell_account_id=seller))
    assert sum(b.equity(a) for a in b.accounts()) == 0
    assert sum(b.position(a, 1) for a in b.accounts()) == 0
