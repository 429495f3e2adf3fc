"""Journal retention without an archive directory: each pruned segment and old snapshot is
removed through native/journal/jrnl_drop.c (renamed to "<name>.drop", shrunk a step at a time so
the disk never gets one 64 MiB discard, then unlinked). What a crash in the middle of such a
removal leaves ("*.drop") is no journal file to the engine's recovery and is removed by the next
prune; the journal left is contiguous and recovers to the state the engine stopped in."""
from __future__ import annotations

import random
import re
from pathlib import Path

from shm.client import EngineClient

from .conftest import order_stream, wait_for


def _indexes(d: Path, kind: str) -> list[int]:
    return sorted(int(p.name[4:20]) for p in d.glob(f"{kind}-*.jrnl"))


def _final_hash(log: str) -> int:
    m = re.search(r"engine: journal: .* state hash (0x[0-9a-f]+)", log)
    assert m, log
    return int(m.group(1), 16)


def test_pruned_files_are_dropped_and_crash_leftovers_cleared(engine_proc, tmp_path: Path) -> None:
    jdir = tmp_path / "journal"
    jdir.mkdir()
    # As a prune killed mid-removal would leave them: a segment and a snapshot under ".drop",
    # part shrunk. Present at the engine's start: recovery must not take them for journal files.
    leftovers = [jdir / "cmd-0000000000000000.jrnl.drop",
                 jdir / "snap-00000000000000000001.snap.drop"]
    for p in leftovers:
        p.write_bytes(b"\xa5" * (3 << 20))
    eng = engine_proc(["--snapshot-every", "3000", "--journal-keep-snapshots", "1"],
                      journal_dir=jdir)
    eng.start()
    rng = random.Random(12)
    oid = 1

    def step() -> bool:
        nonlocal oid
        if _indexes(jdir, "cmd") and _indexes(jdir, "cmd")[0] > 0 and \
                _indexes(jdir, "evt") and _indexes(jdir, "evt")[0] > 0:
            return True
        with EngineClient(eng.name) as client:
            client.submit_many(order_stream(rng, 2000, oid))
        oid += 2000
        return False

    wait_for(step, "the first command and event segments to be pruned", 120)
    assert "journal retention after snapshot" in eng.log()
    assert not any(p.exists() for p in leftovers), "a prune left a crash's .drop files"
    assert not list(jdir.glob("*.drop"))
    for kind in ("cmd", "evt"):
        left = _indexes(jdir, kind)
        assert left == list(range(left[0], left[0] + len(left))), (kind, left)
    assert eng.stop() == 0
    stopped = _final_hash(eng.log())
    eng.start()
    assert eng.recovered_hash() == stopped
    assert eng.stop() == 0
