"""Python view of the engine's 96-byte command and event records, derived from cffi.

Every shape here comes from the compiled layout (``ffi.typeof(...).fields``) and every enum and
Struct from native.messages, which scripts/generate_messages.py writes from the same header, so
nothing repeats venue_layout.h by hand (a Struct that no longer matches its compiled dtype fails
this module's import). Commands and events are typed: ``encode_commands`` takes native.messages
Command Structs, ``decode_events`` / ``decode_commands`` return Event / Command Structs, values
plain ints. A value its field cannot hold is an OverflowError, a non-int value a ValueError.

``to_dict`` / ``command_from_dict`` / ``event_from_dict`` convert to and from the plain-dict form
(``{'type': 'NEW_ORDER' | int, 'instrument_id', 'seq', 'ts_ns', <variant fields>}``) that the
Python oracle (tests/oracle) and JSON speak; an unknown key there is a ValueError naming it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Mapping, TypeVar

import msgspec
import numpy as np

from native._venue import ffi
from native.messages import (COMMAND_CLASSES, EVENT_CLASSES, CmdType, Command, CommandRecord, Event,
                             EventRecord, EvtType, Flag, OrdType, Phase, PostTradeLimit, Reason, Side,
                             StpMode, Tif, UnknownCommand, UnknownEvent)

__all__ = ["RECORD_SIZE", "RECORD_DTYPE", "CmdType", "EvtType", "OrdType", "Tif", "Side", "StpMode",
           "Phase", "Flag", "PostTradeLimit", "Reason", "POST_TRADE_SCALE", "Command", "Event",
           "dtype_of", "CMD_DTYPES", "EVT_DTYPES", "encode_commands", "encode_command",
           "decode_events", "decode_commands", "type_name", "to_dict", "command_from_dict", "event_from_dict",
           "struct_to_dict"]

RECORD_SIZE = 96
RECORD_DTYPE = np.dtype((np.void, RECORD_SIZE))
POST_TRADE_SCALE = 1_000_000                           # SET_POST_TRADE_LIMIT.value_e6 per unit

_NP_OF_C = {"uint8_t": "u1", "int8_t": "i1", "uint16_t": "<u2", "int16_t": "<i2", "uint32_t": "<u4",
            "int32_t": "<i4", "uint64_t": "<u8", "int64_t": "<i8"}


def _flat_fields(ctype: Any, base: int = 0) -> list[tuple[str, int, str]]:
    """(name, offset, C type) of every non-pad scalar field, nested structs flattened."""
    out: list[tuple[str, int, str]] = []
    for name, f in ctype.fields:
        if name.startswith("_pad"):
            continue
        if f.type.kind == "struct":
            out += _flat_fields(f.type, base + f.offset)
        elif f.type.kind in ("primitive", "enum"):
            out.append((name, base + f.offset, f.type.cname))
        else:
            raise TypeError(f"{ctype.cname}.{name}: unsupported field kind {f.type.kind}")
    return out


def _is_record(struct_name: str) -> bool:
    """Command/event variants (and their headers) live in 96-byte records; other structs do not."""
    return struct_name in _RECORD_STRUCTS


@lru_cache(maxsize=None)
def dtype_of(struct_name: str) -> np.dtype:
    """numpy structured dtype of a struct (e.g. 'eng_new_order_t'), offsets exactly as the compiler
    laid them out, nested structs flattened, pads left out. Command and event variants get itemsize
    96, so an array of them steps record by record; other structs keep their own size."""
    ctype = ffi.typeof(struct_name)
    fields = _flat_fields(ctype)
    itemsize = RECORD_SIZE if _is_record(struct_name) else ffi.sizeof(ctype)
    return np.dtype({"names": [n for n, _, _ in fields], "formats": [_NP_OF_C[t] for _, _, t in fields],
                     "offsets": [o for _, o, _ in fields], "itemsize": itemsize})


def field_names(dt: np.dtype) -> tuple[str, ...]:
    """The field names of a structured dtype from dtype_of, in layout order."""
    if dt.names is None:
        raise TypeError(f"{dt} is not a structured dtype")
    return dt.names


def field_dtype(dt: np.dtype, name: str) -> np.dtype:
    """The scalar dtype of one field of a structured dtype from dtype_of."""
    if dt.fields is None or name not in dt.fields:
        raise KeyError(f"{dt} has no field {name!r}")
    return dt.fields[name][0]


def field_offset(dt: np.dtype, name: str) -> int:
    """The byte offset of one field of a structured dtype from dtype_of."""
    if dt.fields is None or name not in dt.fields:
        raise KeyError(f"{dt} has no field {name!r}")
    return int(dt.fields[name][1])


_CMD_STRUCTS = {code: cls.C_STRUCT for code, cls in COMMAND_CLASSES.items()}
_EVT_STRUCTS = {code: cls.C_STRUCT for code, cls in EVENT_CLASSES.items()}
_RECORD_STRUCTS = frozenset(_CMD_STRUCTS.values()) | frozenset(_EVT_STRUCTS.values()) | {
    "eng_cmd_hdr_t", "eng_evt_hdr_t"}
_RANGES = {"u1": (0, 2**8 - 1), "i1": (-2**7, 2**7 - 1), "u2": (0, 2**16 - 1), "i2": (-2**15, 2**15 - 1),
           "u4": (0, 2**32 - 1), "i4": (-2**31, 2**31 - 1), "u8": (0, 2**64 - 1), "i8": (-2**63, 2**63 - 1)}


CMD_DTYPES = {code: dtype_of(s) for code, s in _CMD_STRUCTS.items()}
EVT_DTYPES = {code: dtype_of(s) for code, s in _EVT_STRUCTS.items()}
_CMD_HDR_REC = dtype_of("eng_cmd_hdr_t")
_EVT_HDR_REC = dtype_of("eng_evt_hdr_t")


def _check_generated() -> None:
    """Each Struct's fields are its compiled struct's, in layout order (the type tag apart)."""
    pairs: list[tuple[type[msgspec.Struct], np.dtype]] = [
        (cls, CMD_DTYPES[code]) for code, cls in COMMAND_CLASSES.items()]
    pairs += [(cls, EVT_DTYPES[code]) for code, cls in EVENT_CLASSES.items()]
    pairs += [(CommandRecord, _CMD_HDR_REC), (EventRecord, _EVT_HDR_REC)]
    for cls, dt in pairs:
        if tuple(cls.__struct_fields__) != tuple(n for n in field_names(dt) if n != "type"):
            raise ImportError(f"native/messages.py: {cls.__name__} no longer matches the compiled layout; "
                              "run python scripts/generate_messages.py")


_check_generated()


def _check_int(what: str, name: str, value: Any, field_dtype: np.dtype) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} field {name!r} must be an int, got {value!r}")
    lo, hi = _RANGES[field_dtype.str[1:]]
    if not lo <= int(value) <= hi:
        raise OverflowError(f"{what} field {name!r}={value} does not fit {field_dtype}")
    return int(value)


def encode_commands(commands: Iterable[Command]) -> np.ndarray:
    """Command Structs -> numpy array of 96-byte records (dtype V96), pads zero. Records of one
    type are written column by column through that type's dtype."""
    cmds = list(commands)
    out = np.zeros(len(cmds), dtype=RECORD_DTYPE)
    columns: dict[int, tuple[list[int], list[tuple[Any, ...]]]] = {}
    for i, cmd in enumerate(cmds):
        if isinstance(cmd, UnknownCommand):
            code = _check_int("command", "type", cmd.code, np.dtype("<u2"))
            row: tuple[Any, ...] = tuple(getattr(cmd, n) for n in CommandRecord.__struct_fields__)
            key = -1 - code           # headers of unknown types are grouped apart from known ones
        elif isinstance(cmd, CommandRecord):
            key = code = type(cmd).CODE
            row = msgspec.structs.astuple(cmd)
        else:
            raise TypeError(f"a command must be a native.messages Command Struct, got {type(cmd).__name__}")
        idx, rows = columns.setdefault(key, ([], []))
        idx.append(i)
        rows.append((code,) + row)
    for key, (idx, rows) in columns.items():
        dt = CMD_DTYPES[key] if key >= 0 else _CMD_HDR_REC
        view = out.view(dt)
        ix = np.asarray(idx, dtype=np.int64)
        for col, name in enumerate(field_names(dt)):
            fdt = field_dtype(dt, name)
            values = [_check_int("command", name, r[col], fdt) for r in rows]
            view[name][ix] = np.asarray(values, dtype=fdt)
    return out


def encode_command(command: Command) -> bytes:
    """One command Struct -> its 96 bytes."""
    return encode_commands([command]).tobytes()


_R = TypeVar("_R", bound=msgspec.Struct)


def _decode(records: np.ndarray, hdr_rec: np.dtype, dtypes: Mapping[int, np.dtype],
            classes: Mapping[int, type[_R]], unknown: type[_R]) -> list[_R]:
    """96-byte records -> Structs in order: each type's records are viewed at once with that type's
    dtype and built positionally (Struct fields are the dtype's names, the type tag apart)."""
    recs = np.ascontiguousarray(records).view(RECORD_DTYPE).reshape(-1)
    if len(recs) == 0:
        return []
    out: list[_R | None] = [None] * len(recs)
    types = recs.view(hdr_rec)["type"]
    for code in np.unique(types).tolist():
        ix = np.nonzero(types == code)[0]
        cls = classes.get(code)
        dt = dtypes[code] if cls is not None else hdr_rec
        sub = recs[ix].view(dt)
        cols = [sub[name].tolist() for name in field_names(dt) if name != "type"]
        if cls is None:
            for j, row in zip(ix.tolist(), zip(*cols)):
                out[j] = unknown(*row, code=code)
        else:
            for j, row in zip(ix.tolist(), zip(*cols)):
                out[j] = cls(*row)
    return [m for m in out if m is not None]


def decode_events(records: np.ndarray) -> list[Event]:
    """Event records (any 96-byte dtype) -> Event Structs in order."""
    return _decode(records, _EVT_HDR_REC, EVT_DTYPES, EVENT_CLASSES, UnknownEvent)  # type: ignore[arg-type]


def decode_commands(records: np.ndarray) -> list[Command]:
    """Command records (a journal's payloads, any 96-byte dtype) -> Command Structs in order
    (UnknownCommand for a type this build does not know)."""
    return _decode(records, _CMD_HDR_REC, CMD_DTYPES, COMMAND_CLASSES, UnknownCommand)  # type: ignore[arg-type]


def type_name(message: Command | Event) -> str | int:
    """The record type's name ('NEW_ORDER', 'TRADE'), or the raw code of an unknown type."""
    if isinstance(message, (UnknownCommand, UnknownEvent)):
        return message.code
    return type(message).__struct_config__.tag  # type: ignore[return-value]


def to_dict(message: Command | Event) -> dict[str, int | str]:
    """A command or event Struct -> the plain-dict form: {'type': name (or the raw code of an
    unknown type), <fields>}."""
    fields = {name: getattr(message, name) for name in message.__struct_fields__}
    if isinstance(message, (UnknownCommand, UnknownEvent)):
        code = fields.pop("code")
        return {"type": code, **fields}
    return {"type": type_name(message), **fields}


def _from_dict(what: str, d: Mapping[str, Any], by_name: Mapping[str, type[_R]],
               by_code: Mapping[int, type[_R]], unknown: type[_R]) -> _R:
    if "type" not in d:
        raise ValueError(f"{what} without 'type': {dict(d)!r}")
    kind = d["type"]
    fields = {k: v for k, v in d.items() if k != "type"}
    if isinstance(kind, str):
        cls = by_name.get(kind)
        if cls is None:
            raise ValueError(f"unknown {what} type name {kind!r}")
    elif isinstance(kind, (int, np.integer)) and not isinstance(kind, bool):
        _check_int(what, "type", kind, np.dtype("<u2"))
        cls = by_code.get(int(kind), unknown)
        if cls is unknown:
            fields["code"] = int(kind)
    else:
        raise ValueError(f"{what} field 'type' must be a name or an int, got {kind!r}")
    for key in fields:
        if key not in cls.__struct_fields__:
            raise ValueError(f"unknown field {key!r} for {what} type {kind!r}")
    return cls(**fields)


_CMD_BY_NAME = {CmdType(code).name: cls for code, cls in COMMAND_CLASSES.items()}
_EVT_BY_NAME = {EvtType(code).name: cls for code, cls in EVENT_CLASSES.items()}


def command_from_dict(d: Mapping[str, Any]) -> Command:
    """The plain-dict form -> a Command Struct (missing fields 0; an unknown key is a ValueError)."""
    return _from_dict("command", d, _CMD_BY_NAME, COMMAND_CLASSES, UnknownCommand)  # type: ignore[return-value]


def event_from_dict(d: Mapping[str, Any]) -> Event:
    """The plain-dict form -> an Event Struct (missing fields 0; an unknown key is a ValueError)."""
    return _from_dict("event", d, _EVT_BY_NAME, EVENT_CLASSES, UnknownEvent)  # type: ignore[return-value]


def struct_to_dict(cdata: Any) -> dict[str, int]:
    """A cffi struct (query results such as eng_order_info_t) -> dict of its non-pad fields."""
    return {name: int(getattr(cdata, name)) for name, _, _ in _flat_fields(ffi.typeof(cdata))}
