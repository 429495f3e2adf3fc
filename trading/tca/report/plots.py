"""The report's figures (matplotlib, Agg backend): slippage distribution, markout curves, venue
comparison, fill rates by order type, and the daily trend of the weekly analysis. Each function
returns a Figure; the caller saves it (PNG for HTML, a page of the PDF)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from trading.tca import codes  # noqa: E402
from trading.tca.analysis import Analysis, CostSummary  # noqa: E402
from trading.tca.measures import MARKOUT_HORIZONS_NS, horizon_label  # noqa: E402


def slippage_distribution(an: Analysis) -> Figure:
    t = an.order_table
    ok = (t["filled"] > 0) & np.isfinite(t["mid0"])
    bps = (t["timing"] + t["half_spread"] + t["impact"])[ok] * an.ref.price_scale / (t["filled"][ok] * t["mid0"][ok]) * 1e4
    fig, ax = plt.subplots(figsize=(7, 3.6))
    if len(bps):
        ax.hist(bps, bins=min(60, max(5, len(bps) // 5)), color="#4472c4")
        ax.axvline(float(np.median(bps)), color="k", ls="--", lw=1, label=f"median {np.median(bps):.2f} bps")
        ax.legend()
    ax.set_title(f"Slippage against arrival mid, per executed order (n={len(bps)})")
    ax.set_xlabel("bps (positive = cost)")
    ax.set_ylabel("orders")
    fig.tight_layout()
    return fig


def markout_curves(summaries: list[CostSummary]) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels = [horizon_label(h) for h in MARKOUT_HORIZONS_NS]
    x = np.arange(len(labels))
    for s in summaries:
        y = [s.markout_bps[label] for label in labels]
        ax.plot(x, y, marker="o", label=f"{s.key} ({s.shares} sh)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(x, labels)
    ax.set_title("Markouts by strategy (positive = price moved the trader's way)")
    ax.set_ylabel("bps, share-weighted")
    if summaries:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def venue_comparison(summaries: list[CostSummary]) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    # the shortfall's parts, all in bps of the paper portfolio: stacked, they make the shortfall
    parts = ("is_fees_bps", "is_half_spread_bps", "is_impact_bps", "is_timing_bps", "delay_bps", "opportunity_bps")
    x = np.arange(len(summaries))
    bottom_pos = np.zeros(len(summaries))
    bottom_neg = np.zeros(len(summaries))
    for p in parts:
        v = np.nan_to_num(np.array([getattr(s, p) for s in summaries], dtype=float))
        base = np.where(v >= 0, bottom_pos, bottom_neg)
        ax.bar(x, v, bottom=base, label=p.replace("_bps", "").replace("is_", ""))
        bottom_pos += np.where(v >= 0, v, 0)
        bottom_neg += np.where(v < 0, v, 0)
    ax.set_xticks(x, [s.key for s in summaries])
    ax.set_title("Implementation shortfall by venue, in its parts (one venue today: its own book)")
    ax.set_ylabel("bps of the paper portfolio")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fill_rates(an: Analysis) -> Figure:
    o, t = an.tape.orders, an.order_table
    fig, ax = plt.subplots(figsize=(7, 3.2))
    names, rates = [], []
    for code, name in codes.ORD_NAMES.items():
        m = o["ord_type"] == code
        if m.any() and o["qty"][m].sum():
            names.append(f"{name} (n={int(m.sum())})")
            rates.append(100.0 * t["filled"][m].sum() / o["qty"][m].sum())
    ax.barh(names, rates, color="#70ad47")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of shares executed")
    ax.set_title("Fill rate by order type")
    fig.tight_layout()
    return fig


def daily_trend(days: list[tuple[str, CostSummary]]) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.4))
    x = np.arange(len(days))
    ax.plot(x, [d[1].slippage_arrival_bps for d in days], marker="o", label="arrival slippage")
    ax.plot(x, [d[1].effective_spread_bps for d in days], marker="s", label="effective spread")
    ax.plot(x, [d[1].explicit_bps for d in days], marker="^", label="explicit (fees)")
    ax.set_xticks(x, [d[0] for d in days], rotation=30)
    ax.set_ylabel("bps")
    ax.set_title("Daily cost trend")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
