"""A columnar log: rows appended to preallocated NumPy arrays that double when full (amortised O(1) per row)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class ColumnLog:
    """Rows of fixed, typed columns, in the order they were appended.

    Parameters
    ----------
    columns : Mapping[str, numpy.dtype]
        Column names and dtypes; every append must give exactly these columns.
    initial_capacity : int
        Rows allocated up front; the arrays double when they fill.
    """

    def __init__(self, columns: Mapping[str, np.dtype], initial_capacity: int = 1024) -> None:
        self._capacity = max(int(initial_capacity), 1)
        self._size = 0
        self._arrays = {name: np.empty(self._capacity, dtype=dtype) for name, dtype in columns.items()}

    def __len__(self) -> int:
        return self._size

    @property
    def column_names(self) -> tuple[str, ...]:
        """The stored columns, in order."""
        return tuple(self._arrays)

    def append(self, rows: Mapping[str, np.ndarray]) -> None:
        """Append a batch of rows given as one array (or scalar) per column; every column is required."""
        if rows.keys() != self._arrays.keys():
            raise ValueError(f"rows must have exactly the columns {list(self._arrays)}, got {list(rows)}")
        n = len(next(iter(rows.values())))
        end = self._size + n
        if end > self._capacity:
            self._grow(end)
        for name, values in rows.items():
            self._arrays[name][self._size : end] = values
        self._size = end

    def _grow(self, required: int) -> None:
        capacity = self._capacity
        while capacity < required:
            capacity *= 2
        for name, array in self._arrays.items():
            grown = np.empty(capacity, dtype=array.dtype)
            grown[: self._size] = array[: self._size]
            self._arrays[name] = grown
        self._capacity = capacity

    def column(self, name: str) -> np.ndarray:
        """Return a read-only view of one column's stored rows."""
        view = self._arrays[name][: self._size]
        view.flags.writeable = False
        return view

    def columns(self) -> dict[str, np.ndarray]:
        """Return a copy of every column's stored rows."""
        return {name: array[: self._size].copy() for name, array in self._arrays.items()}
