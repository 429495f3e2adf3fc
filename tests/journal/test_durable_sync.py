"""One device write per page and one cache flush per durable sync (issue #16 point 8;
native/journal/jrnl_durable.c): a file's bytes are made durable by writeback of the range plus
fdatasync of a never-written flush file on the same device only where that is provable (every
byte in written, allocated extents on ext4 or xfs, the flush file on the same device); anywhere
else the journal and the gateway's flow store fall back to msync. Shown on files made each way
(sparse, fallocated, written but not yet allocated, written), on a journal whose segment was made
sparse behind its back, and on the real engine and gateway processes."""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from gateway.enginehost import journal
from native._venue import ffi, lib
from shm.client import EngineClient

from .conftest import order_stream
from .test_gateway_restart import _rested_bid, _state_gateway

BLOCK = 4096
LIMITS = (1000, 100, 4, 16)
FAST_FILESYSTEMS = ("ext4", "xfs")


def _fs_type(path: Path) -> str:
    """The filesystem type of path's mount, from /proc/self/mountinfo (by device number)."""
    dev = os.stat(path).st_dev
    want = f"{os.major(dev)}:{os.minor(dev)}"
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[2] == want:
            return fields[fields.index("-") + 1]
    return "unknown"


def _fs_root(path: Path) -> Path | None:
    """The mount point that shows path's filesystem from its own root ("/" in mountinfo's root
    field), or None."""
    dev = os.stat(path).st_dev
    want = f"{os.major(dev)}:{os.minor(dev)}"
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[2] == want and fields[3] == "/":
            point = Path(fields[4].encode().decode("unicode_escape"))
            st = os.stat(point)
            return point if st.st_dev == dev else None
    return None


def _flush_target(d: Path) -> Path:
    """Where the flush of data files in d goes (jrnl_flush_file_open): ext4's root directory
    where this mount namespace shows it, else d/device-flush."""
    root = _fs_root(d)
    if _fs_type(d) == "ext4" and root is not None and os.stat(root).st_ino == 2:
        return root
    return d / "device-flush"


@pytest.fixture
def disk_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on a filesystem the fast path supports (tmp_path, else /var/tmp)."""
    if _fs_type(tmp_path) in FAST_FILESYSTEMS:
        yield tmp_path
        return
    if _fs_type(Path("/var/tmp")) not in FAST_FILESYSTEMS:
        pytest.skip("no ext4 or xfs directory here: the fast path is never taken")
    d = Path("/var/tmp") / f"durable-sync-{os.getpid()}-{tmp_path.name}"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _provable(fd: int, size: int, flush_fd: int) -> tuple[int, str]:
    why = ffi.new("char[256]")
    ok = lib.jrnl_durable_provable(fd, size, flush_fd, why, 256)
    return ok, ffi.string(why).decode()


def _flush_file(d: Path) -> int:
    msg = ffi.new("char[256]")
    fd = lib.jrnl_flush_file_open(str(d).encode(), msg, 256)
    assert fd >= 0, ffi.string(msg).decode()
    return fd


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def test_the_fast_path_needs_written_blocks_and_filling_the_holes_earns_it(disk_dir: Path) -> None:
    flush = _flush_file(disk_dir)
    size = 64 * BLOCK
    try:
        sparse = _open(disk_dir / "sparse")
        os.pwrite(sparse, b"head", 0)
        os.ftruncate(sparse, size)
        os.fsync(sparse)
        ok, why = _provable(sparse, size, flush)
        assert ok == 0 and "hole" in why, why
        assert lib.jrnl_fill_holes(sparse, size) == 0
        assert _provable(sparse, size, flush) == (1, "")
        assert os.fstat(sparse).st_size == size
        assert os.pread(sparse, 4, 0) == b"head"
        assert os.pread(sparse, size, 0)[4:] == bytes(size - 4)

        fallocated = _open(disk_dir / "fallocated")
        os.posix_fallocate(fallocated, 0, size)
        os.fsync(fallocated)
        ok, why = _provable(fallocated, size, flush)
        assert ok == 0 and "not plain written blocks" in why, why
        assert lib.jrnl_fill_holes(fallocated, size) == 0
        assert _provable(fallocated, size, flush)[0] == 1

        written = _open(disk_dir / "written")
        os.pwrite(written, b"w" * size, 0)      # in the page cache, blocks not allocated yet
        if _fs_type(disk_dir) == "ext4":
            assert _provable(written, size, flush)[0] == 0
        os.fdatasync(written)
        assert _provable(written, size, flush)[0] == 1
        assert _provable(written, size + BLOCK, flush)[0] == 0     # longer than the file
        for fd in (sparse, fallocated, written):
            os.close(fd)
    finally:
        os.close(flush)


def test_the_flush_file_must_be_on_the_data_files_device(disk_dir: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(disk_dir).st_dev:
        pytest.skip("no second filesystem at /dev/shm")
    data = _open(disk_dir / "data")
    os.pwrite(data, bytes(4 * BLOCK), 0)
    os.fsync(data)
    other = os.open(shm / f"durable-sync-flush-{os.getpid()}", os.O_RDONLY | os.O_CREAT, 0o644)
    same = _flush_file(disk_dir)
    try:
        ok, why = _provable(data, 4 * BLOCK, other)
        assert ok == 0 and "same device" in why, why
        assert _provable(data, 4 * BLOCK, same)[0] == 1
    finally:
        os.close(other)
        os.unlink(shm / f"durable-sync-flush-{os.getpid()}")
        os.close(same)
        os.close(data)


def test_on_ext4_the_flush_goes_through_the_root_directory_not_a_file_beside_the_data(
        disk_dir: Path) -> None:
    """ext4 without a journal writes the flush target's inode-table block on its fsync whenever
    that block is dirty; a segment synced per order dirties its own inode (the mtime of the next
    order's page fault), and a flush file created beside it often shares its block: one more
    serial device write per sync (jrnl_durable.c). The root directory's block holds no such
    inode. Fails on a flush file beside the data."""
    if _fs_type(disk_dir) != "ext4" or _fs_root(disk_dir) is None:
        pytest.skip("not ext4, or its root is not shown in this mount namespace")
    flush = _flush_file(disk_dir)
    data = _open(disk_dir / "data")
    try:
        st = os.fstat(flush)
        assert (st.st_ino, st.st_dev) == (2, os.stat(disk_dir).st_dev)
        assert not (disk_dir / "device-flush").exists()
        os.pwrite(data, bytes(4 * BLOCK), 0)
        os.fsync(data)
        assert _provable(data, 4 * BLOCK, flush) == (1, "")
    finally:
        os.close(data)
        os.close(flush)


def _append(log, seqs: range) -> None:
    payload = bytes(range(96))
    for s in seqs:
        assert lib.jrnl_log_append(log, s, s * 1000, 0, payload) == 0
    assert lib.jrnl_log_sync(log) == 0, journal.log_message(log)


def _make_sparse(path: Path) -> None:
    """Rewrites path with holes where its 4 KiB blocks are zero (as a sparse copy would)."""
    data = path.read_bytes()
    tmp = path.with_suffix(".sparse")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    for off in range(0, len(data), BLOCK):
        if data[off:off + BLOCK].strip(b"\0"):
            os.pwrite(fd, data[off:off + BLOCK], off)
    os.ftruncate(fd, len(data))
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, path)


def test_a_journal_syncs_fast_on_its_segments_and_falls_back_on_a_sparse_one(
        disk_dir: Path) -> None:
    d = str(disk_dir / "journal")
    log = journal.open_log(d, journal.KIND_CMD, LIMITS, segment_bytes=1 << 20)
    try:
        assert log.flush_fd >= 0 and log.durable.flush_fd == log.flush_fd
        assert log.durable.fd == log.fd
        st, want = os.fstat(log.flush_fd), os.stat(_flush_target(disk_dir / "journal"))
        assert (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino)
        _append(log, range(1, 101))
    finally:
        lib.jrnl_log_close(log)
    target = _flush_target(disk_dir / "journal")
    assert (disk_dir / "journal" / "device-flush").is_file() == (target.name == "device-flush")
    _make_sparse(disk_dir / "journal" / "cmd-0000000000000000.jrnl")
    log = journal.open_log(d, journal.KIND_CMD, LIMITS, segment_bytes=1 << 20)
    try:
        assert log.last_seq == 100
        assert log.flush_fd >= 0 and log.durable.flush_fd == -1     # msync for this segment
        _append(log, range(101, 201))
    finally:
        lib.jrnl_log_close(log)
    ro = journal.open_log(d, journal.KIND_CMD, LIMITS, segment_bytes=1 << 20, readonly=True)
    assert ro.last_seq == 200 and ro.records == 200
    assert ro.flush_fd == -1                    # a reader opens no flush file


def test_the_engine_and_the_gateway_store_sync_by_writeback_and_flush(
        engine_proc, disk_dir: Path) -> None:
    eng = engine_proc(["--durability", "group"], journal_dir=disk_dir / "journal")
    eng.start()
    with EngineClient(eng.name) as client:
        client.submit_many(order_stream(random.Random(3), 50, 1))
    gw = _state_gateway(eng.name, disk_dir)
    store = disk_dir / "gateway.state"
    try:
        gw.start()
        owner = _rested_bid(gw.port)
        owner.terminate()
        st = os.stat(store)
        assert st.st_blocks * 512 >= st.st_size, "the flow store is still sparse"
        assert (disk_dir / "device-flush").is_file() == (
            _flush_target(disk_dir).name == "device-flush")
    finally:
        gw.close()
    gw_log = gw.log_path.read_text()
    assert "flow store syncs (0 failed" in gw_log, gw_log
    assert "by writeback + device flush)" in gw_log, gw_log
    assert eng.stop() == 0
    assert "command journal synced by writeback + device flush" in eng.log(), eng.log()
