"""Recommendations ranked from measured data: what would have cost less, by venue, algorithm
(strategy), aggressiveness and time of day, each with the evidence behind it.

The cost compared is the all-in implementation shortfall of parent orders in bps of their paper
value (analysis.py: delay + half-spread + impact + timing + opportunity + fees), so a passive
order's unfilled remainder is charged its opportunity cost and a rebate counts for it. For each
category the groups are ranked by their paper-weighted mean cost; the cheapest is compared with
the group carrying the most paper: the saving is the difference in bps and in currency on that
group's paper, and it is called significant when it exceeds two standard errors of the difference
(Welch: sqrt(se_a^2 + se_b^2), each se = sample std of the parents' bps / sqrt(n)). Groups with fewer
than `min_parents` parents are shown but never recommended.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trading.tca.analysis import Analysis


@dataclass(frozen=True)
class GroupCost:
    group: str
    parents: int
    paper: float
    cost_bps: float
    stderr_bps: float


@dataclass(frozen=True)
class Recommendation:
    category: str                # venue | algorithm | aggressiveness | time of day
    action: str
    saving_bps: float
    saving: float                # currency, on the largest group's paper
    significant: bool
    evidence: str
    ranking: tuple[GroupCost, ...]


def _groups(an: Analysis, labels: np.ndarray, min_parents: int) -> list[GroupCost]:
    par = an.parent_table
    ok = np.isfinite(par["shortfall"]) & (par["paper"] > 0)
    out = []
    for g in sorted(set(labels[ok].tolist())):
        m = ok & (labels == g)
        bps = par["shortfall"][m] / par["paper"][m] * 1e4
        paper = float(par["paper"][m].sum())
        mean = float(par["shortfall"][m].sum() / paper * 1e4)
        se = float(np.std(bps, ddof=1) / np.sqrt(len(bps))) if len(bps) > 1 else float("inf")
        out.append(GroupCost(str(g), int(m.sum()), paper, mean, se))
    return sorted(out, key=lambda g: g.cost_bps)


def _recommend(category: str, groups: list[GroupCost], min_parents: int, what: str) -> Recommendation | None:
    eligible = [g for g in groups if g.parents >= min_parents]
    if len(groups) == 0:
        return None
    if len(eligible) < 2:
        only = groups[0]
        return Recommendation(category, f"no alternative {what} measured", 0.0, 0.0, False,
                              f"only {len(groups)} {what}(s) with data ({only.group}: {only.cost_bps:.2f} bps "
                              f"over {only.parents} parents); nothing to compare", tuple(groups))
    best = eligible[0]
    main = max(eligible, key=lambda g: g.paper)
    if best.group == main.group:
        return Recommendation(category, f"keep {what} {main.group}: it is already the cheapest", 0.0, 0.0, False,
                              f"{main.group} {main.cost_bps:.2f} bps (n={main.parents}) vs next "
                              f"{eligible[1].group} {eligible[1].cost_bps:.2f} bps (n={eligible[1].parents})",
                              tuple(groups))
    diff = main.cost_bps - best.cost_bps
    se = float(np.hypot(best.stderr_bps, main.stderr_bps))
    sig = bool(np.isfinite(se) and diff > 2 * se)
    return Recommendation(category, f"move flow from {what} {main.group} to {best.group}", diff,
                          diff * main.paper / 1e4, sig,
                          f"{best.group}: {best.cost_bps:.2f} +/- {best.stderr_bps:.2f} bps over {best.parents} parents; "
                          f"{main.group}: {main.cost_bps:.2f} +/- {main.stderr_bps:.2f} bps over {main.parents} parents "
                          f"(${main.paper:,.0f} paper); difference {diff:.2f} bps, 2 s.e. = {2 * se:.2f}",
                          tuple(groups))


def recommendations(an: Analysis, min_parents: int = 5) -> list[Recommendation]:
    """Ranked (largest significant saving first) recommendations; each category appears once."""
    par, o, ref = an.parent_table, an.tape.orders, an.ref
    first = par["first_row"]
    venue = np.full(len(par), ref.venue_name, dtype=object)
    ua, ia = np.unique(par["account"], return_inverse=True)
    strat = np.array([ref.account(int(a)).strategy for a in ua], dtype=object)[ia.reshape(-1)]
    aggressive = np.where(o["marketable"][first] if len(par) else np.zeros(0, bool), "aggressive (marketable)",
                          "passive (non-marketable)").astype(object)
    hour = ((par["accept_ts"] + an.tape.clock.offset_ns) // (3600 * 10**9)) % 24
    hours = np.array([f"{h:02d}:00 UTC" for h in range(24)], dtype=object)[hour]
    out = []
    for category, labels, what in (("venue", venue, "venue"), ("algorithm", strat, "strategy"),
                                   ("aggressiveness", aggressive, "order style"), ("time of day", hours, "hour")):
        r = _recommend(category, _groups(an, labels, min_parents), min_parents, what)
        if r is not None:
            out.append(r)
    return sorted(out, key=lambda r: (not r.significant, -r.saving))
