"""MiFID II best-execution reports, produced as the seed asks, with their regulatory status in
the header:

- RTS 27 (Commission Delegated Regulation (EU) 2017/575): execution-venue quality data per
  instrument and trading day. The obligation (MiFID II Art. 27(3)) was suspended for two years by
  Directive (EU) 2021/338 and then deleted by Directive (EU) 2024/790; no venue must publish it now.
- RTS 28 (Commission Delegated Regulation (EU) 2017/576): an investment firm's top five execution
  venues per class of instruments. The obligation (Art. 27(6)) was deleted by Directive (EU)
  2024/790; ESMA had already asked supervisors not to prioritise it (2021).
Both are produced for internal best-execution review; they are not regulatory filings.

RTS 27 here: per instrument and day, Table 2 (prices: simple average, VWAP, high, low of
executions), Table 3 (costs: total fees and rebates charged by the venue), Table 4 (likelihood:
orders received, executed, cancelled, modified, rejected) and Table 6 (speed: median time from
receipt to first execution). RTS 28: per account's firm and instrument class (all are equities
here), one venue: its share of volume and orders, and of passive and aggressive executions.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from trading.tca.analysis import Analysis
from trading.tca.errors import NoData
from trading.tca.tape import LIQ_MAKER, LIQ_TAKER

RTS27_STATUS = ("RTS 27 (Delegated Regulation (EU) 2017/575): obligation suspended by Directive (EU) "
                "2021/338 and deleted by Directive (EU) 2024/790; produced for internal best-execution "
                "review, not a regulatory filing")
RTS28_STATUS = ("RTS 28 (Delegated Regulation (EU) 2017/576): obligation deleted by Directive (EU) "
                "2024/790; produced for internal best-execution review, not a regulatory filing")
RTS27_COLUMNS = ("venue", "date", "symbol", "isin", "executions", "volume", "simple_avg_price", "vwap",
                 "high", "low", "fees_total", "rebates_total", "orders_received", "orders_executed",
                 "orders_cancelled", "orders_modified", "orders_rejected", "median_ms_to_first_execution")
RTS28_COLUMNS = ("firm", "instrument_class", "venue", "venue_mic", "volume_pct", "orders_pct",
                 "passive_pct", "aggressive_pct", "directed_pct", "executions", "volume")


def _day(an: Analysis, ts: np.ndarray) -> np.ndarray:
    off = an.tape.clock.offset_ns
    return np.array([datetime.fromtimestamp(int(t + off) // 10**9, tz=timezone.utc).strftime("%Y-%m-%d")
                     for t in ts], dtype=object)


def rts27(an: Analysis) -> list[dict[str, str]]:
    tape, ref, t = an.tape, an.ref, an.order_table
    o, f = tape.orders, tape.fills
    if len(o) == 0:
        raise NoData("RTS 27: no orders in the period")
    oday, fday = _day(an, o["accept_ts"]), _day(an, f["ts"])
    rday = _day(an, tape.rejects["ts"])
    rows = []
    fee = an.fills.fee
    for day in sorted(set(oday.tolist()) | set(fday.tolist())):
        for iid in sorted(set(o["instrument"].tolist())):
            om = (oday == day) & (o["instrument"] == iid)
            fm = (fday == day) & (f["instrument"] == iid)
            tr = f[fm][0::2]
            px = tr["price"].astype(np.float64) / ref.price_scale
            q = tr["qty"].astype(np.float64)
            first = o["first_fill_ts"][om]
            waits = (first[first > 0] - o["accept_ts"][om][first > 0]) / 1e6
            rows.append({
                "venue": ref.venue_mic, "date": day, "symbol": ref.symbol(iid), "isin": ref.instrument(iid).isin,
                "executions": str(len(tr)), "volume": str(int(q.sum())),
                "simple_avg_price": f"{px.mean():.4f}" if len(px) else "",
                "vwap": f"{(px * q).sum() / q.sum():.4f}" if len(px) else "",
                "high": f"{px.max():.4f}" if len(px) else "", "low": f"{px.min():.4f}" if len(px) else "",
                "fees_total": f"{fee[fm][fee[fm] > 0].sum():.2f}",
                "rebates_total": f"{-fee[fm][fee[fm] < 0].sum():.2f}",
                "orders_received": str(int(om.sum())),
                "orders_executed": str(int((t["filled"][om] > 0).sum())),
                "orders_cancelled": str(int((o["cancelled_qty"][om] > 0).sum())),
                "orders_modified": str(int((o["replaces"][om] > 0).sum())),
                "orders_rejected": str(int(((rday == day) & (tape.rejects["instrument"] == iid)).sum())),
                "median_ms_to_first_execution": f"{np.median(waits):.3f}" if len(waits) else ""})
    return rows


def rts28(an: Analysis) -> list[dict[str, str]]:
    tape, ref = an.tape, an.ref
    f = tape.fills
    if len(f) == 0:
        raise NoData("RTS 28: no executions in the period")
    firms = np.array([ref.account(int(a)).firm or f"account {int(a)}" for a in f["account"]], dtype=object)
    rows = []
    for firm in sorted(set(firms.tolist())):
        m = firms == firm
        n = int(m.sum())
        rows.append({"firm": firm, "instrument_class": "equities (shares)", "venue": ref.venue_name,
                     "venue_mic": ref.venue_mic, "volume_pct": "100.00", "orders_pct": "100.00",
                     "passive_pct": f"{100.0 * int((f['liquidity'][m] == LIQ_MAKER).sum()) / n:.2f}",
                     "aggressive_pct": f"{100.0 * int((f['liquidity'][m] == LIQ_TAKER).sum()) / n:.2f}",
                     "directed_pct": "0.00", "executions": str(n), "volume": str(int(f["qty"][m].sum())),
                     })
    return rows
