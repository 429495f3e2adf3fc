"""Python view of the engine's 96-byte command and event records, derived from cffi.

Every shape here comes from the compiled layout (``ffi.typeof(...).fields``) and every enum from
the lib's constants, so nothing repeats venue_layout.h by hand. The dict format is the contract
with the Python oracle (tests/oracle): a command is ``{'type': 'NEW_ORDER' | int, 'instrument_id',
'seq', 'ts_ns', <variant fields>}`` (missing fields are 0, an unknown key is a ValueError naming it,
an out-of-range value an OverflowError); an event is ``{'type': 'TRADE', 'reason': int,
'instrument_id', 'seq', 'ts_ns', <variant fields>}`` with plain ints and no ``_pad`` fields.
"""
from __future__ import annotations

import enum
from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from native._venue import ffi, lib

RECORD_SIZE = 96
RECORD_DTYPE = np.dtype((np.void, RECORD_SIZE))


def _constants(prefix: str) -> dict[str, int]:
    return {name[len(prefix):]: getattr(lib, name) for name in dir(lib) if name.startswith(prefix)}


def _enum(name: str, prefix: str) -> type[enum.IntEnum]:
    members = sorted(_constants(prefix).items(), key=lambda kv: kv[1])
    return enum.IntEnum(name, members)  # type: ignore[return-value]


CmdType = _enum("CmdType", "ENG_CMD_")
EvtType = _enum("EvtType", "ENG_EVT_")
OrdType = _enum("OrdType", "ENG_ORD_")
Tif = _enum("Tif", "ENG_TIF_")
Side = _enum("Side", "ENG_SIDE_")
StpMode = _enum("StpMode", "ENG_STP_")
Phase = _enum("Phase", "ENG_PHASE_")
Flag = _enum("Flag", "ENG_FLAG_")
PostTradeLimit = _enum("PostTradeLimit", "ENG_PTL_")   # SET_POST_TRADE_LIMIT.limit
POST_TRADE_SCALE = 1_000_000                           # SET_POST_TRADE_LIMIT.value_e6 per unit
# Every code of eng_reason_t (ENG_OK, ENG_REJ_*, ENG_CXL_*, ENG_EXP_*, and the gateway range),
# named without the ENG_ prefix: Reason.REJ_OFF_TICK, Reason.CXL_USER, Reason.OK.
Reason = enum.IntEnum(  # type: ignore[misc]
    "Reason", sorted(((n[4:], v) for v, n in ffi.typeof("eng_reason_t").elements.items()), key=lambda kv: kv[1]))

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


_CMD_STRUCTS = {int(v): f"eng_{v.name.lower()}_t" for v in CmdType}
_EVT_STRUCTS = {int(v): f"eng_evt_{v.name.lower()}_t" for v in EvtType}
_RECORD_STRUCTS = frozenset(_CMD_STRUCTS.values()) | frozenset(_EVT_STRUCTS.values()) | {
    "eng_cmd_hdr_t", "eng_evt_hdr_t"}
_RANGES = {"u1": (0, 2**8 - 1), "i1": (-2**7, 2**7 - 1), "u2": (0, 2**16 - 1), "i2": (-2**15, 2**15 - 1),
           "u4": (0, 2**32 - 1), "i4": (-2**31, 2**31 - 1), "u8": (0, 2**64 - 1), "i8": (-2**63, 2**63 - 1)}


CMD_DTYPES = {code: dtype_of(s) for code, s in _CMD_STRUCTS.items()}
EVT_DTYPES = {code: dtype_of(s) for code, s in _EVT_STRUCTS.items()}
_CMD_HDR_REC = dtype_of("eng_cmd_hdr_t")
_EVT_HDR_REC = dtype_of("eng_evt_hdr_t")
_EVT_NAMES = {int(v): v.name for v in EvtType}


def _cmd_code(kind: Any) -> int:
    if isinstance(kind, str):
        try:
            return int(CmdType[kind])
        except KeyError:
            raise ValueError(f"unknown command type name {kind!r}") from None
    if isinstance(kind, bool) or not isinstance(kind, (int, np.integer)):
        raise ValueError(f"command field 'type' must be a name or an int, got {kind!r}")
    lo, hi = _RANGES["u2"]
    if not lo <= int(kind) <= hi:
        raise OverflowError(f"command field 'type'={kind} does not fit uint16_t")
    return int(kind)


def encode_commands(commands: Iterable[Mapping[str, Any]]) -> np.ndarray:
    """Command dicts -> numpy array of 96-byte records (dtype V96), zero where not given."""
    cmds = list(commands)
    out = np.zeros(len(cmds), dtype=RECORD_DTYPE)
    columns: dict[int, tuple[list[int], dict[str, list[int]]]] = {}
    for i, cmd in enumerate(cmds):
        if "type" not in cmd:
            raise ValueError(f"command without 'type': {cmd!r}")
        code = _cmd_code(cmd["type"])
        dt = CMD_DTYPES.get(code, _CMD_HDR_REC)
        entry = columns.get(code)
        if entry is None:
            entry = columns[code] = ([], {n: [] for n in dt.names})
        idx, cols = entry
        for key in cmd:
            if key not in cols:
                raise ValueError(f"unknown field {key!r} for command type {cmd['type']!r}")
        idx.append(i)
        for name in dt.names:
            v = code if name == "type" else cmd.get(name, 0)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"command field {name!r} must be an int, got {v!r}")
            lo, hi = _RANGES[dt.fields[name][0].str[1:]]
            if not lo <= int(v) <= hi:
                raise OverflowError(f"command field {name!r}={v} does not fit {dt.fields[name][0]}")
            cols[name].append(int(v))
    for code, (idx, cols) in columns.items():
        view = out.view(CMD_DTYPES.get(code, _CMD_HDR_REC))
        ix = np.asarray(idx, dtype=np.int64)
        for name, values in cols.items():
            view[name][ix] = np.asarray(values, dtype=view.dtype.fields[name][0])
    return out


def encode_command(command: Mapping[str, Any]) -> bytes:
    """One command dict -> its 96 bytes."""
    return encode_commands([command]).tobytes()


def _decode(records: np.ndarray, hdr_rec: np.dtype, dtypes: Mapping[int, np.dtype],
            type_name: Callable[[int], int | str]) -> list[dict[str, int | str]]:
    """96-byte records -> dicts in order: each type's records are viewed at once with that
    type's dtype (hdr_rec, the bare header, for a type not in dtypes), values plain ints."""
    recs = np.ascontiguousarray(records).view(RECORD_DTYPE).reshape(-1)
    out: list[dict[str, int | str] | None] = [None] * len(recs)
    if len(recs) == 0:
        return []
    types = recs.view(hdr_rec)["type"]
    for code in np.unique(types).tolist():
        ix = np.nonzero(types == code)[0]
        dt = dtypes.get(code, hdr_rec)
        sub = recs[ix].view(dt)
        names = [n for n in dt.names if n != "type"]
        cols = [sub[name].tolist() for name in names]
        tname = type_name(code)
        for j, row in zip(ix.tolist(), zip(*cols)):
            d: dict[str, int | str] = {"type": tname}
            d.update(zip(names, row))
            out[j] = d
    return out  # type: ignore[return-value]


def decode_events(records: np.ndarray) -> list[dict[str, int | str]]:
    """Event records (any 96-byte dtype) -> event dicts in order, values plain ints."""
    return _decode(records, _EVT_HDR_REC, EVT_DTYPES, lambda code: _EVT_NAMES.get(code, code))


def decode_commands(records: np.ndarray) -> list[dict[str, int | str]]:
    """Command records (a journal's payloads, any 96-byte dtype) -> command dicts in order, in the
    format encode_commands takes (type by name, or the raw int for a type this build does not know)."""
    return _decode(records, _CMD_HDR_REC, CMD_DTYPES,
                   lambda code: CmdType(code).name if code in CMD_DTYPES else code)


def struct_to_dict(cdata: Any) -> dict[str, int]:
    """A cffi struct (query results such as eng_order_info_t) -> dict of its non-pad fields."""
    return {name: int(getattr(cdata, name)) for name, _, _ in _flat_fields(ffi.typeof(cdata))}
