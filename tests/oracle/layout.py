"""The record shapes and enum numbers the oracle speaks, read from the project's one layout header.

Owns nothing of its own: every enum value and every field name comes from the CFFI sections of
native/layout/venue_layout.h and native/matching/eng_engine.h, parsed by a plain (uncompiled) cffi FFI, so the
oracle never repeats a number and never needs the C engine to build. Invariant: a name here exists
in the header with the same value, or importing this module fails.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Mapping

import cffi

_NATIVE_DIR = Path(__file__).resolve().parents[2] / "native"
_SECTION = re.compile(r"/\* CFFI-BEGIN \*/(.*?)/\* CFFI-END \*/", re.S)
# Only these two headers: the oracle needs the engine records and the query structs, nothing else.
_HEADERS = ("layout/venue_layout.h", "matching/eng_engine.h")


def _parse_headers() -> cffi.FFI:
    ffi = cffi.FFI()
    for name in _HEADERS:
        text = (_NATIVE_DIR / name).read_text()
        ffi.cdef("\n".join(_SECTION.findall(text)))
    return ffi


FFI = _parse_headers()

# Every ENG_* enum constant, prefix stripped: ENG.REJ_OFF_TICK, ENG.SIDE_BUY, ENG.CMD_NEW_ORDER ...
_CONSTANTS: dict[str, int] = {}
for _enum in ("eng_reason_t", "eng_cmd_type_t", "eng_side_t", "eng_ord_type_t", "eng_tif_t",
              "eng_stp_mode_t", "eng_order_flag_t", "eng_phase_t", "eng_evt_type_t",
              "eng_post_trade_limit_t", "eng_venue_mode_t", "eng_protect_mode_t"):
    for _name, _value in FFI.typeof(_enum).relements.items():
        _CONSTANTS[_name[len("ENG_"):]] = _value
ENG = SimpleNamespace(**_CONSTANTS)

INT64_MAX = (1 << 63) - 1

_INT_RANGES = {
    "uint8_t": (0, (1 << 8) - 1), "uint16_t": (0, (1 << 16) - 1),
    "uint32_t": (0, (1 << 32) - 1), "uint64_t": (0, (1 << 64) - 1),
    "int64_t": (-(1 << 63), (1 << 63) - 1), "int32_t": (-(1 << 31), (1 << 31) - 1),
}


@dataclass(frozen=True)
class RecordShape:
    """One command or event variant: its type code, name and the C type of each non-pad field."""

    code: int
    name: str
    fields: Mapping[str, str]  # field name -> C type name, header fields excluded


def _variant_fields(struct: str) -> dict[str, str]:
    return {name: field.type.cname for name, field in FFI.typeof(struct).fields
            if name != "hdr" and not name.startswith("_pad")}


def _shapes(enum: str, prefix: str, union: str) -> dict[int, RecordShape]:
    # The union member for ENG_CMD_NEW_ORDER is `new_order`, for ENG_EVT_BOOK_LEVEL `book_level`.
    members = {name: field.type.cname for name, field in FFI.typeof(union).fields}
    shapes = {}
    for const, code in FFI.typeof(enum).relements.items():
        name = const[len(prefix):]
        shapes[code] = RecordShape(code, name, MappingProxyType(_variant_fields(members[name.lower()])))
    return shapes


COMMANDS: Mapping[int, RecordShape] = MappingProxyType(_shapes("eng_cmd_type_t", "ENG_CMD_", "eng_cmd_t"))
EVENTS: Mapping[int, RecordShape] = MappingProxyType(_shapes("eng_evt_type_t", "ENG_EVT_", "eng_evt_t"))
COMMAND_CODES: Mapping[str, int] = MappingProxyType({s.name: c for c, s in COMMANDS.items()})
EVENT_CODES: Mapping[str, int] = MappingProxyType({s.name: c for c, s in EVENTS.items()})
COMMAND_HEADER: Mapping[str, str] = MappingProxyType(
    {n: f.type.cname for n, f in FFI.typeof("eng_cmd_hdr_t").fields if not n.startswith("_pad")})
ORDER_INFO_FIELDS = tuple(_variant_fields("eng_order_info_t"))
INSTRUMENT_INFO_FIELDS = tuple(_variant_fields("eng_instrument_info_t"))
POSITION_INFO_FIELDS = tuple(_variant_fields("eng_position_info_t"))


def int_range(ctype: str) -> tuple[int, int]:
    """Inclusive (min, max) of a C integer type named in the header."""
    return _INT_RANGES[ctype]
