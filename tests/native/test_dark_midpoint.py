"""Dark midpoint instruments (ENGINE.md "Dark midpoint instruments"), scenario by scenario, on both
the C engine and the oracle: fills at the exact midpoint (half-tick included), minimum acceptable
quantity on both sides, no trade on a locked, crossed, one-sided or stale NBBO, pegs re-priced by
a new NBBO, the cross rule's priorities, and every dark refusal with its reason code.

Prices are in 1/10000 USD with a penny tick (100): a one-cent spread has its midpoint at half a
tick, e.g. 100.00 / 100.01 -> 1_000_050.
"""
from __future__ import annotations

import pytest

from tests.native import events as ev
from tests.native.streams import CommandStream
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
TICK, MAX_AGE = 100, 1_000_000
BID, ASK = 1_000_000, 1_000_100  # 100.00 / 100.01
MID = 1_000_050                  # 100.005: half a tick


def _dark(make_engine, quote: bool = True):
    """A dark instrument 1 in CONTINUOUS with (unless quote is False) the NBBO 100.00 / 100.01."""
    eng, s = make_engine(), CommandStream(first_ts_ns=10**10)
    cmds = [s.add_dark_instrument(1, tick_size=TICK, reference_price=BID, nbbo_max_age_ns=MAX_AGE),
            s.set_phase(1, ENG.PHASE_PRE_OPEN), s.set_phase(1, ENG.PHASE_CONTINUOUS)]
    if quote:
        cmds.append(s.nbbo(1, BID, ASK))
    eng.submit(cmds)
    return eng, s


def test_pegs_fill_at_the_exact_half_tick_midpoint_and_nothing_is_displayed(make_engine):
    eng, s = _dark(make_engine)
    sell = s.peg(1, 1, SELL, 300, account_id=2)
    assert eng.submit([sell]) == [ev.accepted(sell)]  # rests unseen: no BOOK_LEVEL
    buy = s.peg(1, 2, BUY, 100, account_id=1)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.trade(buy, 1, 2, 1, MID, 100, 0, 200, BUY, 1, 2)]
    assert eng.depth(1, BUY) == [] and eng.depth(1, SELL) == []
    [rest] = eng.orders(1, SELL)
    assert (rest["order_id"], rest["leaves_qty"], rest["shown_qty"], rest["reserve_qty"]) == (1, 200, 0, 0)
    assert eng.instrument(1)["last_trade_price"] == MID
    assert eng.position(1, 1)["position"] == 100 and eng.position(2, 1)["open_sell_qty"] == 200


def test_whole_tick_midpoint_on_a_two_tick_spread(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.nbbo(1, BID, BID + 2 * TICK), s.peg(1, 1, SELL, 100)])
    buy = s.peg(1, 2, BUY, 100)
    assert eng.submit([buy])[1] == ev.trade(buy, 1, 2, 1, BID + TICK, 100, 0, 0, BUY)


@pytest.mark.parametrize("bid, ask, reason", [
    (BID, BID, ENG.CXL_NBBO_LOCKED),
    (ASK, BID, ENG.CXL_NBBO_CROSSED),
    (0, ASK, ENG.CXL_NBBO_NONE),
    (BID, 0, ENG.CXL_NBBO_NONE),
])
def test_no_trade_on_a_locked_crossed_or_one_sided_nbbo(make_engine, bid, ask, reason):
    eng, s = _dark(make_engine)
    rest = s.peg(1, 1, SELL, 100)
    eng.submit([rest, s.nbbo(1, bid, ask)])
    ioc = s.peg(1, 2, BUY, 100, tif=ENG.TIF_IOC)
    assert eng.submit([ioc]) == [ev.accepted(ioc), ev.cancelled(ioc, 2, reason, 100)]
    day = s.peg(1, 3, BUY, 100, tif=ENG.TIF_DAY)
    assert eng.submit([day]) == [ev.accepted(day)]  # waits for a usable quote
    again = s.nbbo(1, BID, ASK)
    assert eng.submit([again]) == [ev.trade(again, 1, 3, 1, MID, 100, 0, 0, ENG.SIDE_NONE),
                                   ev.ack(again)]


def test_no_nbbo_yet_means_no_trade(make_engine):
    eng, s = _dark(make_engine, quote=False)
    eng.submit([s.peg(1, 1, SELL, 100)])
    ioc = s.peg(1, 2, BUY, 100, tif=ENG.TIF_IOC)
    assert eng.submit([ioc]) == [ev.accepted(ioc), ev.cancelled(ioc, 2, ENG.CXL_NBBO_NONE, 100)]


def test_a_stale_nbbo_stops_trading_by_sequenced_time_alone(make_engine):
    eng, s = _dark(make_engine, quote=False)
    eng.submit([s.peg(1, 1, SELL, 200)])
    at_limit = s.nbbo(1, BID, ASK, age_ns=MAX_AGE - s.ts_step_ns)
    buy = s.peg(1, 2, BUY, 100)  # one step later the quote is exactly max age old: still usable
    assert eng.submit([at_limit, buy])[-1] == ev.trade(buy, 1, 2, 1, MID, 100, 0, 100, BUY)
    # one command 1 us later the quote is older than the limit: nothing trades, IOC says why
    ioc = s.peg(1, 3, BUY, 100, tif=ENG.TIF_IOC)
    assert eng.submit([ioc]) == [ev.accepted(ioc), ev.cancelled(ioc, 3, ENG.CXL_NBBO_STALE, 100)]
    assert eng.submit([s.time(10 * MAX_AGE)])  # time passing alone never trades
    fresh = s.nbbo(1, BID, ASK)
    buy2 = s.peg(1, 4, BUY, 100)
    assert eng.submit([fresh, buy2])[-1] == ev.trade(buy2, 2, 4, 1, MID, 100, 0, 0, BUY)


def test_a_new_nbbo_reprices_resting_pegs_and_crosses_limits_it_brings_into_range(make_engine):
    eng, s = _dark(make_engine)
    # a buy capped at 100.00 and a sell floored at 100.02: the mid 100.005 suits neither
    eng.submit([s.peg(1, 1, BUY, 100, limit=BID, account_id=1),
                s.peg(1, 2, SELL, 100, limit=BID + 2 * TICK, account_id=2)])
    up = s.nbbo(1, BID + TICK, BID + 2 * TICK)       # mid 100.015: the buy's limit is out
    assert eng.submit([up]) == [ev.ack(up)]
    sell = s.peg(1, 3, SELL, 50, account_id=3)         # an unlimited sell prints at the new mid
    down = s.nbbo(1, BID - 2 * TICK, BID + TICK)       # mid 99.995: buy 1 eligible, sell 2 not
    assert eng.submit([sell, down]) == [
        ev.accepted(sell), ev.trade(down, 1, 1, 3, BID - 50, 50, 50, 0, ENG.SIDE_NONE, 1, 3), ev.ack(down)]
    wide = s.nbbo(1, BID - 4 * TICK, BID + 8 * TICK)   # mid 100.02: sell 2's limit now in, buy 1 out
    assert eng.submit([wide]) == [ev.ack(wide)]
    buy = s.peg(1, 4, BUY, 100, account_id=4)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.trade(buy, 2, 4, 2, BID + 2 * TICK, 100, 0, 0, BUY, 4, 2)]
    assert [(o["order_id"], o["leaves_qty"]) for o in eng.orders(1, BUY)] == [(1, 50)]
    assert eng.orders(1, SELL) == []


def test_a_peg_limit_at_the_exact_midpoint_trades(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.nbbo(1, BID, BID + 2 * TICK), s.peg(1, 1, SELL, 100, limit=BID + TICK)])
    buy = s.peg(1, 2, BUY, 100, limit=BID + TICK)
    assert eng.submit([buy])[1] == ev.trade(buy, 1, 2, 1, BID + TICK, 100, 0, 0, BUY)


def test_min_qty_of_the_resting_order_skips_smaller_contras(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.peg(1, 1, SELL, 500, min_qty=200), s.peg(1, 2, SELL, 100)])
    small = s.peg(1, 3, BUY, 150)  # below order 1's MAQ: trades with order 2 instead
    assert eng.submit([small]) == [ev.accepted(small), ev.trade(small, 1, 3, 2, MID, 100, 50, 0, BUY)]
    big = s.peg(1, 4, BUY, 250)  # meets it
    assert eng.submit([big])[1] == ev.trade(big, 2, 4, 1, MID, 250, 0, 250, BUY)


def test_min_qty_of_the_arriving_order_skips_smaller_contras_until_its_leaves_fall_below_it(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.peg(1, 1, SELL, 100), s.peg(1, 2, SELL, 300)])
    buy = s.peg(1, 3, BUY, 400, min_qty=300)
    # sell 1 (100) is too small for the MAQ, sell 2 (300) is not; after that the 100 left is
    # below the MAQ, which then caps at the leaves, so sell 1 finishes the order
    assert eng.submit([buy]) == [ev.accepted(buy), ev.trade(buy, 1, 3, 2, MID, 300, 100, 0, BUY),
                                 ev.trade(buy, 2, 3, 1, MID, 100, 0, 0, BUY)]


def test_min_qty_ioc_with_no_single_contra_big_enough_is_cancelled(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.peg(1, 1, SELL, 100), s.peg(1, 2, SELL, 100)])
    ioc = s.peg(1, 3, BUY, 200, min_qty=200, tif=ENG.TIF_IOC)  # MAQ is per execution, never summed
    assert eng.submit([ioc]) == [ev.accepted(ioc), ev.cancelled(ioc, 3, ENG.CXL_IOC_REMAINDER, 200)]


def test_a_trade_that_shrinks_a_sell_below_its_min_qty_lets_an_earlier_buy_take_the_rest(make_engine):
    eng, s = _dark(make_engine)
    # buy 1 (100) cannot meet sell 2's MAQ of 200, so both rest
    eng.submit([s.peg(1, 1, BUY, 100, account_id=1), s.peg(1, 2, SELL, 500, min_qty=200, account_id=2)])
    assert len(eng.orders(1, BUY)) == 1 and len(eng.orders(1, SELL)) == 1
    big = s.peg(1, 3, BUY, 450, account_id=3)
    # 450 meets the MAQ; the 50 left is below it, so the MAQ caps at 50 and buy 1 now qualifies
    assert eng.submit([big]) == [
        ev.accepted(big), ev.trade(big, 1, 3, 2, MID, 450, 0, 50, BUY, 3, 2),
        ev.trade(big, 2, 1, 2, MID, 50, 50, 0, ENG.SIDE_NONE, 1, 2)]


def test_time_priority_among_eligible_orders_not_limit_priority(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.peg(1, 1, SELL, 100, limit=BID), s.peg(1, 2, SELL, 100)])  # 1 is more aggressive, but so what
    eng.submit([s.peg(1, 3, SELL, 100, limit=BID - 5 * TICK)])
    buy = s.peg(1, 4, BUY, 250)
    out = eng.submit([buy])
    assert [(e.sell_order_id, e.qty) for e in out[1:]] == [(1, 100), (2, 100), (3, 50)]


def test_same_stp_group_never_trades_in_the_dark(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.peg(1, 1, SELL, 100, stp_group=7), s.peg(1, 2, SELL, 100, stp_group=8)])
    buy = s.peg(1, 3, BUY, 200, stp_group=7, tif=ENG.TIF_IOC)
    assert eng.submit([buy]) == [ev.accepted(buy), ev.trade(buy, 1, 3, 2, MID, 100, 100, 0, BUY),
                                 ev.cancelled(buy, 3, ENG.CXL_IOC_REMAINDER, 100)]
    assert [o["order_id"] for o in eng.orders(1, SELL)] == [1]


def test_pegs_wait_through_pre_open_and_cross_at_the_opening_without_an_auction(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit([s.add_dark_instrument(1, tick_size=TICK, reference_price=BID),
                s.set_phase(1, ENG.PHASE_PRE_OPEN), s.nbbo(1, BID, ASK)])
    sell, buy = s.peg(1, 1, SELL, 100), s.peg(1, 2, BUY, 60)
    assert eng.submit([sell, buy]) == [ev.accepted(sell), ev.accepted(buy)]
    ioc = s.peg(1, 3, BUY, 10, tif=ENG.TIF_IOC)
    assert eng.submit([ioc]) == [ev.rejected(ioc, ENG.REJ_PHASE)]
    opening = s.set_phase(1, ENG.PHASE_CONTINUOUS)
    assert eng.submit([opening]) == [
        ev.phase(opening, ENG.PHASE_CONTINUOUS, ENG.PHASE_PRE_OPEN),
        ev.trade(opening, 1, 2, 1, MID, 60, 0, 40, ENG.SIDE_NONE), ev.ack(opening)]


def test_cancel_expiry_mass_cancel_and_kill_switch_remove_dark_orders_without_book_events(make_engine):
    eng, s = _dark(make_engine)
    gtd = s.peg(1, 1, BUY, 100, tif=ENG.TIF_GTD, expire_ts_ns=s.ts_ns + 10_000, limit=BID - TICK)
    eng.submit([gtd, s.peg(1, 2, BUY, 100, limit=BID - TICK, account_id=1),
                s.peg(1, 3, BUY, 100, limit=BID - TICK, account_id=2, tif=ENG.TIF_DAY)])
    cancel = s.cancel(1, 2)
    assert eng.submit([cancel]) == [ev.cancelled(cancel, 2, ENG.CXL_USER, 100, account=1)]
    tick = s.time(20_000)
    assert eng.submit([tick]) == [ev.expired(tick, 1, ENG.EXP_GTD, 100), ev.ack(tick)]
    eod = s.end_of_day(1)
    assert eng.submit([eod]) == [ev.expired(eod, 3, ENG.EXP_DAY, 100, account=2), ev.ack(eod, 1)]
    eng.submit([s.peg(1, 4, SELL, 100, limit=ASK + TICK, account_id=3)])
    kill = s.set_kill_switch(3, 1, instrument_id=1)
    assert eng.submit([kill]) == [ev.cancelled(kill, 4, ENG.CXL_KILL_SWITCH, 100, account=3),
                                  ev.ack(kill, 1)]
    assert eng.orders(1, BUY) == [] and eng.orders(1, SELL) == []


def test_replace_keeps_the_place_only_for_the_same_limit_and_no_more_quantity(make_engine):
    eng, s = _dark(make_engine)
    limit = BID - TICK  # below the mid: these buys rest
    eng.submit([s.peg(1, 1, BUY, 300, limit=limit), s.peg(1, 2, BUY, 300, limit=limit)])
    down = s.replace(1, 1, limit, 200)
    assert eng.submit([down]) == [ev.replaced(down, 1, limit, 200, 0, 1)]
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [1, 2]
    up = s.replace(1, 1, limit, 250)
    assert eng.submit([up]) == [ev.replaced(up, 1, limit, 250, 0, 0)]
    assert [o["order_id"] for o in eng.orders(1, BUY)] == [2, 1]
    assert eng.position(0, 1)["open_buy_qty"] == 550
    bad = [(s.replace(1, 2, -TICK, 100), ENG.REJ_BAD_PRICE), (s.replace(1, 2, limit + 1, 100), ENG.REJ_OFF_TICK),
           (s.replace(1, 2, limit, 0), ENG.REJ_BAD_QTY)]
    for cmd, reason in bad:
        assert eng.submit([cmd]) == [ev.rejected(cmd, reason)]


def test_replace_that_lifts_the_limit_into_range_trades_at_the_mid(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.peg(1, 1, SELL, 100, account_id=2), s.peg(1, 2, BUY, 300, limit=BID - TICK, account_id=1)])
    lift = s.replace(1, 2, 0, 300)  # no limit any more: eligible, and it is the order that moved
    assert eng.submit([lift]) == [ev.replaced(lift, 2, 0, 300, 0, 0, account=1),
                                  ev.trade(lift, 1, 2, 1, MID, 100, 200, 0, BUY, 1, 2)]


def test_replace_down_below_a_contras_reach_of_its_maq_lets_it_trade(make_engine):
    eng, s = _dark(make_engine)
    # the sell's MAQ of 500 blocks the 100-lot buy; cutting the sell to 100 caps its MAQ at 100
    eng.submit([s.peg(1, 1, SELL, 1000, min_qty=500), s.peg(1, 2, BUY, 100)])
    cut = s.replace(1, 1, 0, 100)
    assert eng.submit([cut]) == [ev.replaced(cut, 1, 0, 100, 0, 1),
                                 ev.trade(cut, 1, 2, 1, MID, 100, 0, 0, SELL)]


def test_dark_refusals_each_have_their_reason(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.add_instrument(2), s.peg(1, 1, SELL, 100, limit=ASK + TICK)])
    cases = [
        (s.limit(1, 10, BUY, 100, BID), ENG.REJ_DARK_ORDER_TYPE),
        (s.market(1, 11, BUY, 100), ENG.REJ_DARK_ORDER_TYPE),
        (s.peg(2, 12, BUY, 100), ENG.REJ_DARK_ORDER_TYPE),  # a lit instrument
        (s.peg(1, 13, BUY, 100, tif=ENG.TIF_FOK), ENG.REJ_BAD_TIF),
        (s.peg(1, 14, BUY, 100, min_qty=101), ENG.REJ_BAD_MIN_QTY),
        (s.peg(1, 15, BUY, 100, min_qty=-1), ENG.REJ_BAD_MIN_QTY),
        (s.peg(1, 16, BUY, 100, limit=-TICK), ENG.REJ_BAD_PRICE),
        (s.peg(1, 17, BUY, 100, limit=BID + 1), ENG.REJ_OFF_TICK),
        (s.new_order(1, 18, BUY, 100, ord_type=ENG.ORD_MIDPOINT_PEG, tif=ENG.TIF_GTC, stp_group=1,
                     stp_mode=ENG.STP_CANCEL_BOTH), ENG.REJ_BAD_STP_MODE),
        (s.new_order(1, 19, BUY, 100, ord_type=ENG.ORD_MIDPOINT_PEG, tif=ENG.TIF_GTC,
                     flags=ENG.FLAG_POST_ONLY), ENG.REJ_BAD_FLAGS),
        (s.execute(1, 1, 50), ENG.REJ_DARK_UNSUPPORTED),
        (s.reduce(1, 1, 50), ENG.REJ_DARK_UNSUPPORTED),
        (s.seed_level(1, BUY, BID, 100), ENG.REJ_DARK_UNSUPPORTED),
    ]
    for cmd, reason in cases:
        assert eng.submit([cmd]) == [ev.rejected(cmd, reason)], cmd
    assert [o["leaves_qty"] for o in eng.orders(1, SELL)] == [100]


def test_nbbo_refusals_and_a_lit_instrument_only_stores_its_nbbo(make_engine):
    eng, s = _dark(make_engine)
    eng.submit([s.add_instrument(2, tick_size=1)])
    cases = [
        (s.nbbo(9, BID, ASK), ENG.REJ_UNKNOWN_INSTRUMENT),
        (s.nbbo(1, -TICK, ASK), ENG.REJ_BAD_NBBO),
        (s.nbbo(1, BID, ASK, ask_qty=-1), ENG.REJ_BAD_NBBO),
        (s.nbbo(1, BID, ASK + 1), ENG.REJ_BAD_NBBO),          # off tick
        (s.nbbo(1, BID, ASK, age_ns=-1), ENG.REJ_BAD_NBBO),   # from the future
        (s.nbbo(1, BID, ASK, age_ns=10**9), ENG.REJ_NBBO_OUT_OF_ORDER),  # older than the one held
    ]
    for cmd, reason in cases:
        assert eng.submit([cmd]) == [ev.rejected(cmd, reason)], cmd
    lit = s.nbbo(2, 9_999, 10_000, 5, 7)
    assert eng.submit([lit]) == [ev.ack(lit)]
    info = eng.instrument(2)
    assert (info["venue_mode"], info["has_nbbo"], info["nbbo_bid_price"], info["nbbo_ask_price"],
            info["nbbo_bid_qty"], info["nbbo_ask_qty"], info["nbbo_quote_ts_ns"]) == (
        ENG.MODE_LIT, 1, 9_999, 10_000, 5, 7, lit.ts_ns)


@pytest.mark.parametrize("fields", [
    {"venue_mode": ENG.MODE_DARK_MIDPOINT, "tick_size": 1, "nbbo_max_age_ns": 1},   # odd tick
    {"venue_mode": ENG.MODE_DARK_MIDPOINT, "tick_size": 2, "nbbo_max_age_ns": 0},   # no staleness limit
    {"venue_mode": 2, "tick_size": 2, "nbbo_max_age_ns": 1},                        # unknown mode
    {"venue_mode": ENG.MODE_LIT, "tick_size": 2, "nbbo_max_age_ns": -1},
])
def test_add_instrument_refuses_a_bad_dark_configuration(make_engine, fields):
    eng, s = make_engine(), CommandStream()
    cmd = s.raw("ADD_INSTRUMENT", 1, lot_size=1, reference_price=10_000, **fields)
    assert eng.submit([cmd]) == [ev.rejected(cmd, ENG.REJ_BAD_CONFIG)]
