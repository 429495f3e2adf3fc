"""Group commit: an acknowledgement is released only after its command is on disk, and the event
journal, which group commit makes durable behind the command journal, is completed by recovery
when a machine crash left a hole in it (simulated by zeroing records, as lost page-cache pages
read back after a power cut)."""
from __future__ import annotations

import ctypes
import mmap
import os
import random
import struct
from pathlib import Path

import pytest

from gateway.enginehost import journal
from native._venue import lib
from shm.client import EngineClient

from .conftest import order_stream

HDR = lib.JRNL_SEG_HDR_BYTES
REC = lib.JRNL_RECORD_BYTES


def _page_dirty(path: Path, offset: int) -> bool:
    """Whether the page-cache page holding byte `offset` of a file is dirty (written but not yet
    on disk): maps it here (shared; only read, so this never dirties it), finds its frame in
    /proc/self/pagemap and reads KPF_DIRTY (bit 4) in /proc/kpageflags (root only)."""
    page = offset // mmap.PAGESIZE * mmap.PAGESIZE
    with open(path, "r+b") as f:
        m = mmap.mmap(f.fileno(), mmap.PAGESIZE, offset=page)
    try:
        _ = m[0]                                           # read fault: maps the page
        cell = ctypes.c_char.from_buffer(m)                # ctypes needs a writable buffer
        addr = ctypes.addressof(cell)
        del cell
        with open("/proc/self/pagemap", "rb") as pm:
            pm.seek(addr // mmap.PAGESIZE * 8)
            entry = struct.unpack("<Q", pm.read(8))[0]
        assert entry >> 63, "page not present after reading it"
        with open("/proc/kpageflags", "rb") as kf:
            kf.seek((entry & ((1 << 55) - 1)) * 8)
            return bool(struct.unpack("<Q", kf.read(8))[0] >> 4 & 1)
    finally:
        m.close()


@pytest.mark.skipif(not os.access("/proc/kpageflags", os.R_OK), reason="needs /proc/kpageflags")
@pytest.mark.parametrize("mode", ["group", "group-inline", "each", "async"])
def test_an_ack_comes_only_after_its_command_is_on_disk(engine_proc, mode: str) -> None:
    # A long window makes every command wait in an open group. The reply must not come before
    # the group's sync wrote the command's page back: at reply time that page is clean. async
    # is the control: its acks come with the page still dirty, so the probe does see them.
    # group-inline: each lone command's group is synced on the engine thread itself.
    extra = ["--group-inline-max", "8"] if mode == "group-inline" else []
    eng = engine_proc(["--durability", mode.split("-")[0], "--group-us", "20000", *extra])
    eng.start()
    seg = eng.journal_dir / "cmd-0000000000000000.jrnl"
    dirty = []
    with EngineClient(eng.name) as client:
        client.submit_many(order_stream(random.Random(2), 64, 1000))   # past page 0 (header)
        for cmd in order_stream(random.Random(3), 30, 1):
            seq = client.submit(cmd).seq
            dirty.append(_page_dirty(seg, HDR + (seq - 1) * REC))
    assert eng.stop() == 0
    if mode == "async":
        assert any(dirty)
    else:
        assert not any(dirty), dirty


def test_a_hole_in_the_event_journal_is_rewritten_from_the_commands(engine_proc) -> None:
    eng = engine_proc(["--durability", "group"])
    eng.start()
    with EngineClient(eng.name) as client:
        client.submit_many(order_stream(random.Random(4), 3000, 1))
    assert eng.stop() == 0
    before_seqs, before_idx, before_pay = journal.read_records(str(eng.journal_dir),
                                                               journal.KIND_EVT)
    assert len(before_seqs) > 2000
    # Records 1000..1063 (two pages) never reached the disk, a later page did.
    seg = eng.journal_dir / "evt-0000000000000000.jrnl"
    with open(seg, "r+b") as f:
        f.seek(HDR + 1000 * REC)
        f.write(bytes(64 * REC))
    eng.start()
    log = eng.log()
    assert "evt journal: hole (records the machine lost before they were written back)" in log
    after_seqs, after_idx, after_pay = journal.read_records(str(eng.journal_dir),
                                                            journal.KIND_EVT)
    assert (after_seqs == before_seqs).all() and (after_idx == before_idx).all()
    assert (after_pay == before_pay).all()
    ref, e = journal.verify(str(eng.journal_dir))
    e.close()
    assert ref.state_hash == eng.recovered_hash()
    assert eng.stop() == 0


def test_a_hole_in_the_command_journal_is_still_refused(engine_proc) -> None:
    eng = engine_proc(["--durability", "group"])
    eng.start()
    with EngineClient(eng.name) as client:
        client.submit_many(order_stream(random.Random(5), 500, 1))
    assert eng.stop() == 0
    with open(eng.journal_dir / "cmd-0000000000000000.jrnl", "r+b") as f:
        f.seek(HDR + 100 * REC)
        f.write(bytes(32 * REC))
    eng.start(wait_ready=False)
    assert eng.proc.wait(60) == 1
    assert "corrupt cmd record in the middle of the journal" in eng.log()
