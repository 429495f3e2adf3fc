"""Control-plane argument conversion at the boundary, shared by the parent.* and strategy.*
commands: each turns one JSON value into the number or k=v map a command needs, or raises a
ValueError whose message starts with the argument's name (the commands answer it as bad_request).

Found by sweeping every command with hostile values against a real `up` (qa4, qa5): plain int()
took True as 1 and 1.5 as 1, int(inf) was an OverflowError answered as an internal error, and a
non-string k=v list (params=-1) was an AttributeError.
"""
from __future__ import annotations

import math
from typing import Any


def key_values(text: Any, name: str = "params") -> dict[str, str]:
    """'k=v,k=v' (or None / '' for none) -> {'k': 'v', ...}; anything else names the argument."""
    if text is not None and not isinstance(text, str):
        raise ValueError(f"{name}: expected k=v[,k=v...] text, got {text!r}")
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{name}: expected k=v[,k=v...], got {part!r}")
        out[key.strip()] = value.strip()
    return out


def typed_values(pairs: dict[str, str], fields: dict[str, type]) -> dict[str, Any]:
    """Each value converted by its field's type; a float must be finite."""
    out: dict[str, Any] = {}
    for key, value in pairs.items():
        try:
            out[key] = fields[key](value)
        except ValueError:
            raise ValueError(f"{key}: {value!r} is not a {fields[key].__name__}") from None
        if isinstance(out[key], float) and not math.isfinite(out[key]):
            raise ValueError(f"{key}: must be a finite number, got {value!r}")
    return out


def whole_number(name: str, value: Any) -> int:
    """A whole-number argument (an id, a quantity): an int, an integral float or a decimal string;
    a boolean, 1.5, NaN, inf or 'abc' is refused naming the argument."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():          # False for NaN and the infinities
            return int(value)
        raise ValueError(f"{name}: expected a whole number, got {value!r}")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {value!r}") from None


def finite_number(name: str, value: Any) -> float:
    """A number of seconds or a price: a finite int/float or a decimal string."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{name}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: must be a finite number, got {value!r}")
    return number
