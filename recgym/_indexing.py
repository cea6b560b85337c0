"""Row selection for the batched engines: basic slicing when a batch covers every slot."""

from __future__ import annotations

import numpy as np


def slot_rows(slots: np.ndarray, n_slots: int) -> np.ndarray | slice:
    """Index the rows of ``slots`` in an ``(n_slots, ...)`` array: ``slice(None)`` if they are all slots, in order.

    Gathering or scattering a few rows through an index array costs several times more than the
    rows themselves (a single env steps one row); a slice selects the same rows as a view. Use the
    result to select whole rows only (gathers that are written back, scatters, copies), not to pair
    rows with per-slot columns, and copy a gathered block that must not alias the array.

    Parameters
    ----------
    slots : numpy.ndarray
        ``(n,)`` int64 distinct slot numbers in ``[0, n_slots)``.
    n_slots : int
        Rows of the arrays indexed.
    """
    if len(slots) == n_slots and (n_slots == 1 or bool(np.all(slots[1:] > slots[:-1]))):
        return slice(None)
    return slots
