"""Reading a configuration, key or token file whose path a person typed.

``Path.read_bytes()`` on ``/dev/zero`` or a multi-gigabyte file reads until memory runs out (on a
shared host, everyone's), and on a FIFO it blocks forever waiting for a writer. Every such file
of the venue is small and regular: ``read_small_file`` opens without blocking, refuses anything
that is not a regular file, and refuses a file larger than the caller's limit, each with a
``NotASmallFile`` (a ValueError) whose message the caller prefixes with its own context.
Open and read errors stay OSError, as from ``open``.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

CONFIG_LIMIT = 16 << 20          # a venue, multi-venue, credentials or reference file
SECRET_LIMIT = 64 << 10          # a token, a session key, a key file


class NotASmallFile(ValueError):
    """Not a regular file, or larger than the limit given."""


def read_small_file(path: str | os.PathLike[str], limit: int = CONFIG_LIMIT) -> bytes:
    fd = os.open(Path(path), os.O_RDONLY | os.O_NONBLOCK)     # O_NONBLOCK: a FIFO does not hang open()
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a device, FIFO or socket)"
            raise NotASmallFile(f"{kind}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise NotASmallFile(f"larger than {limit >> 10} KiB: not a file of this kind")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_small_text(path: str | os.PathLike[str], limit: int = CONFIG_LIMIT) -> str:
    """The file as UTF-8 text; UnicodeDecodeError (a ValueError) when it is not."""
    return read_small_file(path, limit).decode()
