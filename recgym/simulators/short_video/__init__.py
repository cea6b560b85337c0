"""The short-video session simulator of seed 003 (SPEC §1)."""

from recgym.simulators.short_video.config import ShortVideoConfig
from recgym.simulators.short_video.outcomes import LIKED, OUTCOME_NAMES, SESSION_END, SKIPPED, WATCHED
from recgym.simulators.short_video.simulator import ShortVideoSimulator, StepResult

__all__ = [
    "LIKED",
    "OUTCOME_NAMES",
    "SESSION_END",
    "SKIPPED",
    "WATCHED",
    "ShortVideoConfig",
    "ShortVideoSimulator",
    "StepResult",
]
