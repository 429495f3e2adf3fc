"""Rule 605 (2024) timing of non-marketable limit orders: from the moment the order became
executable (trading/tca/regulatory/rule605.py states the reading), found by a vectorised first
passage over the BBO series (quotes.first_reaching), checked here against a plain loop and on
two hand-worked days."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.trading.tca.conftest import REFERENCE, S, T0
from trading.tca import codes
from trading.tca.analysis import analyze
from trading.tca.journal_build import CommandScript, write_journal
from trading.tca.quotes import QUOTE_DTYPE, QuoteSeries, first_reaching
from trading.tca.regulatory.rule605 import _basis_violations, rule605
from trading.tca.tape import load_tape


def _first_reaching_slowly(rows: np.ndarray, after: int, limit: int, buy: bool) -> int:
    for r in rows:
        if r["seq"] <= after:
            continue
        if buy and 0 < r["ask"] <= limit or not buy and r["bid"] > 0 and r["bid"] >= limit:
            return int(r["ts"])
    return 0


def test_first_passage_equals_a_plain_loop() -> None:
    rng = np.random.default_rng(4)
    for _ in range(150):
        n = int(rng.integers(1, 80))
        rows = np.zeros(n, QUOTE_DTYPE)
        rows["seq"] = np.sort(rng.integers(1, 50, n))
        rows["ts"] = 5 + 10 * np.arange(n)
        rows["bid"] = rng.integers(1, 12, n) * (rng.random(n) < 0.9)      # 0: that side empty
        rows["ask"] = rng.integers(1, 12, n) * (rng.random(n) < 0.9)
        after, limit = rng.integers(0, 55, 40).astype(np.uint64), rng.integers(0, 13, 40)
        buy = rng.random(40) < 0.5
        got = first_reaching(QuoteSeries(rows), after, limit, buy)
        want = [_first_reaching_slowly(rows, int(a), int(p), bool(b)) for a, p, b in zip(after, limit, buy)]
        assert got.tolist() == want


def _rows(jdir: str) -> dict[tuple[str, str], dict[str, str]]:
    rep = rule605(analyze(load_tape(jdir), REFERENCE), "2025-12")
    assert rep.violations == []
    return {(r["order_type"], r["order_size"]): r for r in rep.rows}


def test_nmlo_timed_from_when_the_quote_reached_it(tmp_path: Path) -> None:
    # Pre-open (no matching): 1 s SELL 100 @ 100.05 and BUY 100 @ 99.95 (mid 100.00); 2 s BUY 100
    # @ 100.01 (oid 3): beyond the midpoint, not marketable (ask 100.05) -> BML, round lot, $10,000
    # -> R4. 5 s SELL 100 @ 100.00 (oid 4): the ask is now 100.00 <= 100.01, so oid 3 became
    # executable at 5 s (the book may cross before the open). 9 s the open uncrosses: oid 3 and
    # oid 4 trade 100 @ 100.00. Time to execution of oid 3: 9 s - 5 s = 4000 ms from executable
    # (7000 ms from receipt, which the report no longer uses for NMLOs). Oid 4 crossed the bid at
    # receipt: marketable limit (MLO), timed from receipt: 4000 ms.
    s = CommandScript(T0)
    s.add("ADD_INSTRUMENT", instrument_id=1, tick_size=100, lot_size=1, reference_price=1_000_000,
          market_collar_ticks=1000)
    s.add("SET_PHASE", instrument_id=1, phase=codes.PHASE_PRE_OPEN)
    s.at(T0 + 1 * S).limit(1, 1, "SELL", 1_000_500, 100, 1).limit(1, 2, "BUY", 999_500, 100, 1)
    s.at(T0 + 2 * S).limit(1, 3, "BUY", 1_000_100, 100, 2)
    s.at(T0 + 5 * S).limit(1, 4, "SELL", 1_000_000, 100, 1)
    s.at(T0 + 9 * S).add("SET_PHASE", instrument_id=1, phase=codes.PHASE_CONTINUOUS)
    write_journal(str(tmp_path / "j"), s.commands)
    rows = _rows(str(tmp_path / "j"))
    bml, mlo = rows[("BML", "R4")], rows[("MLO", "R4")]
    assert (bml["time_basis"], bml["executable_orders"], bml["executed_shares"]) == ("executable", "1", "100")
    assert bml["avg_time_to_execution_ms"] == bml["median_time_to_execution_ms"] == "4000.000"
    assert bml["executed_shares_1s_lt_10s"] == "100"
    assert (mlo["time_basis"], mlo["executable_orders"], mlo["avg_time_to_execution_ms"]) == ("receipt", "", "4000.000")


def test_nmlo_reached_by_its_executions_small_day(small_day: str) -> None:
    # conftest's day: oid 3, SELL 100 @ 100.02 at 1 s with the quote 99.99 / 100.01 -> near the
    # quote (0.01 above the ask), R4 ($10,000 at the 100.00 mid). No bid ever reaches 100.02, so
    # it became executable at its first fill, 2 s (50 shares); then 30 at 30 s and 20 at 40 s:
    # times from executable 0, 28 000 and 38 000 ms; share-weighted average
    # (50 x 0 + 30 x 28 000 + 20 x 38 000) / 100 = 16 000 ms (17 000 from receipt); median (the
    # first fill holding the 50th share) 0 ms; buckets < 1 ms 50, 10-30 s 30, 30-60 s 20.
    # Oid 12, BUY 50 @ 99.98 at 35 s (2 ticks below the 100.00 bid): NRQ odd lot, never reached
    # (no ask at or below 99.98 before its cancel at 110 s): executable_orders 0.
    rows = _rows(small_day)
    nrq = rows[("NRQ", "R4")]
    assert nrq["time_basis"] == "executable" and nrq["executable_orders"] == "1"
    assert (nrq["avg_time_to_execution_ms"], nrq["median_time_to_execution_ms"]) == ("16000.000", "0.000")
    assert (nrq["executed_shares_lt_1ms"], nrq["executed_shares_10s_lt_30s"], nrq["executed_shares_30s_lt_60s"]) == (
        "50", "30", "20")
    odd = rows[("NRQ", "ODD")]
    assert (odd["executable_orders"], odd["executed_shares"], odd["cancelled_shares"]) == ("0", "0", "50")
    assert all(r["time_basis"] == "receipt" and r["executable_orders"] == "" for (t, _), r in rows.items()
               if t in ("MKT", "MLO", "MIOC", "STOP"))


def test_a_row_timed_on_the_wrong_basis_is_a_violation() -> None:
    bad = _basis_violations([{"order_type": "ATQ", "time_basis": "receipt", "executable_orders": ""},
                             {"order_type": "MKT", "time_basis": "receipt", "executable_orders": "1"},
                             {"order_type": "BML", "time_basis": "executable", "executable_orders": "2"}])
    assert [(v.row, v.field) for v in bad] == [(0, "time_basis"), (0, "executable_orders"), (1, "executable_orders")]
