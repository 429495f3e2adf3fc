"""A replayed synthetic day (trading/tca/synthetic.py, written through the real engine): every
report's totals reconcile exactly with the journal, and the Rule 605 and RTS 22 outputs validate
against their field rules, row by row.

The day's trades are known in advance (each maker order is either taken whole by a market order or
cancelled), so the journal itself is checked against the generator first."""
from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from gateway.enginehost import journal
from native import records
from tests.trading.tca.test_cli import run
from trading.tca import codes
from trading.tca.journal_build import write_journal
from trading.tca.synthetic import synthetic_day

REF = """
[venue]
name = "SYNTH"
mic = "XSYN"
lei = "529900T8BM49AURSDO55"
[[instruments]]
id = 1
symbol = "AAA"
isin = "US0378331005"
[[instruments]]
id = 2
symbol = "BBB"
isin = "DE000BAY0017"
""" + "".join(f"""
[[accounts]]
id = {a}
firm = "{'mm' if a in (1, 2, 9) else 'client'}"
strategy = "{'maker' if a in (1, 2) else 'base' if a == 9 else 'taker'}"
lei = "{'529900T8BM49AURSDO55' if a in (1, 2, 9) else '5493001KJTIIGC8Y1R12'}"
decision_maker = "D{a}"
""" for a in (1, 2, 3, 4, 9))


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, object]:
    base = tmp_path_factory.mktemp("synth")
    d = synthetic_day(3000, seed=5)
    write_journal(str(base / "journal"), d.commands, limits=(1 << 16, 4096, 16, 16))
    ref = base / "ref.toml"
    ref.write_text(REF)
    return str(base / "journal"), str(ref), d


def _journal_truth(jdir: str) -> dict[str, int]:
    _, _, pay = journal.read_records(jdir, journal.KIND_EVT)
    recs = pay.view(records.RECORD_DTYPE).reshape(-1)
    typ = recs.view(records.dtype_of("eng_evt_hdr_t"))["type"]
    tr = recs[typ == codes.EVT_TRADE].view(records.EVT_DTYPES[codes.EVT_TRADE])
    return {"trades": len(tr), "shares": int(tr["qty"].sum()),
            "notional_units": int((tr["price"].astype(np.int64) * tr["qty"]).sum()),
            "accepted": int((typ == codes.EVT_ACCEPTED).sum()),
            "taker_shares": int(tr["qty"].sum())}   # every trade here has one taker side


def test_every_report_reconciles_with_the_journal(day: tuple[str, str, object], tmp_path: Path) -> None:
    jdir, ref, gen = day
    truth = _journal_truth(jdir)
    assert (truth["trades"], truth["shares"]) == (gen.trades, gen.shares)          # type: ignore[attr-defined]
    assert truth["notional_units"] == gen.notional_units                          # type: ignore[attr-defined]

    r = run("daily", "--date", "2025-12-06", "--journal", jdir, "--reference", ref, "--out", str(tmp_path / "d"))
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "d" / "daily-2025-12-06.json").read_text())
    tot = summary["totals"]
    assert (tot["executions"], tot["shares"], tot["orders"]) == (truth["trades"], truth["shares"], truth["accepted"])
    assert Decimal(str(tot["notional"])) == Decimal(truth["notional_units"]) / 10_000
    # fees: every trade has one taker (0.0030/share) and one maker (-0.0020/share)
    assert tot["fees_paid"] == pytest.approx(0.003 * truth["shares"])
    assert tot["rebates_paid"] == pytest.approx(0.002 * truth["shares"])
    by_acct = summary["by_account"]
    assert sum(a["shares"] for a in by_acct) == 2 * truth["shares"]
    assert sum(a["orders"] for a in by_acct) == truth["accepted"]

    r = run("rts22", "--journal", jdir, "--reference", ref, "--out", str(tmp_path / "rts22.csv"))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "rts22.csv")))
    assert len(rows) == 2 * truth["trades"]
    assert sum(int(x["quantity"]) for x in rows) == 2 * truth["shares"]
    assert sum(Decimal(x["quantity"]) * Decimal(x["price"]) for x in rows) == 2 * Decimal(truth["notional_units"]) / 10_000

    r = run("rule605", "--month", "2025-12", "--journal", jdir, "--reference", ref, "--out", str(tmp_path / "605.csv"))
    assert r.returncode == 0, r.stderr
    rows605 = list(csv.DictReader(x for x in open(tmp_path / "605.csv") if not x.startswith("#")))
    # the takers' market orders are all covered: their executed shares are every trade's shares
    assert sum(int(x["executed_shares"]) for x in rows605 if x["order_type"] == "MKT") == truth["taker_shares"]
    assert sum(int(x["covered_orders"]) for x in rows605 if x["order_type"] == "MKT") == truth["trades"]

    r = run("audit", "--journal", jdir, "--reference", ref, "--out", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    ex = [json.loads(x) for x in open(tmp_path / "a" / "audit-trail.jsonl")]
    assert sum(1 for x in ex if x["event"] == "ACCEPTED") == truth["accepted"]
    assert sum(x["qty"] for x in ex if x["event"] == "EXECUTED") == 2 * truth["shares"]

    r = run("rts27", "--journal", jdir, "--reference", ref, "--out", str(tmp_path / "27.csv"))
    assert r.returncode == 0, r.stderr
    rows27 = list(csv.DictReader(x for x in open(tmp_path / "27.csv") if not x.startswith("#")))
    assert sum(int(x["volume"]) for x in rows27) == truth["shares"]
    assert sum(int(x["orders_received"]) for x in rows27) == truth["accepted"]
    r = run("rule606", "--journal", jdir, "--reference", ref, "--out", str(tmp_path / "606.csv"))
    assert r.returncode == 0, r.stderr
    rows606 = list(csv.DictReader(x for x in open(tmp_path / "606.csv") if not x.startswith("#")))
    assert sum(int(x["total_orders"]) for x in rows606) == truth["accepted"]


def test_a_gtc_order_filled_on_a_later_day_is_that_days_business(tmp_path: Path) -> None:
    import datetime

    from trading.tca.journal_build import CommandScript
    from trading.tca.reference import Reference
    from trading.tca.report.build import build_report
    from trading.tca.tape import load_tape

    t0, day = 1_765_000_000_000_000_000, 86_400 * 10**9          # 2025-12-06T05:46:40Z
    s = CommandScript(t0).instrument(1)
    s.at(t0 + 10**9).limit(1, 1, "SELL", 1_000_100, 100, 1, tif="GTC").limit(1, 2, "BUY", 999_900, 100, 1, tif="GTC")
    s.at(t0 + day).market(1, 3, "BUY", 50, 2)                     # 2025-12-07: takes 50 of order 1
    write_journal(str(tmp_path / "j"), s.commands)
    files = build_report(load_tape(str(tmp_path / "j")), Reference(), "daily", datetime.date(2025, 12, 7),
                         str(tmp_path / "out"))
    tot = json.loads(Path(files.json).read_text())["totals"]
    # the taker's order and the maker's GTC order it traded with; 50 x $0.003 fee, 50 x $0.002 rebate
    assert (tot["orders"], tot["executions"], tot["shares"], tot["outside_fills"]) == (2, 1, 50, 0)
    assert tot["fees_paid"] == pytest.approx(0.15) and tot["rebates_paid"] == pytest.approx(0.10)
