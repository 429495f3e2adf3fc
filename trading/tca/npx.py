"""numpy helpers the analysis needs at journal scale.

``unique``: sorted distinct values by sort-and-compare. numpy 2.3+ answers a bare ``np.unique(a)``
with a hash table that, on this machine, took 7 s for a million uint64 order ids (sorting takes
0.2 s); the version with return_inverse still sorts, so only the bare form is replaced."""
from __future__ import annotations

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
