"""CPU lists ("0-3,8,10-11") and hex CPU masks ("f" or "ffffffff,00000003") as the kernel prints
and parses them (lib/bitmap.c: bitmap_parselist / bitmap_print_to_pagebuf). Parsing validates
completely; everything past this module works on frozensets of CPU numbers."""
from __future__ import annotations

from collections.abc import Iterable


def parse_cpulist(text: str) -> frozenset[int]:
    """'0-2,5' -> {0, 1, 2, 5}. Empty text is the empty set. Raises ValueError naming the bad part."""
    cpus: set[int] = set()
    text = text.strip()
    if not text:
        return frozenset()
    for part in text.split(","):
        part = part.strip()
        lo_text, sep, hi_text = part.partition("-")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if sep else lo
        except ValueError:
            raise ValueError(f"bad CPU list element {part!r} in {text!r}") from None
        if lo < 0 or hi < lo:
            raise ValueError(f"bad CPU range {part!r} in {text!r}")
        cpus.update(range(lo, hi + 1))
    return frozenset(cpus)


def format_cpulist(cpus: Iterable[int]) -> str:
    """{0, 1, 2, 5} -> '0-2,5', the kernel's own compact form."""
    ordered = sorted(set(cpus))
    out: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def parse_cpumask(text: str) -> frozenset[int]:
    """'3' or '00000000,00000003' -> {0, 1}. Raises ValueError on anything but hex groups."""
    digits = text.strip().replace(",", "")
    if not digits:
        raise ValueError("empty CPU mask")
    try:
        value = int(digits, 16)
    except ValueError:
        raise ValueError(f"bad CPU mask {text!r}") from None
    return frozenset(bit for bit in range(value.bit_length()) if value >> bit & 1)


def format_cpumask(cpus: Iterable[int]) -> str:
    """{0, 1} -> '3'; masks wider than 32 bits get the kernel's comma-separated 32-bit groups."""
    value = 0
    for cpu in cpus:
        value |= 1 << cpu
    text = f"{value:x}"
    groups: list[str] = []
    while len(text) > 8:
        groups.insert(0, text[-8:])
        text = text[:-8]
    groups.insert(0, text)
    return ",".join(groups)
