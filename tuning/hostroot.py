"""Every filesystem path the tuning code touches goes through a HostRoot, so the whole package can
run against a fake /proc and /sys tree in a temporary directory (``--root DIR``) exactly as it runs
against "/". Reads and writes map OS errors to the package's "cannot read" / "not applicable
here" vocabulary in one place."""
from __future__ import annotations

import errno
import os
from pathlib import Path

from tuning.errors import CannotRead, NotApplicableHere


class HostRoot:
    """A view of the host's files rooted at ``root`` (``/`` for the live host)."""

    def __init__(self, root: str | os.PathLike[str] = "/") -> None:
        self.root = Path(root).resolve()

    @property
    def is_live(self) -> bool:
        """True when this is the running host itself, not a copy of its tree."""
        return self.root == Path("/")

    def path(self, host_path: str) -> Path:
        """The real path of ``host_path`` (an absolute path on the host) under this root."""
        if not host_path.startswith("/"):
            raise ValueError(f"host path must be absolute: {host_path!r}")
        return self.root / host_path.lstrip("/")

    def exists(self, host_path: str) -> bool:
        return self.path(host_path).exists()

    def glob(self, pattern: str) -> list[str]:
        """Host paths (as seen from inside the root) matching ``pattern``, sorted naturally."""
        found = self.root.glob(pattern.lstrip("/"))
        hosts = ["/" + str(p.relative_to(self.root)) for p in found]
        return sorted(hosts, key=_natural_key)

    def read(self, host_path: str, missing_reason: str | None = None) -> str:
        """The file's text, stripped. A missing file raises NotApplicableHere with
        ``missing_reason`` (or a generic one); any other failure raises CannotRead."""
        try:
            return self.path(host_path).read_text().strip()
        except FileNotFoundError:
            raise NotApplicableHere(missing_reason or f"{host_path} does not exist here") from None
        except PermissionError:
            raise CannotRead(f"permission denied reading {host_path} (needs root?)") from None
        except OSError as exc:
            raise CannotRead(f"reading {host_path}: {os.strerror(exc.errno or errno.EIO)}") from None

    def write(self, host_path: str, value: str) -> None:
        """Writes ``value`` to an existing file in one write() call, the way sysfs and procfs
        expect it. Raises OSError unchanged: the caller decides what a failure means."""
        path = self.path(host_path)
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, "no such file", str(host_path))
        # O_TRUNC is what a shell's '>' does: procfs and sysfs ignore it, while a fake tree holds
        # ordinary files whose old contents must not survive a shorter value.
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, value.encode())
        finally:
            os.close(fd)


def _natural_key(text: str) -> list[object]:
    out: list[object] = []
    for part in _split_digits(text):
        out.append((0, int(part), "") if part.isdigit() else (1, 0, part))
    return out


def _split_digits(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    for ch in text:
        if current and (ch.isdigit() != current[-1].isdigit()):
            parts.append(current)
            current = ""
        current += ch
    if current:
        parts.append(current)
    return parts
