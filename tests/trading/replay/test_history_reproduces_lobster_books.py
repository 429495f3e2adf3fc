"""The engine commands built from a LOBSTER day (trading.replay.history) reproduce the published
visible book after every message, through the real engine, for both samples; the counts of what
needed reconciling are reported and bounded, so the comparison cannot pass vacuously."""
from __future__ import annotations

import numpy as np
import pytest

from native import records
from native.engine import Engine
from tests.trading.replay.conftest import AAPL, GOOG, sample
from trading.replay.history import INSTRUMENT, MAX_ACCOUNTS, build_history
from trading.replay.lobster import levels_of, load_lobster


@pytest.mark.parametrize("name", [AAPL, GOOG])
def test_every_row_of_the_orderbook_file_is_reproduced(name: str) -> None:
    day = load_lobster(sample(name))
    hist = build_history(day)
    recs = hist.records.copy()
    recs.view(records.dtype_of("eng_cmd_hdr_t"))["seq"] = np.arange(1, len(recs) + 1)
    ends = np.flatnonzero(np.r_[hist.message[1:] != hist.message[:-1], True])
    rows = mismatched = start = trades = 0
    assert day.visible_book is not None
    with Engine(200_000, 20_000, 1, MAX_ACCOUNTS) as eng:
        for end in ends:
            events = eng.submit_records(recs[start:end + 1])
            hdr = events.view(records.dtype_of("eng_evt_hdr_t"))
            assert not (hdr["type"] == records.EvtType.REJECTED).any(), records.decode_events(events)
            trades += int((hdr["type"] == records.EvtType.TRADE).sum())
            start = end + 1
            i = int(hist.message[end])
            if i < 0:
                continue
            got = [(2, p, q) for p, q, _ in eng.depth(INSTRUMENT, 2, day.depth)] + \
                  [(1, p, q) for p, q, _ in eng.depth(INSTRUMENT, 1, day.depth)]
            rows += 1
            if got != levels_of(day.visible_book[i]):
                mismatched += 1
        eng.check()
    print(f"\n{name}: {rows} rows compared, {mismatched} differ, {trades} trades printed, {hist.counts}")
    assert rows == len(day) - 1 and mismatched == 0
    executions = int((day.kind[1:] == 4).sum())
    assert trades >= executions - hist.counts.get("messages about ids the file never added", 0)
    assert hist.counts.get("levels taken from the order-book file", 0) < rows // 2
