"""Journal retention: with --journal-keep-snapshots N, each snapshot's child keeps the newest N
snapshots and archives (or deletes) the segments wholly before the oldest of them, lowest first,
never one a reader's hold file still needs; recovery from what is left reaches the state the
engine had when it stopped."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from gateway.enginehost import journal
from native._venue import lib
from shm.client import EngineClient

from .conftest import order_stream, wait_for


def _final_hash(log: str) -> int:
    m = re.search(r"engine: journal: .* state hash (0x[0-9a-f]+)", log)
    assert m, log
    return int(m.group(1), 16)


def _indexes(d: Path, kind: str) -> list[int]:
    return sorted(int(p.name[4:20]) for p in d.glob(f"{kind}-*.jrnl"))


def test_retention_archives_old_segments_and_recovery_still_works(engine_proc,
                                                                  tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    jdir = tmp_path / "journal"
    jdir.mkdir()
    # a reader that has consumed nothing yet: no event segment may go
    assert lib.jrnl_hold_write(str(jdir).encode(), b"reader", 0) == 0
    eng = engine_proc(["--snapshot-every", "3000", "--journal-keep-snapshots", "2",
                       "--journal-archive", str(archive)], journal_dir=jdir)
    eng.start()
    rng = random.Random(11)
    oid = 1

    def trade(n: int) -> None:
        nonlocal oid
        with EngineClient(eng.name) as client:
            for _ in range(n // 2000):
                client.submit_many(order_stream(rng, 2000, oid))
                oid += 2000

    def more_until(cond, what: str) -> None:
        def step() -> bool:
            if cond():
                return True
            trade(2000)
            return False
        wait_for(step, what, 120)

    more_until(lambda: (archive / "cmd-0000000000000000.jrnl").exists(),
               "the first command segment to be archived")
    assert _indexes(jdir, "evt")[0] == 0, "an event segment went despite the reader's hold"
    cmd_left = _indexes(jdir, "cmd")
    assert cmd_left == list(range(cmd_left[0], cmd_left[0] + len(cmd_left)))
    assert len(journal.snapshots(str(jdir))) <= 3       # 2, or 3 between a rename and its prune

    assert lib.jrnl_hold_write(str(jdir).encode(), b"reader", 10**12) == 0   # caught up
    more_until(lambda: (archive / "evt-0000000000000000.jrnl").exists(),
               "the first event segment to be archived once the hold moved")
    evt_left = _indexes(jdir, "evt")
    assert evt_left == list(range(evt_left[0], evt_left[0] + len(evt_left)))
    assert "journal retention after snapshot" in eng.log()

    assert eng.stop() == 0
    stopped = _final_hash(eng.log())
    eng.start()
    assert eng.recovered_hash() == stopped
    assert "recovery: snapshot of seq" in eng.log()
    seqs, _, _ = journal.read_records(str(jdir), journal.KIND_EVT)   # reads from what is left
    assert len(seqs) and seqs[0] > 1
    with pytest.raises(journal.JournalCorrupt, match="starts at seq"):
        journal.verify(str(jdir))        # from scratch: says what is missing, never guesses
    assert eng.stop() == 0
