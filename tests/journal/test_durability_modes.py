"""Durability modes: every mode answers every command and journals it; 'each' syncs at least
once per command, 'group' syncs in groups (fewer syncs than commands), 'async' never syncs; and
with journaling, the broadcast log only carries events of commands whose replies are released."""
from __future__ import annotations

import random
import re

import pytest

from gateway.enginehost import journal
from shm.client import EngineClient, EventStream

from .conftest import order_stream, wait_for

N = 2000


def _syncs(log: str) -> int:
    m = re.search(r"journal: (\d+) syncs", log)
    assert m, log
    return int(m.group(1))


@pytest.mark.parametrize("mode", ["async", "group", "each"])
def test_every_mode_answers_and_journals_every_command(engine_proc, mode: str) -> None:
    eng = engine_proc(["--durability", mode])
    eng.start()
    events = EventStream(eng.name)
    with EngineClient(eng.name) as client:
        replies = client.submit_many(order_stream(random.Random(1), N, 1))
    got = []
    wait_for(lambda: got.extend(events.poll_decoded()[0]) or
             sum(r.event_count for r in replies) <= len(got), "the events of every reply")
    assert max(e.seq for e in got) == replies[-1].seq
    events.close()
    assert eng.stop() == 0
    seqs, _, _ = journal.read_records(str(eng.journal_dir), journal.KIND_CMD)
    assert len(seqs) == N + 6 and [r.seq for r in replies] == list(range(7, N + 7))
    syncs = _syncs(eng.log())
    if mode == "async":
        assert syncs == 0
    elif mode == "each":
        assert syncs >= N
    else:
        assert 0 < syncs < N
