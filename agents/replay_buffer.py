"""A bounded replay buffer: a preallocated NumPy ring of transitions, sampled uniformly.

Every field is allocated at construction with the space's dtype (as in Stable-Baselines3's
``common/buffers.py``), a circular ``pos``/``full`` index overwrites the oldest transitions,
and ``terminated`` and ``truncated`` are stored apart: a time-limit truncation is not the end
of the MDP, so its target still bootstraps from the next observation.

Transitions arrive in batches of ``n_envs`` (one per sub-env of a vector env) and are stored
interleaved in one flat ring: the ``j``-th env of the ``t``-th :meth:`ReplayBuffer.add` call
goes to slot ``(t * n_envs + j) % capacity``, so ``capacity`` counts transitions, not steps.
:meth:`ReplayBuffer.extend` stores any number of transitions at once, in consecutive slots from
``pos``: exactly what as many one-row adds would store, for a caller (such as a vector env's
training loop that leaves out reset steps) whose batches vary in size.

The buffer stores what it is given. With Gymnasium's ``next_step`` autoreset the caller passes the
real final observation as ``next_obs`` of an ending transition and skips the reset step that
follows it (its action is ignored by the env), as CleanRL and SB3 do.

Examples
--------
>>> import numpy as np
>>> from gymnasium import spaces
>>> buffer = ReplayBuffer(spaces.Box(-1, 1, (3,), np.float32), spaces.Discrete(4), capacity=100, seed=0)
>>> buffer.add(np.zeros(3), np.ones(3), 2, 1.0, False, True)
>>> batch = buffer.sample(8)
>>> batch.observations.shape, batch.actions.dtype, batch.truncated[0]
((8, 3), dtype('int64'), np.float32(1.0))
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from gymnasium import spaces

from recgym.data.files import write_new_file

if TYPE_CHECKING:
    import torch

FORMAT_VERSION = 1
"""Version of the file written by :meth:`ReplayBuffer.save`."""

Observation = np.ndarray | dict[str, np.ndarray]
"""A batch of ``Box`` observations, or one array per key of a ``Dict`` space."""

_FIELD_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


class ReplayBatch(NamedTuple):
    """A batch of ``B`` transitions as NumPy arrays (copies, safe to modify).

    Attributes
    ----------
    observations : numpy.ndarray or dict of str to numpy.ndarray
        ``(B, *obs_shape)`` in the observation space's dtype; for a ``Dict`` space one such array
        per key (``int64`` codes for ``Discrete``/``MultiDiscrete``, ``int8`` for ``MultiBinary``).
    actions : numpy.ndarray
        ``(B,)`` int64 for ``Discrete`` actions, ``(B, *action_shape)`` in the space's dtype for ``Box``.
    next_observations : numpy.ndarray or dict of str to numpy.ndarray
        Like ``observations``.
    rewards : numpy.ndarray
        ``(B,)`` float32.
    terminated : numpy.ndarray
        ``(B,)`` float32, 1.0 where the episode reached a terminal state: the only flag that
        stops bootstrapping (``target = r + gamma * (1 - terminated) * V(next)``).
    truncated : numpy.ndarray
        ``(B,)`` float32, 1.0 where the episode was cut by a time limit (still bootstraps).
    """

    observations: Observation
    actions: np.ndarray
    next_observations: Observation
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class TensorBatch(NamedTuple):
    """A :class:`ReplayBatch` as torch tensors on one device (see :func:`to_torch`); same fields, dtypes and shapes."""

    observations: torch.Tensor | dict[str, torch.Tensor]
    actions: torch.Tensor
    next_observations: torch.Tensor | dict[str, torch.Tensor]
    rewards: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor


def to_torch(batch: ReplayBatch, device: str | torch.device = "cpu") -> TensorBatch:
    """Convert a sampled batch to torch tensors on ``device`` (no copy on the CPU).

    Parameters
    ----------
    batch : ReplayBatch
        From :meth:`ReplayBuffer.sample`.
    device : str or torch.device
        Where the tensors go.

    Returns
    -------
    TensorBatch
        The same fields with the same dtypes (float32 flags, so ``1 - terminated`` works).
    """
    import torch

    def convert(value: Observation) -> torch.Tensor | dict[str, torch.Tensor]:
        if isinstance(value, dict):
            return {key: torch.as_tensor(array, device=device) for key, array in value.items()}
        return torch.as_tensor(value, device=device)

    return TensorBatch(*(convert(value) for value in batch))  # type: ignore[arg-type]


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _physical_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


class ReplayBuffer:
    """Bounded ring buffer of transitions from one env or a vector env, sampled uniformly.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Dict
        A ``Box``, or a flat ``Dict`` whose values are ``Box``, ``Discrete``, ``MultiDiscrete`` or
        ``MultiBinary`` (recgym's ``observation_mode="dict"``). Observations are stored in the
        space's dtype.
    action_space : gymnasium.spaces.Discrete or gymnasium.spaces.Box
        ``Discrete`` actions are stored as int64 codes, ``Box`` actions in the space's dtype.
    capacity : int
        Most transitions kept (all envs together); the oldest are overwritten first. At least
        ``n_envs``, and the arrays must fit in the machine's physical memory.
    n_envs : int
        Transitions per :meth:`add` call (the vector env's ``num_envs``; 1 for a single env).
    seed : int, optional
        Seed of the buffer's own generator, used by :meth:`sample` when no ``rng`` is passed.

    Attributes
    ----------
    pos : int
        Slot the next transition goes to.
    full : bool
        Whether the ring has wrapped (every slot holds a transition).
    rng : numpy.random.Generator
        The buffer's own generator (saved and restored by :meth:`save` / :meth:`load`).
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        capacity: int,
        *,
        n_envs: int = 1,
        seed: int | None = None,
    ) -> None:
        self.capacity = _check_count("capacity", capacity)
        self.n_envs = _check_count("n_envs", n_envs)
        if self.capacity < self.n_envs:
            raise ValueError(f"capacity must be at least n_envs={self.n_envs} (one batch), got {capacity!r}")
        self.observation_space = observation_space
        self.action_space = action_space
        self._is_dict = isinstance(observation_space, spaces.Dict)
        self._obs_specs = self._observation_fields(observation_space)
        self._action_shape, self._action_dtype = self._action_field(action_space)

        self.nbytes = self.capacity * self.transition_nbytes
        """Bytes of all preallocated arrays."""
        available = _physical_memory_bytes()
        if available is not None and self.nbytes > available:
            raise ValueError(
                f"capacity={self.capacity} needs {self.nbytes} bytes ({self.nbytes / 2**30:.1f} GiB, "
                f"{self.transition_nbytes} bytes per transition), more than this machine's {available} bytes of memory"
            )
        self._obs = {key: np.zeros((self.capacity, *shape), dtype) for key, (shape, dtype) in self._obs_specs.items()}
        self._next_obs = {key: np.zeros_like(array) for key, array in self._obs.items()}
        self._actions = np.zeros((self.capacity, *self._action_shape), self._action_dtype)
        self._rewards = np.zeros(self.capacity, np.float32)
        self._terminated = np.zeros(self.capacity, bool)
        self._truncated = np.zeros(self.capacity, bool)
        self.pos = 0
        self.full = False
        self.rng = np.random.default_rng(seed)

    # -- spaces --------------------------------------------------------------------------------

    @staticmethod
    def _observation_fields(space: spaces.Space) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        if isinstance(space, spaces.Box):
            return {"": (space.shape, space.dtype)}
        if not isinstance(space, spaces.Dict):
            raise ValueError(f"observation_space must be a Box or a Dict of Box/Discrete/MultiDiscrete/MultiBinary, got {space}")
        if not space.spaces:
            raise ValueError("observation_space must have at least one key, got an empty Dict")
        fields = {}
        for key, sub in space.spaces.items():
            if not isinstance(sub, _FIELD_SPACES):
                raise ValueError(
                    f"observation_space[{key!r}] must be a Box, Discrete, MultiDiscrete or MultiBinary space, got {sub}"
                )
            fields[key] = (tuple(sub.shape or ()), np.dtype(sub.dtype))
        return fields

    @staticmethod
    def _action_field(space: spaces.Space) -> tuple[tuple[int, ...], np.dtype]:
        if isinstance(space, spaces.Discrete):
            return (), np.dtype(np.int64)
        if isinstance(space, spaces.Box):
            return tuple(space.shape), np.dtype(space.dtype)
        raise ValueError(f"action_space must be a Discrete or a Box space, got {space}")

    @property
    def transition_nbytes(self) -> int:
        """Bytes one stored transition takes (both observations, action, reward and flags)."""
        obs = sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in self._obs_specs.values())
        action = int(np.prod(self._action_shape)) * self._action_dtype.itemsize
        return 2 * obs + action + 4 + 2

    # -- adding --------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of stored transitions."""
        return self.capacity if self.full else self.pos

    def _batched(self, name: str, value: Any, shape: tuple[int, ...], rows: int | None = None) -> np.ndarray:
        """``value`` as ``(n_envs, *shape)`` (one env may pass an unbatched ``shape`` value), or as ``(rows, *shape)``."""
        array = np.asarray(value)
        if rows is not None:
            if array.shape == (rows, *shape):
                return array
            raise ValueError(
                f"{name} must have shape (n, *{shape}) with the same n = {rows} in every argument, got {array.shape}"
            )
        if array.shape == (self.n_envs, *shape):
            return array
        if self.n_envs == 1 and array.shape == shape:
            return array.reshape((1, *shape))
        expected = f"(n_envs, *{shape}) = {(self.n_envs, *shape)}"
        if self.n_envs == 1:
            expected += f" or {shape}"
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")

    def _observation_batch(self, name: str, value: Any, rows: int | None = None) -> dict[str, np.ndarray]:
        if not self._is_dict:
            return {"": self._batched(name, value, self._obs_specs[""][0], rows)}
        if not isinstance(value, Mapping):
            raise ValueError(f"{name} must be a dict with keys {list(self._obs_specs)}, got {type(value).__name__}")
        if value.keys() != self._obs_specs.keys():
            missing = sorted(self._obs_specs.keys() - value.keys())
            unexpected = sorted(value.keys() - self._obs_specs.keys())
            raise ValueError(f"{name} must have the keys {list(self._obs_specs)}: missing {missing}, unexpected {unexpected}")
        return {key: self._batched(f"{name}[{key!r}]", value[key], shape, rows) for key, (shape, _) in self._obs_specs.items()}

    def _write(self, store: np.ndarray, values: np.ndarray, start: int) -> None:
        """Write ``values`` (at most ``capacity`` rows) to consecutive slots from ``start``, wrapping around the ring."""
        end = start + len(values)
        if end <= self.capacity:
            store[start:end] = values
        else:
            split = self.capacity - start
            store[start:] = values[:split]
            store[: end - self.capacity] = values[split:]

    def _store(
        self,
        obs: dict[str, np.ndarray],
        next_obs: dict[str, np.ndarray],
        actions: np.ndarray,
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
    ) -> None:
        """Write ``n`` checked rows to the slots ``pos, pos + 1, ...`` (mod ``capacity``), as ``n`` one-row writes would."""
        n = len(rewards)
        # Of more rows than the ring holds, the first ones would be overwritten within this call: skip them.
        skip = max(0, n - self.capacity)
        start = (self.pos + skip) % self.capacity
        for key, store in self._obs.items():
            self._write(store, obs[key][skip:], start)
            self._write(self._next_obs[key], next_obs[key][skip:], start)
        self._write(self._actions, actions[skip:], start)
        self._write(self._rewards, rewards[skip:], start)
        self._write(self._terminated, terminated[skip:], start)
        self._write(self._truncated, truncated[skip:], start)
        end = self.pos + n
        self.full = self.full or end >= self.capacity
        self.pos = end % self.capacity

    def add(self, obs: Any, next_obs: Any, actions: Any, rewards: Any, terminated: Any, truncated: Any) -> None:
        """Store one transition per env, overwriting the oldest once the buffer is full.

        Every argument has a leading dimension ``n_envs`` (a vector env's batch); with
        ``n_envs=1`` an unbatched single transition is accepted too. Everything is checked
        before anything is written, so a rejected call leaves the buffer unchanged.

        Parameters
        ----------
        obs : array_like or dict of str to array_like
            ``(n_envs, *obs_shape)``, or a dict of such arrays for a ``Dict`` space.
        next_obs : array_like or dict of str to array_like
            Like ``obs``: the observation the action led to (the real final one when the episode ended).
        actions : array_like
            ``(n_envs,)`` codes for ``Discrete``, ``(n_envs, *action_shape)`` for ``Box``.
        rewards : array_like
            ``(n_envs,)``.
        terminated : array_like
            ``(n_envs,)`` bool: the episode reached a terminal state.
        truncated : array_like
            ``(n_envs,)`` bool: the episode was cut by a time limit.

        Raises
        ------
        ValueError
            If a shape or a ``Dict`` key does not match the spaces and ``n_envs``.
        """
        self._store(
            self._observation_batch("obs", obs),
            self._observation_batch("next_obs", next_obs),
            self._batched("actions", actions, self._action_shape),
            self._batched("rewards", rewards, ()),
            self._batched("terminated", terminated, ()),
            self._batched("truncated", truncated, ()),
        )

    def extend(self, obs: Any, next_obs: Any, actions: Any, rewards: Any, terminated: Any, truncated: Any) -> None:
        """Store ``n`` transitions (any ``n >= 0``, whatever ``n_envs`` is) in consecutive slots from ``pos``.

        The buffer ends up exactly as after ``n`` calls of :meth:`add` on a one-env buffer, one row
        each, in order: row ``i`` goes to slot ``(pos + i) % capacity``, so when ``n`` exceeds the
        capacity only the last ``capacity`` rows remain. A training loop that drops rows (the reset
        steps of a ``next_step`` vector env) stores the remaining ones with one call instead of a
        loop. Everything is checked before anything is written.

        Parameters
        ----------
        obs : array_like or dict of str to array_like
            ``(n, *obs_shape)``, or a dict of such arrays for a ``Dict`` space.
        next_obs : array_like or dict of str to array_like
            Like ``obs``.
        actions : array_like
            ``(n,)`` codes for ``Discrete``, ``(n, *action_shape)`` for ``Box``.
        rewards : array_like
            ``(n,)``.
        terminated : array_like
            ``(n,)`` bool.
        truncated : array_like
            ``(n,)`` bool.

        Raises
        ------
        ValueError
            If a shape or a ``Dict`` key does not match the spaces, or the arguments disagree on ``n``.
        """
        first = next(iter(obs.values()), None) if isinstance(obs, Mapping) else obs
        leading = np.shape(first)
        if not leading:
            raise ValueError(f"obs must be a batch with a leading dimension n (rows to store), got shape {leading}")
        rows = leading[0]
        batch_obs = self._observation_batch("obs", obs, rows)
        batch_next = self._observation_batch("next_obs", next_obs, rows)
        batch_actions = self._batched("actions", actions, self._action_shape, rows)
        batch_rewards = self._batched("rewards", rewards, (), rows)
        batch_terminated = self._batched("terminated", terminated, (), rows)
        batch_truncated = self._batched("truncated", truncated, (), rows)
        if rows:
            self._store(batch_obs, batch_next, batch_actions, batch_rewards, batch_terminated, batch_truncated)

    # -- reading -------------------------------------------------------------------------------

    def _gather(self, stores: dict[str, np.ndarray], indices: np.ndarray) -> Observation:
        # np.take copies rows 2-3x faster than fancy indexing (arr[indices]) for 2-D arrays.
        if self._is_dict:
            return {key: store.take(indices, axis=0) for key, store in stores.items()}
        return stores[""].take(indices, axis=0)

    def get(self, indices: Any) -> ReplayBatch:
        """The transitions in the given slots.

        Parameters
        ----------
        indices : array_like of int
            Slots in ``[0, len(self))``. Slot order is storage order: before the ring wraps,
            slot ``i`` holds the ``i``-th transition added.

        Returns
        -------
        ReplayBatch
            One row per index.

        Raises
        ------
        ValueError
            If an index is outside the stored transitions.
        """
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise ValueError(
                f"indices must lie in [0, {len(self)}) (the stored transitions), got {indices.min()} to {indices.max()}"
            )
        return ReplayBatch(
            observations=self._gather(self._obs, indices),
            actions=self._actions.take(indices, axis=0),
            next_observations=self._gather(self._next_obs, indices),
            rewards=self._rewards.take(indices),
            terminated=self._terminated.take(indices).astype(np.float32),
            truncated=self._truncated.take(indices).astype(np.float32),
        )

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> ReplayBatch:
        """Draw ``batch_size`` stored transitions uniformly, with replacement.

        Parameters
        ----------
        batch_size : int
            Number of transitions.
        rng : numpy.random.Generator, optional
            Generator to draw from; the buffer's own ``rng`` by default.

        Returns
        -------
        ReplayBatch
            The sampled transitions.

        Raises
        ------
        ValueError
            If ``batch_size`` is not a positive integer or the buffer is empty.
        """
        batch_size = _check_count("batch_size", batch_size)
        if len(self) == 0:
            raise ValueError("cannot sample from an empty ReplayBuffer: add transitions first")
        indices = (self.rng if rng is None else rng).integers(0, len(self), size=batch_size)
        return self.get(indices)

    # -- persistence ---------------------------------------------------------------------------

    def _npz_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of :meth:`save`'s ``.npz`` file: stored transitions plus a JSON ``meta`` entry."""
        size = len(self)
        arrays: dict[str, np.ndarray] = {}
        for index, key in enumerate(self._obs):
            arrays[f"observations_{index}"] = self._obs[key][:size]
            arrays[f"next_observations_{index}"] = self._next_obs[key][:size]
        arrays.update(
            actions=self._actions[:size],
            rewards=self._rewards[:size],
            terminated=self._terminated[:size],
            truncated=self._truncated[:size],
        )
        meta = {
            "format": FORMAT_VERSION,
            "capacity": self.capacity,
            "n_envs": self.n_envs,
            "pos": self.pos,
            "full": self.full,
            "observation_space": _space_to_spec(self.observation_space),
            "action_space": _space_to_spec(self.action_space),
            "rng_state": self.rng.bit_generator.state,
        }
        arrays["meta"] = np.array(json.dumps(meta))
        return arrays

    def to_bytes(self) -> bytes:
        """The bytes :meth:`save` would write (for embedding the buffer in a checkpoint)."""
        stream = io.BytesIO()
        np.savez(stream, **self._npz_arrays())  # type: ignore[arg-type]
        return stream.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ReplayBuffer:
        """Rebuild a buffer from :meth:`to_bytes`; it continues exactly where the saved one stood."""
        return cls.load(io.BytesIO(data))  # type: ignore[arg-type]

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the buffer (stored transitions, position, fullness, spaces and RNG state) to an ``.npz`` file.

        Parameters
        ----------
        path : str or os.PathLike
            File to write, used as given (no suffix is added).
        overwrite : bool
            Replace an existing file; by default an existing file is never touched.

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        """
        path = Path(path)
        arrays = self._npz_arrays()

        def write(temporary: str) -> None:
            with open(temporary, "wb") as handle:  # a handle, so np.savez adds no ".npz" suffix
                np.savez(handle, **arrays)  # type: ignore[arg-type]

        # Written beside the target and renamed: a failed save never leaves a partial file or loses an old one.
        write_new_file(path, write, overwrite=overwrite)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReplayBuffer:
        """Read a buffer written by :meth:`save`; it continues exactly where the saved one stood.

        Parameters
        ----------
        path : str or os.PathLike
            File written by :meth:`save`.

        Returns
        -------
        ReplayBuffer
            Same spaces, capacity, ``n_envs``, transitions, ``pos``, ``full`` and RNG state.

        Raises
        ------
        ValueError
            If the file is not a replay buffer of a known format.
        """
        with np.load(path, allow_pickle=False) as data:
            if "meta" not in data.files:
                raise ValueError(f"{path} is not a ReplayBuffer file (no 'meta' entry)")
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path} has ReplayBuffer format {meta.get('format')!r}; this version reads {FORMAT_VERSION}")
            buffer = cls(
                _space_from_spec(meta["observation_space"]),
                _space_from_spec(meta["action_space"]),
                meta["capacity"],
                n_envs=meta["n_envs"],
            )
            size = buffer.capacity if meta["full"] else meta["pos"]
            for index, key in enumerate(buffer._obs):
                buffer._obs[key][:size] = data[f"observations_{index}"]
                buffer._next_obs[key][:size] = data[f"next_observations_{index}"]
            buffer._actions[:size] = data["actions"]
            buffer._rewards[:size] = data["rewards"]
            buffer._terminated[:size] = data["terminated"]
            buffer._truncated[:size] = data["truncated"]
        buffer.pos = int(meta["pos"])
        buffer.full = bool(meta["full"])
        state = meta["rng_state"]
        buffer.rng = np.random.Generator(getattr(np.random, state["bit_generator"])())
        buffer.rng.bit_generator.state = state
        return buffer

    def __repr__(self) -> str:
        return (
            f"ReplayBuffer({len(self)}/{self.capacity} transitions, n_envs={self.n_envs}, "
            f"observation_space={self.observation_space}, action_space={self.action_space})"
        )


def _space_to_spec(space: spaces.Space) -> dict[str, Any]:
    """A JSON description of the spaces the buffer accepts (exact for float32 bounds)."""
    if isinstance(space, spaces.Box):
        return {"type": "Box", "low": space.low.tolist(), "high": space.high.tolist(), "dtype": space.dtype.str}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(), "start": space.start.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": [[key, _space_to_spec(sub)] for key, sub in space.spaces.items()]}
    raise ValueError(f"cannot save a space of type {type(space).__name__}")


def _space_from_spec(spec: dict[str, Any]) -> spaces.Space:
    kind = spec["type"]
    if kind == "Box":
        dtype = np.dtype(spec["dtype"])
        return spaces.Box(np.array(spec["low"], dtype), np.array(spec["high"], dtype), dtype=dtype)
    if kind == "Discrete":
        return spaces.Discrete(spec["n"], start=spec["start"])
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(np.array(spec["nvec"], np.int64), start=np.array(spec["start"], np.int64))
    if kind == "MultiBinary":
        return spaces.MultiBinary(spec["n"])
    if kind == "Dict":
        return spaces.Dict([(key, _space_from_spec(sub)) for key, sub in spec["spaces"]])
    raise ValueError(f"unknown space type {kind!r} in a ReplayBuffer file")
