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

ENV_IDS = ("RecGym-ShortVideo-v0", "RecGym-ShortVideoFatigue-v0")


def register_envs() -> None:
    """Register every recgym id with Gymnasium (idempotent)."""
    specs = {
        "RecGym-ShortVideo-v0": {},
        "RecGym-ShortVideoFatigue-v0": dict(FATIGUE_DEFAULTS),
    }
    for env_id, kwargs in specs.items():
        if env_id in gym.registry:
            continue
        # Truncation is the env's own ``max_steps`` knob (the observation bounds depend on it), so no
        # TimeLimit wrapper is registered.
        gym.register(
            id=env_id,
            entry_point="recgym.envs.short_video:ShortVideoEnv",
            vector_entry_point="recgym.envs.short_video_vector:ShortVideoVectorEnv",
            kwargs=kwargs,
        )
