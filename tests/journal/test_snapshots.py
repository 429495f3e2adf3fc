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


EVERY = 700


def _newest_snapshot(eng) -> int:
    snaps = journal.snapshots(str(eng.journal_dir))
    return snaps[0][0] if snaps else 0


def test_recovery_from_snapshot_equals_replay_from_scratch(engine_proc) -> None:
    eng = engine_proc(["--snapshot-every", str(EVERY)])
    eng.start()
    rng = random.Random(4)
    with EngineClient(eng.name) as client:
        for k in range(6):
            last = client.submit_many(order_stream(rng, 500, 1 + k * 500))[-1].seq
        # The engine snapshots at quiescent points (here between two batches) once EVERY commands
        # have passed since its last one, and one child at a time: wait until no snapshot is due,
        # then add fewer than EVERY commands. Killed any earlier, a snapshot still due would be
        # taken by the restarted engine right after its recovery (replayed commands count), racing
        # the listing below.
        wait_for(lambda: _newest_snapshot(eng) > last - EVERY, "the engine's last due snapshot")
        snapped = _newest_snapshot(eng)
        last = client.submit_many(order_stream(rng, 300, 3001))[-1].seq
    assert last - snapped < EVERY
    eng.kill()
    eng.start()
    snaps = journal.snapshots(str(eng.journal_dir))
    # pruned to the newest two (three if a kill fell between a child's rename and its prune)
    assert 2 <= len(snaps) <= 3 and snaps[0][0] == snapped
    m = re.search(r"recovery: snapshot of seq (\d+) \+ replayed (\d+) commands", eng.log())
    assert m, eng.log()
    assert int(m.group(1)) == snapped and int(m.group(2)) == last - snapped > 0
    ref, e = journal.verify(str(eng.journal_dir))
    e.close()
    assert ref.state_hash == eng.recovered_hash()

    eng.kill()
    snaps = journal.snapshots(str(eng.journal_dir))     # none due since: fewer than EVERY replayed
    assert snaps[0][0] == snapped
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
