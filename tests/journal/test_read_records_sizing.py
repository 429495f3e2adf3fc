"""journal.read_records sizes its arrays from the segment headers; when they promise fewer
records than the journal holds, the arrays grow and every record still comes back intact (the
record header's padded dtype kept, so the C reader's stride stays right)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gateway.enginehost import journal
from trading.tca.journal_build import write_journal
from trading.tca.synthetic import synthetic_day


@pytest.fixture(scope="module")
def multi_segment(tmp_path_factory: pytest.TempPathFactory) -> str:
    d = tmp_path_factory.mktemp("rr") / "journal"
    write_journal(str(d), synthetic_day(3000, seed=3).commands, limits=(1 << 16, 4096, 16, 16),
                  segment_bytes=1 << 18)
    assert len(journal.segment_headers(str(d), journal.KIND_EVT)) > 3
    return str(d)


@pytest.mark.parametrize("kind", [journal.KIND_CMD, journal.KIND_EVT])
def test_underestimated_capacity_grows_and_keeps_every_record(
        multi_segment: str, kind: int, monkeypatch: pytest.MonkeyPatch) -> None:
    want = journal.read_records(multi_segment, kind)
    seqs = want[0]
    assert len(seqs) > 1000 and (np.diff(seqs.astype(np.int64)) >= 0).all()
    monkeypatch.setattr(journal, "segment_headers", lambda directory, k: [])   # capacity 0: grow
    for batch in (7, 1 << 16):
        got = journal.read_records(multi_segment, kind, batch=batch)
        for a, b in zip(got, want):
            assert a.shape == b.shape and (a == b).all()
