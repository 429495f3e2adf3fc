"""jrnl_cursor_seek finds the first record with seq >= a target across segment files (what a
gateway resuming after an engine crash uses to skip what it already handled), and every
journaled command names the producer slot it came from (jrnl_rec_hdr_t.index = slot + 1)."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from gateway.enginehost import journal
from native import records
from native._venue import ffi, lib
from shm.client import EngineClient

from .conftest import order_stream, submit_partial


def _seek(directory: str, kind: int, target: int) -> tuple[int, int] | None:
    """(seq, index) of the record a seek to target lands on, None at the end."""
    cur = ffi.new("jrnl_cursor_t *")
    assert lib.jrnl_cursor_open(cur, directory.encode(), kind) == 0
    try:
        rc = lib.jrnl_cursor_seek(cur, target)
        assert rc >= 0, ffi.string(cur.message)
        rec = ffi.new("const uint8_t **")
        got = lib.jrnl_cursor_next(cur, 2**64 - 1, 1, rec)
        assert got >= 0 and got == rc, ffi.string(cur.message)
        if got == 0:
            return None
        hdr = ffi.cast("const jrnl_rec_hdr_t *", rec[0])
        return int(hdr.seq), int(hdr.index)
    finally:
        lib.jrnl_cursor_close(cur)


def test_seek_lands_on_the_first_record_at_or_after_a_seq_in_any_segment(engine_proc) -> None:
    eng = engine_proc()                     # 1 MiB segments: 8191 records each
    eng.start()
    cmds = records.encode_commands(order_stream(random.Random(5), 30_000, 1))
    with EngineClient(eng.name) as client:
        _, done = submit_partial(client, cmds, 60_000_000_000)
        slot = client.slot
    assert done == len(cmds)
    assert eng.stop() == 0
    d = str(eng.journal_dir)
    assert len(list(Path(d).glob("evt-*"))) > 3, "the journal should span several segments"
    for kind in (journal.KIND_CMD, journal.KIND_EVT):
        seqs, idx, _ = journal.read_records(d, kind)
        firsts = np.flatnonzero(np.diff(seqs, prepend=0) > 0)      # first record of each seq
        targets = [1, int(seqs[-1]), int(seqs[-1]) + 1, *[int(seqs[i]) for i in
                   random.Random(kind).sample(range(len(seqs)), 50)]]
        targets += [int(seqs[k * 8191]) for k in range(1, len(seqs) // 8191)]  # segment starts
        for t in targets:
            i = np.searchsorted(seqs, t, side="left")
            want = None if i == len(seqs) else (int(seqs[i]), int(idx[i]))
            assert _seek(d, kind, t) == want, (kind, t)
        assert firsts.size
    seqs, idx, _ = journal.read_records(d, journal.KIND_CMD)
    # Boot commands (instruments, phases) come from no ring; every order came from our slot.
    assert set(idx.tolist()) == {0, slot + 1}
    assert (idx[-len(cmds):] == slot + 1).all()
