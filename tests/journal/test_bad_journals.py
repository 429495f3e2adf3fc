"""Start-up against damaged journals: a torn last record is truncated with a log line and the
rest recovers (a torn last event is also written again from the commands); a corrupt record in
the middle of a segment, an event that differs from what the replay produces, a journal of
another layout version and a journal of an engine with other capacities are refused with a
message naming the file, and the files are left byte for byte as they were."""
from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from gateway.enginehost import journal
from native._venue import lib
from shm.client import EngineClient

from .conftest import order_stream, wait_for

HDR = lib.JRNL_SEG_HDR_BYTES
REC = lib.JRNL_RECORD_BYTES


def _make_journal(engine_proc, n: int = 300):
    import random
    eng = engine_proc()
    eng.start()
    with EngineClient(eng.name) as client:
        client.submit_many(order_stream(random.Random(5), n, 1))
    assert eng.stop() == 0
    return eng


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def _refused(eng, message: str) -> None:
    eng.start(wait_ready=False)
    wait_for(lambda: eng.proc.poll() is not None, "the engine to refuse the journal")
    assert eng.proc.returncode == 1
    assert message in eng.log(), eng.log()


def test_torn_last_record_is_truncated_with_a_log_line(engine_proc) -> None:
    eng = _make_journal(engine_proc)
    seg = eng.journal_dir / "cmd-0000000000000000.jrnl"
    last = journal.open_log(str(eng.journal_dir), journal.KIND_CMD,
                            journal.journal_limits(str(eng.journal_dir)), readonly=True).last_seq
    with open(seg, "r+b") as f:          # a process killed inside the copy of the last record
        f.seek(HDR + (last - 1) * REC + 60)
        f.write(b"\xa5" * 20)
    eng.start()
    log = eng.log()
    assert "torn last record (checksum mismatch), truncated 1 record(s)" in log
    assert f"cut off (beyond the command journal's end)" in log
    assert f"replayed {last - 1} commands" in log
    ref, e = journal.verify(str(eng.journal_dir))
    e.close()
    assert ref.state_hash == eng.recovered_hash() and ref.last_seq == last - 1


def test_corrupt_record_in_the_middle_is_refused_and_nothing_changes(engine_proc) -> None:
    eng = _make_journal(engine_proc)
    seg = eng.journal_dir / "cmd-0000000000000000.jrnl"
    with open(seg, "r+b") as f:
        f.seek(HDR + 100 * REC + 50)
        f.write(b"\x00\x01")
    before = _digest(eng.journal_dir)
    _refused(eng, f"corrupt cmd record in the middle of the journal: segment 0 offset "
                  f"{HDR + 100 * REC}")
    assert _digest(eng.journal_dir) == before


def _evt_record(eng, k: int) -> tuple[Path, int]:
    """File and offset of the event journal's record number k (counting from 0)."""
    per = (1 << 20) // REC - 1          # records per 1 MiB segment (--segment-mb 1)
    return eng.journal_dir / f"evt-{k // per:016d}.jrnl", HDR + (k % per) * REC


def test_torn_last_event_record_is_truncated_and_written_again(engine_proc) -> None:
    eng = _make_journal(engine_proc)
    d = str(eng.journal_dir)
    events = journal.open_log(d, journal.KIND_EVT, journal.journal_limits(d), readonly=True)
    seg, off = _evt_record(eng, events.records - 1)
    with open(seg, "r+b") as f:          # killed inside the copy of the last event
        f.seek(off + 70)
        f.write(b"\x5a" * 10)
    eng.start()
    log = eng.log()
    assert "evt journal: torn last record (checksum mismatch), truncated 1 record(s)" in log
    assert f"{events.records - 1} events checked against the event journal, 1 rewritten" in log
    ref, e = journal.verify(d)
    e.close()
    assert ref.state_hash == eng.recovered_hash()
    assert journal.read_records(d, journal.KIND_EVT)[2].shape[0] == events.records


def test_event_that_differs_from_the_replay_is_refused_and_nothing_changes(engine_proc) -> None:
    eng = _make_journal(engine_proc)
    seg, off = _evt_record(eng, 200)
    with open(seg, "r+b") as f:          # a valid record (checksum matches) with other contents
        f.seek(off)
        rec = bytearray(f.read(REC))
        rec[60] ^= 1
        rec[0:4] = struct.pack("<I", lib.jrnl_crc32c(0, bytes(rec[4:]), REC - 4))
        f.seek(off)
        f.write(rec)
    before = _digest(eng.journal_dir)
    _refused(eng, "that differs from the event journal's record")
    assert _digest(eng.journal_dir) == before


def test_journal_of_another_layout_version_is_refused(engine_proc) -> None:
    eng = _make_journal(engine_proc, 10)
    seg = eng.journal_dir / "cmd-0000000000000000.jrnl"
    with open(seg, "r+b") as f:
        f.seek(8)
        f.write(struct.pack("<I", lib.JRNL_LAYOUT_VERSION + 1))
    before = _digest(eng.journal_dir)
    _refused(eng, f"journal layout version {lib.JRNL_LAYOUT_VERSION + 1}, this build reads "
                  f"version {lib.JRNL_LAYOUT_VERSION}")
    assert _digest(eng.journal_dir) == before


def test_journal_of_an_engine_with_other_capacities_is_refused(engine_proc, tmp_path) -> None:
    eng = _make_journal(engine_proc, 10)
    other = engine_proc(["--max-accounts", "32"], journal_dir=eng.journal_dir)
    _refused(other, "written by an engine with max_orders=65536 max_levels=4096 "
                    "max_instruments=2 max_accounts=16")


def test_journal_directory_that_cannot_be_created_is_a_clear_error(engine_proc, tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    eng = engine_proc(journal_dir=blocker / "journal")
    _refused(eng, "cannot create journal directory: Not a directory")
