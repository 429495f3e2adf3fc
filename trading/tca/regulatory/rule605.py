"""SEC Rule 605 of Regulation NMS, monthly execution-quality report, in the layout of the rule as
amended in 2024 (Release 34-99679, 89 FR 26428, April 15, 2024), as we read it: rows per
security x order type x order size; covered orders, cancelled and executed shares, share-weighted
average and median time to execution (millisecond increments or finer) and executed shares per
time-to-execution bucket, average effective spread, effective-over-quoted ratio, realised spread
at 15 seconds and at 1 minute, and price-improved / at-the-quote / outside-the-quote shares with
their average amount and time. The categories and columns below are data (ORDER_TYPES, SIZES,
TIME_BUCKETS_MS, COLUMNS, FIELDS); check them against the SEC's technical specification before
filing. Every row is validated against FIELDS before the report is written.

Measured as follows on this venue (one venue: the NBBO is its own BBO, rebuilt from the event
journal): quote at receipt = the BBO in force when the order's command arrived; effective spread
= 2 |p - m_o| signed as a cost (measures.py); realised spread at h = 2 s (p - m(t + h)); price
improvement for marketable orders against the far touch at receipt. Order size = shares (odd lot
below the instrument's round lot) and, for round lots, notional value at the arrival mid. Executed
away: always 0 (this venue routes nothing).

Time to execution (average, median, the time buckets, and the times of the price-improved /
at-quote / outside-quote shares): from receipt for marketable orders and stop orders; for
non-marketable limit orders (BML, ATQ, NRQ) from the time the order became executable, as the
amended rule asks (Release 34-99679, on non-marketable limit orders: their time to execution runs
from when they become executable, so that it measures the market center rather than how long the
market took to come to the order). Our reading of "executable", stated in the report's header:
the first moment after receipt at which the opposite side of the NBBO is at or through the
order's limit price (a buy's limit >= the national best offer, a sell's <= the best bid), or the
order's first execution if that comes first. On one venue whose BBO is the NBBO, a resting order
is usually reached by the trade that executes it, so its first fill is mostly at time 0 and later
fills show how long the rest waited. The column time_basis names the basis of each row;
executable_orders counts the row's NMLOs that became executable (blank for marketable rows, which
are executable on receipt). Quote moments come from quotes.first_reaching over the BBO series (a
vectorised first passage).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import numpy as np

from trading.tca import codes, npx
from trading.tca.analysis import Analysis
from trading.tca.errors import NoData
from trading.tca.measures import REALISED_HORIZONS_NS, horizon_label
from trading.tca.quotes import first_reaching
from trading.tca.regulatory.fieldrules import FieldRule, Violation, validate

ORDER_TYPES: tuple[tuple[str, str], ...] = (
    ("MKT", "market orders"),
    ("MLO", "marketable limit orders (not IOC)"),
    ("MIOC", "marketable immediate-or-cancel orders"),
    ("BML", "beyond-the-midpoint non-marketable limit orders"),
    ("ATQ", "at-the-quote non-marketable limit orders"),
    ("NRQ", "near-the-quote non-marketable limit orders (within $0.10 of the same-side quote)"),
    ("STOP", "stop orders that became executable (triggered)"),
)
SIZES: tuple[tuple[str, str, float, float], ...] = (   # code, label, notional lo, hi (round lots)
    ("ODD", "odd lot (< 1 round lot)", 0.0, 0.0),
    ("R1", "round lot, < $250", 0.0, 250.0),
    ("R2", "round lot, $250 to < $1,000", 250.0, 1_000.0),
    ("R3", "round lot, $1,000 to < $5,000", 1_000.0, 5_000.0),
    ("R4", "round lot, $5,000 to < $20,000", 5_000.0, 20_000.0),
    ("R5", "round lot, $20,000 to < $50,000", 20_000.0, 50_000.0),
    ("R6", "round lot, $50,000 to < $200,000", 50_000.0, 200_000.0),
    ("R7", "round lot, $200,000 or more", 200_000.0, float("inf")),
)
TIME_BUCKETS_MS: tuple[tuple[str, float, float], ...] = (
    ("lt_1ms", 0.0, 1.0), ("1ms_lt_100ms", 1.0, 100.0), ("100ms_lt_1s", 100.0, 1_000.0),
    ("1s_lt_10s", 1_000.0, 10_000.0), ("10s_lt_30s", 10_000.0, 30_000.0),
    ("30s_lt_60s", 30_000.0, 60_000.0), ("ge_60s", 60_000.0, float("inf")))
NMLO_TYPES = ("BML", "ATQ", "NRQ")
_RS = [horizon_label(h) for h in REALISED_HORIZONS_NS]
COLUMNS: tuple[str, ...] = (
    "market_center", "month", "symbol", "order_type", "order_size", "covered_orders", "covered_shares",
    "cancelled_shares", "executed_shares", "executed_away_shares", "time_basis", "executable_orders",
    "avg_time_to_execution_ms",
    "median_time_to_execution_ms", *[f"executed_shares_{b[0]}" for b in TIME_BUCKETS_MS],
    "avg_effective_spread", "effective_over_quoted_pct", *[f"avg_realised_spread_{h}" for h in _RS],
    "price_improved_shares", "avg_price_improvement", "avg_time_price_improved_ms",
    "at_quote_shares", "avg_time_at_quote_ms", "outside_quote_shares", "avg_outside_amount",
    "avg_time_outside_ms")
_CODES = "|".join(c for c, _ in ORDER_TYPES)
_SIZES = "|".join(c for c, *_ in SIZES)
_NUM = r"-?\d+(\.\d+)?|"                      # a number, or empty where nothing was executed
FIELDS: tuple[FieldRule, ...] = (
    FieldRule("", "market_center", True, "mic"),
    FieldRule("", "month", True, "regex", r"\d{4}-\d{2}"),
    FieldRule("", "symbol", True, "regex", r"[A-Z0-9.]{1,12}"),
    FieldRule("", "order_type", True, "enum", _CODES),
    FieldRule("", "order_size", True, "enum", _SIZES),
    FieldRule("", "time_basis", True, "enum", "receipt|executable"),
    FieldRule("", "executable_orders", False, "int"),
    *[FieldRule("", c, True, "int") for c in ("covered_orders", "covered_shares", "cancelled_shares",
                                              "executed_shares", "executed_away_shares",
                                              *[f"executed_shares_{b[0]}" for b in TIME_BUCKETS_MS],
                                              "price_improved_shares", "at_quote_shares",
                                              "outside_quote_shares")],
    *[FieldRule("", c, False, "regex", _NUM) for c in (
        "avg_time_to_execution_ms", "median_time_to_execution_ms", "avg_effective_spread",
        "effective_over_quoted_pct", *[f"avg_realised_spread_{h}" for h in _RS],
        "avg_price_improvement", "avg_time_price_improved_ms", "avg_time_at_quote_ms",
        "avg_outside_amount", "avg_time_outside_ms")],
)

HEADER = ("SEC Rule 605 monthly execution-quality report, layout of the rule as amended in 2024 "
          "(Release 34-99679, 89 FR 26428), as read by this generator",
          "NBBO = this venue's own BBO rebuilt from its event journal (one venue)",
          "time to execution: from receipt for marketable and stop orders; for non-marketable limit orders "
          "(BML, ATQ, NRQ) from when the order became executable (the amended rule), read as the first moment "
          "the opposite side of the NBBO was at or through its limit, or its first execution if earlier",
          "prices in currency per share; times in milliseconds, share-weighted")


@dataclass(frozen=True)
class Rule605Report:
    rows: list[dict[str, str]]
    violations: list[Violation]
    month: str


def _order_type(an: Analysis) -> np.ndarray:
    o = an.tape.orders
    buy = o["side"] > 0
    mid = an.order_table["mid0"]
    same = np.where(buy, o["bid0"], o["ask0"]).astype(np.float64)
    ten_cents = 0.10 * an.ref.price_scale
    out = np.full(len(o), "", dtype=object)
    is_lim = o["ord_type"] == codes.ORD_LIMIT
    ioc = np.isin(o["tif"], [codes.TIF_IOC, codes.TIF_FOK])
    out[o["ord_type"] == codes.ORD_MARKET] = "MKT"
    out[is_lim & o["marketable"] & ~ioc] = "MLO"
    out[is_lim & o["marketable"] & ioc] = "MIOC"
    nm = is_lim & ~o["marketable"] & np.isfinite(mid)
    beyond = np.where(buy, o["price"] > mid, o["price"] < mid)
    at_q = o["price"] == same
    near = np.where(buy, (o["price"] < same) & (same - o["price"] <= ten_cents),
                    (o["price"] > same) & (o["price"] - same <= ten_cents))
    out[nm & beyond] = "BML"
    out[nm & ~beyond & at_q] = "ATQ"
    out[nm & ~beyond & near] = "NRQ"
    out[np.isin(o["ord_type"], [codes.ORD_STOP, codes.ORD_STOP_LIMIT]) & (o["trigger_ts"] > 0)] = "STOP"
    return out


def _size(an: Analysis) -> np.ndarray:
    o, ref = an.tape.orders, an.ref
    lots = np.array([ref.instrument(int(i)).round_lot for i in o["instrument"]], dtype=np.int64)
    notional = o["qty"] * np.nan_to_num(an.order_table["mid0"]) / ref.price_scale
    out = np.full(len(o), "", dtype=object)
    out[o["qty"] < lots] = "ODD"
    for code, _, lo, hi in SIZES[1:]:
        out[(o["qty"] >= lots) & (notional >= lo) & (notional < hi)] = code
    return out


def executable_times(an: Analysis, nmlo: np.ndarray) -> np.ndarray:
    """Per order, the engine time (ns) at which each order in `nmlo` became executable (module
    docstring): the first quote after receipt whose opposite side reaches its limit, while the
    order was still live, or its first fill if earlier; 0 where neither happened."""
    o = an.tape.orders
    out = np.zeros(len(o), np.int64)
    for iid in npx.unique(o["instrument"][nmlo]).tolist():
        rows = np.flatnonzero(nmlo & (o["instrument"] == iid))
        series = an.tape.quotes.get(int(iid))
        reach = (first_reaching(series, o["accept_seq"][rows], o["price"][rows], o["side"][rows] > 0)
                 if series is not None else np.zeros(len(rows), np.int64))
        end = o["end_ts"][rows]
        reach = np.where((reach > 0) & ((end == 0) | (reach <= end)), reach, 0)   # a dead order cannot be reached
        fill = o["first_fill_ts"][rows]
        out[rows] = np.where((reach > 0) & ((fill == 0) | (reach < fill)), reach, fill)
    return out


def _basis_violations(rows: list[dict[str, str]]) -> list[Violation]:
    """Row rule: NMLO rows are timed from executability, every other row from receipt."""
    out = []
    for i, r in enumerate(rows):
        want = "executable" if r.get("order_type") in NMLO_TYPES else "receipt"
        if r.get("time_basis") != want:
            out.append(Violation(i, "time_basis", str(r.get("time_basis")), f"{r.get('order_type')} rows are timed "
                                                                             f"from {want}"))
        if (r.get("executable_orders", "") != "") != (want == "executable"):
            out.append(Violation(i, "executable_orders", str(r.get("executable_orders")),
                                 "given for NMLO rows only"))
    return out


def _fmt(x: float, digits: int = 4) -> str:
    return "" if not np.isfinite(x) else f"{x:.{digits}f}"


def rule605(an: Analysis, month: str) -> Rule605Report:
    """The report for `month` (YYYY-MM) over the analysis' tape (load the month's window first).
    NoData if no covered order was received in it."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
    except ValueError:
        raise NoData(f"month must be YYYY-MM, got {month!r}") from None
    tape, ref = an.tape, an.ref
    o, f, fm = tape.orders, tape.fills, an.fills
    utc = o["accept_ts"] + tape.clock.offset_ns
    y, m = start.year + (start.month == 12), start.month % 12 + 1
    end = datetime(y, m, 1, tzinfo=timezone.utc)
    in_month = (utc >= int(start.timestamp()) * 10**9) & (utc < int(end.timestamp()) * 10**9)
    otype, osize = _order_type(an), _size(an)
    covered = in_month & (otype != "") & (osize != "")
    if not covered.any():
        raise NoData(f"Rule 605 {month}: no covered order received in the month")
    scale = float(ref.price_scale)
    frow = f["order_row"]
    fok = frow >= 0
    executable_ts = executable_times(an, covered & np.isin(otype, NMLO_TYPES))
    since = np.where(executable_ts > 0, executable_ts, o["accept_ts"])       # NMLOs: from executable
    ftime_ms = np.where(fok, (f["ts"] - since[np.maximum(frow, 0)]) / 1e6, np.nan)
    fq = f["qty"].astype(np.float64)
    far0 = np.where(f["side"] > 0, o["ask0"][np.maximum(frow, 0)], o["bid0"][np.maximum(frow, 0)])
    quoted = (o["ask0"] - o["bid0"]).astype(np.float64)[np.maximum(frow, 0)]
    rows: list[dict[str, str]] = []
    for iid in sorted(set(o["instrument"][covered].tolist())):
        for code, _ in ORDER_TYPES:
            for scode, *_ in SIZES:
                sel = covered & (o["instrument"] == iid) & (otype == code) & (osize == scode)
                if not sel.any():
                    continue
                fs = fok & sel[np.maximum(frow, 0)]
                q = fq[fs]
                ex = float(q.sum())
                tt = ftime_ms[fs]
                wavg: Callable[[np.ndarray, np.ndarray], float] = (
                    lambda v, w: float((v * w).sum() / w.sum()) if w.sum() > 0 else float("nan"))
                order_idx = np.argsort(tt)
                cum = np.cumsum(q[order_idx])
                median = float(tt[order_idx][np.searchsorted(cum, cum[-1] / 2.0)]) if len(q) else float("nan")
                eff = fm.effective_spread[fs] / scale
                effq = np.isfinite(eff)
                row: dict[str, str] = {
                    "market_center": ref.venue_mic, "month": month, "symbol": ref.symbol(iid),
                    "order_type": code, "order_size": scode, "covered_orders": str(int(sel.sum())),
                    "covered_shares": str(int(o["qty"][sel].sum())),
                    "cancelled_shares": str(int(o["cancelled_qty"][sel].sum())),
                    "executed_shares": str(int(ex)), "executed_away_shares": "0",
                    "time_basis": "executable" if code in NMLO_TYPES else "receipt",
                    "executable_orders": str(int((executable_ts[sel] > 0).sum())) if code in NMLO_TYPES else "",
                    "avg_time_to_execution_ms": _fmt(wavg(tt, q), 3), "median_time_to_execution_ms": _fmt(median, 3),
                    "avg_effective_spread": _fmt(wavg(eff[effq], q[effq])),
                    "effective_over_quoted_pct": _fmt(100.0 * wavg(fm.effective_spread[fs][effq], q[effq])
                                                      / wavg(quoted[fs][effq], q[effq]) if effq.any() else float("nan"), 2),
                }
                for b, lo, hi in TIME_BUCKETS_MS:
                    row[f"executed_shares_{b}"] = str(int(q[(tt >= lo) & (tt < hi)].sum()))
                for h, lab in zip(REALISED_HORIZONS_NS, _RS):
                    rs = fm.realised_spread[h][fs] / scale
                    ok = np.isfinite(rs)
                    row[f"avg_realised_spread_{lab}"] = _fmt(wavg(rs[ok], q[ok]))
                marketable = code in ("MKT", "MLO", "MIOC", "STOP")
                pi = (f["side"][fs] * (far0[fs] - f["price"][fs])).astype(np.float64) / scale
                has_q = far0[fs] > 0
                imp, atq, out_q = (pi > 0) & has_q, (pi == 0) & has_q, (pi < 0) & has_q
                if not marketable:
                    imp = atq = out_q = np.zeros(len(q), bool)
                row.update({
                    "price_improved_shares": str(int(q[imp].sum())),
                    "avg_price_improvement": _fmt(wavg(pi[imp], q[imp])),
                    "avg_time_price_improved_ms": _fmt(wavg(tt[imp], q[imp]), 3),
                    "at_quote_shares": str(int(q[atq].sum())),
                    "avg_time_at_quote_ms": _fmt(wavg(tt[atq], q[atq]), 3),
                    "outside_quote_shares": str(int(q[out_q].sum())),
                    "avg_outside_amount": _fmt(wavg(-pi[out_q], q[out_q])),
                    "avg_time_outside_ms": _fmt(wavg(tt[out_q], q[out_q]), 3)})
                rows.append(row)
    return Rule605Report(rows, validate(rows, FIELDS) + _basis_violations(rows), month)
