"""An SB3 DQN policy that scores each candidate with one shared network: recgym's per-candidate Q-network inside SB3.

SB3's ``MlpPolicy`` maps the whole flat observation to one output per action, so it must learn
separately, for each of the ``n_candidates`` slots, how that slot's fields (category, interest
match, views, similarity, score) predict the reward. On ``RecGym-ShortVideo-v0`` that needs far
more data than a few minutes of training gives, and it fits the reward noise of world-specific
codes (creators). :class:`CandidateDQNPolicy` keeps SB3's DQN (replay, targets, ε-greedy,
logging, saving) and swaps the Q-network for :class:`agents.dqn.PerActionQNetwork`: one MLP shared
by every slot, reading the context (user, session) and that slot's fields through the layout-driven
:class:`~agents.encoder.ObservationEncoder` (embeddings for categorical fields, scaled numbers),
plus the same wide part of (candidate code, context code) weights as :class:`agents.dqn.DQN`.

>>> import gymnasium as gym, recgym
>>> from stable_baselines3 import DQN
>>> env = gym.make("RecGym-ShortVideo-v0")
>>> model = DQN(CandidateDQNPolicy, env, policy_kwargs=candidate_policy_kwargs(env))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import torch
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from agents.crosses import CrossPairs, all_crosses
from agents.dqn import AUTO_CROSS_EXCLUDE, AUTO_EMBEDDING_DIMS, PerActionQNetwork, per_action_fields
from agents.encoder import ObservationEncoder
from recgym.envs.observation import ObservationLayout


def layout_encoder(layout: ObservationLayout) -> ObservationEncoder:
    """The encoder :class:`agents.dqn.DQN` builds by default (``embedding_dim="auto"``): a one-wide creator embedding."""
    categorical = {item.name for item in layout if item.kind == "categorical"}
    embedding_dim = {name: dim for name, dim in AUTO_EMBEDDING_DIMS.items() if name in categorical} or None
    return ObservationEncoder(layout, embedding_dim)


def default_crosses(layout: ObservationLayout, n_actions: int) -> CrossPairs:
    """The wide part :class:`agents.dqn.DQN` builds by default (``crosses="auto"``)."""
    return all_crosses(layout, n_actions, exclude=AUTO_CROSS_EXCLUDE)


class CandidateQNetwork(QNetwork):
    """SB3's ``QNetwork`` whose ``q_net`` is :class:`agents.dqn.PerActionQNetwork` (hidden widths ``net_arch``).

    ``crosses`` is its wide part: ``"auto"`` (:func:`default_crosses`), None, or (candidate field,
    context field) pairs, as ``DQNConfig.crosses``.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        *,
        layout: ObservationLayout,
        crosses: str | CrossPairs | None = "auto",
    ) -> None:
        super().__init__(observation_space, action_space, features_extractor, features_dim, net_arch, activation_fn,
                         normalize_images)  # fmt: skip
        self.layout, self.crosses = layout, crosses
        n = int(action_space.n)
        pairs = default_crosses(layout, n) if crosses == "auto" else tuple(crosses or ())
        self.q_net = PerActionQNetwork(layout_encoder(layout), n, self.net_arch, pairs)  # type: ignore[assignment]

    def forward(self, obs: PyTorchObs) -> torch.Tensor:
        """``(n, n_candidates)`` action values."""
        return self.q_net(self.extract_features(obs, self.features_extractor))

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return super()._get_constructor_parameters() | {"layout": self.layout, "crosses": self.crosses}


class CandidateDQNPolicy(DQNPolicy):
    """SB3 ``DQNPolicy`` with :class:`CandidateQNetwork` as online and target network.

    Parameters
    ----------
    observation_space, action_space, lr_schedule, net_arch, activation_fn, features_extractor_class,
    features_extractor_kwargs, normalize_images, optimizer_class, optimizer_kwargs
        As for SB3's ``DQNPolicy``; ``net_arch`` is the shared head's hidden widths. The features
        extractor must leave the flat observation as it is (``FlattenExtractor``, the default).
    layout : ObservationLayout
        The env's observation layout (``env.unwrapped.observation_layout``), which has fields of
        shape ``(n_candidates,)``; :func:`candidate_policy_kwargs` reads it from an env.
    crosses : "auto", sequence of (str, str), or None
        The Q-network's wide part (see :class:`CandidateQNetwork`).
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        *,
        layout: ObservationLayout,
        crosses: str | CrossPairs | None = "auto",
    ) -> None:
        if not isinstance(layout, ObservationLayout):
            raise ValueError(f"layout must be the env's ObservationLayout, got {type(layout).__name__}")
        if not isinstance(action_space, spaces.Discrete) or not per_action_fields(layout, int(action_space.n)):
            raise ValueError(f"layout has no field of shape ({getattr(action_space, 'n', '?')},) describing the candidates")
        self.layout, self.crosses = layout, crosses
        super().__init__(observation_space, action_space, lr_schedule, net_arch, activation_fn, features_extractor_class,
                         features_extractor_kwargs, normalize_images, optimizer_class, optimizer_kwargs)  # fmt: skip

    def make_q_net(self) -> QNetwork:
        """A :class:`CandidateQNetwork` (called for the online and the target network)."""
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return CandidateQNetwork(**net_args, layout=self.layout, crosses=self.crosses).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return super()._get_constructor_parameters() | {"layout": self.layout, "crosses": self.crosses}


def candidate_policy_kwargs(env: Any, net_arch: list[int] | None = None) -> Mapping[str, Any]:
    """``policy_kwargs`` of :class:`CandidateDQNPolicy` for a recgym env (single, vector, or SB3 ``VecEnv``)."""
    layout = None
    for candidate in (env, getattr(env, "unwrapped", None)):
        layout = getattr(candidate, "observation_layout", None)
        if layout is not None:
            break
    if layout is None and hasattr(env, "get_attr"):  # an SB3 VecEnv
        layout = env.get_attr("observation_layout", indices=[0])[0]
    if layout is None and isinstance(env, gym.Wrapper | gym.vector.VectorWrapper):
        layout = getattr(env.unwrapped, "observation_layout", None)
    if not isinstance(layout, ObservationLayout):
        raise ValueError(f"env must be a recgym env with an observation_layout, got {type(env).__name__}")
    return {"layout": layout, "net_arch": list(net_arch or [64, 64])}
