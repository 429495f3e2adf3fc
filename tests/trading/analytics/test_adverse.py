"""Spreads and markouts against a per-trade loop, batch == streaming (also on LOBSTER), and the
adverse-selection share on a simulated market with a known informed fraction."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trading.analytics.adverse import SpreadStream, spreads
from trading.analytics.bars import as_events
from trading.analytics.errors import AnalyticsInputError
from trading.analytics.events import MarketEvents


def _market(seed: int, n: int, informed: float) -> MarketEvents:
    """A dealer market quoting value +- 0.02: each trade hits a random side; with probability
    `informed` it was informed and the value (and the quotes) move 0.02 its way right after it."""
    rng = np.random.default_rng(seed)
    t, bid, ask, price, size, sign = [], [], [], [], [], []
    v, clock = 100.0, 0.0
    for _ in range(n):
        clock += rng.exponential(1.0)
        d = int(rng.choice([-1, 1]))
        price += [v + 0.02 * d]; size += [100]; sign += [d]
        if rng.random() < informed:
            v += 0.02 * d                              # the information arrives: value moves
        # LOBSTER convention: the book on a trade's row is the book after the trade.
        t += [clock]; bid += [v - 0.02]; ask += [v + 0.02]
        clock += rng.exponential(1.0)
        t += [clock]; bid += [v - 0.02]; ask += [v + 0.02]; price += [math.nan]; size += [0]; sign += [0]
    return as_events(t, bid, np.full(len(t), 500.0), ask, np.full(len(t), 500.0), price, size, sign)


def slow(ev: MarketEvents, h: float) -> list[tuple[float, float]]:
    out = []
    for i in np.flatnonzero(ev.is_trade):
        if i == 0:
            continue
        m = (ev.bid[i - 1] + ev.ask[i - 1]) / 2
        target = ev.time[i] + h
        if target >= ev.time[-1]:
            mh = math.nan
        else:
            j = max(k for k in range(len(ev.time)) if ev.time[k] <= target)
            mh = (ev.bid[j] + ev.ask[j]) / 2
        d = ev.trade_sign[i]
        out.append((2 * d * (ev.trade_price[i] - m) / m, 2 * d * (ev.trade_price[i] - mh) / m))
    return out


def test_against_loop_and_streaming() -> None:
    ev = _market(1, 400, 0.3)
    res = spreads(ev, horizon=3.0, markout_horizons=(1.0, 5.0))
    want = slow(ev, 3.0)
    np.testing.assert_allclose(res.effective, [w[0] for w in want], rtol=1e-12)
    np.testing.assert_allclose(res.realised, [w[1] for w in want], rtol=1e-12, equal_nan=True)
    for chunk in (1, 50, 10000):
        st = SpreadStream(horizon=3.0, markout_horizons=(1.0, 5.0))
        for i in range(0, len(ev), chunk):
            st.update_many(ev.select(slice(i, i + chunk)))
        st.finish()
        got = st.result()
        assert got.trade_index.tolist() == res.trade_index.tolist()
        np.testing.assert_array_equal(got.realised, res.realised)
        np.testing.assert_array_equal(got.markouts, res.markouts)


@pytest.mark.parametrize("informed", [0.0, 0.25, 0.5])
def test_adverse_selection_share_matches_the_informed_fraction(informed: float) -> None:
    """Each informed trade moves the mid by the half spread in its direction: PI = 2 * half spread
    = ES, uninformed PI = 0, so the adverse-selection share is the informed fraction."""
    ev = _market(2, 6000, informed)
    s = spreads(ev, horizon=0.5 * 1e-6 + 1e-9, markout_horizons=(1e-6,)).summary()
    # the new quote follows the trade immediately in the data (same event), so any small h works
    assert abs(s["adverse_selection_share"] - informed) < 0.03


def test_batch_equals_streaming_on_lobster(goog: MarketEvents) -> None:
    res = spreads(goog)
    st = SpreadStream()
    for i in range(0, len(goog), 4096):
        st.update_many(goog.select(slice(i, i + 4096)))
    st.finish()
    got = st.result()
    assert got.trade_index.tolist() == res.trade_index.tolist()
    np.testing.assert_array_equal(got.effective, res.effective)
    np.testing.assert_array_equal(got.markouts, res.markouts)
    summ = res.summary()
    assert summ["effective"] > 0


def test_bad_input() -> None:
    ev = _market(3, 20, 0.0)
    with pytest.raises(AnalyticsInputError, match="horizon"):
        spreads(ev, horizon=0.0)
    with pytest.raises(AnalyticsInputError, match="not sorted"):
        spreads(ev.select(np.arange(len(ev))[::-1]))
    st = SpreadStream()
    st.update_many(ev.select(slice(10, 20)))
    with pytest.raises(AnalyticsInputError, match="before the previous"):
        st.update_many(ev.select(slice(0, 10)))
    none = spreads(ev.select(~ev.is_trade))
    assert len(none.effective) == 0 and math.isnan(none.summary()["impact"])
