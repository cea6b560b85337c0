"""``RecGym-Ratings-v0`` and ``RecGym-RatingsEmbedding-v0``: one user's request per step, rated by the latent-factor world."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pandas as pd

from recgym.data.tables import save_frame
from recgym.envs.observation import ObservationLayout
from recgym.envs.ratings_core import RatingsCore
from recgym.simulators.ratings.simulator import RatingsSimulator

_SLOT = np.zeros(1, dtype=np.int64)


class RatingsEnv(gym.Env):
    """Recommend one item per request in the latent-factor rating world of seed 000.

    ## Description
    Users and items have hidden attribute vectors ``P_u`` and ``Q_i`` (10 Uniform(0, 1) features by
    default); the mean rating is ``Q_i · P_u`` and an observed rating adds independent
    ``Normal(0, noise_std)`` noise. Requests come in periods: every user requests once per period,
    in random order, and each step serves the next request. The world, the users' ratings and the
    request stream persist across episodes; ``reset(seed=...)`` draws a new world.

    ## Action Space
    ``Discrete(n_items)``: the item to recommend.

    ## Observation Space
    ``observation_mode="box"`` (default) gives a flat float32 ``Box``; ``"dict"`` a ``Dict``:

    | field | kind | shape |
    |---|---|---|
    | user | categorical (n_users) | () |
    | frame_items | categorical (n_items + 1; n_items = empty) | (frame_size,) |
    | frame_ratings | numeric (0 where empty) | (frame_size,) |

    The frame holds the user's latest ratings, newest first.

    ## Rewards
    The observed rating.

    ## Starting State
    The next request of the stream (the first request of a new world after a seeded reset).

    ## Episode End
    Never terminated; truncated after ``max_steps`` requests (``None``: ``n_users``, one period).

    ## Info
    ``user``, ``item``, ``user_uid``, ``item_uid``, ``period``, ``rating``, ``mean_rating``,
    ``best_mean_rating`` and ``regret = best_mean_rating - mean_rating`` (on mean ratings, never
    negative).

    ## Arguments
    >>> import gymnasium as gym
    >>> import recgym
    >>> env = gym.make("RecGym-Ratings-v0", n_users=100, n_items=50)
    >>> obs, info = env.reset(seed=0)
    >>> env.action_space
    Discrete(50)

    Every field of :class:`recgym.simulators.ratings.RatingsConfig` is a keyword argument, plus
    ``max_steps`` and ``observation_mode``.

    ## Ground truth (evaluation back door)
    Never in the observation. For oracles, regret and evaluation only:
    ``env.unwrapped.simulator`` (a :class:`~recgym.simulators.ratings.RatingsSimulator`: hidden
    attributes, ``best_item``, ``best_mean_rating``, ``mean_ratings()``, ``regrets()``),
    ``env.unwrapped.pending_user`` (the user the next step serves) and
    ``env.unwrapped.oracle_action()`` (the best action for that request).

    ## Vectorized environment
    ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` serves the next N
    requests per step in one call; with ``N = n_users`` one step is one period.

    ## Version History
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}
    action_kind: ClassVar[str] = "item"

    def __init__(self, observation_mode: str = "box", render_mode: str | None = None, **kwargs: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']!r} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self._core = RatingsCore(1, self.action_kind, observation_mode, kwargs)
        self.observation_space = self._core.single_observation_space
        self.action_space = self._core.single_action_space
        self._running = False
        self._last_info: dict[str, Any] = {}

    @property
    def observation_layout(self) -> ObservationLayout:
        """The observation's fields, kinds and offsets in the flat ``Box``."""
        return self._core.layout

    @property
    def core(self) -> RatingsCore:
        """The batched engine (simulator, pending requests, observations)."""
        return self._core

    @property
    def simulator(self) -> RatingsSimulator | None:
        """The world's ground truth, for evaluation and oracles only (never part of the observation)."""
        return self._core.simulator

    @property
    def pending_user(self) -> int:
        """The user whose request the next step serves."""
        return int(self._core.pending_users(_SLOT)[0])

    def oracle_action(self) -> int | np.ndarray:
        """The ground-truth best action for the pending request (evaluation back door; see the class docs)."""
        action = self._core.oracle_actions(_SLOT)[0]
        return int(action) if self.action_kind == "item" else action

    def _observation(self) -> np.ndarray | dict[str, Any]:
        obs = self._core.observations(_SLOT)
        if isinstance(obs, dict):
            return {key: value[0] for key, value in obs.items()}
        return obs[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode at the next request; a ``seed`` also draws a new world."""
        super().reset(seed=seed)
        if seed is not None or not self._core.built:
            self._core.build(self.np_random)
        self._core.start(_SLOT)
        self._running = True
        info = {key: value[0].item() for key, value in self._core.reset_infos(_SLOT).items()}
        self._last_info = info
        return self._observation(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Recommend ``action`` to the pending request's user."""
        if not self._running:
            raise RuntimeError("the episode has ended (or never started): call reset() before step()")
        step = self._core.step(_SLOT, self._core.check_actions(action), self.np_random)
        truncated = bool(step.truncated[0])
        self._running = not truncated
        info = {key: value[0].item() for key, value in self._core.step_infos(step).items()}
        self._last_info = info
        return self._observation(), info["rating"], False, truncated, info

    def render(self) -> str | None:
        """With ``render_mode="ansi"``, describe the last rating and the pending request as text."""
        if self.render_mode is None:
            gym.logger.warn("render() was called without a render_mode; pass render_mode='ansi' to gym.make")
            return None
        if not self._core.built:
            return "(no world yet: call reset())"
        last = self._last_info
        text = f"period {last.get('period', '-')}  next user {self.pending_user}"
        if "item" in last:
            text += (f"\n  last: user {last['user']} got item {last['item']}, rated {last['rating']:.3f} "
                     f"(mean {last['mean_rating']:.3f}, regret {last['regret']:.3f})")
        return text

    def interaction_log(self) -> pd.DataFrame:
        """Every rating so far (history first): period, user, item, uids, rating, means and regret."""
        return self._core.interaction_log()

    def save_interaction_log(self, path: str | os.PathLike[str], *, overwrite: bool = False,
                             format: str | None = None) -> Path:
        """Save :meth:`interaction_log` to Parquet or CSV; an existing file is kept unless ``overwrite``."""
        return save_frame(self.interaction_log(), path, overwrite=overwrite, format=format)


class RatingsEmbeddingEnv(RatingsEnv):
    """The rating world with seed 001's continuous actions: a vector in public item-embedding space.

    ## Description
    As :class:`RatingsEnv`, but the agent sees items only through their public embeddings, a
    documented noisy projection of the hidden attributes into ``[-1, 1]^embedding_dim``
    (:class:`recgym.simulators.ratings.EmbeddingProjection`). The env recommends the item nearest
    to the action by ``metric`` (``"euclidean"`` or ``"cosine"``), optionally skipping items the
    user has already rated (``exclude_consumed=True``; if every item is excluded, all are allowed
    again). ``info["item"]`` reports the item it chose.

    ## Action Space
    ``Box(-1, 1, (embedding_dim,), float32)``. Any finite vector is accepted; the nearest item is
    well defined outside the box too.

    ## Observation Space
    | field | kind | shape |
    |---|---|---|
    | frame_embeddings | numeric in [-1, 1] (zeros where empty), row-major | (frame_size * embedding_dim,) |
    | frame_ratings | numeric (0 where empty) | (frame_size,) |
    | frame_mask | binary (1 = a rating) | (frame_size,) |

    The user is not identified: the frame is the state, as in seed 001.

    Everything else (rewards, episodes, info, back door, vector env) is as in :class:`RatingsEnv`.

    ## Version History
    * v0: initial release.
    """

    action_kind: ClassVar[str] = "embedding"
