"""The registered environment ids (``import recgym`` registers them; so does ``gym.make("recgym:<id>")``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

FATIGUE_DEFAULTS: Mapping[str, Any] = {
    "boredom_increase": 0.5,
    "boredom_decay": 0.3,
    "like_mood_shift": 0.05,
    "skip_mood_shift": -0.3,
}
"""In-session effects switched on by ``RecGym-ShortVideoFatigue-v0`` (each still a keyword argument)."""

SHORT_VIDEO_IDS = ("RecGym-ShortVideo-v0", "RecGym-ShortVideoFatigue-v0")
RATINGS_IDS = ("RecGym-Ratings-v0", "RecGym-RatingsEmbedding-v0")
ENV_IDS = SHORT_VIDEO_IDS + RATINGS_IDS
"""Every registered id of a local environment."""
REMOTE_ID = "RecGym-Remote-v0"
"""A client of ``recgym serve``: ``gym.make(REMOTE_ID, url=..., env_id=...)`` (needs the ``serve`` extra)."""


def register_envs() -> None:
    """Register every recgym id with Gymnasium (idempotent)."""
    short_video = ("recgym.envs.short_video:ShortVideoEnv", "recgym.envs.short_video_vector:ShortVideoVectorEnv")
    specs = {
        "RecGym-ShortVideo-v0": (*short_video, {}),
        "RecGym-ShortVideoFatigue-v0": (*short_video, dict(FATIGUE_DEFAULTS)),
        "RecGym-Ratings-v0": ("recgym.envs.ratings:RatingsEnv", "recgym.envs.ratings_vector:RatingsVectorEnv", {}),
        "RecGym-RatingsEmbedding-v0": (
            "recgym.envs.ratings:RatingsEmbeddingEnv",
            "recgym.envs.ratings_vector:RatingsEmbeddingVectorEnv",
            {},
        ),
    }
    for env_id, (entry_point, vector_entry_point, kwargs) in specs.items():
        if env_id in gym.registry:
            continue
        # Truncation is each env's own ``max_steps`` knob (the short-video observation bounds depend on
        # it), so no TimeLimit wrapper is registered.
        gym.register(id=env_id, entry_point=entry_point, vector_entry_point=vector_entry_point, kwargs=kwargs)
    if REMOTE_ID not in gym.registry:
        # The module imports its HTTP client only when an env is made, so registering needs no extra.
        gym.register(id=REMOTE_ID, entry_point="recgym.serve.client:RemoteEnv")
