"""The dict contract shared by the oracle and the C wrapper: command dicts in, event dicts out.

A command is {'type': name or number, 'instrument_id', 'seq', 'ts_ns', <variant fields>}: missing
fields are 0, an unknown key is a ValueError, a value outside its C field's range an OverflowError.
An event is {'type': name, 'reason', 'instrument_id', 'seq', 'ts_ns', <variant fields>}, every
value a plain int and every field of the variant present (no _pad fields). Shapes come from layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .layout import COMMAND_CODES, COMMAND_HEADER, COMMANDS, EVENT_CODES, EVENTS, int_range


@dataclass(frozen=True)
class Command:
    """One decoded command: its raw type code, header and variant fields (all present, ints)."""

    code: int
    instrument_id: int
    seq: int
    ts_ns: int
    fields: Mapping[str, int]

    def __getattr__(self, name: str) -> int:
        # Variant fields read like struct members: cmd.qty, cmd.order_id.
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None


def _checked(name: str, value: Any, ctype: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"command field {name!r} must be an int, got {value!r}")
    low, high = int_range(ctype)
    if not low <= value <= high:
        raise OverflowError(f"command field {name!r}={value} does not fit {ctype}")
    return int(value)


def decode_command(raw: Mapping[str, Any]) -> Command:
    """Validates one command dict against the layout; raises ValueError/OverflowError if malformed."""
    if "type" not in raw:
        raise ValueError(f"command without 'type': {raw!r}")
    kind = raw["type"]
    if isinstance(kind, str):
        if kind not in COMMAND_CODES:
            raise ValueError(f"unknown command type name {kind!r}")
        code = COMMAND_CODES[kind]
    else:
        code = _checked("type", kind, COMMAND_HEADER["type"])
    # An unknown numeric type is valid input (the engine rejects it): it has header fields only.
    variant = COMMANDS[code].fields if code in COMMANDS else {}
    unknown = set(raw) - set(COMMAND_HEADER) - set(variant)
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)} for command type {kind!r}")
    header = {name: _checked(name, raw.get(name, 0), ctype)
              for name, ctype in COMMAND_HEADER.items() if name != "type"}
    fields = {name: _checked(name, raw.get(name, 0), ctype) for name, ctype in variant.items()}
    return Command(code, header["instrument_id"], header["seq"], header["ts_ns"], fields)


def make_event(kind: str, cmd: Command, instrument_id: int, reason: int = 0,
               **fields: int) -> dict[str, int | str]:
    """An event dict stamped with the command's seq and ts_ns; all variant fields must be given."""
    shape = EVENTS[EVENT_CODES[kind]]
    if set(fields) != set(shape.fields):
        missing = set(shape.fields) - set(fields)
        extra = set(fields) - set(shape.fields)
        raise AssertionError(f"{kind}: missing {sorted(missing)}, extra {sorted(extra)}")
    event: dict[str, int | str] = {"type": kind, "reason": reason, "instrument_id": instrument_id,
                                   "seq": cmd.seq, "ts_ns": cmd.ts_ns}
    event.update(fields)
    return event
