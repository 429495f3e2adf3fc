"""A table held by column: one contiguous numpy array per field of a structured dtype.

The analysis's big tables (one row per order, per fill, per parent: millions of rows at a day's
scale) are written and read a column at a time. In a structured array each column is strided by
the whole row (over 150 bytes), so every column pass touches every cache line of the table; held
by column, a pass reads or writes only that column's bytes. On the 1 M-execution bench day this
is the larger part of what the columnar tables saved (bench/tca.py).

``Columns`` answers the structured-array operations the analysis and its readers use, with the
same results: ``t["name"]`` (the column itself, writable; a field with a shape gives a 2-d
column), ``t["name"] = values``, ``t[rows]`` for a slice, mask or index array (a new table,
copied as numpy copies), ``t[i]`` (one row as a read-only mapping of name to numpy scalar),
iteration over rows, ``len``, ``dtype`` (the structured dtype that describes a row), ``copy`` and
``to_structured``."""
from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np


class Columns:
    """Rows of `dtype` (a structured dtype), stored as one array per field."""

    def __init__(self, dtype: np.dtype[Any], columns: dict[str, np.ndarray]) -> None:
        names = dtype.names or ()
        if set(columns) != set(names):
            raise ValueError(f"columns {sorted(columns)} do not match the fields {sorted(names)}")
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths {sorted(lengths)}")
        self.dtype = dtype
        self._cols = columns
        self._n = lengths.pop() if lengths else 0

    @classmethod
    def zeros(cls, dtype: np.dtype[Any], n: int) -> "Columns":
        """n rows of zeros (as np.zeros(n, dtype) holds them)."""
        cols = {}
        for name in dtype.names or ():
            sub = dtype.fields[name][0] if dtype.fields else np.dtype(np.float64)
            cols[name] = np.zeros((n, *sub.shape), sub.base)
        return cls(dtype, cols)

    @classmethod
    def from_structured(cls, rows: np.ndarray) -> "Columns":
        return cls(rows.dtype, {name: np.ascontiguousarray(rows[name]) for name in rows.dtype.names or ()})

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._cols[key]
        if isinstance(key, (int, np.integer)):
            i = int(key)
            if not -self._n <= i < self._n:
                raise IndexError(f"row {i} out of range for a table of {self._n} rows")
            return _Row({name: col[i] for name, col in self._cols.items()})
        return Columns(self.dtype, {name: col[key] for name, col in self._cols.items()})

    def __setitem__(self, name: str, value: Any) -> None:
        if not isinstance(name, str):
            raise TypeError("only whole columns are assigned: table[name] = values")
        self._cols[name][...] = value

    def __iter__(self) -> Iterator["_Row"]:
        for i in range(self._n):
            yield self[i]

    def copy(self) -> "Columns":
        return Columns(self.dtype, {name: col.copy() for name, col in self._cols.items()})

    def to_structured(self) -> np.ndarray:
        """The same rows as a structured array of `dtype`."""
        out = np.zeros(self._n, self.dtype)
        for name, col in self._cols.items():
            out[name] = col
        return out


class _Row(Mapping[str, Any]):
    """One row: field name -> numpy scalar (or a small array for a shaped field)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
