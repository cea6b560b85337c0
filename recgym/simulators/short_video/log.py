"""The short-video interaction log: its stored columns, in a :class:`~recgym.simulators.column_log.ColumnLog`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recgym.simulators.column_log import ColumnLog

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


class InteractionLog(ColumnLog):
    """Every interaction, historical and simulated, in order: a :class:`ColumnLog` of ``LOG_COLUMNS``.

    Parameters
    ----------
    initial_capacity : int
        Rows allocated up front; the arrays double when they fill.
    """

    def __init__(self, initial_capacity: int = 1024) -> None:
        super().__init__(LOG_COLUMNS, initial_capacity)
