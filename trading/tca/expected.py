"""Expected cost of every parent order from the market-impact model (issue 22), beside its realised
implementation shortfall (analysis.py's parent table).

Model: trading/execution/impact.py's ``ImpactModel``, the square-root law I(Q) = Y sigma_d sqrt(Q / V_d)
(Almgren, Thum, Hauptmann and Li, "Direct estimation of equity market impact", Risk 2005) calibrated
into the Almgren-Chriss linear parameters (Almgren and Chriss, "Optimal execution of portfolio
transactions", J. Risk 3(2), 2000): eps = half the quoted spread, gamma = Kyle's slope, and eta such
that trading Q evenly over the horizon T costs I(Q) a share (eta = I(Q) T / Q). A parent of X shares
worked in N children (the straight-line trajectory, n_k = X / N, tau = T / N) is then expected to cost

    E = 1/2 gamma X^2 + eps X + (eta~ / tau) sum n_k^2,   eta~ = eta - gamma tau / 2
      = X (eps + I(X) + 1/2 gamma X (1 - 1/N))           (T cancels: eta is calibrated on T)

per share: spread eps, temporary impact I(X), permanent impact 1/2 gamma X (1 - 1/N); in bps of the
parent's arrival mid. The realised figures are the TCA's (Perold's shortfall and its parts) on the
same parent, so the two columns compare like with like: expected spread vs realised half-spread,
expected temporary + permanent impact vs realised impact + timing.

The model's parameters are reported with every table (``ExpectedCosts.parameters``). They come
from the caller (e.g. ``estimate_from_day`` on a LOBSTER day) or are fitted from the tape itself
(``fit_from_tape``: the same estimator, impact.estimate, on the tape's buckets of net aggressor
volume and mid change).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from trading.execution.impact import ImpactModel, estimate
from trading.tca.analysis import Analysis
from trading.tca.errors import TcaInputError
from trading.tca.quotes import mid_of
from trading.tca.tape import LIQ_TAKER, Tape

TRADING_DAY_S = 23_400.0


@dataclass(frozen=True)
class ParentExpectation:
    """One parent: expected costs (bps of its arrival mid, per share) and the realised ones."""
    parent_row: int
    account: int
    instrument: int
    parent_id: int
    side: int
    qty: float
    children: int
    arrival_mid: float                # currency units
    expected_spread_bps: float
    expected_temporary_bps: float
    expected_permanent_bps: float
    realised_half_spread_bps: float
    realised_impact_bps: float        # impact + timing: the price moving while the parent works
    realised_shortfall_bps: float     # the whole shortfall (fees and opportunity included)

    @property
    def expected_bps(self) -> float:
        return self.expected_spread_bps + self.expected_temporary_bps + self.expected_permanent_bps


@dataclass(frozen=True)
class ExpectedCosts:
    parents: tuple[ParentExpectation, ...]
    parameters: dict[int, dict[str, float]]        # per instrument, ImpactModel.describe()
    skipped: dict[int, str]                        # parent row -> why no expectation

    def lines(self) -> list[str]:
        """The table: the model's parameters per instrument, then one row per parent."""
        out = ["Expected cost (square-root law calibrated into Almgren-Chriss) vs realised shortfall, "
               "bps of the arrival mid"]
        for iid, p in sorted(self.parameters.items()):
            out.append(f"  model of instrument {iid}: Y {p['Y']:.3f} (se {p['Y_stderr']:.3f}, R2 {p['Y_r2']:.2f}), "
                       f"sigma_day {p['sigma_day']:.4f}, daily volume {p['daily_volume']:,.0f}, "
                       f"half spread {p['half_spread']:.4f}, gamma {p['kyle_per_share']:.3g}/share, "
                       f"{p['buckets']:.0f} buckets")
        out.append(f"  {'parent':<14} {'qty':>9} {'kids':>5} | {'exp.sprd':>8} {'exp.temp':>8} {'exp.perm':>8} "
                   f"{'expected':>8} | {'real.sprd':>9} {'real.imp':>8} {'shortfall':>9}")
        for e in self.parents:
            name = f"{e.account}/P{e.parent_id}" if e.parent_id else f"{e.account}/row{e.parent_row}"
            out.append(f"  {name:<14} {e.qty:>9,.0f} {e.children:>5} | {e.expected_spread_bps:>8.2f} "
                       f"{e.expected_temporary_bps:>8.2f} {e.expected_permanent_bps:>8.2f} {e.expected_bps:>8.2f} | "
                       f"{e.realised_half_spread_bps:>9.2f} {e.realised_impact_bps:>8.2f} "
                       f"{e.realised_shortfall_bps:>9.2f}")
        for row, why in sorted(self.skipped.items()):
            out.append(f"  parent row {row}: no expectation ({why})")
        return out


def per_share_costs(model: ImpactModel, qty: float, children: int) -> tuple[float, float, float]:
    """(spread eps, temporary I(X), permanent 1/2 gamma X (1 - 1/N)) in currency units a share."""
    n = max(1, children)
    return model.half_spread, model.impact(qty), 0.5 * max(model.kyle, 0.0) * qty * (1.0 - 1.0 / n)


def expected_costs(an: Analysis, models: Mapping[int, ImpactModel],
                   parent_ids: tuple[int, ...] | None = None) -> ExpectedCosts:
    """Every parent of the analysis (or only those whose parent_id is in parent_ids) with an
    executed quantity, its instrument's model and an arrival mid."""
    par = an.parent_table
    scale = float(an.ref.price_scale)
    rows: list[ParentExpectation] = []
    skipped: dict[int, str] = {}
    for k in range(len(par)):
        r = par[k]
        if parent_ids is not None and int(r["parent_id"]) not in parent_ids:
            continue
        model = models.get(int(r["instrument"]))
        if model is None:
            skipped[k] = f"no impact model for instrument {int(r['instrument'])}"
            continue
        if not math.isfinite(float(r["p_arrival"])) or r["p_arrival"] <= 0 or r["x"] <= 0:
            skipped[k] = "no arrival mid (one-sided book) or nothing ordered"
            continue
        p0 = float(r["p_arrival"]) / scale
        spread, temporary, permanent = per_share_costs(model, float(r["x"]), int(r["children"]))
        bps = 1e4 / p0
        paper_bps = 1e4 / float(r["paper"]) if r["paper"] > 0 else math.nan
        x_exec = float(r["x_exec"])
        per_exec = 1e4 / (x_exec * p0) if x_exec > 0 else math.nan
        rows.append(ParentExpectation(
            parent_row=k, account=int(r["account"]), instrument=int(r["instrument"]), parent_id=int(r["parent_id"]),
            side=int(r["side"]), qty=float(r["x"]), children=int(r["children"]), arrival_mid=p0,
            expected_spread_bps=spread * bps, expected_temporary_bps=temporary * bps,
            expected_permanent_bps=permanent * bps,
            realised_half_spread_bps=float(r["half_spread"]) * per_exec,
            realised_impact_bps=(float(r["impact"]) + float(r["timing"])) * per_exec,
            realised_shortfall_bps=float(r["shortfall"]) * paper_bps))
    used = {e.instrument for e in rows}
    return ExpectedCosts(tuple(rows), {i: models[i].describe() for i in sorted(used)}, skipped)


def fit_from_tape(tape: Tape, instrument: int, price_scale: int, bucket_s: float = 60.0) -> ImpactModel:
    """The impact model of one instrument fitted on the tape itself (module docstring): per bucket
    of bucket_s, the takers' signed volume and the mid's change over the bucket; the daily volume
    is the tape's volume scaled to a 6.5-hour day; the half spread the mean over quote updates.
    TcaInputError when the tape has too little to fit (no quotes, fewer than 3 buckets traded)."""
    series = tape.quotes.get(instrument)
    if series is None or not len(series.rows):
        raise TcaInputError(f"impact fit: no quotes of instrument {instrument} in the tape")
    q = series.rows
    mid = mid_of(q) / price_scale
    ok = np.isfinite(mid)
    f = tape.fills
    takers = f[(f["instrument"] == instrument) & (f["liquidity"] == LIQ_TAKER)]
    if len(takers) == 0 or ok.sum() < 2:
        raise TcaInputError(f"impact fit: instrument {instrument} has no taker fills or no two-sided quotes")
    t0 = int(min(q["ts"][ok][0], takers["ts"][0]))
    t1 = int(max(q["ts"][ok][-1], takers["ts"][-1]))
    bucket_ns = int(bucket_s * 1e9)
    n = max(1, (t1 - t0) // bucket_ns + 1)
    signed = np.where(takers["side"] == 1, 1.0, -1.0) * takers["qty"]
    volume = np.bincount((takers["ts"] - t0) // bucket_ns, weights=signed, minlength=n)
    qb = ((q["ts"][ok] - t0) // bucket_ns).astype(np.int64)
    m = mid[ok]
    first = np.searchsorted(qb, np.arange(n), side="left")
    last = np.searchsorted(qb, np.arange(n), side="right") - 1
    has = first <= last
    change = np.zeros(n)
    change[has] = m[last[has]] - m[first[has]]
    use = has & (volume != 0)
    if use.sum() < 3:
        raise TcaInputError(f"impact fit: instrument {instrument} has {int(use.sum())} buckets of {bucket_s:g} s "
                            "with trading and quotes; at least 3 are needed")
    span_s = max((t1 - t0) / 1e9, bucket_s)
    daily = float(np.abs(takers["qty"]).sum()) * TRADING_DAY_S / span_s
    both = (q["bid"] > 0) & (q["ask"] > 0)
    half_spread = float(np.mean(q["ask"][both] - q["bid"][both])) / price_scale / 2.0
    try:
        return estimate(volume[use], change[use], daily, TRADING_DAY_S, bucket_s, half_spread)
    except ValueError as exc:
        raise TcaInputError(f"impact fit of instrument {instrument}: {exc}") from None
