"""A small day built through the real engine (trading.tca.journal_build): the expected numbers of
every test in this folder are worked out by hand from it in test_measures.py's comments.

Instrument 1 "TEST": tick 100, price scale 10000 (1000000 = $100.00). Times are seconds after T0.
  1 s  maker (acct 1): BUY 100 @ 99.99 (oid 1), SELL 100 @ 100.01 (oid 2), SELL 100 @ 100.02 (oid 3)
  2 s  taker (acct 2): MARKET BUY 150 (oid 10): 100 @ 100.01 from oid 2, 50 @ 100.02 from oid 3
  3 s  maker (acct 1): BUY 100 @ 100.00 (oid 4)
 20 s  acct 2: LIMIT SELL 60 @ 100.00 (oid 11), marketable: 60 @ 100.00 from oid 4
 30 s  acct 3, parent 7 child 1: MARKET BUY 30 (oid 20): 30 @ 100.02 from oid 3
 35 s  acct 2: LIMIT BUY 50 @ 99.98 (oid 12), rests (below the bid)
 40 s  acct 3, parent 7 child 2: MARKET BUY 30 (oid 21): 20 @ 100.02 from oid 3, 10 cancelled
       (no liquidity left on the ask side)
 50 s  maker (acct 1): SELL 100 @ 100.03 (oid 5)
110 s  acct 2: cancels oid 12

BBO after each step (bid / ask, mid): 1 s 99.99/100.01 (100.00); 2 s 99.99/100.02 (100.005);
3 s .. 35 s 100.00/100.02 (100.01); 40 s 100.00/none (no mid); 50 s .. 100.00/100.03 (100.015).
The close (last trade) is 100.02, at 40 s. Parent 7's decision: 100 shares at 100.00, at 25 s.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from trading.tca.journal_build import CommandScript, write_journal
from trading.tca.reference import AccountRef, FeeSchedule, InstrumentRef, Reference

T0 = 1_765_000_000_000_000_000          # 2025-12-06T05:46:40Z, as UTC epoch ns
S = 1_000_000_000
PARENT7 = 7 << 32


def small_day_commands() -> list[dict[str, object]]:
    s = CommandScript(T0).instrument(1)
    s.at(T0 + 1 * S).limit(1, 1, "BUY", 999_900, 100, 1).limit(1, 2, "SELL", 1_000_100, 100, 1)
    s.limit(1, 3, "SELL", 1_000_200, 100, 1)
    s.at(T0 + 2 * S).market(1, 10, "BUY", 150, 2)
    s.at(T0 + 3 * S).limit(1, 4, "BUY", 1_000_000, 100, 1)
    s.at(T0 + 20 * S).limit(1, 11, "SELL", 1_000_000, 60, 2)
    s.at(T0 + 30 * S).market(1, 20, "BUY", 30, 3, cl_oid=PARENT7 | 1)
    s.at(T0 + 35 * S).limit(1, 12, "BUY", 999_800, 50, 2)
    s.at(T0 + 40 * S).market(1, 21, "BUY", 30, 3, cl_oid=PARENT7 | 2)
    s.at(T0 + 50 * S).limit(1, 5, "SELL", 1_000_300, 100, 1)
    s.at(T0 + 110 * S).cancel(1, 12)
    return s.commands


REFERENCE = Reference(
    venue_name="TESTVENUE", venue_mic="XTST", venue_lei="529900T8BM49AURSDO55", price_scale=10_000,
    fees=FeeSchedule(taker_per_share=0.003, maker_per_share=-0.002, auction_per_share=0.001),
    instruments={1: InstrumentRef(1, "TEST", "US0378331005", "USD", 100)},
    accounts={1: AccountRef(1, "mmfirm", "mm", "529900T8BM49AURSDO55", "MM1"),
              2: AccountRef(2, "client", "taker", "5493001KJTIIGC8Y1R12", "TRADER2"),
              3: AccountRef(3, "client", "algo", "5493001KJTIIGC8Y1R12", "ALGO3")})


@pytest.fixture
def small_day(tmp_path: Path) -> str:
    d = tmp_path / "journal"
    write_journal(str(d), small_day_commands())
    return str(d)
