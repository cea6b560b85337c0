"""The last ``window`` impressions across every env: counts per holder (item or creator) kept in step with a ring."""

from __future__ import annotations

import numpy as np

from recgym._validation import check_int


class ImpressionWindow:
    """Impressions per holder over the most recent ``window`` impressions.

    A ring of the last ``window`` holder ids and a count per holder, updated as impressions
    arrive (the oldest leave the counts as new ones enter), so reading the counts costs nothing
    and memory is ``O(window + size)`` however long training runs.

    Parameters
    ----------
    size : int
        Number of holders; ids lie in ``[0, size)``.
    window : int
        Impressions remembered.
    """

    def __init__(self, size: int, window: int) -> None:
        self.size = check_int("size", size, minimum=1)
        self.window = check_int("window", window, minimum=1)
        self.counts = np.zeros(self.size, dtype=np.int64)
        """Impressions of each holder among the remembered ones."""
        self._ring = np.full(self.window, -1, dtype=np.int64)
        self._position = 0

    @property
    def filled(self) -> int:
        """Impressions remembered now (``window`` once that many have arrived)."""
        return int(self.counts.sum())

    def add_one(self, holder: int) -> None:
        """Remember one impression of ``holder`` (the single env's case, without NumPy's per-call overhead)."""
        if not 0 <= holder < self.size:
            raise ValueError(f"ids must lie in [0, {self.size}), got {holder!r}")
        old = int(self._ring[self._position])
        if old >= 0:
            self.counts[old] -= 1
        self.counts[holder] += 1
        self._ring[self._position] = holder
        self._position = (self._position + 1) % self.window

    def add(self, ids: np.ndarray) -> None:
        """Remember the impressions ``ids`` (in order; the oldest remembered ones make room)."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if ids.size == 0:
            return
        if ids.min() < 0 or ids.max() >= self.size:
            raise ValueError(f"ids must lie in [0, {self.size}), got values from {ids.min()} to {ids.max()}")
        ids = ids[-self.window :]
        places = (self._position + np.arange(ids.size)) % self.window
        old = self._ring[places]
        np.subtract.at(self.counts, old[old >= 0], 1)
        np.add.at(self.counts, ids, 1)
        self._ring[places] = ids
        self._position = int((self._position + ids.size) % self.window)
