"""The market-making run report: terminal summary, JSON and a PNG of quotes, inventory and P&L.

Input: the strategy's ``report()`` dict and its sampled path (ts_ns, mid, own bid, own ask,
inventory, P&L), prices in engine units, ``price_scale`` units per currency unit. Output files in
``out_dir``: ``mm_report.json`` (everything, the path included) and ``mm_report.png`` (three panels
over time: the mid with the strategy's bid and ask, the inventory with its limits, the P&L).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

PathRow = tuple[int, float, "int | None", "int | None", int, float]


def summary(rep: dict[str, Any]) -> str:
    p = rep["pnl"]
    h = rep.get("hedge")       # None when the maker does not hedge in another instrument
    leg = bool("hedge_leg_spread" in p and h and h.get("instrument"))
    # with a hedge leg the first line's parts add up to the total only with the leg's two parts
    leg_part = (f", hedge leg {p['hedge_leg_spread'] + p['hedge_leg_carry']:+.2f} (spread and carry, below)"
                if leg else "")
    lines = [
        f"P&L {p['total']:+.2f}: spread capture {p['spread_capture']:+.2f}, adverse selection "
        f"{p['adverse_selection']:+.2f}, inventory {p['inventory']:+.2f}, hedging {p['hedging']:+.2f}, "
        f"fees and rebates {p['fees']:+.2f}{leg_part}",
        f"  parts add up exactly: {rep['pnl_parts_add_up']}; runtime ledger {rep['runtime_pnl']:+.6f} "
        f"(matches: {rep['pnl_matches_runtime']}); both mark the open position at the last mid the maker saw"
        + (f", {rep['mark']:.4f}" if rep.get("mark") is not None else " (none: no two-sided book yet)"),
        f"fills {rep['passive_fills']} passive ({rep['volume']} shares), {rep['hedge_fills']} hedges; "
        f"position at end {rep['position']}; max |inventory| {rep['max_abs_inventory']} "
        f"(limit {rep['max_inventory']})",
        "markouts per share (spread included; n/a: no fill the data outlived by that long): "
        + ", ".join(f"{hz:g}s " + ("n/a" if v is None else f"{v:+.4f}") for hz, v in rep["markouts"].items()),
        f"sigma {rep['sigma']} (price units per sqrt(s)), A {rep['A']} (fills per s at the mid), k {rep['k']} "
        f"(per price unit); fit {rep['fit']}",
        f"regime {rep['regime']}; toxicity {rep['toxicity']}; quote updates {rep['quote_updates']}; "
        f"at the end: {rep['reason_at_end']}",
    ]
    if leg and h:
        lines.append(f"hedge in instrument {h['instrument']}: spread paid {p['hedge_leg_spread']:+.2f}, carry "
                     f"{p['hedge_leg_carry']:+.2f}; position {h['position']}, ratio {h['ratio']}, correlation "
                     f"{h['correlation']}; runtime P&L by instrument {rep['runtime_pnl_by_instrument']}")
    return "\n".join(lines)


def write(rep: dict[str, Any], path: Sequence[PathRow], price_scale: float, out_dir: str | Path) -> list[Path]:
    """Writes mm_report.json and mm_report.png; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js = out / "mm_report.json"
    js.write_text(json.dumps({"report": rep, "path": [list(r) for r in path]}, indent=1, default=str))
    png = out / "mm_report.png"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = [(r[0] - path[0][0]) / 1e9 for r in path] if path else []
    fig, axes = plt.subplots(3, 1, figsize=(11, 9), sharex=True)
    ax = axes[0]
    ax.plot(t, [r[1] / price_scale for r in path], color="black", lw=0.8, label="mid")
    ax.plot(t, [r[2] / price_scale if r[2] is not None else float("nan") for r in path], color="tab:green",
            lw=0.6, label="own bid")
    ax.plot(t, [r[3] / price_scale if r[3] is not None else float("nan") for r in path], color="tab:red",
            lw=0.6, label="own ask")
    ax.set_ylabel("price")
    ax.legend(loc="upper left", fontsize=8)
    ax = axes[1]
    ax.plot(t, [r[4] for r in path], color="tab:blue", lw=0.8)
    lim = rep.get("max_inventory")
    if lim:
        ax.axhline(lim, color="grey", ls="--", lw=0.6)
        ax.axhline(-lim, color="grey", ls="--", lw=0.6)
    ax.set_ylabel("inventory (shares)")
    ax = axes[2]
    ax.plot(t, [r[5] for r in path], color="tab:purple", lw=0.8)
    ax.set_ylabel("P&L (currency)")
    ax.set_xlabel("seconds since the first sample")
    fig.suptitle("market maker: quotes against the mid, inventory, P&L")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return [js, png]
