"""Gymnasium adapters: registered ids, spaces, reset/step and the native vector envs."""

from recgym.envs.observation import ObservationField, ObservationLayout
from recgym.envs.ratings import RatingsEmbeddingEnv, RatingsEnv
from recgym.envs.ratings_vector import RatingsEmbeddingVectorEnv, RatingsVectorEnv
from recgym.envs.registration import ENV_IDS, FATIGUE_DEFAULTS, RATINGS_IDS, SHORT_VIDEO_IDS, register_envs
from recgym.envs.short_video import ShortVideoEnv
from recgym.envs.short_video_vector import ShortVideoVectorEnv

__all__ = [
    "ENV_IDS",
    "FATIGUE_DEFAULTS",
    "RATINGS_IDS",
    "SHORT_VIDEO_IDS",
    "ObservationField",
    "ObservationLayout",
    "RatingsEmbeddingEnv",
    "RatingsEmbeddingVectorEnv",
    "RatingsEnv",
    "RatingsVectorEnv",
    "ShortVideoEnv",
    "ShortVideoVectorEnv",
    "register_envs",
]
