"""Exceptions of gateway.latency, and the one place C return codes become them.

Keeps the three kinds apart (STYLE.md): try again (the region is not initialized yet), you are wrong
(bad parameters, a region or log file that is not what it claims), not possible here (no invariant
TSC, a clock domain that differs from the region's).
"""
from __future__ import annotations

import errno
import os


class LatencyError(Exception):
    """Base class of every error this package raises."""


class RegionNotReady(LatencyError):
    """Try again: the region's creator has not published it yet."""


class LayoutError(LatencyError):
    """You are wrong: bad histogram parameters, or memory/file that is not a valid region or log."""


class NotPossibleHere(LatencyError):
    """Not possible on this host or in this process: no invariant TSC, another clock domain."""


def check_rc(rc: int, what: str) -> int:
    """Returns rc when it is >= 0; raises the exception for the -errno a hdr_* C call returned."""
    if rc >= 0:
        return rc
    code = -rc
    message = f"{what}: {os.strerror(code)} ({errno.errorcode.get(code, code)})"
    if code == errno.EAGAIN:
        raise RegionNotReady(message)
    if code in (errno.ENOTSUP, errno.EXDEV):
        raise NotPossibleHere(message)
    raise LayoutError(message)
