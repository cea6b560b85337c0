"""The interface every learning agent in ``agents/`` shares: act, observe, update, save, load.

The training loop (:mod:`agents.training`) only talks to this interface, so DQN, DDPG and later
agents train, checkpoint and log the same way. Observations and actions are always **batched**
(a leading ``n_envs`` dimension), as a native vector env gives them; a single env is a batch of one.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path
from typing import Any

import numpy as np

Observations = np.ndarray | dict[str, np.ndarray]
"""A batch of observations: ``(n, ...)`` rows of a ``Box``, or a dict of ``(n, ...)`` arrays of a ``Dict``."""


class Agent(abc.ABC):
    """A learning agent trained through interaction.

    Subclasses own their networks, optimiser, replay buffer and schedules; every random draw comes
    from a generator seeded at construction.
    """

    #: Counted by :meth:`observe`: transitions seen so far (summed over envs).
    num_timesteps: int = 0

    @abc.abstractmethod
    def act(self, observations: Observations, *, deterministic: bool = False) -> np.ndarray:
        """Return one action per observation in the batch (exploring unless ``deterministic``)."""

    @abc.abstractmethod
    def observe(
        self,
        observations: Observations,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_observations: Observations,
        terminated: np.ndarray,
        truncated: np.ndarray,
    ) -> None:
        """Record a batch of transitions (``next_observations`` are the true final ones at episode ends)."""

    @abc.abstractmethod
    def update(self) -> dict[str, float]:
        """Learn if due (warm-up, train frequency, gradient steps); return the metrics of this update, or ``{}``."""

    @abc.abstractmethod
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write a checkpoint (networks, optimiser, schedules, counters); never replaces a file unless ``overwrite``."""

    @classmethod
    @abc.abstractmethod
    def load(cls, path: str | os.PathLike[str], **overrides: Any) -> Agent:
        """Rebuild an agent from :meth:`save`'s checkpoint so that it acts identically and can continue training."""

    def exploration(self) -> dict[str, float]:
        """Current exploration parameters for monitoring (e.g. ``{"epsilon": 0.1}`` or ``{"noise_scale": 0.2}``)."""
        return {}
