"""The venue's one reason-code table, as a Python IntEnum read from native/layout/venue_layout.h Section 1.

Owns nothing but the reading: the numbers, names and one-line descriptions live only in the
eng_reason enum of that header (engine codes and the gateways' 900-999 block), and this module
parses them at import, so it works before the cffi extension is built and can never hold a stale
copy. tests/gateway/test_sbe_reason_table.py checks the parse against the compiled enum.
"""
from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

import native

LAYOUT_HEADER = Path(native.__file__).resolve().parent / "layout" / "venue_layout.h"

_ENUM = re.compile(r"typedef enum eng_reason \{(.*?)\} eng_reason_t;", re.S)
_MEMBER = re.compile(r"^\s*(ENG_\w+)\s*=\s*(\d+)\s*,?\s*(?:/\*\s*(.*?)\s*\*/)?\s*$", re.M)


def _read_table(header: Path) -> list[tuple[str, int, str]]:
    text = header.read_text()
    body = _ENUM.search(text)
    if body is None:
        raise RuntimeError(f"{header}: no 'typedef enum eng_reason {{...}} eng_reason_t;' found")
    rows = [(m.group(1), int(m.group(2)), m.group(3) or "") for m in _MEMBER.finditer(body.group(1))]
    if not rows:
        raise RuntimeError(f"{header}: eng_reason enum has no members this parser understands")
    values = [v for _, v, _ in rows]
    if len(set(values)) != len(values):
        raise RuntimeError(f"{header}: eng_reason has duplicate values")
    return rows


_ROWS = _read_table(LAYOUT_HEADER)

Reason = IntEnum("Reason", [(name, value) for name, value, _ in _ROWS], module=__name__)  # type: ignore[misc]
Reason.__doc__ = "eng_reason_t of native/layout/venue_layout.h: ENG_OK, engine rejects 100-599, gateways 900-999."

_DESCRIPTIONS: dict[int, str] = {value: desc for _, value, desc in _ROWS}


def describe(code: int) -> str:
    """'NAME (code): description' for a known code; raises ValueError for a code not in the table."""
    reason = Reason(code)
    desc = _DESCRIPTIONS[int(reason)]
    return f"{reason.name} ({int(reason)})" + (f": {desc}" if desc else "")


def is_gateway_reason(code: int) -> bool:
    """True for the 900-999 block reserved for gateways (codec, FIXP session, gateway policy)."""
    return 900 <= code <= 999
