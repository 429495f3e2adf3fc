"""The README's main command: the demo venue runs end to end on embedded defaults (made small
here), with the engine and the gateway in their own processes and the continuous session over TCP,
the live market maker quoting and a POV parent order executing in their own processes, checks its
own determinism (their commands included), prints their activity and the run's transaction cost
analysis (their accounts' rows included, the POV parent as one row of its child orders), and ends with the
latency of every stage of the order path."""
import json
import re
import subprocess
import sys
from pathlib import Path

from gateway.latency.region import STAGE_NAMES

ROOT = Path(__file__).resolve().parents[2]


def _demo(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway", "demo", *args,
                           "--report-dir", str(tmp_path / "reports")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_demo_runs_the_venue_and_reports_latency(tmp_path):
    # 3,000 orders per instrument: enough AAPL trades for the maker to fit its fill intensity
    # (its first 30 trades) and then be filled.
    result = _demo("--orders", "3000", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "bought  400 @ 150.01" in out and "bought  200 @ 150.02" in out
    assert "Opening auctions" in out and "Final book AAPL" in out
    assert "give byte-identical events" in out and "the same books" in out
    assert "gateway and engine stopped cleanly on SIGTERM" in out
    # The market maker quoted and was filled, as its own ledger counted ...
    mm = out[out.index("Market maker (live, measured from this run)"):]
    quotes = re.search(r"quotes sent: ([\d,]+) new \(([\d,]+) refused by the venue\), ([\d,]+) replaced", mm)
    fills = re.search(r"fills ([\d,]+) \(([\d,]+) shares as maker\), position (-?[\d,]+), P&L (-?[\d.,]+) USD", mm)
    assert quotes and fills, mm[:600]
    new_quotes, mm_fills = int(quotes[1].replace(",", "")), int(fills[1].replace(",", ""))
    assert new_quotes > 0 and mm_fills > 0, mm[:600]
    # ... and as the TCA of the journal counts it: its account's row has its orders and fills.
    tca = out[out.index("Transaction cost analysis (trading/tca on this run's journal; measured"):]
    tca = tca[:tca.index("\n\n")]
    assert "by instrument:" in tca and "by account:" in tca
    for symbol in ("AAPL", "MSFT", "GOOG"):
        assert re.search(rf"^  {symbol} +[\d,]+ +[\d,]+ ", tca, re.M), symbol
    row = re.search(r"^  20 +([\d,]+) +([\d,]+) ", tca, re.M)
    assert row, tca
    refused = int(quotes[2].replace(",", ""))      # post-only quotes the book had moved onto
    # every new quote the venue took is one order in the journal (a refused one is no order)
    assert int(row[1].replace(",", "")) == new_quotes - refused
    assert int(row[2].replace(",", "")) == mm_fills         # and every fill it booked is an execution there
    # The execution algorithm (a POV parent on MSFT, its own process and account 21) worked its
    # parent under its cap, and the TCA counts its child orders and fills on that account.
    ex = out[out.index("Execution algorithm (live, measured from this run): POV parent order"):]
    state = re.search(r"state (\w+): filled ([\d,]+) of ([\d,]+) .*participation ([\d.]+)%", ex)
    kids = re.search(r"([\d,]+) child orders \(.*\), ([\d,]+) fills, ([\d,]+) rejected", ex)
    assert state and kids and "shortfall" in ex[:1000], ex[:600]
    assert int(state[2].replace(",", "")) > 0 and float(state[4]) <= 10.0 + 1e-9
    row = re.search(r"^  21 +([\d,]+) +([\d,]+) ", tca, re.M)
    assert row, tca
    assert int(row[1].replace(",", "")) == int(kids[1].replace(",", ""))
    assert int(row[2].replace(",", "")) == int(kids[2].replace(",", ""))
    # Its child orders carry the parent's id (trading/execution/parent_ids.py): TCA shows the POV
    # parent as one row with all of them, and no other algorithm parent.
    parents = tca[tca.index("by algorithm parent"):].splitlines()[1:]
    parent_rows = [line for line in parents if re.match(r"^  \S+:\d+:P\d+ ", line)]
    assert len(parent_rows) == 1 and parent_rows[0].startswith("  MSFT:21:P1 "), tca
    prow = re.match(r"^  \S+ +([\d,]+) +([\d,]+) ", parent_rows[0])
    assert prow and int(prow[1].replace(",", "")) == int(kids[1].replace(",", ""))
    assert int(prow[2].replace(",", "")) == int(kids[2].replace(",", "")) and "| IS " in parent_rows[0]
    # measured against the algorithm's own decision (its arrival mid and quantity), the TCA's
    # shortfall of a parent filled in full is the algorithm's shortfall plus its fees (Perold)
    algo_is = re.search(r"shortfall ([+-][\d.]+) bps", ex)
    tca_is = re.search(r"\| IS ([+-][\d.]+) bps \(fees ([+-][\d.]+)\)", parent_rows[0])
    assert algo_is and tca_is, (ex[:600], parent_rows[0])
    if state[2] == state[3]:
        assert abs(float(tca_is[1]) - float(tca_is[2]) - float(algo_is[1])) <= 0.02, (ex[:600], parent_rows[0])
    for name in ("latency.hlog", "end_to_end.hgrm", "percentiles.png", "summary.json"):
        assert (tmp_path / "reports" / name).stat().st_size > 0, name
        assert str(tmp_path / "reports" / name) in out, name
    # The table ends the run: P50/P99/P99.9/max of the seven stamped stages and end to end, each
    # counting every request the gateway passed to the engine (all of them stamped once).
    table = out[out.index("histogram "):]
    assert "P50 µs" in table and "P99 µs" in table and "P99.9 µs" in table and "max µs" in table
    for name in STAGE_NAMES:
        assert any(line.startswith(name + " ") for line in table.splitlines()), name
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    counts = {h["name"]: h["total_count"] for h in summary["histograms"]}
    assert set(counts) == set(STAGE_NAMES)
    assert len(set(counts.values())) == 1 and counts["end_to_end"] > 0
    line = next(ln for ln in out.splitlines() if "continuous-session requests sent over TCP" in ln)
    forwarded = int(line.split(" of the ")[0].rsplit(" ", 1)[1].replace(",", ""))
    assert counts["end_to_end"] == forwarded


def test_demo_refuses_bad_arguments_with_a_message(tmp_path):
    result = _demo("--depth", "0", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "--depth must be between 1 and 64" in result.stderr
    result = _demo("--orders", "many", tmp_path=tmp_path)
    assert result.returncode == 2 and "invalid int value" in result.stderr
