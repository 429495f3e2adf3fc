"""TCA's expected cost per parent from the impact model (issue 22), on the small day of conftest.py:
the closed form of trading/tca/expected.py against an independent computation (the Almgren-Chriss
expected cost of the straight-line trajectory, trading/execution/almgren_chriss.py, with eta
calibrated on the square-root law), beside the realised shortfall the TCA measures for the same
parent; the model fitted on the tape itself against impact.estimate on buckets built here."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.trading.tca.conftest import REFERENCE, S, T0
from trading.execution.almgren_chriss import ACModel, expected_cost, straight_line_holdings
from trading.execution.impact import ImpactModel, estimate
from trading.tca.analysis import analyze, keyed
from trading.tca.errors import TcaInputError
from trading.tca.expected import expected_costs, fit_from_tape
from trading.tca.tape import load_tape

MODEL = ImpactModel(Y=0.8, Y_stderr=0.1, Y_r2=0.3, kyle=2e-4, kyle_stderr=1e-5, sigma_day=1.9, daily_volume=20_000.0,
                    half_spread=0.011, day_s=23_400.0, buckets=40)


def test_expected_cost_of_a_parent_is_the_almgren_chriss_straight_line(small_day: str) -> None:
    an = analyze(load_tape(small_day), REFERENCE)
    report = expected_costs(an, {1: MODEL})
    p7 = next(e for e in report.parents if e.parent_id == 7)
    # parent 7: 2 children, 50 executed + the last child's 10 unfilled = 60 shares, arrival mid 100.01
    assert (p7.qty, p7.children, p7.arrival_mid) == (60, 2, pytest.approx(100.01))
    horizon = 10.0      # any T: eta is calibrated on it, so the expected cost does not depend on it
    for n in (p7.children,):
        impact = MODEL.Y * MODEL.sigma_day * math.sqrt(60 / MODEL.daily_volume)
        ac = ACModel(X=60, T=horizon, N=n, sigma=0.0, eta=impact * horizon / 60, gamma=MODEL.kyle,
                     eps=MODEL.half_spread)
        independent_bps = expected_cost(ac, straight_line_holdings(ac)) / 60 / 100.01 * 1e4
        assert p7.expected_bps == pytest.approx(independent_bps, rel=1e-9)
    assert p7.expected_spread_bps == pytest.approx(0.011 / 100.01 * 1e4)
    # realised, as the TCA measures it: 0.50 half-spread on 50 shares; shortfall 0.75 on 60 x 100.01
    assert p7.realised_half_spread_bps == pytest.approx(0.5 / (50 * 100.01) * 1e4)
    assert p7.realised_shortfall_bps == pytest.approx(keyed(an.summary("parent"))["TEST:3:P7"].shortfall_bps)
    assert p7.realised_shortfall_bps == pytest.approx(0.75 / (60 * 100.01) * 1e4)
    # every parent of the day has a row; the table reports the model's parameters
    assert len(report.parents) + len(report.skipped) == len(an.parent_table)
    text = "\n".join(report.lines())
    assert "Y 0.800" in text and "sigma_day 1.9000" in text and "half spread 0.0110" in text
    assert "3/P7" in text


def test_parents_without_a_model_are_listed_not_dropped(small_day: str) -> None:
    an = analyze(load_tape(small_day), REFERENCE)
    report = expected_costs(an, {})
    assert report.parents == () and len(report.skipped) == len(an.parent_table)
    assert all("no impact model for instrument 1" in why for why in report.skipped.values())


def test_model_fitted_on_the_tape_is_the_estimator_on_its_buckets(small_day: str) -> None:
    tape = load_tape(small_day)
    model = fit_from_tape(tape, 1, 10_000, bucket_s=10.0)
    # 10-second buckets from the first two-sided quote (1 s): takers buy 150 (2 s), sell 60 (20 s),
    # buy 30 (30 s), buy 20 (40 s, after which the ask side is empty). Mid change from the first to
    # the last two-sided quote of each bucket: [1 s, 11 s) 100.00 -> 100.01; [11 s, 21 s) (20 s),
    # [21 s, 31 s) (30 s) and [31 s, 41 s) (35 s; 40 s is one-sided) one quote each, no change.
    q = tape.quotes[1].rows
    both = (q["bid"] > 0) & (q["ask"] > 0)
    half = float(np.mean(q["ask"][both] - q["bid"][both])) / 10_000 / 2
    span = (int(q["ts"][both][-1]) - (T0 + 1 * S)) / 1e9
    want = estimate(np.array([150.0, -60.0, 30.0, 20.0]), np.array([0.01, 0.0, 0.0, 0.0]), 260 * 23_400 / span,
                    23_400.0, 10.0, half)
    for name in ("Y", "Y_stderr", "Y_r2", "kyle", "kyle_stderr", "sigma_day", "daily_volume", "half_spread", "buckets"):
        assert getattr(model, name) == pytest.approx(getattr(want, name), rel=1e-12), name
    with pytest.raises(TcaInputError, match="at least 3"):
        fit_from_tape(tape, 1, 10_000, bucket_s=30.0)
    with pytest.raises(TcaInputError, match="no quotes of instrument 9"):
        fit_from_tape(tape, 9, 10_000)


def test_expected_cost_on_the_command_line(small_day: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m trading execution expected-cost``: the model fitted on the journal's tape, its
    parameters printed, a row per parent; a journal that is not there is one line and exit 2."""
    from trading.execution.cli import main
    assert main(["expected-cost", "--journal", small_day, "--bucket-s", "10"]) == 0
    out = capsys.readouterr().out
    assert "model of instrument 1: Y " in out and "4 buckets" in out and "3/P7" in out
    assert main(["expected-cost", "--journal", small_day + "-missing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("execution expected-cost:")
