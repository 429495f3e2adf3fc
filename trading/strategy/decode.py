"""Engine event records -> native.messages Structs, one record at a time, for the strategy
runtime's few own events per step (native.records.decode_events is built for bulk: it groups a
batch by type with numpy, which costs more than the decoding itself for a handful of records).

The layout comes from native.records (itself generated from native/layout/venue_layout.h): each
type's fields, offsets and widths become one precompiled ``struct`` format, so nothing here writes
a layout by hand. Types whose fields are not all plain integers fall back to decode_events.
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from native import records
from native.messages import Event
from native.messages import EVENT_CLASSES
from native.records import EVT_DTYPES, field_names

_CODES = {("i", 1): "b", ("u", 1): "B", ("i", 2): "h", ("u", 2): "H", ("i", 4): "i", ("u", 4): "I",
          ("i", 8): "q", ("u", 8): "Q"}


def _layout(dt: np.dtype) -> struct.Struct | None:
    fmt, at = "<", 0
    for name in field_names(dt):
        fdt, offset = dt.fields[name][0], dt.fields[name][1]  # type: ignore[index]
        code = _CODES.get((fdt.kind, fdt.itemsize)) if fdt.shape == () else None
        if code is None or offset < at:
            return None
        fmt += "x" * (offset - at) + ("x" * fdt.itemsize if name == "type" else code)
        at = offset + fdt.itemsize
    return struct.Struct(fmt)


_DECODERS: dict[int, tuple[Any, struct.Struct]] = {}
for _code, _dt in EVT_DTYPES.items():
    _s = _layout(_dt)
    if _s is not None and _code in EVENT_CLASSES:
        _DECODERS[_code] = (EVENT_CLASSES[_code], _s)


# the record's type: the header's first field (a 2-byte little-endian code; checked below)
_TYPE = struct.Struct("<H")
assert records.field_offset(records.dtype_of("eng_evt_hdr_t"), "type") == 0 and \
    records.field_dtype(records.dtype_of("eng_evt_hdr_t"), "type").itemsize == _TYPE.size


def field_picker(code: int, names: tuple[str, ...]) -> struct.Struct:
    """A struct that unpacks only the named fields of event type `code`'s record (the others are
    skipped as pad bytes), for a reader that needs a few fields and no Struct. The names must be
    given in the record's field order (the order they are unpacked in); ValueError otherwise, or
    for a field that is not a plain integer of the type."""
    dt = EVT_DTYPES[code]
    fmt, at, picked = "<", 0, []
    for name in field_names(dt):
        fdt, offset = dt.fields[name][0], dt.fields[name][1]  # type: ignore[index]
        fmt += "x" * (offset - at)
        at = offset + fdt.itemsize
        if name in names:
            kind = _CODES.get((fdt.kind, fdt.itemsize)) if fdt.shape == () else None
            if kind is None:
                raise ValueError(f"event {code}: field {name!r} is not a plain integer")
            fmt += kind
            picked.append(name)
        else:
            fmt += "x" * fdt.itemsize
    if tuple(picked) != names:
        raise ValueError(f"event {code}: fields {names} not all there or not in record order {tuple(picked)}")
    return struct.Struct(fmt)


def decode_event_records(raw: bytes | memoryview, count: int) -> list[Event]:
    """`count` consecutive 96-byte event records in `raw` -> their Structs, in order."""
    out: list[Event] = []
    size = records.RECORD_SIZE
    type_of = _TYPE.unpack_from    # no slice object per record (a third of the cost of from_bytes)
    for k in range(count):
        code = type_of(raw, k * size)[0]
        dec = _DECODERS.get(code)
        if dec is None:
            rec = np.frombuffer(bytes(raw[k * size:(k + 1) * size]), dtype=records.RECORD_DTYPE)
            out += records.decode_events(rec)
        else:
            out.append(dec[0](*dec[1].unpack_from(raw, k * size)))
    return out
