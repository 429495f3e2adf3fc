"""The Python decoder's numpy dtypes are the C header's layout (native/md/md_feed.h): for every wire
struct, field names in order, offsets and sizes equal what cffi reports for the compiled header,
every non-pad field is present, every multi-byte integer is big-endian, and every message type the
enum defines has a dtype. A difference fails here instead of misreading the wire."""
from __future__ import annotations

import numpy as np
import pytest

from gateway.marketdata import schema
from native._venue import ffi

WIRE_STRUCTS = ["md_mold_hdr_t", "md_msg_hdr_t", "md_depth_level_t", "md_rq_t", "md_rsp_hdr_t",
                *sorted({s for _, s in schema.MESSAGE_TYPES.values()})]
HOST_STRUCTS = ["md_level_info_t", "md_order_view_t"]


def _c_fields(ctype: object, base: int = 0) -> list[tuple[str, int, int]]:
    """(name, offset, size) of the leaves of a C struct, nested headers flattened, pads dropped."""
    out: list[tuple[str, int, int]] = []
    ct = ctype if isinstance(ctype, ffi.CType) else ffi.typeof(ctype)  # type: ignore[arg-type]
    for name, f in ct.fields:
        if f.type.kind == "struct":
            out += _c_fields(f.type, base + f.offset)
        elif not name.startswith("_pad"):
            out.append((name, base + f.offset, ffi.sizeof(f.type)))
    return out


def _np_fields(dt: np.dtype) -> list[tuple[str, int, int]]:
    assert dt.names is not None
    return sorted(((n, int(dt.fields[n][1]), int(dt.fields[n][0].itemsize)) for n in dt.names),
                  key=lambda t: t[1])


@pytest.mark.parametrize("struct", WIRE_STRUCTS)
def test_wire_dtype_equals_c_layout(struct: str) -> None:
    dt = schema.wire_dtype(struct)
    assert dt.itemsize == ffi.sizeof(struct)
    assert _np_fields(dt) == _c_fields(struct)
    for name in dt.names or ():
        sub = dt.fields[name][0]
        if sub.kind in "iu" and sub.itemsize > 1:
            assert sub.byteorder == ">", f"{struct}.{name} is not big-endian: {sub}"


@pytest.mark.parametrize("struct", HOST_STRUCTS)
def test_host_dtype_equals_c_layout(struct: str) -> None:
    dt = schema.host_dtype(struct)
    assert dt.itemsize == ffi.sizeof(struct)
    assert _np_fields(dt) == _c_fields(struct)


def test_every_message_type_has_its_dtype() -> None:
    codes = {int(v) for v in ffi.typeof("md_msg_type_t").elements}
    assert set(schema.MESSAGE_DTYPES) == codes
    for code, dt in schema.MESSAGE_DTYPES.items():
        _, struct = schema.MESSAGE_TYPES[code]
        assert dt == schema.wire_dtype(struct)
        assert dt.fields["msg_type"][1] == 0, f"{struct}: the type byte must come first"


def test_a_layout_difference_is_detected() -> None:
    """The comparison is not vacuous: a dtype with one field moved by a byte is told apart."""
    dt = schema.wire_dtype("md_msg_add_t")
    fields = _np_fields(dt)
    moved = np.dtype({"names": [n for n, _, _ in fields],
                      "formats": [dt.fields[n][0] for n, _, _ in fields],
                      "offsets": [o + (1 if n == "price" else 0) for n, o, _ in fields],
                      "itemsize": dt.itemsize})
    assert _np_fields(moved) != _c_fields("md_msg_add_t")
