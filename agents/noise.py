"""Exploration noise for continuous actions: Gaussian and Ornstein-Uhlenbeck, with an optional linear decay.

Both processes draw from a NumPy ``Generator`` they are given (never the global RNG) and keep
their whole state in :meth:`state_dict`, so a checkpoint restores the exact noise sequence.
Samples are ``(n_envs, action_dim)`` float64 arrays, multiplied by the current scale of the
optional :class:`LinearSchedule` (``scale_schedule``), evaluated at the step passed to ``sample``.

Examples
--------
>>> import numpy as np
>>> noise = GaussianNoise(0.2, action_dim=3, rng=np.random.default_rng(0))
>>> noise.sample(4).shape
(4, 3)
>>> ou = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.2, dt=0.01, action_dim=3, n_envs=4, rng=np.random.default_rng(0))
>>> ou.sample().shape
(4, 3)
>>> ou.reset([0, 2])  # new episodes in envs 0 and 2: their state goes back to zero
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _number(name: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def _generator(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


def _restore_generator(rng: np.random.Generator, state: dict[str, Any]) -> np.random.Generator:
    """``rng`` with ``state``, or a new generator of the saved bit generator's type if the types differ."""
    if type(rng.bit_generator).__name__ != state["bit_generator"]:
        rng = np.random.Generator(getattr(np.random, state["bit_generator"])())
    rng.bit_generator.state = state
    return rng


@dataclass(frozen=True)
class LinearSchedule:
    """A value that goes linearly from ``start`` to ``end`` over ``duration`` steps, then stays at ``end``.

    Parameters
    ----------
    start : float
        Value at step 0 (``>= 0``).
    end : float
        Value from step ``duration`` on (``>= 0``).
    duration : int
        Steps of the decay (``>= 1``).

    Examples
    --------
    >>> schedule = LinearSchedule(1.0, 0.1, 100)
    >>> schedule(0), schedule(50), schedule(1000)
    (1.0, 0.55, 0.1)
    """

    start: float
    end: float
    duration: int

    def __post_init__(self) -> None:
        _number("start", self.start)
        _number("end", self.end)
        _positive_int("duration", self.duration)

    def __call__(self, step: int) -> float:
        """The value at ``step`` (a count of steps, ``>= 0``)."""
        if step >= self.duration:
            return float(self.end)
        fraction = max(step, 0) / self.duration
        return float(self.start + fraction * (self.end - self.start))


class _Noise:
    """Shared parts: the generator, the scale schedule and the state dict."""

    kind = ""

    def __init__(self, sigma: float, action_dim: int, rng: np.random.Generator, scale_schedule: LinearSchedule | None) -> None:
        self.sigma = _number("sigma", sigma)
        self.action_dim = _positive_int("action_dim", action_dim)
        self.rng = _generator(rng)
        if scale_schedule is not None and not isinstance(scale_schedule, LinearSchedule):
            raise ValueError(f"scale_schedule must be a LinearSchedule or None, got {type(scale_schedule).__name__}")
        self.scale_schedule = scale_schedule

    def scale(self, step: int = 0) -> float:
        """Multiplier of the noise at ``step``: the schedule's value, or 1 without a schedule."""
        return 1.0 if self.scale_schedule is None else self.scale_schedule(step)

    def current_sigma(self, step: int = 0) -> float:
        """``sigma * scale(step)``: the effective ``sigma`` at ``step``."""
        return self.sigma * self.scale(step)

    def reset(self, env_indices: Sequence[int] | np.ndarray | None = None) -> None:
        """Start new episodes in ``env_indices`` (all envs if None); stateless noise ignores it."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the same sequence: the generator's state (and the process state)."""
        return {"kind": self.kind, "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""
        if state.get("kind") != self.kind:
            raise ValueError(f"state holds {state.get('kind')!r} noise, not {self.kind!r}")
        self.rng = _restore_generator(self.rng, state["rng"])


class GaussianNoise(_Noise):
    """Independent ``Normal(0, sigma**2)`` noise for every action entry and step.

    Parameters
    ----------
    sigma : float
        Standard deviation (``>= 0``).
    action_dim : int
        Entries per action.
    rng : numpy.random.Generator
        Source of every draw.
    scale_schedule : LinearSchedule, optional
        Multiplier of the noise by step (constant 1 if None).
    """

    kind = "gaussian"

    def __init__(
        self,
        sigma: float,
        action_dim: int,
        rng: np.random.Generator,
        *,
        scale_schedule: LinearSchedule | None = None,
    ) -> None:
        super().__init__(sigma, action_dim, rng, scale_schedule)

    def sample(self, n_envs: int = 1, step: int = 0) -> np.ndarray:
        """``(n_envs, action_dim)`` float64 draws of ``Normal(0, current_sigma(step)**2)``."""
        n_envs = _positive_int("n_envs", n_envs)
        return self.rng.normal(0.0, 1.0, (n_envs, self.action_dim)) * self.current_sigma(step)

    def __repr__(self) -> str:
        return f"GaussianNoise(sigma={self.sigma}, action_dim={self.action_dim}, scale_schedule={self.scale_schedule})"


class OrnsteinUhlenbeckNoise(_Noise):
    """Temporally correlated noise: one Ornstein-Uhlenbeck process per env and action entry.

    The process ``dx = -theta * x * dt + sigma * dW`` is advanced by its exact transition over
    ``dt``::

        x' = x * exp(-theta * dt) + sigma * sqrt((1 - exp(-2 * theta * dt)) / (2 * theta)) * Normal(0, 1)

    so whatever ``dt``, its stationary variance is ``sigma**2 / (2 * theta)`` and the correlation
    of consecutive samples is ``exp(-theta * dt)``. To first order in ``dt`` this is the
    Euler-Maruyama step ``x + theta * (0 - x) * dt + sigma * sqrt(dt) * Normal(0, 1)`` used by
    DDPG's authors and Stable-Baselines3. Each env starts at 0 and goes back to 0 on :meth:`reset`.

    Parameters
    ----------
    theta : float
        Mean reversion rate (``> 0``).
    sigma : float
        Diffusion (``>= 0``).
    dt : float
        Time step (``> 0``).
    action_dim : int
        Entries per action.
    n_envs : int
        Independent processes (one per env of a vector env).
    rng : numpy.random.Generator
        Source of every draw.
    scale_schedule : LinearSchedule, optional
        Multiplier of the returned samples by step (the process itself is not rescaled).

    Attributes
    ----------
    state : numpy.ndarray
        ``(n_envs, action_dim)`` float64, the processes' current values (before scaling).
    """

    kind = "ou"

    def __init__(
        self,
        theta: float,
        sigma: float,
        dt: float,
        action_dim: int,
        n_envs: int,
        rng: np.random.Generator,
        *,
        scale_schedule: LinearSchedule | None = None,
    ) -> None:
        super().__init__(sigma, action_dim, rng, scale_schedule)
        self.theta = _number("theta", theta, positive=True)
        self.dt = _number("dt", dt, positive=True)
        self.n_envs = _positive_int("n_envs", n_envs)
        self.decay = math.exp(-self.theta * self.dt)
        self.step_std = self.sigma * math.sqrt(-math.expm1(-2.0 * self.theta * self.dt) / (2.0 * self.theta))
        self.state = np.zeros((self.n_envs, self.action_dim))

    @property
    def stationary_std(self) -> float:
        """``sigma / sqrt(2 * theta)``: the standard deviation the process settles at (before scaling)."""
        return self.sigma / math.sqrt(2.0 * self.theta)

    def sample(self, n_envs: int | None = None, step: int = 0) -> np.ndarray:
        """Advance every process by ``dt``; return ``(n_envs, action_dim)`` float64 values times ``scale(step)``.

        ``n_envs`` is only checked: it must equal the number of processes (a batch must come from the
        same envs every step).
        """
        if n_envs is not None and n_envs != self.n_envs:
            raise ValueError(f"OrnsteinUhlenbeckNoise has {self.n_envs} processes (n_envs), got a batch of {n_envs}")
        self.state = self.state * self.decay + self.step_std * self.rng.normal(0.0, 1.0, self.state.shape)
        return self.state * self.scale(step)

    def reset(self, env_indices: Sequence[int] | np.ndarray | None = None) -> None:
        """Set the processes of ``env_indices`` (indices or a boolean mask over envs; all if None) back to zero."""
        if env_indices is None:
            self.state[:] = 0.0
            return
        indices = np.asarray(env_indices)
        if indices.size == 0:
            return
        if indices.dtype == bool:
            if indices.shape != (self.n_envs,):
                raise ValueError(f"a boolean env mask must have shape ({self.n_envs},), got {indices.shape}")
        elif not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0 or indices.max() >= self.n_envs:
            raise ValueError(f"env_indices must be integers in [0, {self.n_envs}), got {env_indices!r}")
        self.state[indices] = 0.0

    def state_dict(self) -> dict[str, Any]:
        """The generator's state and a copy of the processes' values."""
        return super().state_dict() | {"state": self.state.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (same ``n_envs`` and ``action_dim``)."""
        if state.get("kind") != self.kind:
            raise ValueError(f"state holds {state.get('kind')!r} noise, not {self.kind!r}")
        values = np.asarray(state["state"], dtype=np.float64)
        if values.shape != self.state.shape:
            raise ValueError(f"saved OU state has shape {values.shape}, this noise has {self.state.shape}")
        super().load_state_dict(state)
        self.state = values.copy()

    def __repr__(self) -> str:
        return (
            f"OrnsteinUhlenbeckNoise(theta={self.theta}, sigma={self.sigma}, dt={self.dt}, action_dim={self.action_dim}, "
            f"n_envs={self.n_envs}, scale_schedule={self.scale_schedule})"
        )
