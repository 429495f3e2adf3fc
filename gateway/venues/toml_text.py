"""TOML text of a configuration (a single-venue VenueConfig derived for one venue of a multi-venue
file), so that each venue's processes read their own config file like any single venue's.

Writes only what venue configs hold: tables, arrays of tables, strings, integers, floats, booleans,
dates and lists of those; a None value (an unset optional field) is left out, which reads back as
the same default. tests/gateway/venues check the round trip (text -> tomllib -> the same Struct).
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import msgspec


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)           # a JSON string is a TOML basic string
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(prefix: str, table: dict[str, Any], out: list[str]) -> None:
    nested = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        else:
            out.append(f"{key} = {_scalar(value)}")
    for key, value in nested:
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out += ["", f"[{name}]"]
            _table(name, value, out)
        else:
            for item in value:
                out += ["", f"[[{name}]]"]
                _table(name, item, out)


def toml_text(struct: msgspec.Struct) -> str:
    """The TOML document of a msgspec Struct (its fields as tables and keys)."""
    out: list[str] = []
    _table("", msgspec.to_builtins(struct, builtin_types=(dt.date, dt.datetime)), out)
    return "\n".join(out).lstrip("\n") + "\n"
