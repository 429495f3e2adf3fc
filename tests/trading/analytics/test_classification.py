"""Trade classification against direct rules written out per trade."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.classification import (LeeReady, TickRule, bulk_volume_classification, lee_ready,
                                              tick_rule)
from trading.analytics.errors import AnalyticsInputError


def slow_tick(prices: list[float]) -> list[int]:
    out = []
    for i, p in enumerate(prices):
        sign = 0
        for j in range(i - 1, -1, -1):      # look back for the last different price
            if prices[j] != p:
                sign = 1 if p > prices[j] else -1
                break
        out.append(sign)
    return out


def test_tick_rule_and_lee_ready_against_direct_rules() -> None:
    rng = np.random.default_rng(5)
    prices = 100 + rng.integers(-3, 4, 400) * 0.01
    assert tick_rule(prices).tolist() == slow_tick(prices.tolist())
    mids = prices + rng.choice([-0.005, 0.0, 0.005], 400)
    bids, asks = mids - 0.005, mids + 0.005
    want = []
    ticks = slow_tick(prices.tolist())
    for p, b, a, t in zip(prices, bids, asks, ticks):
        m = (b + a) / 2
        want.append(1 if p > m else (-1 if p < m else t))
    assert lee_ready(prices, bids, asks).tolist() == want
    tr, lr = TickRule(), LeeReady()
    assert [tr.update(float(p)) for p in prices] == ticks
    assert [lr.update(float(p), float(b), float(a)) for p, b, a in zip(prices, bids, asks)] == want
    for chunk in (1, 7, 400):
        tr2, lr2 = TickRule(), LeeReady()
        got_t = np.concatenate([tr2.update_many(prices[i:i + chunk]) for i in range(0, 400, chunk)])
        got_l = np.concatenate([lr2.update_many(prices[i:i + chunk], bids[i:i + chunk], asks[i:i + chunk])
                                for i in range(0, 400, chunk)])
        assert got_t.tolist() == ticks and got_l.tolist() == want


def test_bulk_volume_classification_formula() -> None:
    dp = np.array([0.02, -0.01, 0.0])
    got = bulk_volume_classification(dp, [100, 200, 50], 0.02)
    want = [v * 0.5 * (1 + math.erf(x / 0.02 / math.sqrt(2))) for x, v in zip(dp, [100, 200, 50])]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # sigma 0: the limit of Phi.
    assert bulk_volume_classification([1.0, -1.0, 0.0], [10, 10, 10], 0.0).tolist() == [10, 0, 5]


def test_classification_on_lobster_matches_known_aggressor(goog) -> None:  # type: ignore[no-untyped-def]
    """LOBSTER tells the aggressor of visible executions; Lee-Ready with the quote before each trade
    should agree with most of them (the published accuracy of Lee-Ready is 85-93%)."""
    ev = goog
    idx = np.flatnonzero(ev.is_trade[1:]) + 1
    prior_bid, prior_ask = ev.bid[idx - 1], ev.ask[idx - 1]
    signs = lee_ready(ev.trade_price[idx], prior_bid, prior_ask)
    agree = np.mean(signs == ev.trade_sign[idx])
    assert agree > 0.85


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="NaN"):
        tick_rule([1.0, float("nan")])
    with pytest.raises(AnalyticsInputError, match="different lengths"):
        lee_ready([1.0, 2.0], [0.9], [1.1, 2.1])
    with pytest.raises(AnalyticsInputError, match="negative"):
        bulk_volume_classification([0.1], [-5], 1.0)
    assert tick_rule([]).tolist() == []
