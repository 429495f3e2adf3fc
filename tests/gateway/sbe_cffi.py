"""The C codec (native/gateway/sbe_codec.c inside native._venue) seen from Python, for the cross-codec tests:
converts between the Python message classes and sbe_msg_t, and calls the C encoder and decoder.
Field names match by construction (both codecs are generated from one schema: snake_case of it)."""
from __future__ import annotations

import re
from typing import Any

from gateway.orderentry import sbe_codec as s

try:
    from native._venue import ffi, lib
    HAVE_C = hasattr(lib, "sbe_decode")
    WHY_NO_C = "" if HAVE_C else "native._venue was built without sbe_codec.c"
except ImportError as exc:  # the extension is rebuilt by several helpers; say why instead of failing
    ffi = lib = None
    HAVE_C = False
    WHY_NO_C = f"native._venue does not import: {exc}"


def member_name(cls: type) -> str:
    s1 = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", cls.__name__)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s1).lower()


def to_c(msg: s.Message) -> Any:
    """A new sbe_msg_t* holding msg (absent optionals as their null values)."""
    cls = type(msg)
    cm = ffi.new("sbe_msg_t *")
    cm.template_id = cls.TEMPLATE_ID
    body = getattr(cm.body, member_name(cls))
    for name in cls.__struct_fields__:
        value = getattr(msg, name)
        if name in cls.VAR_DATA:
            setattr(body, name + "_length", len(value))
            ffi.memmove(getattr(body, name), value, len(value))
        elif value is None:
            setattr(body, name, cls.NULLS[name])
        else:
            setattr(body, name, int(value))
    return cm


def from_c(cm: Any) -> s.Message:
    cls = s.TEMPLATES[cm.template_id]
    body = getattr(cm.body, member_name(cls))
    values = {}
    for name in cls.__struct_fields__:
        if name in cls.VAR_DATA:
            values[name] = bytes(ffi.buffer(getattr(body, name), getattr(body, name + "_length")))
        else:
            v = getattr(body, name)
            values[name] = None if name in cls.NULLS and v == cls.NULLS[name] else v
    return cls(**values)


def c_decode(data: bytes) -> tuple[int, s.Message | None, int]:
    """(rc, message or None, template_id as the C decoder left it)."""
    cm = ffi.new("sbe_msg_t *")
    rc = lib.sbe_decode(ffi.from_buffer(data), len(data), cm)
    return rc, (from_c(cm) if rc == 0 else None), cm.template_id


def c_encode(msg: s.Message, cap: int = s.MAX_FRAME_LENGTH) -> bytes | int:
    """The frame bytes, or the negative errno the C encoder returned."""
    buf = ffi.new("uint8_t[]", max(cap, 1))
    n = lib.sbe_encode(buf, cap, to_c(msg))
    return bytes(ffi.buffer(buf, n)) if n > 0 else n


def py_decode(data: bytes) -> tuple[int, s.Message | None, int]:
    """The Python decoder's result in c_decode's shape."""
    try:
        msg = s.Decoder().decode(data)
    except s.SbeDecodeError as exc:
        return int(exc.reason), None, exc.template_id
    return 0, msg, type(msg).TEMPLATE_ID
