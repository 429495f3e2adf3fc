"""numpy helpers the analysis needs at journal scale.

``small_pages``: see its docstring (numpy's huge-page hint costs more than it saves here).

``unique``: sorted distinct values by sort-and-compare. numpy 2.3+ answers a bare ``np.unique(a)``
with a hash table that, on this machine, took 7 s for a million uint64 order ids (sorting takes
0.2 s); the version with return_inverse still sorts, so only the bare form is replaced."""
from __future__ import annotations

import functools
from typing import Callable, ParamSpec, TypeVar

import numpy as np


def unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a (1-d), as np.unique(a) gives them."""
    s = np.sort(np.asarray(a).reshape(-1))
    if len(s) == 0:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    out: np.ndarray = s[keep]
    return out


_P = ParamSpec("_P")
_R = TypeVar("_R")


def small_pages(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Runs fn with numpy's transparent-huge-page hint off (restored after).

    numpy asks the kernel for huge pages (madvise MADV_HUGEPAGE) on every large array. With the
    kernel's THP defrag set to 'madvise', as here, each first touch of such an array may compact
    memory synchronously: analysing the 1 M-execution bench day took 10.8 s of system time with
    the hint and 3.0 s without it (user time unchanged), since the analysis makes hundreds of
    short-lived arrays of tens of MB. The hint is process-wide, so it is set for the call only."""
    setter = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if setter is None:
            return fn(*args, **kwargs)
        before = setter(False)
        try:
            return fn(*args, **kwargs)
        finally:
            setter(before)
    return wrapper
