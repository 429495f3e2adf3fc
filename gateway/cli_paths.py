"""Output paths on the command line, checked before any work starts.

A verb that runs for seconds or minutes and then fails to write its result (``--out`` naming a
file where a directory is wanted, or a directory under a regular file) wastes the run and, before
these checks, ended in a traceback. ``output_dir`` and ``output_file`` are argparse ``type=``
callables: they refuse such a path at parse time with one line naming it (argparse turns the
``ArgumentTypeError`` into ``argument --out: MESSAGE``), and create nothing. A path that passes
can still fail later (a full disk, a read-only mount): writers catch ``OSError`` at their own
boundary and report it in one line as well.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def _existing_ancestor(path: Path) -> Path:
    """The nearest ancestor of ``path`` (itself excluded) that exists; '/' at worst."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _check_creatable_under(text: str, path: Path) -> None:
    """``path`` does not exist: its nearest existing ancestor must be a writable directory, or
    creating it (and the folders between) cannot succeed."""
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: {str(ancestor)!r} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r}: cannot create it, {str(ancestor)!r} is not writable")


def output_dir(text: str) -> Path:
    """A directory to write into: an existing directory, or one that can be created."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path: give a directory")
    path = Path(text)
    if path.exists():
        if not path.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} exists and is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"{text!r}: directory is not writable")
        return path
    _check_creatable_under(text, path)
    return path


def existing_dir(text: str) -> Path:
    """An existing, writable directory to work in (a bench's scratch space on the disk it measures):
    nothing is created, a missing one is refused rather than made."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path: give a directory")
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text!r}: no such directory")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r}: directory is not writable")
    return path


def output_file(text: str) -> Path:
    """A file to (over)write: not a directory, and its folder exists or can be created."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path: give a file name")
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, not a file")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise argparse.ArgumentTypeError(f"{text!r}: file is not writable")
        return path
    _check_creatable_under(text, path)
    return path


def os_error_line(exc: OSError) -> str:
    """'PATH: reason' for an OSError, without Python's '[Errno N]' noise."""
    where = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    return f"{where}: {reason}" if where else reason
