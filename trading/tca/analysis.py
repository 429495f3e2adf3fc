"""Transaction cost analysis of a Tape: one row per order, one per parent order (implementation
shortfall, Perold's decomposition), and summaries per strategy, account, venue, instrument and
period. Formulas of the per-fill pieces are in measures.py; the aggregates are:

Implementation shortfall of a parent order (Perold 1988; the decomposition as in Kissell and
Glantz, "Optimal Trading Strategies", 2003, ch. 4): X shares wanted at decision price P_d, arrival
mid P_0 (the first child's quote at receipt), X_e executed at p_j, the rest abandoned at P_c (the
instrument's close in the tape), s = +1 buy / -1 sell, fees F:
    IS = s (sum_j q_j p_j - X_e P_d) + s (X - X_e)(P_c - P_d) + F
       = delay s X_e (P_0 - P_d) + timing + half-spread + impact (measures.cost_parts, against P_0)
         + opportunity s (X - X_e)(P_c - P_d) + F,
in bps of the paper portfolio X P_d. Without a decision price (decisions=None) P_d = P_0 and the
delay is 0: the journal does not know when the investment decision was taken.
Parents: the high 32 bits of client_order_id name the parent order of an execution algorithm's
child orders (0: the order is its own parent; trading/execution/parent_ids.py stamps them). X = the
decision quantity when given, else the shares executed by all children plus the unexecuted rest of the last child.

Share-weighted summaries: slippage against arrival = sum s q (p - m_o) / sum q m_o; against the
interval VWAP and the close the same with the benchmark in place of m_o (per order: its average
price); effective and realised spreads = sum q x spread / sum q m_o; markouts = sum q x markout /
sum q. Fill rate = shares executed / shares ordered (market orders; limit orders), an order's shares
ordered being the most it asked for (a replace may raise its size). Order-to-trade
ratio = order messages (new, modify, cancel: every message MiFID II RTS 9, Delegated Regulation
(EU) 2017/566, counts as an order) / executions. RTS 9's own figure, the ratio of unexecuted
orders to transactions by number, is orders / transactions - 1, and it counts per instrument.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import numpy as np

from trading.tca import npx

from native import records
from trading.tca import grouping
from trading.tca.columns import Columns
from trading.tca.measures import (MARKOUT_HORIZONS_NS, REALISED_HORIZONS_NS, FillMeasures,
                                  closing_prices, cost_parts, fill_measures, horizon_label,
                                  interval_vwap, mid_prices)
from trading.tca.reference import Reference
from trading.tca.tape import END_LIVE, Tape

DIMENSIONS = ("order", "parent", "strategy", "account", "venue", "instrument", "period")


@dataclass(frozen=True)
class Decision:
    """An investment decision behind a parent order: when, at what price, for how many shares."""
    ts_ns: int
    price: float            # price units
    qty: int


@dataclass(frozen=True)
class CostSummary:
    """Costs of one group (a dimension's key). Currency amounts in the venue currency; bps of the
    arrival mid (or of the paper portfolio for the shortfall terms); NaN where undefined."""
    dimension: str
    key: str
    orders: int
    executions: int
    shares: int
    notional: float
    fees: float                 # net explicit cost (fees minus rebates)
    rebates: float              # rebates received (>= 0)
    explicit_bps: float
    half_spread_bps: float
    impact_bps: float
    timing_bps: float
    delay_bps: float
    opportunity_bps: float
    shortfall_bps: float
    shortfall: float            # currency
    slippage_arrival_bps: float
    slippage_vwap_bps: float
    slippage_close_bps: float
    effective_spread_bps: float
    realised_spread_bps: dict[str, float]
    markout_bps: dict[str, float]
    price_improved_pct: float   # of executed marketable orders
    fill_rate_market: float
    fill_rate_limit: float
    order_to_trade: float
    order_messages: int
    parents_without_arrival_quote: int   # excluded from the shortfall: one-sided book at arrival
    # the shortfall's parts in bps of the paper portfolio, each fill against its parent's arrival mid:
    # delay + these four + opportunity = shortfall. (half_spread_bps, impact_bps, timing_bps and
    # explicit_bps above are the arrival slippage's: each order against its own arrival mid, in bps
    # of its executed shares at that mid.)
    is_timing_bps: float = float("nan")
    is_half_spread_bps: float = float("nan")
    is_impact_bps: float = float("nan")
    is_fees_bps: float = float("nan")


@dataclass(frozen=True)
class Analysis:
    """Everything computed for a Tape; `order_table` (ORDER_COST_DTYPE) and `parent_table`
    (PARENT_DTYPE) are tables held by column (columns.py)."""
    tape: Tape
    ref: Reference
    fills: FillMeasures
    order_table: Columns
    parent_table: Columns
    closes: dict[int, float]
    summaries: dict[str, list[CostSummary]] = field(default_factory=dict)

    period: str = "hour"
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)   # group sums

    def summary(self, dimension: str) -> list[CostSummary]:
        """The summaries of one dimension, computed on first use (per-order and per-parent
        dimensions have one group per order: ask for them only on small windows)."""
        if dimension not in DIMENSIONS:
            raise KeyError(f"unknown dimension {dimension!r} (known: {', '.join(DIMENSIONS)})")
        if dimension not in self.summaries:
            self.summaries[dimension] = summarize(self, dimension, self.period)
        return self.summaries[dimension]

    def total(self) -> CostSummary:
        return self.summary("venue")[0]


ORDER_COST_DTYPE = np.dtype([
    ("row", "<i8"), ("parent", "<i8"), ("side", "i1"), ("mid0", "<f8"), ("avg_price", "<f8"),
    ("vwap", "<f8"), ("close", "<f8"), ("filled", "<i8"), ("notional", "<f8"), ("fees", "<f8"),
    ("rebates", "<f8"), ("timing", "<f8"), ("half_spread", "<f8"), ("impact", "<f8"),
    ("eff_spread_x_q", "<f8"), ("eff_q", "<f8"), ("price_improved", "i1"),
    ("realised_x_q", "<f8", (len(REALISED_HORIZONS_NS),)), ("realised_q", "<f8", (len(REALISED_HORIZONS_NS),)),
    ("markout_x_q", "<f8", (len(MARKOUT_HORIZONS_NS),)), ("markout_q", "<f8", (len(MARKOUT_HORIZONS_NS),))], align=True)

PARENT_DTYPE = np.dtype([
    ("account", "<u4"), ("instrument", "<u4"), ("parent_id", "<u8"), ("first_row", "<i8"),
    ("side", "i1"), ("children", "<i4"), ("x", "<f8"), ("x_exec", "<f8"), ("p_decision", "<f8"),
    ("p_arrival", "<f8"), ("p_close", "<f8"), ("delay", "<f8"), ("timing", "<f8"),
    ("half_spread", "<f8"), ("impact", "<f8"), ("opportunity", "<f8"), ("fees", "<f8"),
    ("shortfall", "<f8"), ("paper", "<f8"), ("accept_ts", "<i8")], align=True)


def _nansum_by(idx: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    v = np.where(np.isfinite(values), values, 0.0)
    return np.bincount(idx, weights=v, minlength=n) if len(idx) else np.zeros(n)


def _finite_q(idx: np.ndarray, values: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(idx, weights=np.where(np.isfinite(values), q, 0.0), minlength=n) if len(idx) else np.zeros(n)


@npx.small_pages
def analyze(tape: Tape, ref: Reference, decisions: Mapping[int, Decision] | None = None,
            period: str = "hour") -> Analysis:
    """All the measures of the module docstring for every order, parent and dimension."""
    o, f = tape.orders, tape.fills
    n = len(o)
    fm = fill_measures(tape, ref)
    scale = float(ref.price_scale)
    fills_ok = f["order_row"] >= 0
    rows = np.where(fills_ok, f["order_row"], 0)
    qf = np.where(fills_ok, f["qty"], 0).astype(np.float64)
    parts = cost_parts(tape, fm, ref)

    t = Columns.zeros(ORDER_COST_DTYPE, n)
    t["row"] = np.arange(n)
    t["side"] = o["side"]
    t["mid0"] = mid_prices(o["bid0"], o["ask0"])
    t["filled"] = np.bincount(rows, weights=qf, minlength=n).astype(np.int64)
    pq = np.bincount(rows, weights=qf * f["price"], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["avg_price"] = np.where(t["filled"] > 0, pq / np.maximum(t["filled"], 1), np.nan)
    t["notional"] = pq / scale
    fee = np.where(fills_ok, fm.fee, 0.0)
    t["fees"] = np.bincount(rows, weights=fee, minlength=n)
    t["rebates"] = np.bincount(rows, weights=np.where(fee < 0, -fee, 0.0), minlength=n)
    for name in ("timing", "half_spread", "impact"):
        t[name] = _nansum_by(rows, getattr(parts, name) * fills_ok, n)
    t["eff_spread_x_q"] = _nansum_by(rows, fm.effective_spread * qf, n)
    t["eff_q"] = _finite_q(rows, fm.effective_spread, qf, n)
    for k, h in enumerate(REALISED_HORIZONS_NS):
        t["realised_x_q"][:, k] = _nansum_by(rows, fm.realised_spread[h] * qf, n)
        t["realised_q"][:, k] = _finite_q(rows, fm.realised_spread[h], qf, n)
    for k, h in enumerate(MARKOUT_HORIZONS_NS):
        t["markout_x_q"][:, k] = _nansum_by(rows, fm.markout_bps[h] * qf, n)
        t["markout_q"][:, k] = _finite_q(rows, fm.markout_bps[h], qf, n)
    end = np.where(o["last_fill_ts"] > 0, o["last_fill_ts"], np.where(o["end_ts"] > 0, o["end_ts"], tape.last_ts))
    t["vwap"] = interval_vwap(tape, o["instrument"], o["accept_ts"], end)
    closes = closing_prices(tape)
    t["close"] = _per_instrument(closes, o["instrument"])
    far0 = np.where(o["side"] > 0, o["ask0"], o["bid0"]).astype(np.float64)
    better = np.where(o["side"] > 0, t["avg_price"] < far0, t["avg_price"] > far0) & (far0 > 0)
    t["price_improved"] = np.where(t["filled"] > 0, better.astype(np.int8), -1)
    t["parent"], parents = _parents(tape, t, fm, ref, closes, decisions or {})
    return Analysis(tape, ref, fm, t, parents, closes, {}, period)


def _per_instrument(values: dict[int, float], instrument: np.ndarray) -> np.ndarray:
    """values[instrument] for each element (NaN where missing), through a lookup table."""
    table = np.full(int(instrument.max()) + 1 if len(instrument) else 1, np.nan)
    for iid, v in values.items():
        if iid < len(table):
            table[iid] = v
    return table[instrument] if len(instrument) else np.zeros(0)


def _parents(tape: Tape, t: Columns, fm: FillMeasures, ref: Reference, closes: dict[int, float],
             decisions: Mapping[int, Decision]) -> tuple[np.ndarray, Columns]:
    o, f = tape.orders, tape.fills
    n = len(o)
    own = o["parent_id"] == 0
    # algorithm children group by (account, instrument, parent id); every other order is its own
    # parent. Groups numbered: children's groups first (sorted by key), then own orders in order.
    inv = np.empty(n, np.int64)
    kids = np.flatnonzero(~own)
    n_alg = 0
    if len(kids):
        a, i, p = o["account"][kids], o["instrument"][kids], o["parent_id"][kids]
        order = np.lexsort((p, i, a))
        a, i, p = a[order], i[order], p[order]
        new = np.ones(len(kids), bool)
        new[1:] = (a[1:] != a[:-1]) | (i[1:] != i[:-1]) | (p[1:] != p[:-1])
        gid = np.cumsum(new) - 1
        inv[kids[order]] = gid
        n_alg = int(gid[-1]) + 1
    own_rows = np.flatnonzero(own)
    inv[own_rows] = n_alg + np.arange(len(own_rows))
    m = n_alg + len(own_rows)
    par = Columns.zeros(PARENT_DTYPE, m)
    if m == 0:
        return inv.astype(np.int64), par
    # own orders are their own parent (first = last row); children's first and last rows by ufunc.at
    first_row = np.empty(m, np.int64)
    last_row = np.empty(m, np.int64)
    first_row[n_alg:] = own_rows
    last_row[n_alg:] = own_rows
    if n_alg:
        first_row[:n_alg], last_row[:n_alg] = n, -1
        np.minimum.at(first_row, inv[kids], kids)
        np.maximum.at(last_row, inv[kids], kids)
    acct, inst = o["account"][first_row], o["instrument"][first_row]
    parent_id, side = o["parent_id"][first_row], o["side"][first_row]
    filled = t["filled"].astype(np.float64)
    scale = float(ref.price_scale)
    x_exec = np.bincount(inv, weights=filled, minlength=m)
    last_unfilled = np.maximum(o["qty"][last_row] - t["filled"][last_row], 0).astype(np.float64)
    x = x_exec + last_unfilled
    p_arrival = np.ascontiguousarray(t["mid0"])[first_row]
    p_decision = p_arrival.copy()
    if decisions:
        for k in np.flatnonzero(parent_id > 0).tolist():
            d = decisions.get(int(parent_id[k]))
            if d is not None:
                p_decision[k] = d.price
                x[k] = d.qty
    p_close = _per_instrument(closes, inst)
    s = side.astype(np.float64)
    delay = s * x_exec * (p_arrival - p_decision) / scale
    # per-fill parts against the parent's arrival mid
    fr = f["order_row"]
    ok = fr >= 0
    fpar = np.where(ok, inv[np.maximum(fr, 0)], 0)
    parts = cost_parts(tape, fm, ref, anchor_mid=p_arrival[fpar])
    timing, half, impact = (_nansum_by(fpar, getattr(parts, k) * ok, m) for k in ("timing", "half_spread", "impact"))
    fees = np.bincount(inv, weights=t["fees"], minlength=m)
    opportunity = np.where(x == x_exec, 0.0, s * (x - x_exec) * (p_close - p_decision) / scale)
    cols = {"first_row": first_row, "account": acct, "instrument": inst, "parent_id": parent_id, "side": side,
            "accept_ts": o["accept_ts"][first_row], "children": np.bincount(inv, minlength=m),
            "x_exec": x_exec, "x": x, "p_arrival": p_arrival, "p_decision": p_decision, "p_close": p_close,
            "delay": delay, "timing": timing, "half_spread": half, "impact": impact, "fees": fees,
            "opportunity": opportunity, "paper": np.abs(x * p_decision) / scale,
            "shortfall": delay + timing + half + impact + opportunity + fees}
    for name, col in cols.items():
        par[name] = col
    return inv.astype(np.int64), par


def order_groups(an: Analysis, dimension: str, period: str = "hour") -> tuple[list[str], np.ndarray]:
    """(labels, group index of each order) for a dimension."""
    o, ref = an.tape.orders, an.ref
    n = len(o)
    if dimension == "order":
        labels = [f"{ref.symbol(int(i))}:{int(x)}@{int(s)}"
                  for i, x, s in zip(o["instrument"], o["order_id"], o["accept_seq"])]
        return labels, np.arange(n)
    if dimension == "parent":
        p = an.parent_table
        plabels = [f"{ref.symbol(int(r['instrument']))}:{int(r['account'])}:"
                   + (f"P{int(r['parent_id'])}" if r["parent_id"] else f"O{int(o['order_id'][r['first_row']])}")
                   for r in p]
        return plabels, an.order_table["parent"]
    if dimension == "period":
        utc = o["accept_ts"] + an.tape.clock.offset_ns
        width = {"hour": 3600, "day": 86400, "minute": 60}[period] * 10**9
        uniq, inv = np.unique((utc // width) * width, return_inverse=True)
        fmt = "%Y-%m-%d %H:%M" if period != "day" else "%Y-%m-%d"
        return ([datetime.fromtimestamp(int(v) // 10**9, tz=timezone.utc).strftime(fmt) for v in uniq],
                inv.reshape(-1))
    if dimension in grouping.ATOM_DIMENSIONS:
        return _key_groups(ref, dimension, o["account"], o["instrument"])
    raise KeyError(f"unknown dimension {dimension!r} (known: {', '.join(DIMENSIONS)})")


def _key_groups(ref: Reference, dimension: str, account: np.ndarray,
                instrument: np.ndarray) -> tuple[list[str], np.ndarray]:
    """(labels, group of each element) of a dimension decided by account and instrument alone:
    strategy (the account's), account, instrument, venue (one group)."""
    if dimension == "venue":
        return [ref.venue_name], np.zeros(len(account), np.int64)
    col = instrument if dimension == "instrument" else account
    uniq, inv = np.unique(col, return_inverse=True)
    if dimension == "strategy":
        names = [ref.account(int(v)).strategy for v in uniq]
    elif dimension == "account":
        names = [str(int(v)) for v in uniq]
    else:
        names = [ref.symbol(int(v)) for v in uniq]
    labels = sorted(set(names))
    pos = {name: k for k, name in enumerate(labels)}
    remap = np.array([pos[name] for name in names], dtype=np.int64)
    return labels, remap[inv.reshape(-1)] if len(remap) else np.zeros(0, np.int64)


def _div(a: float, b: float, scale: float = 1.0) -> float:
    return float(a) / float(b) * scale if b else float("nan")


def _addends(an: Analysis) -> dict[str, np.ndarray]:
    if "addends" not in an.cache:
        an.cache["addends"] = grouping.order_addends(an.tape.orders, an.order_table, float(an.ref.price_scale))
        an.cache["parent_addends"] = grouping.parent_addends(an.parent_table)
    addends: dict[str, np.ndarray] = an.cache["addends"]
    return addends


def _account_messages(an: Analysis) -> np.ndarray:
    """Order-entry commands per account id (mass cancels of every account counted at 0)."""
    cmd = an.tape.commands
    top = max(int(an.tape.orders["account"].max()) + 1, int(cmd["account"].max()) + 1 if len(cmd) else 0)
    return np.bincount(np.maximum(cmd["account"], 0), minlength=top).astype(np.float64)


def _distinct_sum(g: np.ndarray, account: np.ndarray, per_account: np.ndarray, n_g: int) -> np.ndarray:
    """Per group, the sum of per_account over the distinct accounts in the group."""
    acc = account.astype(np.int64)
    width = int(acc.max()) + 1 if len(acc) else 1
    ga = npx.unique(g.astype(np.int64) * width + acc)
    return np.bincount(ga // width, weights=per_account[ga % width], minlength=n_g)


def _messages(an: Analysis, dimension: str, g: np.ndarray, account: np.ndarray,
              sums: dict[str, np.ndarray], n_g: int) -> np.ndarray:
    """Order messages per group: the venue's command journal, per account from it (account,
    strategy), else the messages naming the group's orders."""
    if dimension == "venue":
        return np.full(n_g, float(len(an.tape.commands)))
    if dimension in ("account", "strategy"):
        return _distinct_sum(g, account, _account_messages(an), n_g)
    return sums["order_messages"]


def _atom_sums(an: Analysis, dimension: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """Group sums of an atom dimension (grouping.py) over every order."""
    addends = _addends(an)
    if "atoms" not in an.cache:
        an.cache["atoms"] = grouping.atoms(an.tape.orders, addends, an.parent_table["first_row"],
                                           an.cache["parent_addends"])
    at: grouping.Atoms = an.cache["atoms"]
    labels, ag = _key_groups(an.ref, dimension, at.account, at.instrument)
    n_g = len(labels)
    sums = grouping.sum_by(ag, at.order_sums, n_g) | grouping.sum_by(ag, at.parent_sums, n_g)
    sums["messages"] = _messages(an, dimension, ag, at.account, sums, n_g)
    return labels, sums


def _direct_sums(an: Analysis, dimension: str, period: str,
                 order_mask: np.ndarray | None) -> tuple[list[str], dict[str, np.ndarray]]:
    """Group sums over the orders in order_mask (all if None); a parent counts once in each group
    holding one of its children."""
    o, par = an.tape.orders, an.parent_table
    addends = _addends(an)
    labels, ginv = order_groups(an, dimension, period)
    n_g = len(labels)
    rows = np.flatnonzero(order_mask) if order_mask is not None else np.arange(len(o))
    g = ginv[rows]
    sums = grouping.sum_by(g, addends, n_g, rows)
    m_par = max(len(par), 1)
    pair = npx.unique(g.astype(np.int64) * m_par + an.order_table["parent"][rows].astype(np.int64))
    sums |= grouping.sum_by(pair // m_par, an.cache["parent_addends"], n_g, pair % m_par)
    sums["messages"] = _messages(an, dimension, g, o["account"][rows], sums, n_g)
    return labels, sums


@npx.small_pages
def summarize(an: Analysis, dimension: str, period: str = "hour",
              order_mask: np.ndarray | None = None) -> list[CostSummary]:
    """One CostSummary per key of `dimension` (orders restricted to order_mask if given), from
    per-group sums of the addends of grouping.py."""
    if dimension not in DIMENSIONS:
        raise KeyError(f"unknown dimension {dimension!r} (known: {', '.join(DIMENSIONS)})")
    if len(an.tape.orders) == 0:
        return []
    if order_mask is None and dimension in grouping.ATOM_DIMENSIONS:
        labels, sums = _atom_sums(an, dimension)
    else:
        labels, sums = _direct_sums(an, dimension, period, order_mask)
    return summaries_from_sums(dimension, labels, sums)


def summaries_from_sums(dimension: str, labels: list[str], s: dict[str, np.ndarray]) -> list[CostSummary]:
    """The ratios of the module docstring, one CostSummary per group with at least one order."""
    out = []
    for k, label in enumerate(labels):
        if s["orders"][k] == 0:
            continue
        q_mid, paper = s["q_mid"][k], s["paper"][k]
        out.append(CostSummary(
            dimension, str(label), int(s["orders"][k]), int(round(s["executions"][k])), int(round(s["shares"][k])),
            float(s["notional"][k]), float(s["fees"][k]), float(s["rebates"][k]),
            _div(s["fees"][k], q_mid, 1e4), _div(s["half_spread"][k], q_mid, 1e4),
            _div(s["impact"][k], q_mid, 1e4), _div(s["timing"][k], q_mid, 1e4),
            _div(s["delay"][k], paper, 1e4), _div(s["opportunity"][k], paper, 1e4),
            _div(s["shortfall"][k], paper, 1e4), float(s["shortfall"][k]),
            _div(s["arr_cost"][k], s["arr_den"][k], 1e4), _div(s["vw_num"][k], s["vw_den"][k], 1e4),
            _div(s["cl_num"][k], s["cl_den"][k], 1e4), _div(s["eff_num"][k], s["eff_den"][k], 1e4),
            {horizon_label(h): _div(s[f"rs_num{j}"][k], s[f"rs_den{j}"][k], 1e4)
             for j, h in enumerate(REALISED_HORIZONS_NS)},
            {horizon_label(h): _div(s[f"mo_num{j}"][k], s[f"mo_den{j}"][k]) for j, h in enumerate(MARKOUT_HORIZONS_NS)},
            _div(s["improved"][k], s["marketable_executed"][k], 100.0),
            _div(s["market_filled"][k], s["market_qty"][k]), _div(s["limit_filled"][k], s["limit_qty"][k]),
            _div(s["messages"][k], s["executions"][k]), int(round(s["messages"][k])), int(round(s["unusable"][k])),
            is_timing_bps=_div(s["is_timing"][k], paper, 1e4), is_half_spread_bps=_div(s["is_half_spread"][k], paper, 1e4),
            is_impact_bps=_div(s["is_impact"][k], paper, 1e4), is_fees_bps=_div(s["is_fees"][k], paper, 1e4)))
    return out


def order_records(an: Analysis, mask: np.ndarray | None = None) -> list[dict[str, object]]:
    """Per-order rows as plain dicts (for tables and DataFrames): ids, prices in currency, costs."""
    o, t, ref = an.tape.orders, an.order_table, an.ref
    idx = np.flatnonzero(mask) if mask is not None else np.arange(len(o))
    sc = float(ref.price_scale)
    out: list[dict[str, object]] = []
    for r in idx.tolist():
        oo, tt = o[r], t[r]
        q = float(tt["filled"])
        mid = float(tt["mid0"])
        out.append({"order_id": int(oo["order_id"]), "symbol": ref.symbol(int(oo["instrument"])),
                    "account": int(oo["account"]), "side": "BUY" if oo["side"] > 0 else "SELL",
                    "type": records.OrdType(int(oo["ord_type"])).name, "qty": int(oo["qty"]),
                    "filled": int(q), "avg_price": float(tt["avg_price"]) / sc,
                    "arrival_mid": mid / sc, "fees": float(tt["fees"]),
                    "slippage_arrival_bps": (float(tt["timing"] + tt["half_spread"] + tt["impact"]) * sc
                                             / (q * mid) * 1e4) if q and np.isfinite(mid) else float("nan"),
                    "live": bool(oo["end_reason"] == END_LIVE)})
    return out


def keyed(summaries: list[CostSummary]) -> dict[str, CostSummary]:
    return {s.key: s for s in summaries}


SummaryFilter = Callable[[CostSummary], bool]
