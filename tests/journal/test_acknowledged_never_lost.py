"""No acknowledged command is lost silently (issue #17), through real engine processes:

- a second engine of the same name, or on the same journal directory, is refused before it
  opens anything, and the running engine's journal keeps every acknowledged command across
  segment rolls (today's second start recovered the live journal and removed its spare segments,
  so everything after the first segment went into unlinked files);
- when acknowledged commands are missing anyway (here: the spare segments removed under a
  running engine, as that second start did), recovery says which seqs with the segment header
  that shows they were acknowledged, records it, and ``journal verify`` fails;
- a torn last command record that had been acknowledged: recovery says it is lost, verify fails
  naming the segment and offset;
- a damaged event record in the middle: verify fails naming it, recovery says plainly that it
  repaired it (cut and rewrote the later events from the commands), and the result is whole.
"""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from gateway.enginehost import journal
from native._venue import lib
from shm.client import EngineClient

from .conftest import EngineProc, order_stream, wait_for

HDR = lib.JRNL_SEG_HDR_BYTES
REC = lib.JRNL_RECORD_BYTES
PER_SEGMENT = ((1 << 20) - HDR) // REC          # --segment-mb 1 (the fixture's)


def _verify(d: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", "journal", "verify", "--dir", str(d)],
                          capture_output=True, text=True, timeout=120)


def _submit(client: EngineClient, n: int, first_oid: int, seed: int) -> int:
    """Submits n commands in batches; returns the last acknowledged seq."""
    last = 0
    cmds = order_stream(random.Random(seed), n, first_oid)
    for k in range(0, n, 1000):
        last = client.submit_many(cmds[k:k + 1000])[-1].seq
    return last


def test_a_second_engine_is_refused_and_the_first_loses_nothing(engine_proc) -> None:
    first = engine_proc()
    first.start()
    before = sorted(p.name for p in first.journal_dir.iterdir())
    # The same name, and another name on the same journal directory: both refused at once.
    logs = [first.journal_dir.parent / f"second-{k}" for k in range(2)]
    for d in logs:
        d.mkdir()
    same_name = EngineProc(first.journal_dir.parent / "other-journal", logs[0])
    same_name.name = first.name
    same_name.start(wait_ready=False)
    same_dir = EngineProc(first.journal_dir, logs[1])
    same_dir.start(wait_ready=False)
    for refused, what in ((same_name, f"venue '{first.name}' (engine) is in use by pid "
                                      f"{first.proc.pid}"),
                          (same_dir, f"journal '{first.journal_dir}' is in use")):
        wait_for(lambda: refused.proc.poll() is not None, "the second engine to be refused")
        assert refused.proc.returncode == 1
        assert f"engine: not starting: {what}" in refused.log(), refused.log()
        assert "recovery" not in refused.log()
    assert not (first.journal_dir.parent / "other-journal").exists()
    assert sorted(p.name for p in first.journal_dir.iterdir()) == before
    # The first engine goes on, across several segment rolls, and keeps every command.
    with EngineClient(first.name) as client:
        acked = _submit(client, 3 * PER_SEGMENT, 1, 7)
    assert first.stop() == 0
    assert _verify(first.journal_dir).returncode == 0
    first.start()
    assert f"replayed {acked} commands (seq 1..{acked})" in first.log(), first.log()
    assert first.stop() == 0


def test_acknowledged_commands_missing_from_the_journal_are_reported(engine_proc) -> None:
    eng = engine_proc()
    eng.start()
    with EngineClient(eng.name) as client:
        _submit(client, 3000, 1, 3)
        # What today's second start did to a running engine: its spare segments removed (the
        # engine keeps writing into the unlinked files once it rolls into them, and makes new
        # spares after them: the event journal then has a gap).
        spares = [p for p in eng.journal_dir.glob("*.jrnl")
                  if not p.name.endswith("0000000000000000.jrnl")]
        assert spares
        for p in spares:
            p.unlink()
        acked = _submit(client, PER_SEGMENT, 3001, 4)
    assert acked > PER_SEGMENT
    assert eng.stop() == 0

    out = _verify(eng.journal_dir)
    assert out.returncode == 1, out
    assert (f"ACKNOWLEDGED COMMANDS LOST: commands from seq {PER_SEGMENT + 1} on" in out.stderr
            and "segment 0's header" in out.stderr), out.stderr
    assert f"segment 1 (where seq {PER_SEGMENT + 1} would be) is missing" in out.stderr

    evt = sorted(int(p.name[4:20]) for p in eng.journal_dir.glob("evt-*.jrnl"))
    evt_gap = evt != list(range(evt[0], evt[-1] + 1))
    eng.start()
    log = eng.log()
    assert f"ACKNOWLEDGED COMMANDS LOST: commands from seq {PER_SEGMENT + 1} on" in log, log
    assert f"Recovery keeps seq 1..{PER_SEGMENT} and goes on" in log
    # The event journal is regenerable: a gap in it (the engine made new spares after the
    # removed ones) is cut there and rewritten, not a reason to refuse the start.
    if evt_gap:
        assert ("evt journal repaired: segment 1 is missing" in log and
                "the journal is cut at the gap (the files after it removed)" in log), log
    else:
        assert "is missing (segment files" not in log
    assert eng.stop() == 0
    # The headers that showed it are overwritten by now; the recorded loss keeps verify failing.
    out = _verify(eng.journal_dir)
    assert out.returncode == 1 and journal.LOSS_FILE in out.stderr, out
    assert "an earlier recovery recorded" in out.stderr


def test_a_torn_acknowledged_last_command_is_reported_lost(engine_proc) -> None:
    eng = engine_proc()
    eng.start()
    with EngineClient(eng.name) as client:
        last = _submit(client, 300, 1, 5)
    assert eng.stop() == 0
    with open(eng.journal_dir / "cmd-0000000000000000.jrnl", "r+b") as f:
        f.seek(HDR + (last - 1) * REC + 60)
        f.write(b"\xa5" * 20)
    offset = HDR + (last - 1) * REC

    out = _verify(eng.journal_dir)
    assert out.returncode == 1, out
    assert f"ACKNOWLEDGED COMMANDS LOST: commands from seq {last} on (through seq {last} at " \
           f"least)" in out.stderr, out.stderr
    assert f"1 damaged record slot(s) from segment 0 offset {offset} on (after seq {last - 1})" \
        in out.stderr

    eng.start()
    log = eng.log()
    assert f"ACKNOWLEDGED COMMANDS LOST: commands from seq {last} on" in log, log
    assert f"1 damaged record(s) were cut at segment 0 offset {offset}" in log
    assert f"replayed {last - 1} commands" in log
    assert eng.stop() == 0


def test_a_damaged_event_record_mid_journal_is_named_then_repaired(engine_proc) -> None:
    eng = engine_proc()
    eng.start()
    with EngineClient(eng.name) as client:
        _submit(client, 3000, 1, 6)
    assert eng.stop() == 0
    seqs, idx, pays = journal.read_records(str(eng.journal_dir), journal.KIND_EVT)
    assert len(seqs) > 2000
    assert _verify(eng.journal_dir).returncode == 0
    offset = HDR + 1000 * REC
    with open(eng.journal_dir / "evt-0000000000000000.jrnl", "r+b") as f:
        f.seek(offset + 40)                 # a flipped byte inside record 1000's payload
        byte = f.read(1)
        f.seek(offset + 40)
        f.write(bytes([byte[0] ^ 0x10]))

    out = _verify(eng.journal_dir)
    assert out.returncode == 1, out
    assert f"event journal: " in out.stderr and f"segment 0 offset {offset} on" in out.stderr, \
        out.stderr

    eng.start()
    log = eng.log()
    assert (f"evt journal repaired: the record at segment 0 offset {offset} (after the records "
            f"of seq {int(seqs[999])}) is damaged") in log, log
    assert "rewrites every later record from the command journal" in log
    assert "hole" not in log
    assert eng.stop() == 0
    after_seqs, after_idx, after_pays = journal.read_records(str(eng.journal_dir),
                                                             journal.KIND_EVT)
    assert (after_seqs == seqs).all() and (after_idx == idx).all() and (after_pays == pays).all()
    out = _verify(eng.journal_dir)
    assert out.returncode == 0, out
