"""The wide part of the per-candidate Q network: one learned weight per pair of categorical codes."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers import SMALL_WORLD

from agents.crosses import CategoricalCrosses, all_crosses
from agents.dqn import AUTO_CROSS_EXCLUDE, DQN, DQNConfig, PerActionQNetwork
from agents.encoder import ObservationEncoder
from agents.training import train
from recgym.envs.observation import ObservationLayout, binary, categorical, numeric

N_ACTIONS = 4
LAYOUT = ObservationLayout([
    categorical("place", 3),
    categorical("likes", 5, (2,)),
    numeric("age", 0.0, 1.0),
    categorical("item_kind", 5, (N_ACTIONS,)),
    categorical("item_maker", 7, (N_ACTIONS,)),
    binary("item_flag", (N_ACTIONS,)),
])


def random_codes(n, rng):
    return {
        "place": torch.as_tensor(rng.integers(0, 3, (n, 1))),
        "likes": torch.as_tensor(rng.integers(0, 5, (n, 2))),
        "item_kind": torch.as_tensor(rng.integers(0, 5, (n, N_ACTIONS))),
        "item_maker": torch.as_tensor(rng.integers(0, 7, (n, N_ACTIONS))),
    }


def test_all_crosses_pairs_candidate_fields_with_context_fields():
    assert all_crosses(LAYOUT, N_ACTIONS) == (
        ("item_kind", "place"), ("item_kind", "likes"), ("item_maker", "place"), ("item_maker", "likes"),
    )  # fmt: skip
    assert all_crosses(LAYOUT, N_ACTIONS, exclude={"item_maker", "place"}) == (("item_kind", "likes"),)


def test_crosses_equal_a_brute_force_sum_of_table_entries():
    pairs = all_crosses(LAYOUT, N_ACTIONS)
    module = CategoricalCrosses(LAYOUT, N_ACTIONS, pairs)
    rng = np.random.default_rng(0)
    weights = {}
    with torch.no_grad():
        for (candidate, context), table in zip(pairs, module.tables, strict=True):
            values = rng.normal(size=table.weight.shape[0])
            table.weight.copy_(torch.as_tensor(values[:, None], dtype=torch.float32))
            weights[candidate, context] = values
    sizes = {"place": 3, "likes": 5}
    codes = random_codes(6, rng)
    expected = np.zeros((6, N_ACTIONS))
    for row in range(6):
        for action in range(N_ACTIONS):
            for candidate, context in pairs:
                own = int(codes[candidate][row, action])
                for code in codes[context][row].tolist():
                    expected[row, action] += weights[candidate, context][own * sizes[context] + code]
    np.testing.assert_allclose(module(codes).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_crosses_start_at_zero_and_leave_the_deep_head_as_it_was():
    encoder_seed = 3
    torch.manual_seed(encoder_seed)
    plain = PerActionQNetwork(ObservationEncoder(LAYOUT), N_ACTIONS, (8,))
    torch.manual_seed(encoder_seed)
    wide = PerActionQNetwork(ObservationEncoder(LAYOUT), N_ACTIONS, (8,), all_crosses(LAYOUT, N_ACTIONS))
    rng = np.random.default_rng(1)
    codes = random_codes(5, rng)
    batch = {name: value.numpy() for name, value in codes.items()}
    batch["place"] = batch["place"][:, 0]
    batch["age"] = rng.uniform(size=(5, 1)).astype(np.float32)
    batch["item_flag"] = rng.integers(0, 2, (5, N_ACTIONS)).astype(np.float32)
    torch.testing.assert_close(wide(batch), plain(batch))
    # One gradient step moves the crosses off zero: they are trained with the head.
    loss = wide(batch)[:, 0].sum()
    loss.backward()
    assert any(table.weight.grad.abs().sum() > 0 for table in wide.crosses.tables)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "at least one"),
        ([("item_kind", "nowhere")], "not a field of the layout"),
        ([("item_flag", "place")], "must be a categorical field of shape"),
        ([("place", "likes")], "must be a categorical field of shape"),
        ([("item_kind", "item_maker")], "of the context"),
        ([("item_kind", "age")], "of the context"),
    ],
)
def test_crosses_reject_pairs_that_do_not_fit_the_layout(pairs, message):
    with pytest.raises(ValueError, match=message):
        CategoricalCrosses(LAYOUT, N_ACTIONS, pairs)


def test_dqn_config_crosses_are_validated_and_normalised():
    assert DQNConfig(crosses=[["a", "b"]]).crosses == (("a", "b"),)
    assert DQNConfig(crosses=None).crosses is None
    for bad in ("all", [("a",)], [("a", 1)], 5):
        with pytest.raises(ValueError, match=r"DQNConfig\.crosses"):
            DQNConfig(crosses=bad)


def test_auto_crosses_on_the_short_video_env_and_errors_on_a_flat_network():
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    agent = DQN.for_env(env, DQNConfig())
    pairs = agent.q_network.crosses.pairs
    assert {candidate for candidate, _ in pairs} == {"candidate_category"}
    assert {context for _, context in pairs} == {"gender", "location", "interests", "last_category", "last_outcome"}
    assert not AUTO_CROSS_EXCLUDE & {name for pair in pairs for name in pair}
    assert DQN.for_env(env, DQNConfig(crosses=None)).q_network.crosses is None
    assert not hasattr(DQN.for_env(env, DQNConfig(q_network="flat")).q_network, "crosses")  # "auto": nothing for flat
    with pytest.raises(ValueError, match="per-candidate Q network"):
        DQN.for_env(env, DQNConfig(q_network="flat", crosses=[("candidate_category", "location")]))
    with pytest.raises(ValueError, match="not a field of the layout"):
        DQN.for_env(env, DQNConfig(crosses=[("candidate_category", "mood")]))


def test_weight_decay_shrinks_the_deep_part_only_and_follows_load_overrides(tmp_path):
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    config = DQNConfig(learning_rate=0.01, weight_decay=2.0)
    agent = DQN.for_env(env, config)
    with torch.no_grad():
        for table in agent.q_network.crosses.tables:
            table.weight.fill_(0.5)
    before = {name: p.detach().clone() for name, p in agent.q_network.named_parameters()}
    for p in agent.q_network.parameters():
        p.grad = torch.zeros_like(p)  # no gradient: AdamW's step is the decay alone
    agent.optimizer.step()
    for name, p in agent.q_network.named_parameters():
        factor = 1.0 if name.startswith("crosses.") else 1.0 - 0.01 * 2.0
        torch.testing.assert_close(p.detach(), before[name] * factor)
    path = agent.save(tmp_path / "agent.pt")
    loaded = DQN.load(path, weight_decay=0.5)
    assert [group["weight_decay"] for group in loaded.optimizer.param_groups] == [0.5, 0.0]
    assert [group["weight_decay"] for group in DQN.load(path).optimizer.param_groups] == [2.0, 0.0]
    with pytest.raises(ValueError, match="weight_decay"):
        DQNConfig(weight_decay=-1.0)


def test_checkpoints_from_before_crosses_and_weight_decay_load_as_they_were(tmp_path):
    # Such a checkpoint has no "crosses" or "weight_decay" in its config and an Adam optimiser state.
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    agent = DQN.for_env(env, DQNConfig(crosses=None, weight_decay=0.0, learning_starts=10, exploration_steps=50))
    train(agent, env, 120, seed=0, progress_bar=False)
    path = agent.save(tmp_path / "new.pt")
    payload = torch.load(path, weights_only=False)
    state = payload["state"]
    for name in ("crosses", "weight_decay"):
        del state["config"][name]
    adam = torch.optim.Adam(agent.q_network.parameters(), lr=agent.config.learning_rate)
    adam.load_state_dict({"state": agent.optimizer.state_dict()["state"], "param_groups": adam.state_dict()["param_groups"]})
    state["optimizer"] = adam.state_dict()
    torch.save(payload, tmp_path / "old.pt")

    old = DQN.load(tmp_path / "old.pt")
    assert old.config.crosses is None and old.config.weight_decay == 0.0
    obs, _ = env.reset(seed=3)
    torch.testing.assert_close(old.q_values(obs[None]), agent.q_values(obs[None]))
    assert all(group.get("decoupled_weight_decay", True) for group in old.optimizer.param_groups)
