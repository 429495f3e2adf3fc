"""A full disk while the engine runs: the segment roll that finds no space stops the engine with
a clear message (exit 1), nothing that was not durable was acknowledged, every acknowledged
command is in the journal, and once there is space again the engine recovers to the state of a
clean replay. Also: a read-only journal directory is a clear start-up error. Both need a small
tmpfs mount, so they skip where mounting is not permitted."""
from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from gateway.enginehost import journal
from native import records
from shm.client import EngineClient

from .conftest import order_stream, submit_partial, wait_for


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {run.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_stops_the_engine_cleanly_and_loses_no_ack(engine_proc, small_fs) -> None:
    eng = engine_proc(journal_dir=small_fs / "journal")
    eng.start()
    rng = random.Random(3)
    acked: dict[int, bytes] = {}
    oid = 1
    client = EngineClient(eng.name)
    while eng.proc.poll() is None and oid < 200_000:
        cmds = records.encode_commands(order_stream(rng, 500, oid))
        oid += 500
        raw, done = submit_partial(client, cmds, 1_000_000_000)
        for cmd, seq in zip(cmds[:done], raw[:done, :8].copy().view("<u8").ravel()):
            acked[int(seq)] = cmd.tobytes()
        if done < len(cmds):
            break
    wait_for(lambda: eng.proc.poll() is not None, "the engine to stop on the full disk")
    client.close()
    assert eng.proc.returncode == 1
    log = eng.log()
    assert "stopped by a journal failure (No space left on device)" in log, log
    assert "cannot reserve 1048576 bytes: No space left on device" in log
    assert eng.stop() == 1          # reaps the exited engine and closes its log

    seqs, _, pay = journal.read_records(str(eng.journal_dir), journal.KIND_CMD)
    assert acked and max(acked) <= len(seqs)
    for seq, cmd in acked.items():
        assert pay[seq - 1].tobytes()[24:] == cmd[24:], f"acknowledged seq {seq} not journaled"

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_fs)], check=True)
    eng.start()
    ref, e = journal.verify(str(eng.journal_dir))
    e.close()
    assert ref.state_hash == eng.recovered_hash()
    assert np.array_equal(seqs, np.arange(1, len(seqs) + 1, dtype=np.uint64))


def test_read_only_journal_directory_is_a_clear_start_up_error(engine_proc, small_fs) -> None:
    (small_fs / "journal").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    eng = engine_proc(journal_dir=small_fs / "journal")
    eng.start(wait_ready=False)
    wait_for(lambda: eng.proc.poll() is not None, "the engine to refuse the directory")
    assert eng.proc.returncode == 1
    assert "journal directory not writable: Read-only file system" in eng.log(), eng.log()
