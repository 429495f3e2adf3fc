"""numpy views of the feed's wire layouts, derived from native/md/md_feed.h through cffi.

Nothing here restates a layout: offsets and sizes come from ``ffi.typeof``, message type codes
from the MD_MSG_* constants. The wire is big-endian, so every integer becomes a '>' dtype; a
uint8_t[2|4|8] array is a big-endian integer the wire places unaligned (MoldUDP64's header), a
char[N] array is fixed-width ASCII. Pad fields are left out.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from native._venue import ffi, lib

_BE = {"uint8_t": "u1", "int8_t": "i1", "uint16_t": ">u2", "int16_t": ">i2", "uint32_t": ">u4",
       "int32_t": ">i4", "uint64_t": ">u8", "int64_t": ">i8", "char": "S1"}
_BE_ARRAY = {2: ">u2", 4: ">u4", 8: ">u8"}


def _fields(ctype: Any, base: int = 0) -> list[tuple[str, int, str]]:
    out: list[tuple[str, int, str]] = []
    for name, f in ctype.fields:
        if name.startswith("_pad"):
            continue
        kind = f.type.kind
        if kind == "struct":
            out += _fields(f.type, base + f.offset)
        elif kind in ("primitive", "enum"):
            out.append((name, base + f.offset, _BE[f.type.cname]))
        elif kind == "array" and f.type.item.cname == "char":
            out.append((name, base + f.offset, f"S{f.type.length}"))
        elif kind == "array" and f.type.item.cname == "uint8_t" and f.type.length in _BE_ARRAY:
            out.append((name, base + f.offset, _BE_ARRAY[f.type.length]))
        else:
            raise TypeError(f"{ctype.cname}.{name}: no wire dtype for {f.type.cname}")
    return out


@lru_cache(maxsize=None)
def wire_dtype(struct_name: str) -> np.dtype:
    """The big-endian numpy dtype of a md_feed.h struct, itemsize = sizeof(struct)."""
    ctype = ffi.typeof(struct_name)
    fields = _fields(ctype)
    return np.dtype({"names": [n for n, _, _ in fields], "formats": [t for _, _, t in fields],
                     "offsets": [o for _, o, _ in fields], "itemsize": ffi.sizeof(ctype)})


def _host_fields(ctype: Any) -> list[tuple[str, int, str]]:
    host = {"uint8_t": "u1", "uint16_t": "<u2", "uint32_t": "<u4", "uint64_t": "<u8", "int64_t": "<i8"}
    out = []
    for name, f in ctype.fields:
        if name.startswith("_pad"):
            continue
        if f.type.kind == "array" and f.type.item.cname == "char":
            out.append((name, f.offset, f"S{f.type.length}"))
        else:
            out.append((name, f.offset, host[f.type.cname]))
    return out


@lru_cache(maxsize=None)
def host_dtype(struct_name: str) -> np.dtype:
    """numpy dtype of a host-order query struct (md_level_info_t, md_order_view_t, ...)."""
    ctype = ffi.typeof(struct_name)
    fields = _host_fields(ctype)
    return np.dtype({"names": [n for n, _, _ in fields], "formats": [t for _, _, t in fields],
                     "offsets": [o for _, o, _ in fields], "itemsize": ffi.sizeof(ctype)})


# message type code -> (name, struct); names follow the md_msg_type_t enum
MESSAGE_TYPES: dict[int, tuple[str, str]] = {
    int(code): (c[len("MD_MSG_"):], f"md_msg_{c[len('MD_MSG_'):].lower()}_t")
    for code, c in ffi.typeof("md_msg_type_t").elements.items()}
MESSAGE_DTYPES: dict[int, np.dtype] = {code: wire_dtype(s) for code, (_, s) in MESSAGE_TYPES.items()}
TYPE_CODES: dict[str, int] = {name: code for code, (name, _) in MESSAGE_TYPES.items()}

MOLD_HDR = wire_dtype("md_mold_hdr_t")
MSG_HDR = wire_dtype("md_msg_hdr_t")
DEPTH_LEVEL = wire_dtype("md_depth_level_t")
REQUEST = wire_dtype("md_rq_t")
RESPONSE_HDR = wire_dtype("md_rsp_hdr_t")
LEVEL_INFO = host_dtype("md_level_info_t")
ORDER_VIEW = host_dtype("md_order_view_t")
PRINT = host_dtype("md_sub_print_t")

SESSION_LEN = int(lib.MD_SESSION_LEN)
MOLD_HDR_BYTES = int(lib.MD_MOLD_HDR_BYTES)
MAX_PACKET_BYTES = int(lib.MD_MAX_PACKET_BYTES)
SIDE_BUY = int(lib.MD_SIDE_BUY)
SIDE_SELL = int(lib.MD_SIDE_SELL)


def session_bytes(session: str) -> bytes:
    """A MoldUDP64 session name: 1-10 printable ASCII characters, space padded to 10."""
    if not 1 <= len(session) <= SESSION_LEN or not all(33 <= ord(c) < 127 for c in session):
        raise ValueError(f"session {session!r}: use 1-{SESSION_LEN} printable ASCII characters without spaces")
    return session.encode("ascii").ljust(SESSION_LEN, b" ")
