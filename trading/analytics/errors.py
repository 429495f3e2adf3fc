"""The one error type of the analytics package and the input checks every estimator shares.

Every estimator validates its arrays before computing: an empty input, a NaN or infinity, times that
go backwards or arrays of different lengths raise :class:`AnalyticsInputError` naming the argument
and the first offending index. Estimators never return garbage computed from bad input; where an
input is valid but the estimator is undefined (a window with no volume, a positive autocovariance
for Roll's spread) the result is NaN and the estimator's docstring says so.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class AnalyticsInputError(ValueError):
    """Input an estimator cannot use; the message names the argument and the problem."""


def as_float_array(name: str, values: Any, *, allow_empty: bool = False, ndim: int = 1) -> FloatArray:
    """values as a float64 array of ndim dimensions, all finite; raises AnalyticsInputError."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalyticsInputError(f"{name}: not numeric ({exc})") from None
    if arr.ndim != ndim:
        raise AnalyticsInputError(f"{name}: expected {ndim}-d array, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise AnalyticsInputError(f"{name}: empty")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        raise AnalyticsInputError(f"{name}: NaN or infinite value at flat index {bad}")
    return arr


def check_same_length(**arrays: npt.NDArray[Any]) -> int:
    """The common length of the given arrays; raises when they differ."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise AnalyticsInputError(f"arrays of different lengths: {lengths}")
    return next(iter(lengths.values()), 0)


def check_sorted(name: str, times: FloatArray) -> None:
    """times must be non-decreasing; raises naming the first index where they go back."""
    if len(times) > 1:
        back = np.flatnonzero(np.diff(times) < 0)
        if len(back):
            i = int(back[0]) + 1
            raise AnalyticsInputError(f"{name}: not sorted: index {i} ({times[i]!r}) < index {i - 1} "
                                      f"({times[i - 1]!r})")


def check_scalar(name: str, value: float, *, positive: bool = False, nonnegative: bool = False) -> float:
    """value as a finite float, optionally > 0 or >= 0."""
    v = float(value)
    if not np.isfinite(v):
        raise AnalyticsInputError(f"{name}: must be finite, got {value!r}")
    if positive and v <= 0:
        raise AnalyticsInputError(f"{name}: must be > 0, got {value!r}")
    if nonnegative and v < 0:
        raise AnalyticsInputError(f"{name}: must be >= 0, got {value!r}")
    return v
