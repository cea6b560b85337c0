"""The four outcomes of showing a video, as small integer codes (the log and the arrays use the codes)."""

from __future__ import annotations

WATCHED = 0
SKIPPED = 1
LIKED = 2
SESSION_END = 3

OUTCOME_NAMES: tuple[str, ...] = ("watched", "skipped", "liked", "session_end")
"""Outcome names indexed by code."""

N_OUTCOMES = len(OUTCOME_NAMES)
