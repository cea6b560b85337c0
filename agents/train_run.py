"""One training run, start to finish: what ``recgym train`` does, as a Python function.

:func:`train_and_compare` trains an agent on a registered recgym env (our DQN or DDPG, or a
Stable-Baselines3 DQN, PPO, A2C, TD3 or SAC: :mod:`agents.sb3_agents`), evaluates it periodically on
a separate evaluation env, compares the final agent with the baselines of the env's family on the
same evaluation episodes, and writes everything into a new run directory:

=======================  ==========================================================================
``config.json``          the run's arguments and every field of the agent's config, library versions
``tensorboard/``         TensorBoard event files (:class:`~agents.tensorboard.TensorBoardCallback`; for SB3
                         agents SB3's logger with ``rec/*`` from :class:`recgym.monitoring.RecMetricsCallback`)
``agent.pt``             the final agent's checkpoint (``DQN.load`` / ``DDPG.load``; no replay buffer);
                         for an SB3 agent ``agent.zip`` (``PPO.load`` …) and, when the observations are
                         normalised, ``vecnormalize.pkl`` (:meth:`agents.sb3_agents.SB3Policy.load` reads both)
``evaluations.csv``      the learning curve: the untrained agent (step 0), then each periodic evaluation
``comparison.csv``       the final table: one row for the agent, one per baseline
``comparison.json``      the same rows, plus the run's identity and training throughput
``learning_curve.png``   the evaluations against env steps, with the baselines as horizontal lines
=======================  ==========================================================================

The directory is new (:func:`~agents.run_directory.new_run_directory`) and every file in it is
written with :func:`recgym.data.files.write_new_file`, so nothing that exists is ever replaced.

Defaults by env family (each can be changed):

- short-video ids: DQN with :class:`~agents.dqn.DQNConfig` defaults on a 16-env native vector env;
  evaluation on a **fresh world** (``eval_seed = seed + 10_000``) with 16 envs and 2,000 sessions,
  so the agent is scored on users and videos it has never seen;
- rating ids: ``num_envs = n_users`` (one vector step is one period), episodes of
  ``max_steps = 20`` requests per env; DDPG uses :meth:`~agents.ddpg.DDPGConfig.ratings_preset`
  with its 20-period warm-up (``learning_starts = 20 * n_users``). The agent learns *these* users
  and items, so it is evaluated in **the same world** (``eval_seed = seed``), replayed from its
  start in a separate env, one episode per env (``n_users`` episodes).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm

from agents.base import Agent
from agents.comparison import ORACLES, comparison_table, evaluate_baselines
from agents.ddpg import DDPG, DDPGConfig
from agents.dqn import DQN, DQNConfig
from agents.learning_curve import evaluations_frame, plot_learning_curve
from agents.run_directory import new_run_directory, run_stem
from agents.sb3_agents import CHECKPOINT, NORMALIZATION, SB3_ACTIONS, SB3_AGENTS, SB3Learner, build_hyperparameters
from agents.tensorboard import TensorBoardCallback
from agents.training import EvalResult, TrainingResult, evaluate, make_vector_env, train
from recgym.data.files import write_new_file
from recgym.data.tables import save_frame
from recgym.envs.registration import ENV_IDS, RATINGS_IDS

AGENTS = ("dqn", "ddpg", *SB3_AGENTS)
"""Agents ``recgym train`` can train: ours, then Stable-Baselines3's (:data:`agents.sb3_agents.SB3_AGENTS`)."""
AGENT_ACTIONS: Mapping[str, tuple[type[spaces.Space], ...]] = {"dqn": (spaces.Discrete,), "ddpg": (spaces.Box,), **SB3_ACTIONS}
"""The action spaces each agent acts in."""

SHORT_VIDEO_NUM_ENVS = 16
"""Envs of the short-video training and evaluation vector envs."""
SHORT_VIDEO_EVAL_EPISODES = 2_000
"""Sessions per evaluation on a short-video env."""
EVAL_SEED_OFFSET = 10_000
"""Short-video evaluation world: ``seed + EVAL_SEED_OFFSET`` (a world the agent never trained in)."""
RATINGS_EPISODE_REQUESTS = 20
"""Default ``max_steps`` of the rating envs in a run: requests per episode of each env."""
RATINGS_WARMUP_PERIODS = 20
"""DDPG's uniform warm-up on a rating env, in periods (``learning_starts = 20 * n_users``)."""
EVALUATIONS_PER_RUN = 10
"""Default number of periodic evaluations (``eval_every = steps // 10``)."""

FILES = ("config.json", "agent.pt", "evaluations.csv", "comparison.csv", "comparison.json", "learning_curve.png")
"""Files of a run directory of our agents (besides ``tensorboard/``); see :func:`run_files` for SB3 agents."""


def run_files(agent: str, *, normalized: bool = False) -> tuple[str, ...]:
    """Files of ``agent``'s run directory (besides ``tensorboard/``): :data:`FILES`, with an SB3 agent's checkpoint files."""
    if agent not in SB3_AGENTS:
        return FILES
    checkpoint = (CHECKPOINT, NORMALIZATION) if normalized else (CHECKPOINT,)
    return tuple(name for name in FILES if name != "agent.pt") + checkpoint


@dataclass
class RunResult:
    """What :func:`train_and_compare` returns.

    Attributes
    ----------
    run_dir : pathlib.Path
        The run's directory.
    agent : Agent or stable_baselines3.common.base_class.BaseAlgorithm
        The trained agent (an SB3 model for the ``sb3-*`` agents).
    table : pandas.DataFrame
        The comparison (:func:`agents.comparison.comparison_table`), the agent's row first.
    curve : pandas.DataFrame
        The periodic evaluations (:func:`agents.learning_curve.evaluations_frame`).
    training : TrainingResult
        What :func:`agents.training.train` returned.
    config : dict
        What ``config.json`` holds.
    files : dict of str to pathlib.Path
        Each written file by name (:func:`run_files` and ``tensorboard``).
    """

    run_dir: Path
    agent: Agent | BaseAlgorithm
    table: pd.DataFrame
    curve: pd.DataFrame
    training: TrainingResult
    config: dict[str, Any]
    files: dict[str, Path]


# ---------------------------------------------------------------------------------------------- validation
def _positive_int(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _seed(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def fitting_agent(action_space: spaces.Space) -> str | None:
    """The first agent of :data:`AGENTS` that acts in ``action_space`` (None if none does)."""
    for name, kinds in AGENT_ACTIONS.items():
        if isinstance(action_space, kinds):
            return name
    return None


def check_agent_fits(agent: str, env_id: str, action_space: spaces.Space) -> None:
    """Raise ``ValueError`` saying which agent fits if ``agent`` cannot act in ``action_space``."""
    if isinstance(action_space, AGENT_ACTIONS[agent]):
        return
    fit = fitting_agent(action_space)
    advice = f"use agent {fit!r}" if fit else f"none of {list(AGENTS)!r} fits it"
    needs = " or ".join(kind.__name__ for kind in AGENT_ACTIONS[agent])
    raise ValueError(
        f"agent {agent!r} does not fit {env_id}: {agent.upper()} needs {needs} actions, and {env_id} has {action_space}; {advice}"
    )


def build_agent_config(
    agent: str,
    env_id: str,
    *,
    seed: int,
    n_users: int,
    overrides: DQNConfig | DDPGConfig | Mapping[str, Any] | None = None,
    n_envs: int = 1,
) -> DQNConfig | DDPGConfig | dict[str, Any]:
    """The run's agent config: the family's default (see the module docstring) with ``overrides`` applied.

    Parameters
    ----------
    agent : str
        One of :data:`AGENTS`.
    env_id : str
    seed : int
        The config's ``seed`` unless ``overrides`` sets one.
    n_users : int
        Users of the world (a period's requests), for the warm-up on a rating env.
    overrides : DQNConfig, DDPGConfig, Mapping or None
        A config object, used as it is, or field names and values to change in the default (for
        an SB3 agent: keyword arguments of the algorithm, see :func:`agents.sb3_agents.build_hyperparameters`).
    n_envs : int
        Envs of the training env (SB3 agents' defaults depend on it).

    Returns
    -------
    DQNConfig, DDPGConfig or dict
        A dict of hyperparameters for an SB3 agent.
    """
    if agent in SB3_AGENTS:
        if isinstance(overrides, DQNConfig | DDPGConfig):
            kind = type(overrides).__name__
            raise ValueError(f"agent_config of {agent!r} must be a mapping of keyword arguments, got a {kind}")
        return build_hyperparameters(agent, env_id, seed=seed, n_envs=n_envs, n_users=n_users, overrides=overrides)
    config_type = DQNConfig if agent == "dqn" else DDPGConfig
    if isinstance(overrides, DQNConfig | DDPGConfig):
        if not isinstance(overrides, config_type):
            raise ValueError(
                f"agent_config must be a {config_type.__name__} for agent {agent!r}, got a {type(overrides).__name__}"
            )
        return overrides
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ValueError(f"agent_config must be a {config_type.__name__}, a mapping of its fields, or None, got {overrides!r}")
    changes = dict(overrides or {})
    names = [field.name for field in dataclasses.fields(config_type)]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise ValueError(f"agent_config has unknown {config_type.__name__} field(s) {unknown!r}; allowed: {names!r}")
    changes.setdefault("seed", seed)
    if agent == "ddpg" and env_id in RATINGS_IDS:
        return DDPGConfig.ratings_preset(**({"learning_starts": RATINGS_WARMUP_PERIODS * n_users} | changes))
    return config_type(**changes)


def _build_agent(agent: str, env: gym.vector.VectorEnv, config: DQNConfig | DDPGConfig) -> Agent:
    if agent == "dqn":
        return DQN.for_env(env, config)  # type: ignore[arg-type]
    return DDPG.for_env(env, config)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- files
def _plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: NaN and infinities become None, tuples lists, NumPy scalars numbers."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write ``data`` as indented JSON (NaN as null); never replaces an existing file."""
    text = json.dumps(_plain(data), indent=2, allow_nan=False) + "\n"

    def write(temporary: str) -> None:
        Path(temporary).write_text(text, encoding="utf-8")

    return write_new_file(path, write)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("recgym", "numpy", "torch", "gymnasium"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "unknown"
    return versions


def _say(enabled: bool, message: str) -> None:
    if enabled:
        print(message, file=sys.stderr, flush=True)


def _train_own(
    learner: Agent,
    env: gym.vector.VectorEnv,
    steps: int,
    logdir: Path,
    untrained: EvalResult,
    **train_kwargs: Any,
) -> TrainingResult:
    """:func:`agents.training.train` with a :class:`~agents.tensorboard.TensorBoardCallback` that starts with ``untrained``."""
    tensorboard = TensorBoardCallback(logdir, log_every=max(1_000, env.num_envs))
    tensorboard.on_eval(untrained, 0)
    try:
        return train(learner, env, steps, callbacks=[tensorboard], **train_kwargs)
    finally:
        tensorboard.close()  # train's on_end closes it too; this covers a run that fails or is interrupted


# ---------------------------------------------------------------------------------------------- the run
def train_and_compare(
    env_id: str,
    agent: str,
    steps: int,
    *,
    logdir: str | os.PathLike[str] = "runs",
    seed: int = 0,
    run_name: str | None = None,
    eval_every: int | None = None,
    eval_episodes: int | None = None,
    eval_seed: int | None = None,
    num_envs: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    agent_config: DQNConfig | DDPGConfig | Mapping[str, Any] | None = None,
    progress_bar: bool = True,
) -> RunResult:
    """Train ``agent`` on ``env_id`` for ``steps`` env steps, compare it with the baselines, write a new run directory.

    Every argument is checked before anything is created; then the run directory is created
    (an existing ``run_name`` is refused before any training), ``config.json`` is written, the
    agent trains, and the results are written (see the module docstring for the files).

    Parameters
    ----------
    env_id : str
        One of :data:`recgym.envs.registration.ENV_IDS`.
    agent : str
        One of :data:`AGENTS`. DQN and SB3's DQN need ``Discrete`` actions (short-video ids,
        ``RecGym-Ratings-v0``), DDPG, TD3 and SAC ``Box`` actions (``RecGym-RatingsEmbedding-v0``);
        PPO and A2C take either.
    steps : int
        Env steps to train (transitions, summed over the envs; the last vector step may overshoot).
    logdir : str or os.PathLike
        Parent of the run directory (created if missing).
    seed : int
        Seed of the training world, the agent (unless its config sets one) and the random baseline.
    run_name : str, optional
        Name of the run directory; refused if it exists. Default: ``{agent}_{env_id}_seed{seed}_{k}``
        with the first free ``k``.
    eval_every : int, optional
        Env steps between evaluations (default ``steps // 10``, at least 1); the run also ends
        with one.
    eval_episodes : int, optional
        Episodes per evaluation, for the agent and each baseline (default: 2,000 short-video
        sessions; ``n_users`` rating episodes, one per env).
    eval_seed : int, optional
        Seed of the evaluation world (default ``seed + 10_000`` for short-video ids, ``seed`` for
        rating ids: see the module docstring).
    num_envs : int, optional
        Envs of the training vector env (default 16 for short-video ids, ``n_users`` for rating ids).
    env_kwargs : Mapping, optional
        Keyword arguments of the env (both training and evaluation), e.g. ``{"n_users": 50}``;
        rating ids get ``max_steps=20`` unless it is given.
    agent_config : DQNConfig, DDPGConfig or Mapping, optional
        The agent's config, or fields to change in the default one (see :func:`build_agent_config`);
        for an SB3 agent, keyword arguments of the algorithm.
    progress_bar : bool
        Show a progress bar while training, and progress messages on stderr.

    Returns
    -------
    RunResult

    Raises
    ------
    ValueError
        An unknown env id or agent, an agent that does not fit the env's action space, a bad
        number, or a bad env keyword (each message names the parameter, the value and what is allowed).
    agents.run_directory.RunExistsError
        ``run_name`` exists under ``logdir``.
    """
    if not isinstance(env_id, str) or env_id not in ENV_IDS:
        raise ValueError(f"env_id must be one of {list(ENV_IDS)!r}, got {env_id!r}")
    if not isinstance(agent, str) or agent not in AGENTS:
        raise ValueError(f"agent must be one of {list(AGENTS)!r}, got {agent!r}")
    steps = _positive_int("steps", steps)  # type: ignore[assignment]
    seed = _seed("seed", seed)  # type: ignore[assignment]
    eval_every = _positive_int("eval_every", eval_every, allow_none=True)
    eval_episodes = _positive_int("eval_episodes", eval_episodes, allow_none=True)
    eval_seed = _seed("eval_seed", eval_seed, allow_none=True)
    num_envs = _positive_int("num_envs", num_envs, allow_none=True)
    if env_kwargs is not None and (not isinstance(env_kwargs, Mapping) or not all(isinstance(k, str) for k in env_kwargs)):
        raise ValueError(f"env_kwargs must be a mapping of keyword names to values, got {env_kwargs!r}")
    ratings = env_id in RATINGS_IDS
    kwargs = dict(env_kwargs or {})
    if ratings:
        kwargs.setdefault("max_steps", RATINGS_EPISODE_REQUESTS)

    probe = gym.make(env_id, **kwargs)  # checks the env keywords (ValueError naming the bad one)
    try:
        action_space = probe.action_space
        base: Any = probe.unwrapped  # a recgym env: its core holds the world's config
        n_users = int(base.core.config.n_users)
    finally:
        probe.close()
    check_agent_fits(agent, env_id, action_space)
    num_envs = num_envs if num_envs is not None else (n_users if ratings else min(SHORT_VIDEO_NUM_ENVS, n_users))
    config = build_agent_config(agent, env_id, seed=seed, n_users=n_users, overrides=agent_config, n_envs=num_envs)
    eval_num_envs = n_users if ratings else min(SHORT_VIDEO_NUM_ENVS, n_users)
    eval_episodes = eval_episodes if eval_episodes is not None else (eval_num_envs if ratings else SHORT_VIDEO_EVAL_EPISODES)
    eval_every = eval_every if eval_every is not None else max(1, steps // EVALUATIONS_PER_RUN)
    eval_seed = eval_seed if eval_seed is not None else (seed if ratings else seed + EVAL_SEED_OFFSET)

    sb3 = agent in SB3_AGENTS
    env: gym.vector.VectorEnv | None = None
    learner: Any = None
    eval_env = make_vector_env(env_id, eval_num_envs, **kwargs)
    try:
        if sb3:  # its own training env: the native vector env through recgym.monitoring's SB3 adapter
            learner = SB3Learner(agent, env_id, num_envs, kwargs, config)  # type: ignore[arg-type]
        else:
            env = make_vector_env(env_id, num_envs, **kwargs)  # num_envs > n_users: ValueError naming both
            learner = _build_agent(agent, env, config)  # type: ignore[arg-type]
        run_dir = new_run_directory(logdir, run_name, stem=run_stem(agent, env_id, seed))
        names = run_files(agent, normalized=sb3 and learner.normalization is not None)
        files = {name: run_dir / name for name in names} | {"tensorboard": run_dir / "tensorboard"}
        run_config = {
            "env_id": env_id,
            "agent": agent,
            "steps": steps,
            "seed": seed,
            "eval_seed": eval_seed,
            "eval_every": eval_every,
            "eval_episodes": eval_episodes,
            "num_envs": num_envs,
            "eval_num_envs": eval_num_envs,
            "env_kwargs": kwargs,
            "run_name": run_dir.name,
            "run_dir": str(run_dir),
            "agent_config": dict(config) if sb3 else dataclasses.asdict(config),  # type: ignore[arg-type, call-overload]
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": _versions(),
        }
        write_json(files["config.json"], run_config)
        _say(progress_bar, f"training {agent} on {env_id} for {steps:,} env steps ({num_envs} envs), writing to {run_dir}")

        # The untrained agent, so that the learning curve starts where learning starts.
        policy = learner.policy if sb3 else learner
        evaluations: list[tuple[int, EvalResult]] = [(0, evaluate(policy, eval_env, eval_episodes, seed=eval_seed))]
        if sb3:
            training = learner.learn(
                steps,
                tensorboard_dir=files["tensorboard"],
                eval_env=eval_env,
                eval_every=eval_every,
                eval_episodes=eval_episodes,
                eval_seed=eval_seed,
                progress_bar=progress_bar,
                before=evaluations,
            )
            learner.save(run_dir)
        else:
            training = _train_own(learner, env, steps, files["tensorboard"], evaluations[0][1], seed=seed, eval_env=eval_env,
                                  eval_every=eval_every, eval_episodes=eval_episodes, eval_seed=eval_seed,
                                  progress_bar=progress_bar)  # fmt: skip
            if isinstance(learner, DDPG):
                learner.save(files["agent.pt"], replay_buffer=False)
            else:
                learner.save(files["agent.pt"])

        _say(progress_bar, f"evaluating the baselines on {eval_episodes:,} episodes of world seed {eval_seed}")
        results = {agent: training.evaluations[-1][1]} | evaluate_baselines(env_id, eval_env, eval_episodes, eval_seed, seed=seed)
    finally:
        if env is not None:
            env.close()
        if sb3 and learner is not None:
            learner.close()
        eval_env.close()

    table = comparison_table(results, oracle=ORACLES[env_id])
    curve = evaluations_frame(evaluations + training.evaluations)
    save_frame(curve, files["evaluations.csv"])
    save_frame(table, files["comparison.csv"])
    write_json(
        files["comparison.json"],
        {
            "env_id": env_id,
            "agent": agent,
            "seed": seed,
            "eval_seed": eval_seed,
            "eval_episodes": eval_episodes,
            "env_steps": training.num_timesteps,
            "training": {
                "wall_seconds": training.wall_seconds,
                "steps_per_second": training.steps_per_second,
                "episodes_finished": len(training.episode_returns),
            },
            "policies": table.to_dict(orient="records"),
        },
    )
    title = f"{agent.upper()} on {env_id}: seed {seed}, evaluated on world {eval_seed} ({eval_episodes:,} episodes each)"
    plot_learning_curve(curve, table.iloc[1:], files["learning_curve.png"], label=agent.upper(), title=title)
    return RunResult(run_dir, learner.model if sb3 else learner, table, curve, training, run_config, files)
