"""Snapshots: the engine process snapshots every N commands through a forked child (the loop
pauses only for fork(), which it measures); recovery loads the newest valid snapshot and replays
only the journal after it, reaching the same state hash as a replay from scratch; a damaged
newest snapshot is skipped with a log line in favour of the older one."""
from __future__ import annotations

import os
import random
import re

from gateway.enginehost import journal
from shm.client import EngineClient

from .conftest import order_stream, wait_for


def test_recovery_from_snapshot_equals_replay_from_scratch(engine_proc) -> None:
    eng = engine_proc(["--snapshot-every", "700"])
    eng.start()
    rng = random.Random(4)
    with EngineClient(eng.name) as client:
        for k in range(6):
            client.submit_many(order_stream(rng, 500, 1 + k * 500))
    wait_for(lambda: len(journal.snapshots(str(eng.journal_dir))) >= 2, "two snapshots on disk")
    eng.kill()
    eng.start()
    snaps = journal.snapshots(str(eng.journal_dir))
    # pruned to the newest two (three if a kill fell between a child's rename and its prune)
    assert 2 <= len(snaps) <= 3
    m = re.search(r"recovery: snapshot of seq (\d+) \+ replayed (\d+) commands", eng.log())
    assert m, eng.log()
    assert int(m.group(1)) == snaps[0][0] and int(m.group(2)) == 3006 - snaps[0][0]
    ref, e = journal.verify(str(eng.journal_dir))
    e.close()
    assert ref.state_hash == eng.recovered_hash()

    eng.kill()
    # The recovered engine may have snapshotted since (replayed commands count towards
    # --snapshot-every): list again, now that nothing writes.
    snaps = journal.snapshots(str(eng.journal_dir))
    size = os.path.getsize(snaps[0][1])
    with open(snaps[0][1], "r+b") as f:        # damage the newest snapshot's body, inside it:
        f.seek(size // 2)                      # its size depends on the state it holds
        f.write(b"\xff" * 64)
    eng.start()
    assert "unusable (checksum or state hash does not match); trying an older one" in eng.log()
    assert f"recovery: snapshot of seq {snaps[1][0]} +" in eng.log()
    assert eng.recovered_hash() == ref.state_hash
    assert eng.stop() == 0
    m = re.search(r"(\d+) snapshots \(last seq (\d+), longest fork pause (\d+) us", eng.log())
    assert m, eng.log()
