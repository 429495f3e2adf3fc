"""Writing reports: CSV and JSON lines, atomically (a temporary file renamed into place), and only
when the report is complete and valid; otherwise ReportInvalid lists what is wrong and no file is
left behind under the report's name."""
from __future__ import annotations

import csv
import json
import os
from typing import Any, Iterable, Mapping, Sequence

from trading.tca.errors import TcaInputError
from trading.tca.regulatory.fieldrules import Violation


class ReportInvalid(TcaInputError):
    """A report failed its field rules; nothing was written. .violations lists every problem."""

    def __init__(self, what: str, violations: Sequence[Violation]) -> None:
        shown = "\n  ".join(str(v) for v in violations[:20])
        more = f"\n  ... and {len(violations) - 20} more" if len(violations) > 20 else ""
        super().__init__(f"{what}: {len(violations)} field-rule violations, report not written:\n  {shown}{more}")
        self.violations = list(violations)


def _atomic(path: str, write: Any) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_csv(path: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
              header_lines: Iterable[str] = ()) -> None:
    """CSV with `columns`; header_lines become leading '# ' comment lines (status notes, sources)."""
    def w(f: Any) -> None:
        for line in header_lines:
            f.write(f"# {line}\n")
        wr = csv.DictWriter(f, fieldnames=list(columns), extrasaction="raise")
        wr.writeheader()
        for r in rows:
            wr.writerow(r)
    _atomic(path, w)


def write_jsonl(path: str, rows: Iterable[Mapping[str, Any]]) -> None:
    def w(f: Any) -> None:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":"), allow_nan=False) + "\n")
    _atomic(path, w)


def write_text(path: str, text: str) -> None:
    _atomic(path, lambda f: f.write(text))
