"""Almgren & Chriss (2000) worked example: the closed form against an independent numerical
minimisation of E + lambda V over all trajectories, the straight line's cost and variance computed
by hand, kappa against a root-finder, and the efficient frontier (PNG)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq, minimize

from trading.execution.almgren_chriss import (efficient_frontier, expected_cost, kappa, optimal_holdings,
                                              paper_example, straight_line_holdings, variance)

X, SIGMA, EPS, ETA, GAMMA, T, N, LAM = 1_000_000.0, 0.95, 0.0625, 2.5e-6, 2.5e-7, 5.0, 5, 1e-6
TAU = T / N


def direct_objective(inner: np.ndarray, lam: float) -> float:
    """E + lambda V written out from the paper's definitions (eqs. for E and V with linear impact),
    independently of the module: x_0 = X, x_N = 0, n_k = x_{k-1} - x_k."""
    x = np.concatenate(([X], inner, [0.0]))
    n = x[:-1] - x[1:]
    e = 0.5 * GAMMA * X ** 2 + EPS * np.abs(n).sum() + (ETA - 0.5 * GAMMA * TAU) / TAU * (n ** 2).sum()
    v = SIGMA ** 2 * TAU * (x[1:] ** 2).sum()
    return float(e + lam * v)


def numerical_optimum(lam: float) -> np.ndarray:
    start = X * (1 - np.arange(1, N) / N)
    # scaled to millions of shares so the optimiser's steps are well conditioned
    # Nelder-Mead: derivative-free, so the |n_k| term's kink does not matter
    res = minimize(lambda y: direct_objective(y * 1e6, lam) / 1e6, start / 1e6, method="Nelder-Mead",
                   options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20_000, "maxfev": 40_000})
    assert res.success, res.message
    return np.concatenate(([X], res.x * 1e6, [0.0]))


@pytest.mark.parametrize("lam", [1e-6, 2e-6, 1e-7, 1e-8])
def test_closed_form_is_the_numerical_optimum(lam: float) -> None:
    m = paper_example().with_lambda(lam)
    closed = optimal_holdings(m)
    numeric = numerical_optimum(lam)
    assert np.allclose(closed, numeric, rtol=0, atol=50.0), (closed, numeric)   # 50 shares in 10^6
    assert direct_objective(closed[1:-1], lam) <= direct_objective(numeric[1:-1], lam) * (1 + 1e-9)


def test_paper_example_numbers() -> None:
    m = paper_example()
    k = kappa(m)
    # kappa from the paper's defining equation, by a root-finder
    kt2 = LAM * SIGMA ** 2 / (ETA - 0.5 * GAMMA * TAU)
    k_root = brentq(lambda kk: 2 / TAU ** 2 * (math.cosh(kk * TAU) - 1) - kt2, 1e-9, 10.0)
    assert k == pytest.approx(k_root, rel=1e-12)
    assert k == pytest.approx(0.607, abs=1e-3)          # the paper: kappa ~ 0.6 / day
    assert 1 / k == pytest.approx(1.647, abs=1e-3)      # half-life ~ 1.6-1.7 days
    x = optimal_holdings(m)
    assert x[0] == X and x[-1] == 0.0
    assert np.all(np.diff(x) < 0)                       # a sale: holdings fall every day
    # the straight line, by hand: E = 1/2 gamma X^2 + eps X + eta~/tau * N (X/N)^2, V = sigma^2 tau sum x_k^2
    line = straight_line_holdings(m)
    e_line = 0.5 * GAMMA * X ** 2 + EPS * X + (ETA - 0.5 * GAMMA * TAU) / TAU * N * (X / N) ** 2
    v_line = SIGMA ** 2 * TAU * sum((X * (1 - k_ / N)) ** 2 for k_ in range(1, N))
    assert e_line == pytest.approx(662_500.0)
    assert v_line == pytest.approx(1.083e12)
    assert expected_cost(m, line) == pytest.approx(e_line, rel=1e-12)
    assert variance(m, line) == pytest.approx(v_line, rel=1e-12)
    # the optimal strategy costs more in expectation and carries less variance than the line,
    # and is better for the objective E + lambda V
    e_opt, v_opt = expected_cost(m, x), variance(m, x)
    assert e_opt > e_line and v_opt < v_line
    assert e_opt + LAM * v_opt < e_line + LAM * v_line


def test_lambda_zero_is_the_straight_line() -> None:
    m = paper_example().with_lambda(0.0)
    assert np.allclose(optimal_holdings(m), straight_line_holdings(m))


def test_frontier_is_efficient_and_plotted(tmp_path: Path) -> None:
    from trading.execution.frontier import plot_frontier
    m = paper_example()
    pts = efficient_frontier(m, np.logspace(-8, -5, 25))
    e = np.array([p.expected_cost for p in pts])
    v = np.array([p.variance for p in pts])
    assert np.all(np.diff(e) > 0) and np.all(np.diff(v) < 0)    # more risk aversion: dearer, safer
    # no trajectory beats the frontier: random trajectories lie above it at their variance
    rng = np.random.default_rng(7)
    for _ in range(200):
        inner = np.sort(rng.uniform(0, X, N - 1))[::-1]
        x = np.concatenate(([X], inner, [0.0]))
        ev, vv = expected_cost(m, x), variance(m, x)
        if v.min() <= vv <= v.max():
            assert ev >= np.interp(vv, v[::-1], e[::-1]) * (1 - 1e-3)
    png = tmp_path / "frontier.png"
    plot_frontier(m, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_prints_the_example_and_writes_the_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trading.execution.cli import main
    assert main(["paper", "--png", str(tmp_path / "f.png")]) == 0
    out = capsys.readouterr().out
    assert "kappa = 0.607076" in out and "E = $662,500" in out
    assert (tmp_path / "f.png").is_file()
    with pytest.raises(SystemExit) as exit_:
        main(["paper", "--lambda", "x"])
    assert exit_.value.code == 2
