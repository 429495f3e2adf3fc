"""Name locks: a process that is about to create, open or remove anything of venue NAME (its
segments, its journal) first takes an exclusive ``flock`` on a lock file, and holds it for its
whole life. A second process wanting the same lock is refused at once and touches nothing: this is
what keeps a second ``python -m gateway up`` (or a second engine on the same journal) from
deleting a running venue's segments or recovering its live journal under it.

Invariants: the lock belongs to the open file description, so it lives exactly as long as the
process that took it (the kernel drops it on any exit, SIGKILL included: no stale lock to clean
up). The holder unlinks its lock file when it releases it cleanly, so finished venues leave nothing
behind; a taker therefore checks, after its flock succeeds, that the name still leads to the inode
it locked (else it locked a file being removed, and tries again): two processes never each hold a
different inode under the same name. The file holds the holder's pid and command line, for the refusal's
message only, never for the decision.

Roles: ``up`` (the launcher: one per venue name), ``engine`` (one engine per venue name), and a
journal directory (one writer per directory, whatever its venue name: the directory itself is
locked, so the journal gains no file and a refused start leaves it byte for byte as it was). Usable by any
launcher (tests, demo, benchmarks) that wants the same guarantee.
"""
from __future__ import annotations

import errno
import fcntl
import os
import sys

from shm.segment import segment_path


ROLES = ("up", "engine")         # the roles whose lock files live beside the venue's segments


class VenueLocked(Exception):
    """Another live process holds the lock; the message names it and the lock file."""


class NameLock:
    """An exclusive lock on one file, held until ``release()`` or the process exits."""

    def __init__(self, path: str, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> "NameLock":
        """Takes the lock or raises VenueLocked (someone holds it) / OSError (cannot open)."""
        for _ in range(100):
            if self._try_acquire():
                return self
        raise VenueLocked(f"{self.what}: its lock file {self.path} keeps being replaced")

    def _try_acquire(self) -> bool:
        """True: locked; False: the file was unlinked under us (try again)."""
        try:
            if os.path.isdir(self.path):
                fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            else:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:
            # Another user's lock file: opening it read-only is enough to test the lock.
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise VenueLocked(f"{self.what} is in use by {holder(self.path)} "
                              f"(lock {self.path})") from None
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            now = None
        mine = os.fstat(fd)
        if now is None or (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
            os.close(fd)
            return False
        self._fd = fd
        if os.path.isdir(self.path):
            return True
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}: {' '.join(sys.argv)}\n".encode(), 0)
        except OSError:
            pass                    # read-only (another user's file): the lock itself is held
        return True

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Drops the lock (removing its file, then closing the descriptor); safe to call twice."""
        if self._fd is not None:
            if not os.path.isdir(self.path):
                try:
                    os.unlink(self.path)    # while still held: see the module's invariants
                except OSError:
                    pass
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "NameLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(path: str) -> str:
    """What the lock file says about its holder ("pid N: command"), or 'another process'."""
    if os.path.isdir(path):
        return "another engine"
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(300).strip()
    except OSError:
        return "another process"
    return text or "another process"


def venue_lock_path(name: str, role: str, directory: str | None = None) -> str:
    """``<shm dir>/venue-NAME.ROLE.lock`` (name validated as for segment files; the dot keeps it
    out of the ``venue-NAME-*`` segment pattern, and names cannot contain one)."""
    base = segment_path(name, "x", directory)[:-2]
    return f"{base}.{role}.lock"


def lock_venue(name: str, role: str, directory: str | None = None) -> NameLock:
    """Takes venue NAME's lock for `role` ('up' or 'engine'); raises VenueLocked when held."""
    return NameLock(venue_lock_path(name, role, directory),
                    f"venue {name!r} ({role})").acquire()


def remove_stale_lock(path: str) -> bool:
    """Removes lock file `path` when no live process holds it: a holder SIGKILLed (or killed by
    the OOM killer) never ran its release, so its file stays behind, empty of meaning. The file is
    taken first and removed by release(), as a clean holder would, so a process taking it at the
    same moment either holds it (and it stays) or finds it replaced (and takes the new one).
    True when a stale file was removed; False when it is held or absent."""
    if not os.path.lexists(path) or os.path.isdir(path):
        return False
    try:
        NameLock(path, f"lock {path!r}").acquire().release()
    except (VenueLocked, OSError):
        return False
    return True


def remove_stale_venue_locks(name: str, directory: str | None = None) -> list[str]:
    """The lock files of venue NAME's roles ('up', 'engine') that no live process holds, removed
    (for the clean-up after a venue's processes are gone: see remove_stale_lock)."""
    paths = [venue_lock_path(name, role, directory) for role in ROLES]
    return [p for p in paths if remove_stale_lock(p)]


def lock_journal(directory: str) -> NameLock:
    """Takes the journal directory's writer lock (creating the directory): an flock on the
    directory itself. Raises VenueLocked when another engine writes or recovers it."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise OSError(exc.errno, f"{directory}: cannot create journal directory: "
                                 f"{exc.strerror}") from None
    return NameLock(directory, f"journal {directory!r}").acquire()
