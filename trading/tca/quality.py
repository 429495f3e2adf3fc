"""The seed documents' four execution-quality figures, each measured on the journal and reported
with how it was measured and on how many orders, never assumed:

- fill rate, market orders (target > 95 %): shares executed / shares ordered, MARKET orders.
- fill rate, limit orders (target > 85 %): the same for LIMIT orders that ended in the period
  (orders still resting at its end are left out: they may yet fill).
- price improvement (target > 60 % of orders): executed orders whose average price beats the far
  touch at receipt (buy below the ask, sell above the bid), over executed orders. Marketable orders
  alone are shown in the explanation: on one lit book with price-time priority a marketable order
  trades at resting prices at or beyond the touch, so it can only be improved by a quote that
  arrived in the same instant; the figure therefore mostly reflects limit orders placed inside the
  spread.
- market impact (target < 5 bps): share-weighted move of the mid in the aggressor's direction 60 s
  after each aggressive (taker) fill, s (m(t + 60 s) - m_j) / m_j, against the mid m_j when the
  trade's command arrived.
- implementation shortfall (target < 10 bps): the paper-weighted mean of the parents' Perold
  shortfall (analysis.py), parents with an arrival quote.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trading.tca import npx

from trading.tca import codes
from trading.tca.analysis import Analysis
from trading.tca.measures import MARKOUT_HORIZONS_NS
from trading.tca.tape import END_LIVE, LIQ_TAKER


@dataclass(frozen=True)
class QualityFigure:
    name: str
    value: float            # NaN when nothing was measurable
    unit: str
    target: str
    met: bool | None        # None when not measurable
    sample: int             # orders (or fills, for impact) behind the figure
    how: str


def _figure(name: str, value: float, unit: str, target: str, ok: bool, sample: int, how: str) -> QualityFigure:
    measurable = sample > 0 and bool(np.isfinite(value))
    return QualityFigure(name, value, unit, target, ok if measurable else None, sample, how)


@npx.small_pages
def execution_quality(an: Analysis, order_mask: np.ndarray | None = None) -> list[QualityFigure]:
    """The four figures (five numbers: two fill rates) for the orders in order_mask (all by default)."""
    o, t, f = an.tape.orders, an.order_table, an.tape.fills
    m = np.ones(len(o), bool) if order_mask is None else order_mask
    out: list[QualityFigure] = []
    mk = m & (o["ord_type"] == codes.ORD_MARKET)
    q_mk, f_mk = int(o["qty"][mk].sum()), int(t["filled"][mk].sum())
    out.append(_figure("fill rate, market orders", 100.0 * f_mk / q_mk if q_mk else np.nan, "%", "> 95 %",
                       q_mk > 0 and f_mk / q_mk > 0.95, int(mk.sum()),
                       f"{f_mk} of {q_mk} shares of {int(mk.sum())} market orders executed"))
    lm = m & (o["ord_type"] == codes.ORD_LIMIT) & (o["end_reason"] != END_LIVE)
    q_lm, f_lm = int(o["qty"][lm].sum()), int(t["filled"][lm].sum())
    out.append(_figure("fill rate, limit orders", 100.0 * f_lm / q_lm if q_lm else np.nan, "%", "> 85 %",
                       q_lm > 0 and f_lm / q_lm > 0.85, int(lm.sum()),
                       f"{f_lm} of {q_lm} shares of {int(lm.sum())} limit orders that ended in the "
                       f"period ({int((m & (o['end_reason'] == END_LIVE)).sum())} still resting left out)"))
    ex = m & (t["filled"] > 0) & (t["price_improved"] >= 0)
    imp = int((t["price_improved"][ex] == 1).sum())
    mex = ex & o["marketable"]
    mimp = int((t["price_improved"][mex] == 1).sum())
    n_ex = int(ex.sum())
    out.append(_figure("price improvement", 100.0 * imp / n_ex if n_ex else np.nan, "% of orders", "> 60 %",
                       n_ex > 0 and imp / n_ex > 0.6, n_ex,
                       f"{imp} of {n_ex} executed orders averaged better than the far touch at receipt "
                       f"(NBBO = this venue's BBO rebuilt from the event journal); marketable orders: "
                       f"{mimp} of {int(mex.sum())}"))
    sel = (f["order_row"] >= 0) & (f["liquidity"] == LIQ_TAKER)
    sel &= m[np.maximum(f["order_row"], 0)]
    h = MARKOUT_HORIZONS_NS[-1]
    m_after = an.fills.mid_after[h]
    mj = an.fills.mid_before
    move = f["side"] * (m_after - mj) / mj * 1e4
    ok = sel & np.isfinite(move)
    q = f["qty"][ok].astype(np.float64)
    impact = float((move[ok] * q).sum() / q.sum()) if q.sum() else np.nan
    out.append(_figure("market impact", impact, "bps", "< 5 bps", bool(impact < 5.0), int(ok.sum()),
                       f"share-weighted mid move 60 s after {int(ok.sum())} aggressive fills in the "
                       f"aggressor's direction ({int((sel & ~np.isfinite(move)).sum())} fills without "
                       "a two-sided quote then left out)"))
    par = an.parent_table
    # every parent has a child, so without a mask every parent counts
    prow = (np.arange(len(par)) if order_mask is None else
            npx.unique(t["parent"][m]) if m.any() else np.zeros(0, np.int64))
    shortfall, paper = par["shortfall"][prow], par["paper"][prow]
    usable = np.isfinite(shortfall) & (paper > 0)
    n_par = int(usable.sum())
    is_bps = float(shortfall[usable].sum() / paper[usable].sum() * 1e4) if n_par else np.nan
    out.append(_figure("implementation shortfall", is_bps, "bps", "< 10 bps", bool(is_bps < 10.0), n_par,
                       f"Perold shortfall of {n_par} parent orders (delay + half-spread + impact + timing "
                       "+ opportunity + fees) over their paper value; decision price = arrival mid "
                       "unless decisions were given"))
    return out
