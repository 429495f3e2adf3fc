"""The strategy runtime's per-record event decoder gives the same Structs as native.records'
bulk decoder, on every event of a replayed LOBSTER sample (trades, book levels, rejects, acks)
and on records of a type the layout does not know."""
from __future__ import annotations

import numpy as np

from native import records
from native.engine import Engine
from tests.trading.replay.conftest import AAPL, sample
from trading.replay.history import MAX_ACCOUNTS, build_history
from trading.replay.lobster import load_lobster
from trading.strategy.decode import decode_event_records


def test_per_record_decoder_matches_the_bulk_decoder():
    hist = build_history(load_lobster(sample(AAPL)))
    recs = hist.records.copy()
    recs.view(records.dtype_of("eng_cmd_hdr_t"))["seq"] = np.arange(1, len(recs) + 1, dtype=np.uint64)
    with Engine(max_orders=1 << 14, max_levels=1 << 12, max_instruments=1, max_accounts=MAX_ACCOUNTS) as eng:
        events = eng.submit_records(recs)
    types = set(events.view(records.dtype_of("eng_evt_hdr_t"))["type"].tolist())
    assert {1, 3, 4, 8} <= types, types
    odd = events[:2].copy()
    odd.view(records.dtype_of("eng_evt_hdr_t"))["type"] = 250    # unknown type: the bulk decoder's UnknownEvent
    for batch in (events, odd):
        assert decode_event_records(batch.tobytes(), len(batch)) == records.decode_events(batch)
