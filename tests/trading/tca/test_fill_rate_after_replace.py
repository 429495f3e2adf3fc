"""The fill rate of an order whose size a replace raised is over the most shares it asked for, not
its accepted quantity: the demo's makers (which requote by replace, size included) printed limit
fill rates of 55 % where their orders' own sizes gave 47 %, and a single such order rated above 100 %."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.trading.tca.conftest import REFERENCE, S, T0
from trading.tca.analysis import analyze, keyed
from trading.tca.journal_build import CommandScript, write_journal
from trading.tca.tape import load_tape


def test_fill_rate_counts_the_size_a_replace_raised(tmp_path: Path) -> None:
    s = CommandScript(T0).instrument(1)
    s.at(T0 + 1 * S).limit(1, 1, "BUY", 999_900, 100, 1).limit(1, 9, "SELL", 1_000_300, 100, 3)
    s.at(T0 + 2 * S).market(1, 10, "SELL", 60, 2)          # order 1: 60 filled, 40 left of 100
    s.at(T0 + 3 * S).replace(1, 1, 999_900, 300)            # its leaves now 300 (venue_layout.h: the
                                                            # replace's qty is the new leaves): size 360
    s.at(T0 + 4 * S).market(1, 11, "SELL", 200, 2)         # 200 more: 260 filled in all
    d = tmp_path / "journal"
    write_journal(str(d), s.commands)
    tape = load_tape(str(d))
    order = next(r for r in tape.orders if int(r["order_id"]) == 1)
    assert int(order["qty"]) == 100 and int(order["filled_qty"]) == 260
    assert int(order["ordered_qty"]) == 360
    a1 = keyed(analyze(tape, REFERENCE).summary("account"))["1"]
    assert a1.fill_rate_limit == pytest.approx(260 / 360)      # was 260 / 100: 260 %
