"""Kyle's lambda on a simulated Kyle (1985) economy, Amihud and Roll against direct formulas and a
simulated Roll model, batch == streaming (also on LOBSTER bars), bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.bars import time_bars
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.events import MarketEvents
from trading.analytics.liquidity import AmihudStream, KyleLambdaStream, RollStream, amihud, kyle_lambda, roll_spread


def test_kyle_model_known_lambda() -> None:
    """One-period Kyle equilibrium repeated: v ~ N(p0, S0), noise flow u ~ N(0, su^2), insider
    x = beta (v - p0) with beta = su / sqrt(S0), price p = p0 + lambda (x + u), lambda = sqrt(S0) / (2 su).
    Public news adds noise to the observed price change."""
    rng = np.random.default_rng(8)
    n, s0, su = 20000, 0.04, 5000.0
    lam = math.sqrt(s0) / (2 * su)
    beta = su / math.sqrt(s0)
    v = rng.normal(0, math.sqrt(s0), n)
    y = beta * v + rng.normal(0, su, n)
    dp = lam * y + rng.normal(0, 0.05, n)
    fit = kyle_lambda(dp, y)
    assert abs(fit.slope - lam) < 4 * fit.slope_se
    assert abs(fit.slope / lam - 1) < 0.02
    # The model's content: lambda y is the market maker's conditional expectation of v.
    assert abs(kyle_lambda(v, y).slope / lam - 1) < 0.02
    s = KyleLambdaStream()
    for a, b in zip(y[:500], dp[:500]):
        s.add(float(a), float(b))
    np.testing.assert_allclose(s.fit().slope, kyle_lambda(dp[:500], y[:500]).slope, rtol=1e-9)


def test_amihud_against_loop() -> None:
    rng = np.random.default_rng(1)
    r = rng.normal(0, 1e-3, 300)
    dv = np.where(rng.random(300) < 0.2, 0.0, rng.uniform(1e4, 1e6, 300))
    res = amihud(r, dv)
    terms = [abs(a) / b for a, b in zip(r, dv) if b > 0]
    assert math.isclose(res.illiq, sum(terms) / len(terms), rel_tol=1e-12)
    assert res.bars_used == len(terms) and res.bars_skipped == 300 - len(terms)
    st = AmihudStream()
    for i in range(0, 300, 7):
        st.update_many(r[i:i + 7], dv[i:i + 7])
    assert math.isclose(st.result().illiq, res.illiq, rel_tol=1e-12)
    assert math.isnan(amihud([0.1, 0.2], [0.0, 0.0]).illiq)      # no volume at all: NaN


def slow_roll(p: list[float]) -> float:
    d = [b - a for a, b in zip(p, p[1:])]
    a, b = d[1:], d[:-1]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (len(a) - 1)


def test_roll_against_formula_and_model() -> None:
    rng = np.random.default_rng(2)
    n, spread = 50000, 0.04
    m = 50 + np.cumsum(rng.normal(0, 0.01, n))
    p = m + spread / 2 * rng.choice([-1, 1], n)
    res = roll_spread(p[:400])
    assert math.isclose(res.autocovariance, slow_roll(p[:400].tolist()), rel_tol=1e-10)
    assert abs(roll_spread(p).spread / spread - 1) < 0.05
    st = RollStream()
    for i in range(0, 400, 9):
        st.update_many(p[i:min(i + 9, 400)])
    assert math.isclose(st.result().spread, res.spread, rel_tol=1e-9)
    assert st.result().pairs == res.pairs == 398
    trend = np.linspace(1, 2, 100) ** 2              # positive autocovariance: model does not hold
    out = roll_spread(trend)
    assert math.isnan(out.spread) and out.autocovariance > 0
    assert math.isnan(roll_spread([1.0, 2.0]).spread)


def test_on_lobster_bars(goog: MarketEvents) -> None:
    bars = time_bars(goog, 10.0)
    fit = kyle_lambda(bars.mid_change, bars.signed_volume)
    assert fit.slope > 0 and fit.n == len(bars)
    tr = goog.trades()
    roll = roll_spread(tr.trade_price)
    st = RollStream()
    for i in range(0, len(tr), 1000):
        st.update_many(tr.trade_price[i:i + 1000])
    assert math.isclose(st.result().autocovariance, roll.autocovariance, rel_tol=1e-9)
    am = amihud(bars.log_return, bars.dollar_volume)
    assert am.bars_used + am.bars_skipped == len(bars) and am.illiq > 0


def test_bad_input() -> None:
    with pytest.raises(AnalyticsInputError, match="NaN"):
        amihud([0.1, float("nan")], [1.0, 1.0])
    with pytest.raises(AnalyticsInputError, match="negative"):
        amihud([0.1], [-1.0])
    with pytest.raises(AnalyticsInputError, match="empty"):
        kyle_lambda([], [])
    assert math.isnan(kyle_lambda([1.0, 2.0], [3.0, 3.0]).slope)     # no variation: undefined
