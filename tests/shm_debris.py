"""A test run leaves the shared-memory folder as it found it: the venue files (segments, latency
regions, lock files) that appeared during the run and that no live process holds at its end fail
the run, named one per line. Loaded by tests/conftest.py as a plugin.

Held means still in use by a process of some run: a lock file with an flock on its inode
(/proc/locks, read, never probed with flock: a probe would make a concurrent taker fail), any
other file mapped or open in a live process (/proc/PID/maps, /proc/PID/fd). Another run beside
this one (another worktree) cleans up on its own schedule, so a file that goes away within
SETTLE_S is not debris; a venue whose lock file's holder line names a program outside this
checkout is another checkout's (its lock file and its segments: a test there may have killed its
engine and not yet cleaned up), reported as a note only.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from shm.segment import PREFIX, shm_dir

SETTLE_S = 10.0
ROOT = Path(__file__).resolve().parents[1]
_before: set[str] | None = None


def venue_files(directory: str) -> set[str]:
    """The venue files in `directory` (names starting 'venue-')."""
    try:
        return {f for f in os.listdir(directory) if f.startswith(f"{PREFIX}-")}
    except OSError:
        return set()


def _flocked_inodes() -> set[tuple[str, int]]:
    """(device 'maj:min' as /proc/locks writes it, inode) of every file someone holds a lock on."""
    held = set()
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return held
    for line in lines:
        for field in line.split():
            parts = field.split(":")
            if len(parts) == 3 and all(parts):
                try:
                    held.add((f"{parts[0]}:{parts[1]}".lower(), int(parts[2])))
                except ValueError:
                    pass
                break
    return held


def _in_use_paths() -> set[str]:
    """Every path some live process maps or has open."""
    used: set[str] = set()
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                if "/" in line:
                    used.add(line[line.index("/"):].removesuffix(" (deleted)"))
            fd_dir = f"/proc/{pid}/fd"
            for fd in os.listdir(fd_dir):
                used.add(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            continue                        # gone meanwhile, or not ours to read
    return used


def _holder_outside_checkout(path: str) -> bool:
    """The lock file's holder line ('pid N: PROGRAM ARGS') names a program of another checkout."""
    try:
        words = Path(path).read_text(errors="replace").split()
    except OSError:
        return False
    program = words[2] if len(words) > 2 and words[0] == "pid" else ""
    return program.startswith("/") and not Path(program).resolve().is_relative_to(ROOT)


def _venue_of_lock(name: str) -> str:
    """'venue-NAME.ROLE.lock' -> NAME (venue names contain no dot)."""
    return name[len(PREFIX) + 1:].split(".", 1)[0]


def unheld(directory: str, names: set[str]) -> tuple[list[str], list[str]]:
    """Of `names` in directory, those no live process holds: (this checkout's or unknown,
    another checkout's). A venue whose lock file names a program of another checkout is that
    checkout's, its segments too: a test there may have killed its engine and not yet run its
    clean-up."""
    locked, used = _flocked_inodes(), _in_use_paths()
    foreign = {_venue_of_lock(n) for n in names
               if n.endswith(".lock") and _holder_outside_checkout(os.path.join(directory, n))}
    mine, others = [], []
    for name in sorted(names):
        path = os.path.join(directory, name)
        try:
            st = os.stat(path)
        except OSError:
            continue
        if name.endswith(".lock"):
            dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}"
            if (dev, st.st_ino) in locked:
                continue
        elif path in used:
            continue
        if any(name.startswith(f"{PREFIX}-{v}-") or name.startswith(f"{PREFIX}-{v}.") for v in foreign):
            others.append(path)
        else:
            mine.append(path)
    return mine, others


def debris(directory: str, before: set[str], settle_s: float = SETTLE_S) -> tuple[list[str], list[str]]:
    """The venue files that appeared since `before` and are held by no one, once what a run
    beside is still cleaning up has had settle_s to go."""
    end = time.monotonic() + settle_s
    while True:
        mine, others = unheld(directory, venue_files(directory) - before)
        if not mine or time.monotonic() >= end:
            return mine, others
        time.sleep(0.5)


def pytest_sessionstart(session: pytest.Session) -> None:
    global _before
    _before = venue_files(shm_dir())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _before is None or session.config.option.collectonly:
        return
    mine, others = debris(shm_dir(), _before)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    for path in others:
        write(f"note: {path} is another checkout's (its venue's lock file names that program)")
    if mine:
        write("")
        write(f"ERROR: this test run left {len(mine)} venue file(s) that no live process holds "
              f"(a fixture that does not close its venue, or a clean-up that misses a file):")
        for path in mine:
            write(f"  {path}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
