"""An account's pre-trade order-velocity limit as operators write it: ``"N/DURATION"``, at most N
order-entry commands (accepted NEW_ORDER + REPLACE) per DURATION of sequenced time, e.g.
``"100/1s"``, ``"20/250ms"``, ``"5/500us"``; ``"none"`` for no limit.

One format for the venue config (``[[accounts]] order_velocity``), the control API
(``risk.set account ID order_velocity VALUE``) and the shell. The engine enforces it
(ENG_CMD_SET_ORDER_VELOCITY, native/ENGINE.md "SET_ORDER_VELOCITY": a token bucket of N per
window, N at once at most), so the value becomes whole numbers here, at the boundary, and a
malformed one is a VelocityError naming what is wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ORDERS = (1 << 32) - 1            # the command's uint32 field
MAX_WINDOW_NS = (1 << 63) - 1         # its int64 field
NO_LIMIT_WORDS = ("none", "off", "unlimited")
_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_FORMAT = re.compile(r"^\s*(\d[\d_]*)\s*/\s*(\d[\d_]*(?:\.\d+)?)\s*(s|ms|us|ns)\s*$")


class VelocityError(ValueError):
    """A malformed order-velocity value; the message says what the format is."""


@dataclass(frozen=True)
class OrderVelocity:
    """max_orders per window_ns; (0, 0) is no limit, the engine's initial state."""

    max_orders: int = 0
    window_ns: int = 0

    @property
    def limited(self) -> bool:
        return self.window_ns > 0

    def describe(self) -> str:
        if not self.limited:
            return "none"
        for unit in ("s", "ms", "us"):
            if self.window_ns % _UNIT_NS[unit] == 0:
                return f"{self.max_orders}/{self.window_ns // _UNIT_NS[unit]}{unit}"
        return f"{self.max_orders}/{self.window_ns}ns"


NO_LIMIT = OrderVelocity()


def parse_order_velocity(text: str) -> OrderVelocity:
    """"N/DURATION" (N >= 1, DURATION > 0 with a unit s, ms, us or ns) or "none"."""
    if not isinstance(text, str):
        raise VelocityError(f"expected a string such as '100/1s' or 'none', got {text!r}")
    if text.strip().lower() in NO_LIMIT_WORDS:
        return NO_LIMIT
    m = _FORMAT.match(text)
    if not m:
        raise VelocityError(f"expected N/DURATION such as '100/1s', '20/250ms' or 'none', got {text!r}")
    count, amount, unit = int(m.group(1).replace("_", "")), m.group(2).replace("_", ""), m.group(3)
    whole, _, frac = amount.partition(".")
    scale = _UNIT_NS[unit]
    # exact decimal -> ns: no float rounding decides a limit
    window_ns = int(whole) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
    if frac and int(frac) * scale % 10 ** len(frac):
        raise VelocityError(f"{text!r}: the window is not a whole number of nanoseconds")
    if not 1 <= count <= MAX_ORDERS:
        raise VelocityError(f"{text!r}: the order count must be 1..{MAX_ORDERS} ('none' for no limit)")
    if not 1 <= window_ns <= MAX_WINDOW_NS:
        raise VelocityError(f"{text!r}: the window must be > 0 and at most {MAX_WINDOW_NS} ns")
    return OrderVelocity(count, window_ns)
