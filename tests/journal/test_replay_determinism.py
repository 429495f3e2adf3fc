"""Determinism: a journal written by the engine process, replayed twice from scratch into fresh
engines, gives the same state hash and the same event bytes, equal to the event journal the
process wrote and to the hash the process printed when it stopped."""
from __future__ import annotations

import random

import numpy as np

from gateway.enginehost import journal
from native.messages import MassCancel, SetPhase
from native import records
from native._venue import lib
from shm.client import EngineClient

from .conftest import order_stream


def test_same_journal_replayed_twice_gives_identical_hash_and_events(engine_proc) -> None:
    rng = random.Random(11)
    print("seed 11")
    eng = engine_proc(["--durability", "group"])
    eng.start()
    with EngineClient(eng.name) as client:
        cmds = order_stream(rng, 5000, 1)
        cmds += [MassCancel(by_account=1, account_id=3),
                 SetPhase(instrument_id=2, phase=int(records.Phase.HALTED))]
        cmds += order_stream(rng, 3000, 10_000)
        for i in range(0, len(cmds), 1000):
            client.submit_many(cmds[i:i + 1000])
    assert eng.stop() == 0
    stopped_hash = int(eng.log().rsplit("state hash ", 1)[1].split()[0], 16)

    first, e1 = journal.verify(str(eng.journal_dir))
    second, e2 = journal.verify(str(eng.journal_dir))
    e1.close()
    e2.close()
    assert first.commands == second.commands == 8002 + 6   # boot: 2 x (ADD, PRE_OPEN, CONTINUOUS)
    assert first.state_hash == second.state_hash == stopped_hash
    assert first.events_crc == second.events_crc and first.events == second.events

    seqs, idx, payload = journal.read_records(str(eng.journal_dir), journal.KIND_EVT)
    assert len(payload) == first.events
    assert lib.jrnl_crc32c(0, payload.tobytes(), payload.size) == first.events_crc
    # every event carries the seq of its journal record, indexes count 0, 1, 2 per command
    assert np.array_equal(payload[:, 8:16].copy().view("<u8").ravel(), seqs)
    starts = np.r_[True, seqs[1:] != seqs[:-1]]
    assert np.all(idx[starts] == 0)
    assert np.all(idx[1:][~starts[1:]] == idx[:-1][~starts[1:]] + 1)
