"""The daily and weekly TCA reports, served read-only from one configured directory
(``[dashboard] reports_dir``; ``python -m trading report daily|weekly --out DIR`` writes them).

Only the names the report builder writes are served: ``daily-YYYY-MM-DD`` or ``weekly-YYYY-MM-DD``
with ``.html``, ``.pdf`` or ``.json`` (trading/tca/report/build.py). A name is matched against that
pattern before it touches the file system, so "..", slashes, encoded separators, NUL and other
names are refused without a lookup; a matching name that is a symbolic link, or not a regular file
directly in the directory, is refused as well (a link planted in the reports directory does not
reach a file outside it). Files are opened with O_NOFOLLOW and served from the descriptor.

The reports carry every firm's executions, so they are served to logged-in dashboard users only
(any of them may read the whole venue), never writable, and an HTML report is sandboxed by its
Content-Security-Policy (no script, images only inline: the builder embeds its charts as data: URLs).
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME = re.compile(r"^(daily|weekly)-(\d{4}-\d{2}-\d{2})\.(html|pdf|json)$")
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "json": "application/json"}
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
MAX_LISTED = 400                       # newest first; older ones are still served by name
MAX_BYTES = 64 << 20


class ReportRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OpenReport:
    fd: int
    size: int
    media_type: str
    name: str


class ReportsDir:
    def __init__(self, directory: str) -> None:
        """directory: "" for none (the panel says how to configure one)."""
        self.directory = Path(directory).resolve() if directory else None

    def listing(self) -> dict[str, Any]:
        """The reports panel's state: the reports found, newest first, each with its formats."""
        if self.directory is None:
            return {"configured": False,
                    "hint": "no reports directory: set [dashboard] reports_dir in the venue config"}
        try:
            entries = list(os.scandir(self.directory))
        except OSError as exc:
            return {"configured": True, "dir": str(self.directory), "reports": [],
                    "error": f"cannot read {self.directory}: {exc.strerror}"}
        found: dict[tuple[str, str], list[str]] = {}
        for e in entries:
            m = NAME.match(e.name)
            if m and e.is_file(follow_symlinks=False):
                found.setdefault((m.group(2), m.group(1)), []).append(m.group(3))
        keys = sorted(found, reverse=True)[:MAX_LISTED]
        return {"configured": True, "dir": str(self.directory),
                "reports": [{"kind": kind, "date": day,
                             "files": {fmt: f"{kind}-{day}.{fmt}" for fmt in sorted(found[(day, kind)])}}
                            for day, kind in keys]}

    def open(self, name: str) -> OpenReport:
        """An open descriptor on the report `name` (the caller closes it); ReportRefused otherwise."""
        if self.directory is None:
            raise ReportRefused(404, "not_configured", "no reports directory is configured ([dashboard] reports_dir)")
        m = NAME.match(name)
        if m is None:
            raise ReportRefused(404, "bad_name", "not a report name: (daily|weekly)-YYYY-MM-DD.(html|pdf|json)")
        try:
            fd = os.open(self.directory / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            raise ReportRefused(404, "not_found", f"no report {name} in the reports directory") from None
        except OSError as exc:          # ELOOP: a symbolic link
            raise ReportRefused(404, "not_served", f"{name}: not served ({exc.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
            os.close(fd)
            raise ReportRefused(404, "not_served", f"{name}: not a regular file of at most {MAX_BYTES >> 20} MiB")
        return OpenReport(fd, st.st_size, MEDIA[m.group(3)], name)
