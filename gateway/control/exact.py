"""Exact arithmetic helpers shared by the risk and breaker checks."""
from __future__ import annotations

from fractions import Fraction
from numbers import Real
from typing import cast


def exact_fraction(x: Real) -> Fraction:
    """Any real number (int, float, Fraction, numpy scalars) as an exact Fraction. Fraction takes
    every numbers.Real at run time; typeshed's overloads list only int, float and Rational."""
    return Fraction(cast(float, x))
