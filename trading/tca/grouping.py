"""Group sums behind the cost summaries: every summed quantity of analysis.summarize as one
per-order (or per-parent) addend column, summed per group with np.bincount.

A summary of a dimension is a set of ratios of sums over the orders of each group (the formulas
are in analysis.py's docstring). The addends depend only on the order, not on the dimension, so
they are built once per Analysis (contiguous float64 columns, NaN counted as 0 as before) and each
dimension only sums them.

Atoms: for the dimensions strategy, account, instrument and venue, a group is a union of
(account, instrument) pairs, and so is each parent order (its children share account and
instrument). The addends are summed once per atom; each of these dimensions then sums the few
atom totals, which leaves the per-order work to one pass for all four.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trading.tca import codes
from trading.tca.columns import Columns
from trading.tca.measures import MARKOUT_HORIZONS_NS, REALISED_HORIZONS_NS

ATOM_DIMENSIONS = ("strategy", "account", "instrument", "venue")
PARENT_SUMS = ("paper", "delay", "opportunity", "shortfall", "unusable")
SHORTFALL_PARTS = ("timing", "half_spread", "impact", "fees")
_USER_CANCELS = np.array([int(codes.CXL_USER), int(codes.CXL_MASS)], np.uint16)


def _z(x: np.ndarray) -> np.ndarray:
    """x as contiguous float64 with every non-finite value 0 (a missing quote adds nothing)."""
    out = np.asarray(x, dtype=np.float64).copy()
    out[~np.isfinite(out)] = 0.0
    return out


def order_addends(o: Columns, t: Columns, price_scale: float) -> dict[str, np.ndarray]:
    """One float64 column per summed quantity, aligned with the orders (o: tape.orders, t: the
    order cost table). Names: the sums analysis.summary_from_sums reads."""
    filled = t["filled"].astype(np.float64)
    mid0 = np.ascontiguousarray(t["mid0"])
    side = t["side"].astype(np.float64)
    timing, half, impact = (np.ascontiguousarray(t[k]) for k in ("timing", "half_spread", "impact"))
    ok_mid = np.isfinite(mid0) & (filled > 0)
    avg, vwap, close = (np.ascontiguousarray(t[k]) for k in ("avg_price", "vwap", "close"))
    vw = np.isfinite(vwap) & (filled > 0)
    cl = np.isfinite(close) & (filled > 0)
    # fill rates against the most shares each order asked for (a replace may have raised its size)
    ord_type, qty = o["ord_type"], o["ordered_qty"].astype(np.float64)
    mk, lm = ord_type == codes.ORD_MARKET, ord_type == codes.ORD_LIMIT
    mexec = o["marketable"] & (filled > 0)
    a: dict[str, np.ndarray] = {
        "orders": np.ones(len(o)), "executions": o["n_fills"].astype(np.float64), "shares": filled,
        "notional": _z(t["notional"]), "fees": _z(t["fees"]), "rebates": _z(t["rebates"]),
        "half_spread": _z(half), "impact": _z(impact), "timing": _z(timing),
        "q_mid": _z(filled * mid0 / price_scale),
        "arr_den": _z(np.where(ok_mid, filled * mid0, 0.0) / price_scale),
        "arr_cost": _z(np.where(ok_mid, timing + half + impact, 0.0)),
        "vw_num": _z(np.where(vw, side * filled * (avg - vwap), 0.0)), "vw_den": _z(np.where(vw, filled * vwap, 0.0)),
        "cl_num": _z(np.where(cl, side * filled * (avg - close), 0.0)), "cl_den": _z(np.where(cl, filled * close, 0.0)),
        "eff_num": _z(t["eff_spread_x_q"]), "eff_den": _z(t["eff_q"] * mid0),
        "improved": (mexec & (t["price_improved"] == 1)).astype(np.float64), "marketable_executed": mexec.astype(np.float64),
        "market_filled": np.where(mk, filled, 0.0), "market_qty": np.where(mk, qty, 0.0),
        "limit_filled": np.where(lm, filled, 0.0), "limit_qty": np.where(lm, qty, 0.0),
        # order messages naming these orders: the new order, its replaces, a user or mass cancel
        "order_messages": 1.0 + o["replaces"] + np.isin(o["end_reason"], _USER_CANCELS)}
    for j in range(len(REALISED_HORIZONS_NS)):
        a[f"rs_num{j}"] = _z(t["realised_x_q"][:, j])
        a[f"rs_den{j}"] = _z(t["realised_q"][:, j] * mid0)
    for j in range(len(MARKOUT_HORIZONS_NS)):
        a[f"mo_num{j}"] = _z(t["markout_x_q"][:, j])
        a[f"mo_den{j}"] = _z(t["markout_q"][:, j])
    return a


def parent_addends(par: Columns) -> dict[str, np.ndarray]:
    """Per parent: the shortfall terms of the parents with an arrival quote and a paper value,
    and a count of those without (left out of the shortfall)."""
    usable = np.isfinite(par["shortfall"]) & (par["paper"] > 0)
    out = {k: np.where(usable, par[k], 0.0) for k in PARENT_SUMS if k != "unusable"}
    # the shortfall's own parts (against the parent's arrival mid), so that its printed parts add
    # up to it; the order sums of the same names are each child against its own arrival mid
    for k in SHORTFALL_PARTS:
        out[f"is_{k}"] = np.where(usable, par[k], 0.0)
    out["unusable"] = (~usable).astype(np.float64)
    return out


def sum_by(index: np.ndarray, columns: dict[str, np.ndarray], n: int,
           rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """{name: per-group sums} of each column (restricted to `rows` when given)."""
    if rows is None:
        return {k: np.bincount(index, weights=v, minlength=n) for k, v in columns.items()}
    return {k: np.bincount(index, weights=v[rows], minlength=n) for k, v in columns.items()}


@dataclass(frozen=True)
class Atoms:
    """The (account, instrument) pairs of an analysis with their order and parent sums."""
    account: np.ndarray          # per atom
    instrument: np.ndarray       # per atom
    order_sums: dict[str, np.ndarray]
    parent_sums: dict[str, np.ndarray]


def atoms(o: Columns, addends: dict[str, np.ndarray], parent_first_row: np.ndarray,
          parent_cols: dict[str, np.ndarray]) -> Atoms:
    """Sums every addend per (account, instrument); a parent belongs to its first child's atom."""
    acct = o["account"].astype(np.int64)
    inst = o["instrument"].astype(np.int64)
    width = int(inst.max()) + 1 if len(inst) else 1
    key = acct * width + inst
    uniq, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    n = len(uniq)
    p_atom = inv[parent_first_row]
    return Atoms(uniq // width, uniq % width, sum_by(inv, addends, n), sum_by(p_atom, parent_cols, n))
