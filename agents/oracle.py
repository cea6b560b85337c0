"""Oracle baselines that read the simulator's ground truth: for **evaluation only**, never for learning.

They measure how close a learning agent gets to the best achievable policy. Both reach into the
env through documented back doors (the architecture keeps ground truth in the simulator so that
agents cannot peek; an oracle is the deliberate exception):

- :class:`ShortVideoOracle` calls ``env.unwrapped.core.simulator.expected_continuation(slots, videos)``,
  the mean continuation probability ``p`` of showing each current candidate, and picks the
  candidate with the highest **expected immediate reward**
  ``p * r_watched + (1 - p) / 3 * (r_skipped + r_liked + r_session_end)`` (the in-session response
  model of ``docs/environments.md``). It is **myopic**: it ignores what a choice does to later
  steps. In ``RecGym-ShortVideo-v0`` the response does not depend on earlier choices, and a higher
  ``p`` also means a higher chance that the session continues, so the myopic choice is the best
  one up to the candidate slates' small dependence on what was shown. In
  ``RecGym-ShortVideoFatigue-v0`` boredom and mood make it beatable by a policy that plans.
- :class:`RatingsOracle` calls the ratings envs' ``oracle_action()`` / ``oracle_actions()``: each
  pending user's best item (zero regret).

Both act on the env's **current** state, so pass the very env the policy is evaluated in
(:func:`agents.training.evaluate` accepts the class and builds it with that env). The observations
passed to ``act`` are ignored.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


def _sub_envs(env: gym.Env | gym.vector.VectorEnv) -> list[Any]:
    """The unwrapped envs behind ``env``: itself for a native vector or single env, each sub-env of a ``SyncVectorEnv``."""
    envs = getattr(env, "envs", None)
    if envs is not None:
        return [sub.unwrapped for sub in envs]
    return [env.unwrapped]


class ShortVideoOracle:
    """Show the candidate with the highest expected immediate reward, from the simulator's ground truth (myopic).

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        The short-video env the policy acts in (single, native vector, or ``SyncVectorEnv``).
    """

    def __init__(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        self.envs = _sub_envs(env)
        for sub in self.envs:
            # The simulator itself only exists after the env's first reset.
            if not hasattr(getattr(sub, "core", None), "candidate_config"):
                raise ValueError(f"env must be a recgym short-video env (with core.simulator.expected_continuation), got {sub!r}")

    def expected_rewards(self) -> np.ndarray:
        """``(n_envs, n_candidates)`` expected immediate reward of each current candidate."""
        rows = []
        for sub in self.envs:
            core = sub.core
            videos = core.candidates.slates.video
            slots = np.broadcast_to(np.arange(len(videos))[:, None], videos.shape)
            p = core.simulator.expected_continuation(slots, videos)
            rewards = core.config.rewards
            other = rewards["skipped"] + rewards["liked"] + rewards["session_end"]
            rows.append(p * rewards["watched"] + (1.0 - p) / 3.0 * other)
        return np.concatenate(rows, axis=0)

    def act(self, observations: Any = None) -> np.ndarray:
        """``(n_envs,)`` int64: the best candidate slot of each env (the observations are not used)."""
        return np.argmax(self.expected_rewards(), axis=1).astype(np.int64)

    __call__ = act


class RatingsOracle:
    """Recommend each pending user's best item (or its embedding), from the ratings env's ground truth.

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        A ``RecGym-Ratings-v0`` / ``RecGym-RatingsEmbedding-v0`` env (single, native vector, or ``SyncVectorEnv``).
    """

    def __init__(self, env: gym.Env | gym.vector.VectorEnv) -> None:
        self.envs = _sub_envs(env)
        for sub in self.envs:
            if not (hasattr(sub, "oracle_actions") or hasattr(sub, "oracle_action")):
                raise ValueError(f"env must be a recgym ratings env (with oracle_action/oracle_actions), got {sub!r}")

    def act(self, observations: Any = None) -> np.ndarray:
        """``(n_envs,)`` item ids, or ``(n_envs, embedding_dim)`` embeddings (the observations are not used)."""
        rows = []
        for sub in self.envs:
            if hasattr(sub, "oracle_actions"):
                rows.append(np.asarray(sub.oracle_actions()))
            else:
                rows.append(np.asarray(sub.oracle_action())[None])
        return np.concatenate(rows, axis=0)

    __call__ = act
