"""Gymnasium adapters: registered ids, spaces, reset/step and the native vector envs."""

from recgym.envs.observation import ObservationField, ObservationLayout
from recgym.envs.registration import ENV_IDS, FATIGUE_DEFAULTS, register_envs
from recgym.envs.short_video import ShortVideoEnv
from recgym.envs.short_video_vector import ShortVideoVectorEnv

__all__ = [
    "ENV_IDS",
    "FATIGUE_DEFAULTS",
    "ObservationField",
    "ObservationLayout",
    "ShortVideoEnv",
    "ShortVideoVectorEnv",
    "register_envs",
]
