"""Numbers on the command line, refused at parse time when they cannot mean anything.

argparse's ``type=int`` / ``type=float`` take ``0``, ``-5``, ``nan`` and ``inf`` alike; a count of
zero then falls back to a default in silence (``args.n or DEFAULT``), a NaN deadline never passes,
and a negative sleep raises in the middle of a run. These ``type=`` callables say what is wanted
in one line (argparse: ``argument --flag: MESSAGE``). Used by the benches and any verb whose
numbers have no model of their own to check them.
"""
from __future__ import annotations

import argparse
import math
import os

DMA_LATENCY_MAX_US = 2**31 - 1      # /dev/cpu_dma_latency takes a signed 32-bit value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def seed(text: str) -> int:
    """A random seed: numpy's generators take whole numbers >= 0 (a negative one was a ValueError
    traceback, 'expected non-negative integer', once the run had started)."""
    return non_negative_int(text)


def dma_latency_us(text: str) -> int:
    """A /dev/cpu_dma_latency value: 0..2^31-1 microseconds."""
    value = non_negative_int(text)
    if value > DMA_LATENCY_MAX_US:
        raise argparse.ArgumentTypeError(f"must be at most {DMA_LATENCY_MAX_US} us, got {value}")
    return value


def int_list(text: str) -> list[int]:
    """'10000,50000': positive whole numbers, comma-separated."""
    return [positive_int(part.strip()) for part in text.split(",")]


def cpu_pair(text: str) -> tuple[int, int]:
    """'A,B': two CPUs this process may run on (the same one twice shares a core)."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected two CPUs like 0,1, got {text!r}")
    a, b = (non_negative_int(p.strip()) for p in parts)
    allowed = sorted(os.sched_getaffinity(0))
    if a not in allowed or b not in allowed:
        raise argparse.ArgumentTypeError(f"expected two of this process's CPUs {allowed}, got {text!r}")
    return a, b
