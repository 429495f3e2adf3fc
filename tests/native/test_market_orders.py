"""MARKET orders: sweep from the best opposite price up to the market collar, never rest."""
from __future__ import annotations

import pytest

from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL


def _continuous(make_engine, collar_ticks: int = 2):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s, market_collar_ticks=collar_ticks))
    return eng, s


def test_market_order_against_an_empty_side_is_cancelled_for_no_liquidity(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 5, 9_999)])
    buy = s.market(1, 2, BUY, 7)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.cancelled(buy, 2, ENG.CXL_NO_LIQUIDITY, 7)]
    assert eng.depth(1, BUY) == [(9_999, 5, 1)]


def test_market_order_stops_at_the_collar_and_cancels_the_rest(make_engine):
    eng, s = _continuous(make_engine, collar_ticks=2)
    eng.submit([s.limit(1, 1, SELL, 5, 10_000), s.limit(1, 2, SELL, 5, 10_002),
                s.limit(1, 3, SELL, 5, 10_003)])
    buy = s.market(1, 4, BUY, 20)
    assert eng.submit([buy]) == [
        ev.accepted(buy),
        ev.trade(buy, 1, 4, 1, 10_000, 5, 15, 0, BUY),
        ev.level(buy, SELL, 10_000, 0, 0),
        ev.trade(buy, 2, 4, 2, 10_002, 5, 10, 0, BUY),
        ev.level(buy, SELL, 10_002, 0, 0),
        ev.cancelled(buy, 4, ENG.CXL_MARKET_COLLAR, 10),
    ]
    assert eng.depth(1, SELL) == [(10_003, 5, 1)]


def test_market_sell_that_empties_the_bids_cancels_the_rest_for_no_liquidity(make_engine):
    eng, s = _continuous(make_engine)
    eng.submit([s.limit(1, 1, BUY, 3, 10_000), s.limit(1, 2, BUY, 2, 9_999)])
    sell = s.market(1, 3, SELL, 9, account_id=1)
    assert eng.submit([sell]) == [
        ev.accepted(sell),
        ev.trade(sell, 1, 1, 3, 10_000, 3, 0, 6, SELL, sell_account=1),
        ev.level(sell, BUY, 10_000, 0, 0),
        ev.trade(sell, 2, 2, 3, 9_999, 2, 0, 4, SELL, sell_account=1),
        ev.level(sell, BUY, 9_999, 0, 0),
        ev.cancelled(sell, 3, ENG.CXL_NO_LIQUIDITY, 4, account=1),
    ]
    assert eng.position(1, 1)["position"] == -5
    assert eng.position(1, 1)["open_sell_qty"] == 0


def test_market_fok_that_cannot_fill_within_the_collar_trades_nothing(make_engine):
    eng, s = _continuous(make_engine, collar_ticks=1)
    eng.submit([s.limit(1, 1, SELL, 5, 10_000), s.limit(1, 2, SELL, 5, 10_002)])
    buy = s.market(1, 3, BUY, 8, tif=ENG.TIF_FOK)
    assert eng.submit([buy]) == [ev.accepted(buy),
                                 ev.cancelled(buy, 3, ENG.CXL_FOK_NOT_FILLABLE, 8)]
    assert eng.depth(1, SELL) == [(10_000, 5, 1), (10_002, 5, 1)]


@pytest.mark.parametrize("tif", [ENG.TIF_DAY, ENG.TIF_GTC, ENG.TIF_GTD])
def test_market_order_with_a_resting_tif_is_rejected(make_engine, tif):
    eng, s = _continuous(make_engine)
    buy = s.market(1, 1, BUY, 5, tif=tif)
    assert eng.submit([buy]) == [ev.rejected(buy, ENG.REJ_BAD_TIF)]


def test_market_order_in_pre_open_is_rejected_for_phase(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s)[:2])
    buy = s.market(1, 1, BUY, 5)
    assert eng.submit([buy]) == [ev.rejected(buy, ENG.REJ_PHASE)]
