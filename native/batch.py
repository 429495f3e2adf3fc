"""Batched command building: many 96-byte command records without a dict per command.

The per-command dict path (``Engine.submit(dicts)``) costs tens of microseconds a command in
Python; the engine itself takes a few hundred nanoseconds. Two ways to fill a batch cheaply:

- ``CommandBuffer``: append one command at a time through a precompiled ``struct`` layout per
  command type (offsets read from the cffi layout, so nothing repeats venue_layout.h), then hand
  ``records()`` to ``Engine.submit_records`` or ``EngineClient.submit_records`` in one call;
- ``encode_columns``: N commands of one type from numpy columns at once (a replayed message file);
- ``write_record`` / ``write_new_limit`` / ``write_cancel`` / ``write_replace``: one whole record
  packed at an offset of any writable buffer the caller keeps (the replay's command buffer).

Both leave unnamed fields 0, as ``records.encode_commands`` does. Values are not range-checked
here (struct raises ``struct.error`` for a value its field cannot hold); the engine rejects bad
commands with REJECTED events as usual.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Mapping

import numpy as np

from native import records

_FMT_OF_NP = {"u1": "B", "i1": "b", "u2": "H", "i2": "h", "u4": "I", "i4": "i", "u8": "Q", "i8": "q"}


def _packer(kind: str) -> tuple[struct.Struct, tuple[str, ...]]:
    """A little-endian struct for the fields of one command type, in offset order, with explicit
    pad bytes between them and after the last field up to RECORD_SIZE (pack_into writes pad bytes
    as zero, so a packed record never keeps bytes of an earlier one: a reused buffer needs no
    clearing), plus the field names in that order (type first)."""
    dt = records.CMD_DTYPES[int(records.CmdType[kind])]
    fields = sorted(((records.field_offset(dt, name), name, records.field_dtype(dt, name))
                     for name in records.field_names(dt)),
                    key=lambda f: f[0])
    fmt, pos, names = "<", 0, []
    for off, name, sub in fields:
        if off > pos:
            fmt += f"{off - pos}x"
        fmt += _FMT_OF_NP[sub.str[1:]]
        pos = off + sub.itemsize
        names.append(name)
    if pos < records.RECORD_SIZE:
        fmt += f"{records.RECORD_SIZE - pos}x"
    return struct.Struct(fmt), tuple(names)


class CommandBuffer:
    """A growable array of command records. Methods append one command and return its index."""

    def __init__(self, capacity: int = 4096) -> None:
        self._buf = np.zeros(max(16, capacity) * records.RECORD_SIZE, dtype=np.uint8)
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def clear(self) -> None:
        """Forgets the commands (the memory is kept and zeroed where it was used)."""
        self._buf[: self.count * records.RECORD_SIZE] = 0
        self.count = 0

    def records(self) -> np.ndarray:
        """The commands appended so far as records (a view: valid until the next append/clear)."""
        return self._buf[: self.count * records.RECORD_SIZE].view(records.RECORD_DTYPE)

    def reserve(self) -> tuple[np.ndarray, int]:
        """One more record: the buffer and the byte offset to pack it at (write_record and the
        write_* functions below write the whole record)."""
        i = self._slot()
        return self._buf, i * records.RECORD_SIZE

    def _slot(self) -> int:
        if (self.count + 1) * records.RECORD_SIZE > len(self._buf):
            grown = np.zeros(len(self._buf) * 2, dtype=np.uint8)
            grown[: len(self._buf)] = self._buf
            self._buf = grown
        self.count += 1
        return self.count - 1

    def append(self, kind: str, **fields: int) -> int:
        """Any command type by name with keyword fields (unknown names raise ValueError)."""
        packer, names, code, known = _packer_of(kind)
        if not known.issuperset(fields):
            raise ValueError(f"unknown field(s) {sorted(set(fields) - known)} for command type {kind!r}")
        i = self._slot()
        values = [code if n == "type" else fields.get(n, 0) for n in names]
        packer.pack_into(self._buf, i * records.RECORD_SIZE, *values)  # type: ignore[arg-type]
        return i

    # The hot commands get positional fast paths (no kwargs dict, no field check).
    def new_limit(self, instrument_id: int, seq: int, ts_ns: int, order_id: int, side: int, price: int,
                  qty: int, account_id: int, tif: int, client_order_id: int = 0, stp_group: int = 0,
                  stp_mode: int = 0, flags: int = 0) -> int:
        i = self._slot()
        write_new_limit(self._buf, i * records.RECORD_SIZE, instrument_id, seq, ts_ns, order_id, client_order_id,
                        price, qty, account_id, stp_group, side, tif, stp_mode, flags)
        return i

    def cancel(self, instrument_id: int, seq: int, ts_ns: int, order_id: int) -> int:
        i = self._slot()
        write_cancel(self._buf, i * records.RECORD_SIZE, instrument_id, seq, ts_ns, order_id)
        return i

    def replace(self, instrument_id: int, seq: int, ts_ns: int, order_id: int, price: int, qty: int) -> int:
        i = self._slot()
        write_replace(self._buf, i * records.RECORD_SIZE, instrument_id, seq, ts_ns, order_id, price, qty)
        return i


# one packer per command type, built when first used: (struct, field names, type code, the names as a set)
_PACKERS: dict[str, tuple[struct.Struct, tuple[str, ...], int, frozenset[str]]] = {}


def _packer_of(kind: str) -> tuple[struct.Struct, tuple[str, ...], int, frozenset[str]]:
    entry = _PACKERS.get(kind)
    if entry is None:
        if kind not in records.CmdType.__members__:
            raise ValueError(f"unknown command type name {kind!r}")
        packer, names = _packer(kind)
        entry = _PACKERS[kind] = (packer, names, int(records.CmdType[kind]), frozenset(names))
    return entry


def write_record(buf: Any, offset: int, kind: str, **fields: int) -> None:
    """Any command type by name with keyword fields, the whole record packed at byte `offset` of a
    writable buffer (unnamed fields 0; an unknown type name raises ValueError, an unknown field
    name is ignored here: CommandBuffer.append checks them)."""
    packer, names, code, _ = _packer_of(kind)
    packer.pack_into(buf, offset, *[code if n == "type" else fields.get(n, 0) for n in names])


def _fast(kind: str, given: tuple[str, ...], fixed: Mapping[str, int]) -> Callable[..., None]:
    """pack_into for one type taking the `given` fields positionally; `fixed` fields are constants.
    The argument list is generated once, so a call is one pack_into with no per-call lists."""
    packer, names = _packer(kind)
    consts = {"type": int(records.CmdType[kind]), **fixed}
    for name in given:
        if name not in names:
            raise ValueError(f"{kind} has no field {name!r}")
    args = ", ".join(name if name in given else str(int(consts.get(name, 0))) for name in names)
    source = f"def write(buf, offset, {', '.join(given)}):\n    pack(buf, offset, {args})\n"
    scope: dict[str, Any] = {"pack": packer.pack_into}
    exec(source, scope)  # noqa: S102 - the source is built from layout field names only
    return scope["write"]  # type: ignore[no-any-return]


# the hot commands' whole records at a byte offset of a writable buffer, fields positional
write_new_limit = _fast("NEW_ORDER", ("instrument_id", "seq", "ts_ns", "order_id", "client_order_id", "price",
                                      "qty", "account_id", "stp_group", "side", "tif", "stp_mode", "flags"),
                        {"ord_type": int(records.OrdType.LIMIT)})
write_cancel = _fast("CANCEL", ("instrument_id", "seq", "ts_ns", "order_id"), {})
write_replace = _fast("REPLACE", ("instrument_id", "seq", "ts_ns", "order_id", "price", "qty"), {})


def encode_columns(kind: str, n: int, **columns: Any) -> np.ndarray:
    """n records of one command type; each column is a scalar or an array of length n."""
    if kind not in records.CmdType.__members__:
        raise ValueError(f"unknown command type name {kind!r}")
    code = int(records.CmdType[kind])
    out = np.zeros(n, dtype=records.RECORD_DTYPE)
    view = out.view(records.CMD_DTYPES[code])
    for name, values in columns.items():
        if name not in records.field_names(view.dtype) or name == "type":
            raise ValueError(f"unknown field {name!r} for command type {kind!r}")
        view[name] = values
    view["type"] = code
    return out
