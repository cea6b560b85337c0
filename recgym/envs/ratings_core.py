"""The batched engine behind the rating envs: simulator + pending requests + observations.

A single env is a batch of one slot and a native vector env a batch of ``num_envs`` slots. Each
slot holds one pending request (the user its observation shows); a step serves the pending
requests of the stepping slots and hands those slots the next requests of the stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from gymnasium import spaces

from recgym._validation import check_bool, check_choice, check_int
from recgym.envs.observation import FLOAT32_MAX, ObservationLayout, binary, categorical, numeric
from recgym.simulators.ratings.config import RatingsConfig
from recgym.simulators.ratings.nearest import METRICS, NearestItemIndex
from recgym.simulators.ratings.simulator import EMPTY, RatingResult, RatingsSimulator, Requests

OBSERVATION_MODES = ("box", "dict")
ACTION_KINDS = ("item", "embedding")
ENV_KNOBS = ("max_steps", "metric", "exclude_consumed")
"""Keyword arguments of the envs that are not world knobs."""


class RatingsStep(NamedTuple):
    """One batched step's results, one entry per stepped slot."""

    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    users: np.ndarray
    items: np.ndarray
    user_uid: np.ndarray
    item_uid: np.ndarray
    period: np.ndarray
    result: RatingResult


def observation_layout(config: RatingsConfig, action_kind: str) -> ObservationLayout:
    """The observation fields: the user and their last ``frame_size`` ratings (items or embeddings)."""
    k = config.frame_size
    if action_kind == "item":
        return ObservationLayout(
            [
                categorical("user", config.n_users),
                # Code n_items marks an empty entry (fewer than k ratings, or a retired item).
                categorical("frame_items", config.n_items + 1, (k,)),
                numeric("frame_ratings", -FLOAT32_MAX, FLOAT32_MAX, (k,)),
            ]
        )
    return ObservationLayout(
        [
            # Flat (frame_size * embedding_dim,), row-major: SB3 expects 1-D vectors inside a Dict.
            numeric("frame_embeddings", -1.0, 1.0, (k * config.embedding_dim,)),
            numeric("frame_ratings", -FLOAT32_MAX, FLOAT32_MAX, (k,)),
            binary("frame_mask", (k,)),
        ]
    )


def split_kwargs(kwargs: Mapping[str, Any], action_kind: str) -> tuple[RatingsConfig, dict[str, Any]]:
    """Separate the world's knobs (:class:`RatingsConfig`) from the env's own (``ENV_KNOBS``)."""
    world_names = RatingsConfig.field_names()
    env_names = set(ENV_KNOBS) if action_kind == "embedding" else {"max_steps"}
    unknown = set(kwargs) - world_names - env_names
    if unknown:
        allowed = sorted(world_names | env_names | {"observation_mode", "render_mode"})
        raise ValueError(f"unknown keyword argument(s) {sorted(unknown)!r}; allowed: {allowed!r}")
    config = RatingsConfig(**{k: v for k, v in kwargs.items() if k in world_names})
    env_knobs = {k: v for k, v in kwargs.items() if k in env_names}
    return config, env_knobs


class RatingsCore:
    """Simulator, pending requests and observations for ``n_slots`` slots.

    Parameters
    ----------
    n_slots : int
        Requests served per batched step.
    action_kind : {"item", "embedding"}
        ``Discrete(n_items)`` item numbers, or ``Box`` vectors in public-embedding space mapped to
        the nearest item.
    observation_mode : {"box", "dict"}
        Flat float32 ``Box`` or ``Dict`` observations.
    kwargs : Mapping[str, Any]
        Any field of :class:`RatingsConfig`, plus ``max_steps`` (requests per episode; ``None`` =
        ``n_users``, one period's worth) and, for embeddings, ``metric`` (``"euclidean"`` or
        ``"cosine"``) and ``exclude_consumed`` (bool).
    """

    def __init__(self, n_slots: int, action_kind: str, observation_mode: str, kwargs: Mapping[str, Any]) -> None:
        self.action_kind = check_choice("action_kind", action_kind, ACTION_KINDS)
        self.observation_mode = check_choice("observation_mode", observation_mode, OBSERVATION_MODES)
        self.config, env_knobs = split_kwargs(kwargs, action_kind)
        max_steps = env_knobs.get("max_steps")
        self.max_steps = self.config.n_users if max_steps is None else check_int("max_steps", max_steps, minimum=1)
        self.metric = check_choice("metric", env_knobs.get("metric", "euclidean"), METRICS)
        self.exclude_consumed = env_knobs.get("exclude_consumed", False)
        check_bool("exclude_consumed", self.exclude_consumed)
        if n_slots > self.config.n_users:
            raise ValueError(
                f"num_envs ({n_slots}) must be <= n_users ({self.config.n_users}): a batch of requests "
                "holds each user at most once per period"
            )
        self.n_slots = n_slots
        self.layout = observation_layout(self.config, action_kind)
        self.single_observation_space: spaces.Space = (
            self.layout.box_space() if observation_mode == "box" else self.layout.dict_space()
        )
        if action_kind == "item":
            self.single_action_space: spaces.Space = spaces.Discrete(self.config.n_items)
        else:
            self.single_action_space = spaces.Box(-1.0, 1.0, shape=(self.config.embedding_dim,), dtype=np.float32)
        self._obs = np.zeros((n_slots, self.layout.size), dtype=np.float32)
        self._users = np.zeros(n_slots, dtype=np.int64)
        self._noise = np.zeros(n_slots, dtype=np.float64)
        self._period = np.zeros(n_slots, dtype=np.int64)
        self._steps = np.zeros(n_slots, dtype=np.int64)
        k = self.config.frame_size
        first = self.layout.fields[0]
        if action_kind == "item":
            self._user_column = first.offset
            self._items_slice = self.layout["frame_items"].flat_slice
        else:
            self._embeddings_slice = first.flat_slice
            self._mask_slice = self.layout["frame_mask"].flat_slice
        self._ratings_slice = self.layout["frame_ratings"].flat_slice
        self._frame_shape = (k,)
        self.simulator: RatingsSimulator | None = None
        self._index: NearestItemIndex | None = None
        self._index_version = -1
        self._padded_embeddings: np.ndarray | None = None
        self._padded_version = -1

    @property
    def built(self) -> bool:
        """Whether a world exists (after the first reset)."""
        return self.simulator is not None

    def build(self, rng: np.random.Generator) -> None:
        """Draw a new world from ``rng`` and give every slot its first request."""
        self.simulator = RatingsSimulator(
            self.config, rng, track_consumed=self.action_kind == "embedding" and self.exclude_consumed
        )
        self._index_version = self._padded_version = -1
        self._steps[:] = 0
        slots = np.arange(self.n_slots)
        self._assign(slots, rng)

    def start(self, slots: np.ndarray, rng: np.random.Generator | None = None) -> None:
        """Start new episodes in ``slots``: their pending requests stay, only the step counters restart.

        Nothing is drawn (``rng`` is accepted for the batched-core interface), so an unseeded reset
        continues the request stream where the last episode left it.
        """
        self._steps[slots] = 0

    # ------------------------------------------------------------------ actions
    def check_actions(self, actions: Any, batch: int | None = None) -> np.ndarray:
        """Validate ``batch`` actions (``None``: one unbatched action) and return them batched."""
        if self.action_kind == "item":
            values = np.asarray(actions)
            shape = () if batch is None else (batch,)
            if values.shape != shape or not (np.issubdtype(values.dtype, np.integer) or _integral(values)):
                raise ValueError(
                    f"action must be {'an integer item number' if batch is None else f'{batch} integer item numbers'} "
                    f"in [0, {self.config.n_items}), got {actions!r}"
                )
            values = values.astype(np.int64).reshape(-1)
            if values.min() < 0 or values.max() >= self.config.n_items:
                raise ValueError(f"action must be item numbers in [0, {self.config.n_items}), got {actions!r}")
            return values
        values = np.asarray(actions, dtype=np.float64)
        shape = (self.config.embedding_dim,) if batch is None else (batch, self.config.embedding_dim)
        if values.shape != shape:
            raise ValueError(f"action must be an embedding vector of shape {shape}, got shape {values.shape}")
        if not np.isfinite(values).all():
            raise ValueError(f"action must hold finite numbers, got {actions!r}")
        return values.reshape(-1, self.config.embedding_dim)

    def items_for(self, slots: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The items the actions of ``slots`` recommend (embeddings: the nearest allowed item)."""
        if self.action_kind == "item":
            return actions
        simulator = self.simulator
        if self._index_version != simulator.catalogue_version:
            self._index = NearestItemIndex(simulator.embeddings, self.metric)
            self._index_version = simulator.catalogue_version
        excluded = simulator.consumed[self._users[slots]] if simulator.consumed is not None else None
        return self._index.nearest(actions, excluded)

    # ------------------------------------------------------------------ stepping
    def step(self, slots: np.ndarray, actions: np.ndarray, rng: np.random.Generator) -> RatingsStep:
        """Serve the pending requests of ``slots`` with validated ``actions``; give them the next requests."""
        simulator = self.simulator
        users, period = self._users[slots], self._period[slots]
        if period[0] == period[-1]:
            segments = [slice(None)]
        else:
            # A batch that spans two periods may hold a user twice: serve one period after the other, so
            # the second request sees the first one's rating (and its item excluded).
            segments = np.split(np.arange(len(slots)), np.flatnonzero(np.diff(period)) + 1)
        items = np.empty(len(slots), dtype=np.int64)
        results = []
        for segment in segments:
            items[segment] = self.items_for(slots[segment], actions[segment])
            requests = Requests(users[segment], self._noise[slots[segment]], period[segment])
            results.append(simulator.respond(requests, items[segment]))
        result = results[0] if len(results) == 1 else RatingResult(*map(np.concatenate, zip(*results, strict=True)))
        # Read the uids now: handing out the next requests may start a period whose arrivals reuse positions.
        user_uid, item_uid = simulator.user_uid[users], simulator.item_uid[items]
        self._steps[slots] += 1
        truncated = self._steps[slots] >= self.max_steps
        self._assign(slots, rng)
        return RatingsStep(result.ratings, np.zeros(len(slots), dtype=bool), truncated, users, items, user_uid, item_uid,
                           period, result)

    def _assign(self, slots: np.ndarray, rng: np.random.Generator) -> None:
        requests = self.simulator.next_requests(len(slots), rng)
        self._users[slots] = requests.users
        self._noise[slots] = requests.noise
        self._period[slots] = requests.period
        self._write_observations(slots, requests.users)

    def _write_observations(self, slots: np.ndarray, users: np.ndarray) -> None:
        simulator, obs = self.simulator, self._obs
        frame_items = simulator.frame_items[users]
        obs[slots, self._ratings_slice] = simulator.frame_ratings[users]
        if self.action_kind == "item":
            obs[slots, self._user_column] = users
            obs[slots, self._items_slice] = np.where(frame_items == EMPTY, self.config.n_items, frame_items)
            return
        if self._padded_embeddings is None or self._padded_version != simulator.catalogue_version:
            # Row n_items is the zero vector of an empty entry, so one gather fills the whole frame.
            self._padded_embeddings = np.vstack([simulator.embeddings, np.zeros((1, self.config.embedding_dim), np.float32)])
            self._padded_version = simulator.catalogue_version
        codes = np.where(frame_items == EMPTY, self.config.n_items, frame_items)
        obs[slots, self._embeddings_slice] = self._padded_embeddings[codes].reshape(len(slots), -1)
        obs[slots, self._mask_slice] = frame_items != EMPTY

    # ------------------------------------------------------------------ observations and infos
    def observations(self, slots: np.ndarray) -> np.ndarray | dict[str, np.ndarray]:
        """The observations of ``slots`` (a copy): ``(n, size)`` rows, or a ``Dict`` batch."""
        rows = self._obs[slots]
        return rows if self.observation_mode == "box" else self.layout.unflatten(rows)

    def pending_users(self, slots: np.ndarray) -> np.ndarray:
        """The users whose requests ``slots`` will serve next (for oracles and evaluation)."""
        return self._users[slots].copy()

    def oracle_actions(self, slots: np.ndarray) -> np.ndarray:
        """Ground-truth best actions for the pending requests of ``slots`` (evaluation back door).

        Items: each user's best item. Embeddings: the public embedding of each user's best allowed
        item (not yet rated when ``exclude_consumed``), which the env maps back to that item unless
        another item has the very same embedding.
        """
        simulator, users = self.simulator, self._users[slots]
        if self.action_kind == "item":
            return simulator.best_item[users].copy()
        if simulator.consumed is None:
            best = simulator.best_item[users]
        else:
            means = simulator.user_attributes[users] @ simulator.item_attributes.T
            allowed = ~simulator.consumed[users]
            allowed[~allowed.any(axis=1)] = True
            best = np.where(allowed, means, -np.inf).argmax(axis=1)
        return simulator.embeddings[best].copy()

    def reset_infos(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """Per-slot reset info: the pending request's user and period."""
        return {"user": self._users[slots].copy(), "period": self._period[slots].copy()}

    def step_infos(self, step: RatingsStep) -> dict[str, np.ndarray]:
        """Per-slot step info: who got what, the rating, its mean, the best mean and the regret."""
        result = step.result
        return {
            "user": step.users,
            "item": step.items,
            "user_uid": step.user_uid,
            "item_uid": step.item_uid,
            "period": step.period,
            "rating": result.ratings,
            "mean_rating": result.mean_ratings,
            "best_mean_rating": result.best_mean_ratings,
            "regret": result.regrets,
        }

    def interaction_log(self) -> pd.DataFrame:
        """Every rating so far (history first) with its regret, as a DataFrame."""
        if self.simulator is None:
            raise RuntimeError("no world yet: call reset() first")
        if not self.config.log_interactions:
            raise RuntimeError("this env keeps no interaction log (log_interactions=False: only the history is kept); "
                               "make it with log_interactions=True, the default, to read one")
        return pd.DataFrame(self.simulator.log.columns())


def _integral(values: np.ndarray) -> bool:
    """Whether a float array holds whole numbers only (SB3 and JSON may hand over 3.0 for 3)."""
    return np.issubdtype(values.dtype, np.floating) and bool(np.all(np.isfinite(values) & (values == np.round(values))))
