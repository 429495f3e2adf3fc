"""A live venue day with a market maker AND an execution algorithm running: the demo's venue
(gateway/demo/venue.py: engine and gateway in their own processes, a seeded order flow through the
rings and over TCP, the live market maker on AAPL and a POV parent order on MSFT, each in its own
process and account) writes its journal; every report generated from it reconciles exactly with
the journal (trades, shares, notional, fees, order counts, per account: the market maker's and the
algorithm's included), and the Rule 605 and RTS 22 outputs validate against their rules (the
report verbs refuse to write a report that fails them).

Truth is computed here straight from the journal's raw event records (no TCA code): every TRADE
event's quantity and price, the fee of each side from the reference's schedule by the side's
role (aggressor: taker; resting: maker; no aggressor: auction), every ACCEPTED event."""
from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from gateway.demo.flow import INSTRUMENTS, MAKER_ACCOUNTS, PRICE_UNIT_PER_USD, TAKER_ACCOUNTS, DemoFlow
from gateway.demo.venue import ALGO_ACCOUNT, MM_ACCOUNT, run_venue
from gateway.enginehost import journal
from native import records
from trading.tca import codes
from trading.tca.cli import main

ISINS = {"AAPL": "US0378331005", "MSFT": "US5949181045", "GOOG": "US02079K1079"}
TAKER, MAKER, AUCTION = 0.003, -0.002, 0.001
ACCOUNTS = (*MAKER_ACCOUNTS, *TAKER_ACCOUNTS, MM_ACCOUNT, ALGO_ACCOUNT)


def _reference() -> str:
    text = (f'[venue]\nname = "DEMO"\nmic = "XDMO"\nlei = "529900T8BM49AURSDO55"\nprice_scale = {PRICE_UNIT_PER_USD}\n'
            f"[fees]\ntaker_per_share = {TAKER}\nmaker_per_share = {MAKER}\nauction_per_share = {AUCTION}\n")
    for ins in INSTRUMENTS:
        text += f'[[instruments]]\nid = {ins.instrument_id}\nsymbol = "{ins.symbol}"\nisin = "{ISINS[ins.symbol]}"\n'
    for a in ACCOUNTS:
        text += (f'[[accounts]]\nid = {a}\nfirm = "f{a}"\nstrategy = "s{a}"\nlei = "5493001KJTIIGC8Y1R12"\n'
                 f'decision_maker = "D{a}"\n')
    return text


def _truth(jdir: str) -> dict[str, float]:
    _, _, pay = journal.read_records(jdir, journal.KIND_EVT)
    recs = pay.view(records.RECORD_DTYPE).reshape(-1)
    typ = recs.view(records.dtype_of("eng_evt_hdr_t"))["type"]
    tr = recs[typ == codes.EVT_TRADE].view(records.EVT_DTYPES[codes.EVT_TRADE])
    q = tr["qty"].astype(np.int64)
    auction = tr["aggressor_side"] == 0
    # per trade: the taker's fee and the maker's (continuous), or two auction fees
    fees = np.where(auction, 2 * AUCTION * q, TAKER * q)
    rebates = np.where(auction, 0.0, -MAKER * q)
    out = {"trades": len(tr), "shares": int(q.sum()), "notional_units": int((tr["price"].astype(np.int64) * q).sum()),
           "accepted": int((typ == codes.EVT_ACCEPTED).sum()), "fees": float(fees.sum()),
           "rebates": float(rebates.sum())}
    acc = recs[typ == codes.EVT_ACCEPTED].view(records.EVT_DTYPES[codes.EVT_ACCEPTED])
    for a in (MM_ACCOUNT, ALGO_ACCOUNT):
        out[f"orders_{a}"] = int((acc["account_id"] == a).sum())
        mine = (tr["buy_account_id"] == a) | (tr["sell_account_id"] == a)
        out[f"fills_{a}"] = int(mine.sum())
        out[f"shares_{a}"] = int(q[mine].sum())
        # the strategy's own view: one fill per side of a trade that is its own (a self-trade is
        # two fills), and its net position
        buys, sells = tr["buy_account_id"] == a, tr["sell_account_id"] == a
        out[f"own_fills_{a}"] = int(buys.sum() + sells.sum())
        out[f"position_{a}"] = int(q[buys].sum() - q[sells].sum())
    return out


def _report(verb: str, *args: str, jdir: str, ref: str) -> None:
    assert main([verb, *args, "--journal", jdir, "--reference", ref]) == 0, verb


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(x for x in open(path) if not x.startswith("#")))


@pytest.mark.slow
def test_live_day_with_market_maker_and_algorithm_reconciles(tmp_path: Path) -> None:
    jdir = tmp_path / "journal"
    venue = run_venue(DemoFlow(seed=20261123, orders_per_instrument=3000), jdir)
    assert venue.market_maker["fills"] > 0 and venue.execution["fills"] > 0   # both ran and traded
    ref = tmp_path / "ref.toml"
    ref.write_text(_reference())
    t = _truth(str(jdir))
    j, r = str(jdir), str(ref)

    _report("daily", "--out", str(tmp_path / "d"), "--date", _day(j), jdir=j, ref=r)
    summary = json.loads(next((tmp_path / "d").glob("daily-*.json")).read_text())
    tot = summary["totals"]
    assert (tot["executions"], tot["shares"], tot["orders"]) == (t["trades"], t["shares"], t["accepted"])
    assert Decimal(str(tot["notional"])) == Decimal(t["notional_units"]) / PRICE_UNIT_PER_USD
    assert tot["fees_paid"] == pytest.approx(t["fees"], abs=1e-6)
    assert tot["rebates_paid"] == pytest.approx(t["rebates"], abs=1e-6)
    by_acct = {a["key"]: a for a in summary["by_account"]}
    assert sum(a["shares"] for a in by_acct.values()) == 2 * t["shares"]
    assert sum(a["orders"] for a in by_acct.values()) == t["accepted"]
    # the market maker's and the algorithm's accounts, as the journal has them, and as their own
    # live ledgers booked them (trading/strategy/live.py): exactly the journal's fills
    for a, own in ((MM_ACCOUNT, venue.market_maker), (ALGO_ACCOUNT, venue.execution)):
        assert (own["fills"], own["position"]) == (t[f"own_fills_{a}"], t[f"position_{a}"]), \
            f"account {a}: its ledger {own['fills']} fills, position {own['position']}; the journal " \
            f"{t[f'own_fills_{a}']} fills, position {t[f'position_{a}']}"
        row = by_acct[str(a)]
        assert (row["executions"], row["shares"]) == (t[f"fills_{a}"], t[f"shares_{a}"])
        assert row["orders"] == t[f"orders_{a}"] and row["executions"] > 0

    _report("rts22", "--out", str(tmp_path / "22.csv"), jdir=j, ref=r)
    rows = _rows(tmp_path / "22.csv")
    assert len(rows) == 2 * t["trades"] and sum(int(x["quantity"]) for x in rows) == 2 * t["shares"]
    assert sum(Decimal(x["quantity"]) * Decimal(x["price"]) for x in rows) == \
        2 * Decimal(t["notional_units"]) / PRICE_UNIT_PER_USD
    _report("rule605", "--month", _day(j)[:7], "--out", str(tmp_path / "605.csv"), jdir=j, ref=r)
    rows605 = _rows(tmp_path / "605.csv")
    assert rows605 and sum(int(x["executed_shares"]) for x in rows605) <= 2 * t["shares"]
    _report("audit", "--out", str(tmp_path / "a"), jdir=j, ref=r)
    trail = [json.loads(x) for x in open(tmp_path / "a" / "audit-trail.jsonl")]
    assert sum(1 for x in trail if x["event"] == "ACCEPTED") == t["accepted"]
    assert sum(x["qty"] for x in trail if x["event"] == "EXECUTED") == 2 * t["shares"]
    _report("rts27", "--out", str(tmp_path / "27.csv"), jdir=j, ref=r)
    rows27 = _rows(tmp_path / "27.csv")
    assert sum(int(x["volume"]) for x in rows27) == t["shares"]
    assert sum(int(x["orders_received"]) for x in rows27) == t["accepted"]
    _report("rule606", "--out", str(tmp_path / "606.csv"), jdir=j, ref=r)
    assert sum(int(x["total_orders"]) for x in _rows(tmp_path / "606.csv")) == t["accepted"]


def _day(jdir: str) -> str:
    from trading.tca.tape import load_tape
    tape = load_tape(jdir)
    return tape.clock.utc(tape.first_ts).date().isoformat()
