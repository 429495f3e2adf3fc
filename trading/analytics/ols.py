"""Simple linear regression y = a + b x by ordinary least squares, from running sums.

Used by Kyle's lambda and the order-flow-imbalance price-impact regression. The streaming form keeps
n, sum x, sum y, sum x^2, sum x y, sum y^2 (so adding one observation costs O(1) and adding a
micro-batch is one numpy sum per statistic); the estimates are the textbook closed forms
b = (n Sxy - Sx Sy) / (n Sxx - Sx^2), a = (Sy - b Sx) / n, R^2 = 1 - SSR / SST, and the standard
error of b from the residual variance SSR / (n - 2). With fewer than 3 observations or no variation
in x the slope is undefined and every estimate is NaN (documented, not an error).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trading.analytics.errors import as_float_array, check_same_length


@dataclass(frozen=True)
class OlsFit:
    intercept: float
    slope: float
    slope_se: float
    r2: float
    n: int


class RunningOls:
    """OLS of y on x (with an intercept) from running sums; add() one pair, add_many() arrays."""

    def __init__(self) -> None:
        self.n = 0
        self.sx = self.sy = self.sxx = self.sxy = self.syy = 0.0

    def add(self, x: float, y: float) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"regression: non-finite observation ({x!r}, {y!r})")
        self.n += 1
        self.sx += x
        self.sy += y
        self.sxx += x * x
        self.sxy += x * y
        self.syy += y * y

    def add_many(self, xs: Any, ys: Any) -> None:
        x = as_float_array("x", xs, allow_empty=True)
        y = as_float_array("y", ys, allow_empty=True)
        check_same_length(x=x, y=y)
        self.n += len(x)
        self.sx += float(x.sum())
        self.sy += float(y.sum())
        self.sxx += float(np.dot(x, x))
        self.sxy += float(np.dot(x, y))
        self.syy += float(np.dot(y, y))

    def fit(self) -> OlsFit:
        n = self.n
        nan = float("nan")
        sxx_c = self.sxx - self.sx * self.sx / n if n else 0.0
        if n < 3 or sxx_c <= 1e-300:
            return OlsFit(nan, nan, nan, nan, n)
        sxy_c = self.sxy - self.sx * self.sy / n
        syy_c = self.syy - self.sy * self.sy / n
        slope = sxy_c / sxx_c
        intercept = (self.sy - slope * self.sx) / n
        ssr = max(syy_c - slope * sxy_c, 0.0)
        r2 = 1.0 - ssr / syy_c if syy_c > 0 else nan
        se = math.sqrt(ssr / (n - 2) / sxx_c)
        return OlsFit(intercept, slope, se, r2, n)


def ols_fit(xs: Any, ys: Any) -> OlsFit:
    """Batch form of RunningOls (same closed forms on the whole arrays)."""
    reg = RunningOls()
    reg.add_many(xs, ys)
    return reg.fit()
