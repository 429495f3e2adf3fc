"""Order events whose seq lies past the last ACCEPTED (+1) still find their order (qa6).

The order index keys each order life by id * span + accept seq, with span = the last accept seq
+ 2; an event seq at or beyond span ran into the next order's keys and found no order. On a real
venue journal (`up` with two strategies quoting, an external client whose three orders the
gateway cancelled at its disconnect) the three late CANCEL commands lost their account: the -1
"unknown" went into the uint32 account column as 4294967295, and `python -m trading report tca`
then asked numpy for 32 GiB (np.bincount over 2^32 accounts): a MemoryError traceback. Their
CANCELLED events lost their orders too: the orders looked live at the end of the day."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.trading.tca.conftest import REFERENCE, T0, S
from trading.tca.analysis import analyze
from trading.tca.journal_build import CommandScript, write_journal
from trading.tca.tape import load_tape


def _day(tmp_path: Path) -> str:
    s = CommandScript(T0).instrument(1)
    s.at(T0 + 1 * S).limit(1, 1, "BUY", 999_900, 100, 1).limit(1, 2, "SELL", 1_000_100, 100, 2)
    s.limit(1, 3, "BUY", 999_800, 100, 3)
    s.at(T0 + 30 * S)
    for unknown in range(900, 920):          # refused (unknown order): commands with no account
        s.cancel(1, unknown)
    s.at(T0 + 60 * S).cancel(1, 1).cancel(1, 2).cancel(1, 3)
    d = tmp_path / "journal"
    write_journal(str(d), s.commands)
    return str(d)


def test_cancels_after_the_last_accept_find_their_orders(tmp_path: Path) -> None:
    tape = load_tape(_day(tmp_path))
    o = tape.orders
    by_id = {int(oid): k for k, oid in enumerate(o["order_id"])}
    for oid in (1, 2, 3):
        k = by_id[oid]
        assert int(o["end_reason"][k]) == 400 and int(o["end_ts"][k]) == T0 + 60 * S, oid   # CANCELLED(USER)
    cancels = tape.commands[tape.commands["type"] == 2]
    assert [int(a) for a in cancels["account"]] == [-1] * 20 + [1, 2, 3]        # -1: an unknown order
    rows = analyze(tape, REFERENCE).summary("account")       # its message counts come from the commands
    assert sorted(r.key for r in rows) == ["1", "2", "3"]
    assert {r.key: r.order_messages for r in rows} == {"1": 2, "2": 2, "3": 2}   # each: its order and its cancel
    assert np.all(tape.commands["account"] < 2**31)
