"""Risk analytics: VaR (counted by hand), drawdown, concentration, engine-time sampling, alerts."""
from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.control.pnl import PnlBook
from gateway.control.risk import (AccountLimits, Alert, RiskMonitor, compute_metrics, concentration,
                                  max_drawdown, pnl_changes, var_historical, var_parametric)
from native import messages, records

# ---- historical VaR -------------------------------------------------------------------------------

TEN = [4, -10, 8, -2, 0, -8, 6, 2, -6, -4]    # sorted: -10 -8 -6 -4 -2 0 2 4 6 8


def test_historical_var_counts_the_kth_worst_change() -> None:
    # n = 10: 90 % -> k = ceil(10 x 0.1) = 1 -> worst -10; 80 % -> k = 2 -> -8; 70 % -> k = 3 -> -6
    assert var_historical(TEN, 0.90) == 10
    assert var_historical(TEN, 0.80) == 8
    assert var_historical(TEN, 0.70) == 6
    # 95 % and 99 %: k = ceil(0.5) = ceil(0.1) = 1 -> still the worst
    assert var_historical(TEN, 0.95) == var_historical(TEN, 0.99) == 10
    # 50 %: k = 5 -> -2
    assert var_historical(TEN, 0.5) == 2


def test_historical_var_reads_the_confidence_as_written() -> None:
    # changes -49 .. 50 (100 of them): 95 % -> k = 100 x 0.05 = 5 exactly (as a float 100 x (1 - 0.95)
    # is 5.000000000000004, whose ceiling would wrongly be 6) -> 5th worst = -45
    changes = [i - 50 for i in range(1, 101)]
    assert var_historical(changes, 0.95) == 45
    assert var_historical(changes, 0.99) == 49          # k = 1
    assert var_historical(changes, 0.9) == 40           # k = 10 -> -40


def test_historical_var_window_and_no_loss() -> None:
    # the last three changes are 2, -6, -4; k = ceil(3 x 0.1) = 1 -> -6
    assert var_historical(TEN, 0.9, window=3) == 6


def test_historical_var_of_gains_only_is_zero() -> None:
    assert var_historical([1, 2, 3], 0.99) == 0.0


# ---- parametric VaR -------------------------------------------------------------------------------

SIX = [1, -2, 3, -4, 5, -6]


def test_parametric_var_against_mean_and_stdev_computed_by_hand() -> None:
    # mean = (1 - 2 + 3 - 4 + 5 - 6) / 6 = -3/6 = -0.5
    # deviations 1.5 -1.5 3.5 -3.5 5.5 -5.5; squares 2.25 2.25 12.25 12.25 30.25 30.25 = 89.5
    # sample variance 89.5 / 5 = 17.9; stdev = sqrt(17.9) = 4.230839...
    mean, sd = -0.5, math.sqrt(17.9)
    assert statistics.mean(SIX) == mean and statistics.stdev(SIX) == pytest.approx(sd)
    # z(95 %) = 1.6448536269514722, z(99 %) = 2.3263478740408408 (standard normal tables)
    assert var_parametric(SIX, 0.95) == pytest.approx(1.6448536269514722 * sd + 0.5, rel=1e-12)
    assert var_parametric(SIX, 0.99) == pytest.approx(2.3263478740408408 * sd + 0.5, rel=1e-12)
    # ~ 7.4592 and 10.3424
    assert var_parametric(SIX, 0.95) == pytest.approx(7.4592, abs=1e-4)


def test_parametric_var_of_a_steady_gain_is_zero() -> None:
    # stdev 0, mean +3 -> z x 0 - 3 < 0 -> floored at 0
    assert var_parametric([3, 3, 3], 0.99) == 0.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-10_000, 10_000), min_size=2, max_size=50), st.integers(1, 100))
def test_var_scales_with_positions_and_grows_with_confidence(changes, k) -> None:
    assert var_historical([k * x for x in changes], 0.9) == k * var_historical(changes, 0.9)
    assert var_historical(changes, 0.8) <= var_historical(changes, 0.9) <= var_historical(changes, 0.99)
    assert var_parametric([k * x for x in changes], 0.95) == pytest.approx(k * var_parametric(changes, 0.95),
                                                                        rel=1e-9, abs=1e-6)
    assert var_parametric(changes, 0.9) <= var_parametric(changes, 0.99) + 1e-9


@pytest.mark.parametrize("fn", [var_historical, var_parametric])
@pytest.mark.parametrize("series,conf,message", [
    ([1, float("nan"), 2], 0.95, r"pnl_changes\[1\] is nan"),
    ([1, float("inf")], 0.95, r"pnl_changes\[1\] is inf"),
    ([1, "2"], 0.95, r"pnl_changes\[1\] is not a number"),
    ([], 0.95, "needs at least"),
    ([1, 2], 1.0, "strictly between 0 and 1"),
    ([1, 2], 0, "strictly between 0 and 1"),
    ([1, 2], float("nan"), "confidence must be"),
    ([1, 2], "95%", "confidence must be"),
])
def test_var_bad_input(fn, series, conf, message) -> None:
    with pytest.raises(ValueError, match=message):
        fn(series, conf)


def test_parametric_needs_two_values_and_window_is_checked() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        var_parametric([5], 0.95)
    with pytest.raises(ValueError, match="window must be"):
        var_historical([1, 2, 3], 0.95, window=0)


# ---- drawdown, concentration, sampling -------------------------------------------------------------


def test_max_drawdown_by_hand() -> None:
    # peaks 10 then 12: falls 10 -> 4 (6) and 12 -> 3 (9): max 9
    assert max_drawdown([0, 10, 4, 12, 3, 8]) == 9
    assert max_drawdown([(1, 0), (2, 5), (3, -5)]) == 10       # (ts, equity) pairs
    assert max_drawdown([1, 2, 3]) == 0 and max_drawdown([]) == 0
    assert max_drawdown([Fraction(1, 3), Fraction(-1, 3)]) == Fraction(2, 3)   # exact in, exact out
    with pytest.raises(ValueError, match=r"equity_curve\[1\] is not a finite number"):
        max_drawdown([1, float("nan")])


def test_concentration_is_the_largest_gross_share() -> None:
    assert concentration({"A": 300, "B": -100}) == 0.75         # 300 / (300 + 100)
    assert concentration([("A", 50), ("B", 50)]) == 0.5
    assert concentration({}) == 0.0 and concentration({"A": 0}) == 0.0
    with pytest.raises(ValueError, match="exposure of instrument 'A' is not a finite number"):
        concentration({"A": float("nan")})


def test_pnl_changes_bucket_equity_on_engine_time() -> None:
    # buckets of 10 ns: [0,10) ends at 10, [10,20) at 4, [20,30) empty -> 4, [30,40) at 7
    # changes from the first value 0: 10, -6, 0, 3
    assert pnl_changes([(0, 0), (5, 10), (12, 4), (35, 7)], 10) == [10, -6, 0, 3]
    assert pnl_changes([], 10) == []
    # a curve whose older points were dropped starts from its oldest kept value, not from 0
    assert pnl_changes([(3, 50), (5, 60), (14, 55)], 10) == [10, -5]
    # only the last max_buckets: buckets 0..3 close at 10, 4, 4, 7 -> the last two changes 0, 3
    assert pnl_changes([(0, 0), (5, 10), (12, 4), (35, 7)], 10, max_buckets=2) == [0, 3]
    assert pnl_changes([(0, 0), (10**15, 5)], 1, max_buckets=3) == [0, 0, 5]   # no 10**15 loop
    with pytest.raises(ValueError, match="no engine ts_ns"):
        pnl_changes([(None, 1)], 10)
    with pytest.raises(ValueError, match="interval_ns must be a positive integer"):
        pnl_changes([(0, 1)], 0)


# ---- limits and alerts -----------------------------------------------------------------------------


def test_alerts_are_edge_triggered_and_rearm() -> None:
    m = RiskMonitor({7: AccountLimits(var=100)}, warn_fraction=0.8)
    seen = [m.evaluate(7, {"var": v}) for v in (50, 80, 90, 100, 101, 150, 90, 101, 10, 85)]
    assert seen == [
        [],                                                   # 50 < 80
        [Alert("warn", 7, "var", 80, 100)],                   # 80 >= 0.8 x 100: warn
        [],                                                   # still warn: not repeated
        [],                                                   # at the limit is not beyond it
        [Alert("breach", 7, "var", 101, 100)],                # beyond: breach
        [],                                                   # still breach
        [],                                                   # back to warn: silent, re-armed
        [Alert("breach", 7, "var", 101, 100)],                # breached again
        [],                                                   # ok again
        [Alert("warn", 7, "var", 85, 100)],                   # approached again
    ]
    assert m.open_alerts() == [Alert("warn", 7, "var", 85, 100)]


def test_breach_kills_only_with_auto_kill() -> None:
    m = RiskMonitor({1: AccountLimits(loss=1000, auto_kill=True), 2: AccountLimits(loss=1000)})
    assert m.evaluate(1, {"loss": 900}) == [Alert("warn", 1, "loss", 900, 1000, kill=False)]
    assert m.evaluate(1, {"loss": 1200}) == [Alert("breach", 1, "loss", 1200, 1000, kill=True)]
    assert m.evaluate(2, {"loss": 1200}) == [Alert("breach", 2, "loss", 1200, 1000, kill=False)]


def test_each_metric_has_its_own_state_and_unset_limits_are_not_checked() -> None:
    m = RiskMonitor(default=AccountLimits(position=10, concentration=0.5, drawdown=200))
    out = m.evaluate("x", {"position": 11, "concentration": 0.45, "drawdown": 10, "var": 1e9})
    assert out == [Alert("breach", "x", "position", 11, 10), Alert("warn", "x", "concentration", 0.45, 0.5)]
    assert m.evaluate("x", {"position": 11, "concentration": 0.6, "drawdown": None}) == [
        Alert("breach", "x", "concentration", 0.6, 0.5)]
    assert RiskMonitor().evaluate("nobody", {"var": 5}) == []     # no limits at all
    zero = RiskMonitor(default=AccountLimits(position=0))
    assert zero.evaluate(1, {"position": 0}) == []                # at a zero limit: neither warn nor breach
    assert zero.evaluate(1, {"position": 1}) == [Alert("breach", 1, "position", 1, 0)]


def test_per_account_warn_fraction_and_set_limit_with_config_names() -> None:
    m = RiskMonitor({1: AccountLimits(var=100, warn_fraction=0.5)})
    assert m.evaluate(1, {"var": 50}) == [Alert("warn", 1, "var", 50, 100)]
    assert m.set_limit(1, "var_limit", 0).var is None            # config spelling: 0 = no limit
    assert m.evaluate(1, {"var": 10_000}) == []
    assert m.set_limit(1, "drawdown", 40).drawdown == 40
    assert m.set_limit(1, "auto_kill", True).auto_kill is True
    assert m.evaluate(1, {"drawdown": 41}) == [Alert("breach", 1, "drawdown", 41, 40, kill=True)]
    with pytest.raises(ValueError, match="unknown limit 'vaar'"):
        m.set_limit(1, "vaar", 3)
    with pytest.raises(ValueError, match="limit var must be a finite number >= 0"):
        m.set_limit(1, "var", -1)


def test_limits_from_the_venue_config_account() -> None:
    from gateway.control.config import Account

    lim = AccountLimits.from_config(Account(id=3, var_limit=500.0, concentration_limit=0.6, auto_kill=True,
                                            warn_fraction=0.9))
    assert (lim.var, lim.concentration, lim.drawdown, lim.position, lim.auto_kill, lim.warn_fraction) == (
        500.0, 0.6, None, None, True, 0.9)
    assert AccountLimits.from_config(Account(id=3, max_position=40)).position == 40


@pytest.mark.parametrize("kwargs,message", [
    ({"var": float("nan")}, "limit var must be a finite number"),
    ({"loss": -1}, "limit loss must be a finite number >= 0"),
    ({"concentration": 1.5}, "concentration is a fraction"),
    ({"auto_kill": "yes"}, "auto_kill must be true or false"),
    ({"warn_fraction": 0}, r"warn_fraction must be in \(0, 1\]"),
])
def test_bad_limits(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        AccountLimits(**kwargs)


def test_bad_metrics() -> None:
    m = RiskMonitor(default=AccountLimits(var=1))
    with pytest.raises(ValueError, match="unknown metric 'vol'"):
        m.evaluate(1, {"vol": 3})
    with pytest.raises(ValueError, match="metric var must be a finite number or None"):
        m.evaluate(1, {"var": float("nan")})
    with pytest.raises(ValueError, match="warn_fraction must be in"):
        RiskMonitor(warn_fraction=1.5)


def test_metrics_of_a_pnl_book_by_hand() -> None:
    b = PnlBook()
    s = 1_000_000_000                               # 1 s of engine time
    b.on_fill(1, "A", "buy", 10, 100, ts_ns=0 * s)  # equity 0
    b.on_fill(2, "B", "sell", 1, 50, ts_ns=0 * s)   # another account trading B (mark 50)
    b.mark("A", 110, ts_ns=1 * s)                   # +100
    b.mark("A", 95, ts_ns=2 * s)                    # -50
    b.on_fill(1, "B", "sell", 2, 50, ts_ns=3 * s)   # short 2 B @ 50, equity still -50
    b.mark("B", 60, ts_ns=4 * s)                    # B short loses 2 x 10 = 20 -> -70
    # curve 0, 100, -50, -70 at 0, 1, 2, 4 s; per second: 0, 100, -50, -50, -70 -> changes
    # 0, 100, -150, 0, -20
    m = compute_metrics(b, 1, interval_ns=s, confidence=0.8)
    assert pnl_changes(b.equity_curve(1), s) == [0, 100, -150, 0, -20]
    # historical 80 %: n = 5, k = 1 -> 150
    assert m["var"] == m["var_historical"] == 150
    assert m["var_parametric"] == pytest.approx(
        statistics.NormalDist().inv_cdf(0.8) * statistics.stdev([0, 100, -150, 0, -20]) - (-70 / 5))
    assert m["drawdown"] == 170                     # peak 100 -> -70
    assert m["loss"] == 70 and m["equity"] == -70
    # exposures: A 10 x 95 = 950, B -2 x 60 = -120; gross 1070; largest share 950 / 1070
    assert m["notional"] == m["gross_exposure"] == 1070
    assert m["concentration"] == pytest.approx(950 / 1070)
    assert m["position"] == 10
    alerts = RiskMonitor({1: AccountLimits(drawdown=150, auto_kill=True)}).evaluate(1, m)
    assert alerts == [Alert("breach", 1, "drawdown", 170, 150, kill=True)]


def _alerts_of_a_replay(events) -> list[Alert]:
    book, out = PnlBook(), []
    monitor = RiskMonitor(default=AccountLimits(position=40, loss=2_000, var=500, drawdown=3_000,
                                                concentration=0.9, auto_kill=True))
    for ev in events:
        if book.apply_event(ev) and isinstance(ev, messages.TradeEvent):
            for acc in (ev.buy_account_id, ev.sell_account_id):
                out += monitor.evaluate(acc, compute_metrics(book, acc, interval_ns=50_000, confidence=0.95))
    return out


def test_same_engine_events_give_the_same_alerts() -> None:
    from native.engine import Engine
    from tests.native.streams import N_ACCOUNTS, seeded_stream

    with Engine(max_orders=2000, max_levels=2000, max_instruments=3, max_accounts=N_ACCOUNTS) as eng:
        events = list(eng.submit(seeded_stream(seed=21, n_commands=1200)))
    first = _alerts_of_a_replay(events)
    assert first == _alerts_of_a_replay(events)
    assert {a.level for a in first} == {"warn", "breach"} and any(a.kill for a in first)
