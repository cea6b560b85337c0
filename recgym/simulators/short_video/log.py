"""The interaction log: appended to preallocated arrays that double when full (amortised O(1) per row)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

LOG_COLUMNS: Mapping[str, np.dtype] = {
    "user_id": np.dtype(np.int32),
    "vid_id": np.dtype(np.int32),
    "session_id": np.dtype(np.int64),
    "time_step": np.dtype(np.int32),
    "action": np.dtype(np.int8),
    "watch_seconds": np.dtype(np.float64),
    "position": np.dtype(np.int32),
}
"""Stored columns and their dtypes: only what cannot be derived. ``action`` is the user's response as an
outcome code (named as in the seed's log); ``position`` is the candidate slot the agent picked.
``session_id`` and ``position`` are -1 in the historical log. Clocks, counters, previous video and view
counts follow from these rows in order (see :func:`recgym.data.interaction_frame`)."""


class InteractionLog:
    """Every interaction, historical and simulated, in order.

    Parameters
    ----------
    initial_capacity : int
        Rows allocated up front; the arrays double when they fill.
    """

    def __init__(self, initial_capacity: int = 1024) -> None:
        self._capacity = max(int(initial_capacity), 1)
        self._size = 0
        self._arrays = {name: np.empty(self._capacity, dtype=dtype) for name, dtype in LOG_COLUMNS.items()}

    def __len__(self) -> int:
        return self._size

    def append(self, rows: Mapping[str, np.ndarray]) -> None:
        """Append a batch of rows given as one array (or scalar) per column; every column is required."""
        if rows.keys() != LOG_COLUMNS.keys():
            raise ValueError(f"rows must have exactly the columns {list(LOG_COLUMNS)}, got {list(rows)}")
        n = len(rows["user_id"])
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
