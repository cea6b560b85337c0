"""Small network building blocks shared by the agents: an MLP, a Q-network, and DDPG's actor and critic.

Each network owns an encoder (:class:`~agents.encoder.ObservationEncoder` or
:class:`~agents.encoder.FlatEncoder`: any module with an ``output_dim`` attribute that maps a
batch of observations to ``(n, output_dim)`` floats) followed by an MLP head. Target networks
are ``copy.deepcopy`` of these modules. Layers use PyTorch's default initialisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from agents.encoder import Observations


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _encoder_dim(encoder: nn.Module) -> int:
    if not isinstance(encoder, nn.Module):
        raise ValueError(f"encoder must be a torch.nn.Module with an output_dim attribute, got {type(encoder).__name__}")
    return _positive("encoder.output_dim", getattr(encoder, "output_dim", None))


def mlp(
    input_dim: int,
    hidden_sizes: Sequence[int],
    output_dim: int,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """A multilayer perceptron: ``Linear`` layers with ``activation`` between them, none after the last.

    Parameters
    ----------
    input_dim : int
        Input features.
    hidden_sizes : Sequence[int]
        Width of each hidden layer (empty for a single linear layer).
    output_dim : int
        Output features.
    activation : type of torch.nn.Module
        Built once per hidden layer.

    Returns
    -------
    torch.nn.Sequential
        Maps ``(n, input_dim)`` to ``(n, output_dim)``.
    """
    sizes = [_positive("input_dim", input_dim)]
    sizes += [_positive("hidden_sizes entry", size) for size in hidden_sizes]
    sizes.append(_positive("output_dim", output_dim))
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if index < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class QNetwork(nn.Module):
    """Action values for a ``Discrete`` action space: ``head(encoder(obs))``.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps observations to ``(n, encoder.output_dim)``.
    n_actions : int
        Number of actions.
    hidden : Sequence[int]
        Hidden layer widths of the head (the seed used two layers of 64).
    """

    def __init__(self, encoder: nn.Module, n_actions: int, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.encoder = encoder
        self.n_actions = _positive("n_actions", n_actions)
        self.head = mlp(_encoder_dim(encoder), hidden, self.n_actions)

    def forward(self, observations: Observations) -> torch.Tensor:
        """``(n, n_actions)`` action values of a batch of observations."""
        return self.head(self.encoder(observations))


class Actor(nn.Module):
    """Deterministic policy for a ``Box`` action space: ``tanh`` output scaled to ``[action_low, action_high]``.

    ``action = bias + scale * tanh(head(encoder(obs)))`` with ``bias = (high + low) / 2`` and
    ``scale = (high - low) / 2``, clamped to the bounds (float32 rounding can otherwise step one ulp
    past them when ``tanh`` saturates), so every action lies within the bounds.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps observations to ``(n, encoder.output_dim)``.
    action_dim : int
        Size of the (flat) action.
    hidden : Sequence[int]
        Hidden layer widths.
    action_low, action_high : float or array_like
        Bounds, scalars or ``(action_dim,)`` arrays (``action_space.low``, ``action_space.high``);
        finite, with ``low < high``.
    """

    action_scale: torch.Tensor
    action_bias: torch.Tensor
    action_low: torch.Tensor
    action_high: torch.Tensor

    def __init__(
        self,
        encoder: nn.Module,
        action_dim: int,
        hidden: Sequence[int] = (64, 64),
        action_low: float | np.ndarray = -1.0,
        action_high: float | np.ndarray = 1.0,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.action_dim = _positive("action_dim", action_dim)
        try:
            low = np.broadcast_to(np.asarray(action_low, dtype=np.float64), (self.action_dim,))
            high = np.broadcast_to(np.asarray(action_high, dtype=np.float64), (self.action_dim,))
        except ValueError:
            raise ValueError(
                f"action_low and action_high must be scalars or of shape ({self.action_dim},), "
                f"got shapes {np.shape(action_low)} and {np.shape(action_high)}"
            ) from None
        if not (np.isfinite(low).all() and np.isfinite(high).all() and (low < high).all()):
            raise ValueError(f"action bounds must be finite with action_low < action_high, got {low} and {high}")
        self.head = mlp(_encoder_dim(encoder), hidden, self.action_dim)
        self.register_buffer("action_scale", torch.tensor((high - low) / 2.0, dtype=torch.float32))
        self.register_buffer("action_bias", torch.tensor((high + low) / 2.0, dtype=torch.float32))
        self.register_buffer("action_low", torch.tensor(low, dtype=torch.float32))
        self.register_buffer("action_high", torch.tensor(high, dtype=torch.float32))

    def forward(self, observations: Observations) -> torch.Tensor:
        """``(n, action_dim)`` actions within the bounds."""
        actions = torch.addcmul(self.action_bias, self.action_scale, torch.tanh(self.head(self.encoder(observations))))
        return torch.clamp(actions, self.action_low, self.action_high)


class Critic(nn.Module):
    """State-action value for a ``Box`` action space: ``head([encoder(obs), action])``.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps observations to ``(n, encoder.output_dim)``.
    action_dim : int
        Size of the (flat) action.
    hidden : Sequence[int]
        Hidden layer widths.
    """

    def __init__(self, encoder: nn.Module, action_dim: int, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.encoder = encoder
        self.action_dim = _positive("action_dim", action_dim)
        self.head = mlp(_encoder_dim(encoder) + self.action_dim, hidden, 1)

    def forward(self, observations: Observations, actions: torch.Tensor) -> torch.Tensor:
        """``(n,)`` values of taking ``actions`` (``(n, action_dim)``) in ``observations``."""
        features = self.encoder(observations)
        if actions.shape != (features.shape[0], self.action_dim):
            expected = (features.shape[0], self.action_dim)
            raise ValueError(f"actions must have shape (n, action_dim) = {expected}, got {tuple(actions.shape)}")
        return self.head(torch.cat([features, actions.to(features.dtype)], dim=1)).squeeze(1)


def polyak_update(online: Iterable[torch.Tensor], target: Iterable[torch.Tensor], tau: float) -> None:
    """Soft update in place: ``target <- tau * online + (1 - tau) * target``, tensor by tensor.

    Parameters
    ----------
    online : Iterable[torch.Tensor]
        Parameters of the online network.
    target : Iterable[torch.Tensor]
        The matching parameters of its target network (same order and shapes).
    tau : float
        Update rate in (0, 1]; 1 copies ``online``.
    """
    online, target = list(online), list(target)
    if len(online) != len(target):
        raise ValueError(f"online and target must have as many tensors, got {len(online)} and {len(target)}")
    with torch.no_grad():
        for source, destination in zip(online, target, strict=True):
            if tau == 1.0:
                destination.copy_(source)  # exact, whatever the target held (even inf or nan)
            else:
                destination.mul_(1.0 - tau).add_(source, alpha=tau)
