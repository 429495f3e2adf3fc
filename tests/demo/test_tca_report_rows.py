"""`python -m trading report tca --by account --json` on a demo run's journal, every account's row
against a direct computation from the decoded journal (tests/demo/journal_figures.py: plain loops,
exact fractions, no trading/tca import): orders, executions, shares, notional, fees by liquidity
(the reference's default schedule: taker 0.30, maker -0.20, auction 0.10 cents a share), order
messages and the order-to-trade ratio, slippage against each order's arrival mid, effective spread
and the markouts at the horizons the journal reached (null in the JSON where it reached none: the
JSON is strict, no bare NaN; before, the per-horizon markouts and realised spreads were written as
NaN, which strict JSON readers refuse)."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from native.messages import AcceptedEvent, MassCancel
from tests.demo.journal_figures import (AUCTION_FEE, MAKER_FEE, PRICE_SCALE, TAKER_FEE, Journal, Quotes,
                                        effective_spread_bps, markout_bps)

ROOT = Path(__file__).resolve().parents[2]
HORIZONS_NS = {"100ms": 100_000_000, "1s": 1_000_000_000, "10s": 10_000_000_000, "60s": 60_000_000_000}


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, object]], Journal]:
    tmp = tmp_path_factory.mktemp("tca-rows")
    demo = subprocess.run([sys.executable, "-m", "gateway", "demo", "--orders", "3000", "--seed", "7",
                           "--report-dir", str(tmp / "reports"), "--journal-dir", str(tmp / "journal")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    tca = subprocess.run([sys.executable, "-m", "trading", "report", "tca", "--journal", str(tmp / "journal"),
                          "--by", "account", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert tca.returncode == 0, tca.stderr
    def strict(token: str) -> float:
        raise AssertionError(f"non-JSON number {token} in report tca --json")
    out = {r["key"]: r for r in (json.loads(line, parse_constant=strict) for line in tca.stdout.splitlines())}
    return out, Journal.read(str(tmp / "journal"))


def _close(printed: object, exact: Fraction | float, tol: float = 1e-6) -> bool:
    if printed is None:
        return exact != exact
    return abs(float(printed) - float(exact)) <= tol * max(1.0, abs(float(exact)))   # type: ignore[arg-type]


def test_every_account_row_recomputed(rows: tuple[dict[str, dict[str, object]], Journal]) -> None:
    out, j = rows
    quotes = Quotes(j.events)
    arrival: dict[int, tuple[int, int]] = {}
    for ev in j.events:
        if isinstance(ev, AcceptedEvent):
            arrival.setdefault(ev.order_id, (ev.instrument_id, ev.seq))
    accounts = sorted({j.owner[o] for o in arrival})
    assert sorted(out) == sorted(str(a) for a in accounts)
    last = max(e.ts_ns for e in j.events)
    for acct in accounts:
        row = out[str(acct)]
        executions = shares = 0
        notional = fees = cost = cost_den = Fraction(0)
        for t in j.trades():
            for side, who, oid in ((1, t.buy_account_id, t.buy_order_id), (-1, t.sell_account_id, t.sell_order_id)):
                if who != acct:
                    continue
                executions += 1
                shares += t.qty
                notional += Fraction(t.price * t.qty, PRICE_SCALE)
                liquidity = (TAKER_FEE if t.aggressor_side == (1 if side == 1 else 2) else MAKER_FEE) \
                    if t.aggressor_side else AUCTION_FEE
                fees += t.qty * liquidity
                m_o = quotes.mid_before(*arrival[oid])
                if m_o is not None:
                    cost += side * t.qty * (t.price - m_o)
                    cost_den += t.qty * m_o
        messages = Counter(type(c).__name__ for c in j.commands
                           if j.account_of(c) == acct and not (isinstance(c, MassCancel) and c.account_id == 0))
        n_messages = sum(messages[k] for k in ("NewOrder", "Cancel", "Replace", "MassCancel"))
        assert row["orders"] == sum(j.owner[o] == acct for o in arrival), acct
        assert (row["executions"], row["shares"]) == (executions, shares), acct
        assert _close(row["notional"], notional) and _close(row["fees"], fees), (acct, row["fees"], float(fees))
        assert row["order_messages"] == n_messages, (acct, messages)
        assert _close(row["order_to_trade"], Fraction(n_messages, executions) if executions else float("nan"))
        assert _close(row["slippage_arrival_bps"], cost / cost_den * 10_000 if cost_den else float("nan")), acct
        assert _close(row["effective_spread_bps"], effective_spread_bps(j, quotes, acct)), acct
        for label, h in HORIZONS_NS.items():
            expected = markout_bps(j, quotes, h, acct)
            assert _close(row["markout_bps"][label], expected), (acct, label)   # type: ignore[index]
            assert (expected == expected) == any(t.ts_ns + h <= last for t in j.trades()
                                                 if acct in (t.buy_account_id, t.sell_account_id)), (acct, label)
