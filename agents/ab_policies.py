"""The policies an A/B test can compare, named by a short spec (``random``, ``dqn:runs/x/agent.pt``) or given as objects.

Specs, by env family:

=====================  ===================================================================
``random``             a uniformly random candidate / item / embedding point (seeded)
``greedy``             short video: the candidate with the best business score
``rotation``           short video: the best-scored candidate of another category than the last
``population-best``    ratings: the item best for the average user (ground truth)
``oracle``             the ground-truth best action (myopic on short video): evaluation only
``dqn:PATH``           :class:`agents.dqn.DQN` from a checkpoint file, or a ``recgym train`` run
                       directory holding ``agent.pt``
``ddpg:PATH``          :class:`agents.ddpg.DDPG`, the same way
``sb3:PATH``           an SB3 model of a ``recgym train --agent sb3-*`` run directory (or its
                       ``agent.zip``), with its observation statistics if it saved them
``sb3-ALGO:FILE``      an SB3 ``.zip`` saved anywhere, loaded with algorithm ALGO
                       (``sb3-dqn``, ``sb3-ppo``, ``sb3-a2c``, ``sb3-td3``, ``sb3-sac``)
=====================  ===================================================================

Besides specs, :func:`build_policy` accepts anything :func:`agents.training.evaluate` does: an
:class:`~agents.base.Agent` (acting greedily), an object with ``act(observations)``, a class
built as ``cls(env)``, or a function ``observations -> actions``. Every policy is called on the
whole batch of the vector env's observations and returns one action per env.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.base import Agent, Observations
from agents.baselines import CategoryRotationPolicy, GreedyBusinessPolicy, RandomPolicy
from agents.oracle import RatingsOracle, ShortVideoOracle
from agents.ratings_baselines import PopulationBestPolicy, RandomActionPolicy
from agents.training import _policy_function
from recgym.envs.registration import RATINGS_IDS, SHORT_VIDEO_IDS

SHORT_VIDEO_POLICIES = ("random", "greedy", "rotation", "oracle")
RATINGS_POLICIES = ("random", "population-best", "oracle")
CHECKPOINT_KINDS = ("dqn", "ddpg", "sb3")
SB3_ALGORITHMS = ("sb3-dqn", "sb3-ppo", "sb3-a2c", "sb3-td3", "sb3-sac")
"""Algorithms of ``sb3-ALGO:FILE`` (``agents.sb3_agents.SB3_AGENTS``, repeated so that no SB3 import is needed to parse)."""
OWN_CHECKPOINT = "agent.pt"
"""The checkpoint file of a ``recgym train`` run of our agents."""


def policy_names(env_id: str) -> tuple[str, ...]:
    """Plain policy names of ``env_id``'s family (specs without a path)."""
    if env_id in SHORT_VIDEO_IDS:
        return SHORT_VIDEO_POLICIES
    if env_id in RATINGS_IDS:
        return RATINGS_POLICIES
    raise ValueError(f"env_id must be one of {list(SHORT_VIDEO_IDS + RATINGS_IDS)!r}, got {env_id!r}")


def _spec_error(spec: str, env_id: str) -> ValueError:
    names = ", ".join(policy_names(env_id))
    kinds = ", ".join(f"{kind}:PATH" for kind in CHECKPOINT_KINDS)
    return ValueError(
        f"unknown policy {spec!r} for {env_id}: use one of {names}, or {kinds}, or sb3-ALGO:FILE.zip "
        f"(ALGO one of {', '.join(a.removeprefix('sb3-') for a in SB3_ALGORITHMS)})"
    )


def check_policy_spec(spec: str, env_id: str) -> str:
    """Validate a spec's syntax (not its file) for ``env_id``; return it.

    Raises
    ------
    ValueError
        For an unknown name, an unknown kind or an empty path.
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"policy must be a non-empty spec string, got {spec!r}")
    kind, _, path = spec.partition(":")
    if not path:
        if spec not in policy_names(env_id):
            raise _spec_error(spec, env_id)
        return spec
    if kind not in CHECKPOINT_KINDS + SB3_ALGORITHMS:
        raise _spec_error(spec, env_id)
    return spec


def _own_checkpoint(path: Path) -> Path:
    file = path / OWN_CHECKPOINT if path.is_dir() else path
    if not file.is_file():
        raise ValueError(f"no checkpoint at {str(file)!r}: give a checkpoint file or a run directory holding {OWN_CHECKPOINT}")
    return file


def _check_spaces(agent: Any, env: gym.vector.VectorEnv, spec: str) -> None:
    """An agent trained on another observation or action space would act on garbage: refuse it."""
    for name, expected in (("observation_space", env.single_observation_space), ("action_space", env.single_action_space)):
        space = getattr(agent, name, None)
        if space is not None and space != expected:
            raise ValueError(f"policy {spec!r} was trained with {name} {space}, but the env's is {expected}")


def _sb3_policy(kind: str, path: Path, env: gym.vector.VectorEnv, spec: str) -> Any:
    # Stable-Baselines3 is imported only when an SB3 policy is asked for.
    from agents.sb3_agents import ALGORITHMS, CHECKPOINT, SB3Policy

    if kind == "sb3":
        run_dir = path if path.is_dir() else path.parent
        if (path.is_file() and path.name != CHECKPOINT) or not (run_dir / "config.json").is_file():
            raise ValueError(
                f"sb3:{path} must be a recgym train run directory (config.json, {CHECKPOINT}) or its {CHECKPOINT}; "
                "for a model saved elsewhere use sb3-ALGO:FILE.zip"
            )
        agent = json.loads((run_dir / "config.json").read_text(encoding="utf-8")).get("agent")
        if agent not in ALGORITHMS:
            raise ValueError(f"{run_dir} is a run of agent {agent!r}, not an SB3 agent ({', '.join(ALGORITHMS)})")
        policy = SB3Policy.load(run_dir, env)
    else:
        if not path.is_file():
            raise ValueError(f"no SB3 model at {str(path)!r}")
        policy = SB3Policy(ALGORITHMS[kind].load(path, device="cpu"))
    _check_spaces(policy.model, env, spec)
    return policy


def _from_spec(spec: str, env: gym.vector.VectorEnv, env_id: str, seed: int | None) -> Any:
    spec = check_policy_spec(spec, env_id)
    kind, _, location = spec.partition(":")
    if not location:
        short_video = env_id in SHORT_VIDEO_IDS
        if spec == "random":
            return RandomPolicy(env, seed=seed) if short_video else RandomActionPolicy(env, seed=seed)
        if spec == "oracle":
            return ShortVideoOracle(env) if short_video else RatingsOracle(env)
        return {"greedy": GreedyBusinessPolicy, "rotation": CategoryRotationPolicy, "population-best": PopulationBestPolicy}[
            spec
        ](env)
    path = Path(location).expanduser()
    if kind == "dqn":
        from agents.dqn import DQN

        agent: Agent = DQN.load(_own_checkpoint(path))
    elif kind == "ddpg":
        from agents.ddpg import DDPG

        agent = DDPG.load(_own_checkpoint(path))
    else:
        return _sb3_policy(kind, path, env, spec)
    _check_spaces(agent, env, spec)
    return agent


def build_policy(policy: Any, env: gym.vector.VectorEnv, env_id: str, *, seed: int | None = None
                 ) -> Callable[[Observations], np.ndarray]:
    """A function ``batch of observations -> actions`` for ``policy``, built for ``env``.

    Parameters
    ----------
    policy : str or policy object
        A spec (see the module docstring) or anything :func:`agents.training.evaluate` accepts.
    env : gymnasium.vector.VectorEnv
        The env the policy acts in (baselines and oracles read its layout or its ground truth).
    env_id : str
        Its id (to choose the family's baselines).
    seed : int, optional
        Seed of a random policy's generator.

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        An unknown spec, a missing checkpoint, or a checkpoint trained on other spaces.
    """
    if isinstance(policy, str):
        policy = _from_spec(policy, env, env_id, seed)
    return _policy_function(policy, env)


def describe_policy(policy: Any) -> str:
    """A short name for reports: the spec itself, or the object's class or function name."""
    if isinstance(policy, str):
        return policy
    if isinstance(policy, type):
        return policy.__name__
    return getattr(policy, "__name__", type(policy).__name__)
