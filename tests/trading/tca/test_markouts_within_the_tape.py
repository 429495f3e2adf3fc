"""A markout (and a realised spread) at horizon h exists only for fills the tape outlived by h:
where t + h lies past the tape's last event, the mid "at t + h" is only the last mid the tape saw.
Before, `trading report tca` on a 1.4 s demo journal printed 1 s, 10 s and 60 s markouts of
6.935 bps each for one account: its end-of-run mid under three names.

The day (instrument 1, tick 100, 1000000 = $100.00; seconds after T0):
  1 s    acct 1 bids 99.99 (100) and offers 100.01 (150)
  2 s    acct 2 buys 50 at 100.01 (market); mid 100.00
  3 s    acct 1 bids 100.00 (100); mid 100.005 from here to the end
  5 s    acct 2 buys 50 at 100.01 (market)
  7.5 s  acct 2 sells 50 at 100.00 (market)
  8 s    acct 1 cancels its 99.99 bid: the tape's last event
Acct 2's 1 s markouts: the 2 s and 5 s buys against 100.005: -0.005 / 100.01 x 1e4 bps each; the
7.5 s sell has none (8.5 s is past the tape; before, it counted -0.5 bps against the last mid).
At 10 s and 60 s the tape reached no fill's horizon: no markout, and no realised spread (15 s, 60 s).
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.trading.tca.conftest import REFERENCE, S, T0
from trading.tca.analysis import analyze, keyed
from trading.tca.journal_build import CommandScript, write_journal
from trading.tca.tape import load_tape


def test_markouts_only_at_horizons_the_tape_reached(tmp_path: Path) -> None:
    s = CommandScript(T0).instrument(1)
    s.at(T0 + 1 * S).limit(1, 1, "BUY", 999_900, 100, 1).limit(1, 2, "SELL", 1_000_100, 150, 1)
    s.at(T0 + 2 * S).market(1, 10, "BUY", 50, 2)
    s.at(T0 + 3 * S).limit(1, 3, "BUY", 1_000_000, 100, 1)
    s.at(T0 + 5 * S).market(1, 11, "BUY", 50, 2)
    s.at(T0 + 7 * S + S // 2).market(1, 12, "SELL", 50, 2)
    s.at(T0 + 8 * S).cancel(1, 1)
    d = tmp_path / "journal"
    write_journal(str(d), s.commands)
    a2 = keyed(analyze(load_tape(str(d)), REFERENCE).summary("account"))["2"]
    assert a2.shares == 150
    assert a2.markout_bps["1s"] == pytest.approx(-0.005 / 100.01 * 1e4, rel=1e-9)
    assert math.isnan(a2.markout_bps["10s"]) and math.isnan(a2.markout_bps["60s"])
    assert all(math.isnan(v) for v in a2.realised_spread_bps.values())
