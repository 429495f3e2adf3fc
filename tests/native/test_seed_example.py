"""The seed example: an AAPL book (price unit 1/10000 USD, tick 100 = one cent) hit by a market
buy of 600, which fills 400 @ 150.01 and 200 @ 150.02."""
from __future__ import annotations

from fractions import Fraction

from native.messages import TradeEvent
from tests.native import events as ev
from tests.native.streams import CommandStream, opening
from tests.oracle import ENG

BUY, SELL = ENG.SIDE_BUY, ENG.SIDE_SELL
USD = 10_000  # price units per dollar

ASKS = {1_500_100: [200, 200], 1_500_200: [150, 150, 150, 150], 1_500_300: [250],
        1_500_400: [100, 100, 100, 100, 200, 200]}
BIDS = {1_499_900: [100, 200, 200], 1_499_800: [150] * 5, 1_499_700: [150, 150],
        1_499_600: [200]}


def _aapl_book(make_engine):
    eng, s = make_engine(), CommandStream()
    eng.submit(opening(s, tick_size=100, reference_price=1_500_000, market_collar_ticks=100))
    cmds, order_id = [], 0
    for side, book in ((SELL, ASKS), (BUY, BIDS)):
        for price, qtys in book.items():
            for qty in qtys:
                order_id += 1
                cmds.append(s.limit(1, order_id, side, qty, price, account_id=1))
    eng.submit(cmds)
    return eng, s


def test_seed_book_shows_the_stated_depth(make_engine):
    eng, _ = _aapl_book(make_engine)
    assert eng.depth(1, SELL) == [(1_500_100, 400, 2), (1_500_200, 600, 4), (1_500_300, 250, 1),
                                  (1_500_400, 800, 6)]
    assert eng.depth(1, BUY) == [(1_499_900, 500, 3), (1_499_800, 750, 5), (1_499_700, 300, 2),
                                 (1_499_600, 200, 1)]


def test_market_buy_600_fills_400_at_150_01_and_200_at_150_02(make_engine):
    eng, s = _aapl_book(make_engine)
    buy = s.market(1, 100, BUY, 600, account_id=2)
    events = eng.submit([buy])
    assert events == [
        ev.accepted(buy),
        ev.trade(buy, 1, 100, 1, 1_500_100, 200, 400, 0, BUY, buy_account=2, sell_account=1),
        ev.level(buy, SELL, 1_500_100, 200, 1),
        ev.trade(buy, 2, 100, 2, 1_500_100, 200, 200, 0, BUY, buy_account=2, sell_account=1),
        ev.level(buy, SELL, 1_500_100, 0, 0),
        ev.trade(buy, 3, 100, 3, 1_500_200, 150, 50, 0, BUY, buy_account=2, sell_account=1),
        ev.level(buy, SELL, 1_500_200, 450, 3),
        ev.trade(buy, 4, 100, 4, 1_500_200, 50, 0, 100, BUY, buy_account=2, sell_account=1),
        ev.level(buy, SELL, 1_500_200, 400, 3),
    ]
    fills = [(e.price, e.qty) for e in events if isinstance(e, TradeEvent)]
    by_price: dict[int, int] = {}
    for price, qty in fills:
        by_price[price] = by_price.get(price, 0) + qty
    assert by_price == {1_500_100: 400, 1_500_200: 200}
    # The mean of the two fill prices is 150.015; the volume-weighted average is 150.01333...
    assert Fraction(sum(by_price), len(by_price)) / USD == Fraction("150.015")
    vwap = Fraction(sum(p * q for p, q in fills), sum(q for _, q in fills)) / USD
    assert vwap == Fraction(9_000_800, 60_000)
    assert eng.depth(1, SELL)[0] == (1_500_200, 400, 3)
    assert eng.depth(1, BUY) == [(1_499_900, 500, 3), (1_499_800, 750, 5), (1_499_700, 300, 2),
                                 (1_499_600, 200, 1)]
    assert eng.position(2, 1)["position"] == 600
    assert eng.instrument(1)["last_trade_price"] == 1_500_200
