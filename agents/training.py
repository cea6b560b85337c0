"""One training loop for every agent in ``agents/``, with callbacks, and a deterministic evaluation helper.

:func:`train` steps a vector env (a single ``gymnasium.Env`` is wrapped as a batch of one),
feeds the agent its transitions, calls :meth:`~agents.base.Agent.update` after every step, and
reports to :class:`Callback` objects. It handles the three Gymnasium autoreset modes:

- ``next_step`` (the default of recgym's vector envs): the step after an episode ends resets
  that env and ignores its action. That step is **not** a transition and is not stored; the
  transition that ended the episode keeps the returned final observation as ``next_obs``.
- ``same_step``: the returned observation of an ended env is already the new episode's; the
  stored ``next_obs`` is ``info["final_obs"]``.
- ``disabled``: the loop resets ended envs itself with ``reset(options={"reset_mask": ...})``.

Env steps are counted as transitions (summed over envs); reset steps do not count.

Examples
--------
>>> import gymnasium as gym, recgym
>>> from agents.dqn import DQN, DQNConfig
>>> env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=4, vectorization_mode="vector_entry_point")
>>> agent = DQN.for_env(env, DQNConfig(learning_starts=100, seed=0))
>>> result = train(agent, env, 200, seed=0, progress_bar=False)
>>> result.num_timesteps >= 200
True
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from agents.base import Agent, Observations
from agents.batch_of_one import BatchOfOne
from recgym.metrics import OUTCOME_RATES, catalogue_coverage, outcome_counts, rates_from_counts
from recgym.wrappers import catalogue_facts, env_info, transition_infos
from recgym.wrappers.episode_metrics import ITEM_KEYS

MEAN_INFO_KEYS = ("watch_seconds", "regret")
"""Numeric ``info`` keys reported as per-step means when an env provides them."""

ITEM_INFO_KEYS = ITEM_KEYS
"""``info`` keys naming the shown item, for catalogue coverage (first one present wins)."""


# ---------------------------------------------------------------------------------------------- records
@dataclass
class TrainingRun:
    """What :meth:`Callback.on_start` gets: the agent, the (vector) env and the run's budget."""

    agent: Agent
    env: gym.vector.VectorEnv
    total_steps: int
    eval_env: gym.vector.VectorEnv | None = None


@dataclass
class StepRecord:
    """One step of the vector env, as :meth:`Callback.on_step` sees it.

    Attributes
    ----------
    num_timesteps : int
        The agent's env step counter after this step (continues across resumed runs).
    run_steps : int
        Env steps of this :func:`train` call so far.
    actions, rewards, terminated, truncated : numpy.ndarray
        ``(n_envs,)`` as the env returned them.
    infos : dict or agents.batch_of_one.LazyInfo
        The vector env's info (one array per key, with ``_key`` masks), describing this step's
        transitions: with same-step autoreset, an ended env's row holds its ``final_info``. For a
        single env it is a mutable mapping that batches itself when first used.
    valid : numpy.ndarray
        ``(n_envs,)`` bool: rows that were real transitions (False for ``next_step`` reset steps).
    """

    num_timesteps: int
    run_steps: int
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    infos: MutableMapping[str, Any]
    valid: np.ndarray


@dataclass
class EpisodeRecord:
    """A finished episode, as :meth:`Callback.on_episode_end` sees it."""

    env_index: int
    episode_return: float
    length: int
    terminated: bool
    num_timesteps: int
    info: dict[str, Any]


@dataclass
class EvalResult:
    """Summary of deterministic evaluation episodes (see :func:`evaluate`).

    Attributes
    ----------
    episodes : int
    mean_return, std_return : float
        Mean and standard deviation (``ddof=0``) of the undiscounted episode returns.
    mean_length : float
    returns, lengths : numpy.ndarray
        Per episode, in the order the episodes started.
    metrics : dict of str to float
        Per-step means of the env's info metrics where present: ``watch_seconds``, ``regret``,
        outcome rates (``watch_rate``, ``like_rate``, ``skip_rate``, ``end_rate``),
        ``distinct_items`` and ``coverage`` (distinct items shown / catalogue size).
    """

    episodes: int
    mean_return: float
    std_return: float
    mean_length: float
    returns: np.ndarray
    lengths: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def stderr(self) -> float:
        """Standard error of :attr:`mean_return` (``ddof=1``)."""
        n = len(self.returns)
        return float(np.std(self.returns, ddof=1) / math.sqrt(n)) if n > 1 else math.nan

    def as_dict(self) -> dict[str, float]:
        """Scalars only: ``episodes``, ``mean_return``, ``std_return``, ``stderr``, ``mean_length`` and the metrics."""
        scalars = {
            "episodes": float(self.episodes),
            "mean_return": self.mean_return,
            "std_return": self.std_return,
            "stderr": self.stderr,
            "mean_length": self.mean_length,
        }
        return scalars | self.metrics


@dataclass
class TrainingResult:
    """What :func:`train` returns (and :meth:`Callback.on_end` gets).

    Attributes
    ----------
    num_timesteps : int
        Env steps taken in this run.
    episode_returns, episode_lengths : numpy.ndarray
        Episodes finished in this run, in the order they finished.
    evaluations : list of (int, EvalResult)
        ``(agent env steps, result)`` of each periodic evaluation.
    wall_seconds : float
        Time spent in the loop, evaluations included.
    steps_per_second : float
        ``num_timesteps / wall_seconds``, excluding the time spent in evaluations.
    stopped_early : bool
        A callback's ``on_step`` returned False.
    """

    num_timesteps: int
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    evaluations: list[tuple[int, EvalResult]]
    wall_seconds: float
    steps_per_second: float
    stopped_early: bool = False


class Callback:
    """Hooks into :func:`train`; override the ones you need (each default does nothing).

    Call order per env step: :meth:`on_episode_end` for each episode that ended, :meth:`on_step`,
    then :meth:`on_update` if the agent learned, then :meth:`on_eval` if an evaluation was due.
    """

    def on_start(self, run: TrainingRun) -> None:
        """Before the first step (after the agent was told the run's length)."""

    def on_step(self, step: StepRecord) -> bool | None:
        """After every vector env step; return ``False`` to stop training."""
        return None

    def on_episode_end(self, episode: EpisodeRecord) -> None:
        """When an env's episode ends (terminated or truncated)."""

    def on_update(self, metrics: Mapping[str, float], num_timesteps: int) -> None:
        """After an :meth:`~agents.base.Agent.update` that returned metrics."""

    def on_eval(self, result: EvalResult, num_timesteps: int) -> None:
        """After each periodic evaluation."""

    def on_end(self, result: TrainingResult) -> None:
        """After the last step (also when stopped early)."""


# ---------------------------------------------------------------------------------------------- helpers
def as_vector_env(env: gym.Env | gym.vector.VectorEnv) -> gym.vector.VectorEnv:
    """``env`` itself if it is a vector env, else a :class:`~agents.batch_of_one.BatchOfOne` around it (same-step autoreset)."""
    if isinstance(env, gym.vector.VectorEnv):
        return env
    if not isinstance(env, gym.Env):
        raise ValueError(f"env must be a gymnasium.Env or gymnasium.vector.VectorEnv, got {type(env).__name__}")
    return BatchOfOne(env)


def catalogue_size(env: gym.Env | gym.vector.VectorEnv) -> int | None:
    """Number of items a recgym env can show (``n_videos`` or ``n_items`` of its config), or None if unknown."""
    return catalogue_facts(env).catalogue_size


def _take(observations: Observations, mask: np.ndarray | slice) -> Observations:
    if isinstance(observations, Mapping):
        return {key: value[mask] for key, value in observations.items()}
    return observations[mask]


def _with_final(next_obs: Observations, final_obs: np.ndarray, done: np.ndarray) -> Observations:
    """``next_obs`` with the rows of ended envs replaced by their final observations (same-step autoreset)."""
    rows = np.flatnonzero(done)
    if isinstance(next_obs, Mapping):
        patched = {key: np.array(value, copy=True) for key, value in next_obs.items()}
        for i in rows:
            for key in patched:
                patched[key][i] = final_obs[i][key]
        return patched
    patched_rows = np.array(next_obs, copy=True)
    for i in rows:
        patched_rows[i] = final_obs[i]
    return patched_rows


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Limit torch's intra-op threads to ``n`` inside the block (``None``: leave them as they are).

    Small networks gain nothing from threads, and on a loaded machine multi-threaded kernels
    spin instead of computing.
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class InfoMetrics:
    """Accumulates recommender metrics from vector-env infos: per-step means, outcome rates, coverage.

    Parameters
    ----------
    catalogue_size : int, optional
        Items the env can show; without it ``coverage`` is not reported (``distinct_items`` is).
    """

    def __init__(self, catalogue_size: int | None = None) -> None:
        self.catalogue_size = catalogue_size
        self._seen: set[int] = set()
        self.clear()

    def clear(self) -> None:
        """Forget the per-step sums and outcome counts (the set of items shown is kept: coverage is cumulative)."""
        self._sums = dict.fromkeys(MEAN_INFO_KEYS, 0.0)
        self._counts = dict.fromkeys(MEAN_INFO_KEYS, 0)
        self._outcomes = dict.fromkeys(OUTCOME_RATES, 0)
        self._n_outcomes = 0

    def add(self, infos: Mapping[str, Any], mask: np.ndarray) -> None:
        """Add the rows ``mask`` of a vector info dict (rows without a key's ``_key`` flag are skipped)."""
        for key in MEAN_INFO_KEYS:
            if key in infos:
                rows = mask & infos.get(f"_{key}", mask)
                if rows.any():
                    self._sums[key] += float(np.sum(infos[key][rows], dtype=np.float64))
                    self._counts[key] += int(rows.sum())
        if "outcome" in infos:
            rows = mask & infos.get("_outcome", mask)
            if rows.any():
                outcomes = infos["outcome"][rows]
                for name, count in outcome_counts(outcomes).items():
                    self._outcomes[name] += count
                self._n_outcomes += len(outcomes)
        for key in ITEM_INFO_KEYS:
            if key in infos:
                rows = mask & infos.get(f"_{key}", mask)
                if rows.any():
                    self._seen.update(np.asarray(infos[key][rows], dtype=np.int64).tolist())
                break

    def summary(self) -> dict[str, float]:
        """The metrics accumulated since :meth:`clear` (coverage: since construction); absent ones are left out."""
        result = {key: self._sums[key] / self._counts[key] for key in MEAN_INFO_KEYS if self._counts[key]}
        if self._n_outcomes:
            result |= rates_from_counts(self._outcomes, self._n_outcomes)
        if self._seen:
            result["distinct_items"] = float(len(self._seen))
            if self.catalogue_size:
                seen = np.fromiter(self._seen, dtype=np.int64, count=len(self._seen))
                result["coverage"] = catalogue_coverage(seen, self.catalogue_size)
        return result


# ---------------------------------------------------------------------------------------------- evaluation
PolicyLike = Any
"""An :class:`~agents.base.Agent` (acts with ``deterministic=True``), an object with ``act(observations)``,
a class built as ``cls(env)`` (e.g. ``ShortVideoOracle``), or a function ``observations -> actions``."""


def _policy_function(policy: PolicyLike, env: gym.vector.VectorEnv) -> Callable[[Observations], np.ndarray]:
    if isinstance(policy, type):
        policy = policy(env)
    if isinstance(policy, Agent):
        agent = policy
        return lambda observations: agent.act(observations, deterministic=True)
    act = getattr(policy, "act", None)
    if callable(act):
        return act
    if callable(policy):
        return policy
    raise ValueError(f"policy must be an Agent, an object with act(), a class taking the env, or a function, got {policy!r}")


def make_vector_env(env_id: str, num_envs: int = 16, **env_kwargs: Any) -> gym.vector.VectorEnv:
    """``gym.make_vec`` with the id's native vector env when it has one, else a ``SyncVectorEnv``."""
    spec = gym.spec(env_id)
    mode = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **env_kwargs)


def evaluate(
    policy: PolicyLike,
    env: str | gym.Env | gym.vector.VectorEnv,
    episodes: int = 100,
    seed: int | Sequence[int] | None = 0,
    *,
    num_envs: int = 16,
    torch_thread_limit: int | None = 1,
    **env_kwargs: Any,
) -> EvalResult:
    """Run ``episodes`` deterministic episodes of ``policy`` and summarise their returns and info metrics.

    Every episode among the first ``episodes`` to start is played to its end, however long, so
    long episodes are not under-represented; episodes started later are discarded. The env is
    reset with ``seed`` first, so with recgym envs every call with the same seed faces the same
    world. A sequence of seeds plays ``episodes`` episodes in each world and pools them: recgym
    worlds change as they are played (a user is never offered a video twice), so several fresh
    worlds measure a policy with less noise than one long run in a single world.

    Parameters
    ----------
    policy : Agent, object with ``act``, class or function
        See :data:`PolicyLike`. Agents act greedily (``deterministic=True``).
    env : str, gymnasium.Env or gymnasium.vector.VectorEnv
        A registered id (a vector env of ``num_envs`` is made with ``env_kwargs`` and closed
        afterwards), or an env to use as it is (a single env is wrapped as a batch of one).
    episodes : int
        Episodes to summarise.
    seed : int, sequence of int, or None
        Passed to the env's ``reset``; one evaluation per seed, pooled.
    num_envs : int
        Envs of the vector env made from an id.
    torch_thread_limit : int or None
        Torch threads while acting (see :func:`torch_threads`).
    **env_kwargs
        Knobs for ``gym.make_vec`` when ``env`` is an id.

    Returns
    -------
    EvalResult
        With several seeds: every episode of every seed, and each metric averaged over the seeds.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int | np.integer) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    owned = isinstance(env, str)
    vec = make_vector_env(env, num_envs, **env_kwargs) if isinstance(env, str) else as_vector_env(env)
    try:
        with torch_threads(torch_thread_limit):
            act = _policy_function(policy, vec)
            if seed is None or isinstance(seed, int | np.integer):
                return _evaluate(act, vec, int(episodes), seed)
            return _pool([_evaluate(act, vec, int(episodes), int(one)) for one in seed])
    finally:
        if owned:
            vec.close()


def _evaluate(
    act: Callable[[Observations], np.ndarray], env: gym.vector.VectorEnv, episodes: int, seed: int | None
) -> EvalResult:
    mode = _autoreset_mode(env)
    n = env.num_envs
    observations, _ = env.reset(seed=seed)
    ordinal = np.arange(n)  # which episode each env is playing, in order of starting
    started = n
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)
    finished = 0
    resetting = np.zeros(n, dtype=bool)
    metrics = InfoMetrics(catalogue_size(env))
    while finished < episodes:
        observations, rewards, terminated, truncated, infos = env.step(np.asarray(act(observations)))
        counted = ~resetting & (ordinal < episodes)
        if mode == AutoresetMode.SAME_STEP:
            infos = transition_infos(infos, terminated | truncated)
        metrics.add(infos, counted)
        returns[ordinal[counted]] += rewards[counted]
        lengths[ordinal[counted]] += 1
        done = (terminated | truncated) & ~resetting
        finished += int(np.count_nonzero(done & counted))
        for i in np.flatnonzero(done):
            ordinal[i], started = started, started + 1
        if mode == AutoresetMode.DISABLED and done.any():
            observations, _ = env.reset(options={"reset_mask": done})
        resetting = done if mode == AutoresetMode.NEXT_STEP else np.zeros(n, dtype=bool)
    return EvalResult(
        episodes=episodes,
        mean_return=float(returns.mean()),
        std_return=float(returns.std()),
        mean_length=float(lengths.mean()),
        returns=returns,
        lengths=lengths,
        metrics=metrics.summary(),
    )


def _pool(results: Sequence[EvalResult]) -> EvalResult:
    if not results:
        raise ValueError("seed must hold at least one seed")
    returns = np.concatenate([result.returns for result in results])
    lengths = np.concatenate([result.lengths for result in results])
    shared = set.intersection(*(set(result.metrics) for result in results))
    metrics = {key: float(np.mean([result.metrics[key] for result in results])) for key in results[0].metrics if key in shared}
    return EvalResult(len(returns), float(returns.mean()), float(returns.std()), float(lengths.mean()), returns, lengths, metrics)


def _autoreset_mode(env: gym.vector.VectorEnv) -> AutoresetMode:
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if isinstance(mode, str):
        mode = AutoresetMode(mode)
    return mode


# ---------------------------------------------------------------------------------------------- training
def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def train(
    agent: Agent,
    env: gym.Env | gym.vector.VectorEnv,
    total_steps: int,
    *,
    callbacks: Sequence[Callback] = (),
    seed: int | None = None,
    eval_env: str | gym.Env | gym.vector.VectorEnv | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 100,
    eval_seed: int | None = 0,
    progress_bar: bool = True,
    torch_thread_limit: int | None = 1,
) -> TrainingResult:
    """Train ``agent`` on ``env`` for ``total_steps`` env steps (transitions, summed over envs).

    Parameters
    ----------
    agent : Agent
        Acts on batches, observes transitions, learns in :meth:`~agents.base.Agent.update`. If it
        has ``set_total_steps`` (the DQN's ε schedule) it is called with
        ``agent.num_timesteps + total_steps`` first.
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        A vector env in any autoreset mode, or a single env (run as a batch of one).
    total_steps : int
        Env steps to take; the last vector step may overshoot by up to ``num_envs - 1``.
    callbacks : sequence of Callback
        Monitoring hooks (e.g. :class:`agents.tensorboard.TensorBoardCallback`).
    seed : int or None
        Seed of the env's first ``reset``; ``None`` continues the env's own generator.
    eval_env : str, gymnasium.Env, gymnasium.vector.VectorEnv or None
        Where to evaluate every ``eval_every`` env steps and at the end; an id is made once
        (a 16-env vector env) and closed at the end. ``None``: no evaluation.
    eval_every : int
        Env steps between evaluations.
    eval_episodes : int
        Episodes per evaluation (see :func:`evaluate`).
    eval_seed : int or None
        Seed of every evaluation's reset (the same world each time, for recgym envs).
    progress_bar : bool
        Show a ``tqdm`` bar (steps, recent mean return, ε).
    torch_thread_limit : int or None
        Torch threads during the run (see :func:`torch_threads`).

    Returns
    -------
    TrainingResult
    """
    total_steps = _positive("total_steps", total_steps)
    eval_every = _positive("eval_every", eval_every)
    eval_episodes = _positive("eval_episodes", eval_episodes)
    vec = as_vector_env(env)
    mode = _autoreset_mode(vec)
    if eval_env is not None and eval_env is env:
        raise ValueError("eval_env must be a separate env: evaluating resets it, which would cut the training episodes")
    owned_eval = isinstance(eval_env, str)
    eval_vec = None
    if eval_env is not None:
        eval_vec = make_vector_env(eval_env) if isinstance(eval_env, str) else as_vector_env(eval_env)
    set_total_steps = getattr(agent, "set_total_steps", None)
    if callable(set_total_steps):
        set_total_steps(agent.num_timesteps + total_steps)
    for callback in callbacks:
        callback.on_start(TrainingRun(agent, vec, total_steps, eval_vec))

    episodes = _Episodes(vec.num_envs)
    evaluations: list[tuple[int, EvalResult]] = []
    steps, next_eval, eval_seconds, stopped = 0, eval_every, 0.0, False
    resetting = np.zeros(vec.num_envs, dtype=bool)
    start = time.perf_counter()

    def run_evaluation(target: gym.vector.VectorEnv) -> None:
        nonlocal eval_seconds
        began = time.perf_counter()
        result = _evaluate(_policy_function(agent, target), target, eval_episodes, eval_seed)
        eval_seconds += time.perf_counter() - began
        evaluations.append((agent.num_timesteps, result))
        for callback in callbacks:
            callback.on_eval(result, agent.num_timesteps)

    bar = tqdm(total=total_steps, unit="step", disable=not progress_bar, dynamic_ncols=True, smoothing=0.05)
    try:
        with torch_threads(torch_thread_limit):
            observations, _ = vec.reset(seed=seed)
            while steps < total_steps and not stopped:
                actions = np.asarray(agent.act(observations))
                next_observations, rewards, terminated, truncated, infos = vec.step(actions)
                valid = ~resetting  # a next_step reset step is not a transition
                done = (terminated | truncated) & valid
                stored_next = next_observations
                if mode == AutoresetMode.SAME_STEP and done.any():
                    stored_next = _with_final(next_observations, infos["final_obs"], done)
                    infos = transition_infos(infos, done)
                if valid.any():
                    rows = slice(None) if valid.all() else valid
                    agent.observe(
                        _take(observations, rows), actions[rows], rewards[rows],
                        _take(stored_next, rows), terminated[rows], truncated[rows],
                    )  # fmt: skip
                n_valid = int(np.count_nonzero(valid))
                steps += n_valid
                bar.update(min(n_valid, total_steps - bar.n))
                for record in episodes.step(rewards, valid, done, terminated, infos, agent.num_timesteps):
                    for callback in callbacks:
                        callback.on_episode_end(record)
                if progress_bar and done.any():
                    bar.set_postfix(ret=f"{episodes.recent_mean():.2f}", **_short(agent.exploration()), refresh=False)
                step_record = StepRecord(agent.num_timesteps, steps, actions, rewards, terminated, truncated, infos, valid)
                for callback in callbacks:
                    if callback.on_step(step_record) is False:
                        stopped = True
                metrics = agent.update()
                if metrics:
                    for callback in callbacks:
                        callback.on_update(metrics, agent.num_timesteps)
                if mode == AutoresetMode.DISABLED and done.any():
                    next_observations, _ = vec.reset(options={"reset_mask": done})
                resetting = done if mode == AutoresetMode.NEXT_STEP else np.zeros_like(done)
                observations = next_observations
                if eval_vec is not None and steps >= next_eval:
                    run_evaluation(eval_vec)
                    while next_eval <= steps:
                        next_eval += eval_every
            if eval_vec is not None and (not evaluations or evaluations[-1][0] != agent.num_timesteps):
                run_evaluation(eval_vec)
    finally:
        bar.close()
        if owned_eval and eval_vec is not None:
            eval_vec.close()
    wall = time.perf_counter() - start
    result = TrainingResult(
        num_timesteps=steps,
        episode_returns=np.asarray(episodes.returns),
        episode_lengths=np.asarray(episodes.lengths, dtype=np.int64),
        evaluations=evaluations,
        wall_seconds=wall,
        steps_per_second=steps / max(wall - eval_seconds, 1e-9),
        stopped_early=stopped,
    )
    for callback in callbacks:
        callback.on_end(result)
    return result


class _Episodes:
    """Running return and length of each env's episode; records the finished ones."""

    def __init__(self, n: int) -> None:
        self._return, self._length = np.zeros(n), np.zeros(n, dtype=np.int64)
        self.returns: list[float] = []
        self.lengths: list[int] = []

    def step(
        self,
        rewards: np.ndarray,
        valid: np.ndarray,
        done: np.ndarray,
        terminated: np.ndarray,
        infos: Mapping[str, Any],
        num_timesteps: int,
    ) -> list[EpisodeRecord]:
        self._return += np.where(valid, rewards, 0.0)
        self._length += valid
        records = [
            EpisodeRecord(
                int(i), float(self._return[i]), int(self._length[i]), bool(terminated[i]), num_timesteps, env_info(infos, int(i))
            )
            for i in np.flatnonzero(done)
        ]
        self.returns += [record.episode_return for record in records]
        self.lengths += [record.length for record in records]
        self._return[done], self._length[done] = 0.0, 0
        return records

    def recent_mean(self) -> float:
        return float(np.mean(self.returns[-100:])) if self.returns else math.nan


def _short(values: Mapping[str, float]) -> dict[str, str]:
    return {key[:3]: f"{value:.3f}" for key, value in values.items()}
