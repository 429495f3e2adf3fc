"""The Almgren-Chriss efficient frontier as a PNG, and the paper's example printed
(``python -m trading execution paper``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from trading.execution.almgren_chriss import (ACModel, efficient_frontier, expected_cost, kappa, optimal_holdings,
                                              straight_line_holdings, variance)


def plot_frontier(m: ACModel, path: str | Path, lambdas: np.ndarray | None = None) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lams = np.logspace(-8, -5, 60) if lambdas is None else lambdas
    pts = efficient_frontier(m, lams)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot([p.variance / 1e12 for p in pts], [p.expected_cost / 1e6 for p in pts], label="efficient frontier")
    x_opt, x_line = optimal_holdings(m), straight_line_holdings(m)
    ax.plot(variance(m, x_opt) / 1e12, expected_cost(m, x_opt) / 1e6, "o", label=f"optimal, lambda={m.lam:g}")
    ax.plot(variance(m, x_line) / 1e12, expected_cost(m, x_line) / 1e6, "s", label="straight line (TWAP)")
    ax.set_xlabel("variance V [$^2 x 10^12]")
    ax.set_ylabel("expected cost E [$M]")
    ax.set_title("Almgren-Chriss efficient frontier")
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def example_text(m: ACModel) -> str:
    k = kappa(m)
    x_opt, x_line = optimal_holdings(m), straight_line_holdings(m)
    lines = [f"Almgren & Chriss (2000) example: X={m.X:,.0f} S0={m.S0} sigma={m.sigma} eps={m.eps} eta={m.eta:g} "
             f"gamma={m.gamma:g} T={m.T:g} N={m.N} lambda={m.lam:g}",
             f"kappa = {k:.6f} per unit time (half-life 1/kappa = "
             f"{f'{1 / k:.4f}' if k > 0 else 'infinite: the straight line'})",
             f"{'k':>3} {'optimal x_k':>14} {'TWAP x_k':>14}"]
    lines += [f"{i:>3} {a:>14,.0f} {b:>14,.0f}" for i, (a, b) in enumerate(zip(x_opt, x_line))]
    for name, x in (("optimal", x_opt), ("straight line", x_line)):
        lines.append(f"{name:>14}: E = ${expected_cost(m, x):,.0f}   V = {variance(m, x):.4e} $^2   "
                     f"sqrt(V) = ${variance(m, x) ** 0.5:,.0f}   E + lambda V = ${expected_cost(m, x) + m.lam * variance(m, x):,.0f}")
    return "\n".join(lines)
