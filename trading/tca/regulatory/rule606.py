"""SEC Rule 606(a)(1) order-routing report (quarterly, by calendar month): for held, non-directed
orders, per month and per security group (S&P 500 stocks / other NMS stocks; the group comes from
the reference data's `sp500` set, empty by default), the share of orders by type (market,
marketable limit, non-marketable limit, other) and, for each venue the orders were routed to, the
share of orders and of each type, with net payment for order flow and rebates received.

This venue executes every order it accepts and routes none: the only "venue" is itself, with 100 %
of orders and no payment for order flow. The report is still produced from the journal so that its
order counts reconcile with it.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from trading.tca import codes
from trading.tca.analysis import Analysis
from trading.tca.errors import NoData

COLUMNS = ("month", "security_group", "venue", "total_orders", "market_pct", "marketable_limit_pct",
           "non_marketable_limit_pct", "other_pct", "venue_share_pct", "net_pfof_market",
           "net_pfof_marketable_limit", "net_pfof_non_marketable_limit", "net_pfof_other")
HEADER = ("SEC Rule 606(a)(1) order-routing report by calendar month, from the venue journal",
          "one venue: every order is executed here and none is routed; payment for order flow: none")


def rule606(an: Analysis, sp500: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """Rows per month x security group. NoData if the tape holds no order."""
    o = an.tape.orders
    if len(o) == 0:
        raise NoData("Rule 606: no orders in the period")
    utc = o["accept_ts"] + an.tape.clock.offset_ns
    months = np.array([datetime.fromtimestamp(int(u) // 10**9, tz=timezone.utc).strftime("%Y-%m") for u in utc])
    group = np.array(["S&P 500" if an.ref.symbol(int(i)) in sp500 else "other NMS stocks"
                      for i in o["instrument"]])
    kind = np.where(o["ord_type"] == codes.ORD_MARKET, "market",
                    np.where(o["ord_type"] == codes.ORD_LIMIT,
                             np.where(o["marketable"], "marketable_limit", "non_marketable_limit"), "other"))
    rows = []
    for month in sorted(set(months.tolist())):
        for g in ("S&P 500", "other NMS stocks"):
            sel = (months == month) & (group == g)
            n = int(sel.sum())
            if n == 0:
                continue
            pct = {k: f"{100.0 * int((kind[sel] == k).sum()) / n:.2f}"
                   for k in ("market", "marketable_limit", "non_marketable_limit", "other")}
            rows.append({"month": month, "security_group": g, "venue": an.ref.venue_mic, "total_orders": str(n),
                         "market_pct": pct["market"], "marketable_limit_pct": pct["marketable_limit"],
                         "non_marketable_limit_pct": pct["non_marketable_limit"], "other_pct": pct["other"],
                         "venue_share_pct": "100.00", "net_pfof_market": "0.00",
                         "net_pfof_marketable_limit": "0.00", "net_pfof_non_marketable_limit": "0.00",
                         "net_pfof_other": "0.00"})
    return rows
