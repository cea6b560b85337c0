"""The layout-driven observation encoder and the small networks built on it."""

from itertools import pairwise

import gymnasium as gym
import numpy as np
import pytest
import torch
from helpers import SMALL_WORLD

from agents.encoder import FlatEncoder, ObservationEncoder, default_embedding_dim
from agents.networks import Actor, Critic, QNetwork, mlp
from recgym.envs.observation import FLOAT32_MAX, ObservationLayout, binary, categorical, numeric

ALL_ENV_IDS = ("RecGym-ShortVideo-v0", "RecGym-ShortVideoFatigue-v0", "RecGym-Ratings-v0", "RecGym-RatingsEmbedding-v0")


def env_kwargs(env_id):
    return SMALL_WORLD if env_id.startswith("RecGym-ShortVideo") else {}


def collect(env_id, mode="box", steps=12, seed=0):
    """A batch of real observations: ``(n, size)`` rows or a dict of ``(n, ...)`` arrays."""
    env = gym.make(env_id, observation_mode=mode, **env_kwargs(env_id))
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    seen = [obs]
    for _ in range(steps - 1):
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        seen.append(env.reset()[0] if terminated or truncated else obs)
    layout = env.unwrapped.observation_layout
    env.close()
    if mode == "dict":
        return layout, {key: np.stack([np.asarray(o[key]) for o in seen]) for key in seen[0]}
    return layout, np.stack(seen)


@pytest.fixture(scope="module", params=ALL_ENV_IDS)
def env_batches(request):
    torch.manual_seed(0)
    layout, rows = collect(request.param)
    return request.param, layout, rows


def test_output_has_output_dim_columns_in_box_and_dict_modes(env_batches):
    env_id, layout, rows = env_batches
    encoder = ObservationEncoder(layout)
    _, batch = collect(env_id, mode="dict")
    for observations in (torch.as_tensor(rows), {k: torch.as_tensor(v) for k, v in batch.items()}, rows, batch):
        out = encoder(observations)
        assert out.shape == (len(rows), encoder.output_dim) and out.dtype == torch.float32
        assert torch.isfinite(out).all()
    slices = sorted(encoder.output_slices.values(), key=lambda s: s.start)
    assert slices[0].start == 0 and slices[-1].stop == encoder.output_dim
    assert all(a.stop == b.start for a, b in pairwise(slices))


def test_box_and_dict_give_identical_outputs(env_batches):
    _, layout, rows = env_batches
    encoder = ObservationEncoder(layout)
    from_box = encoder(torch.as_tensor(rows))
    from_dict = encoder({k: torch.as_tensor(v) for k, v in layout.unflatten(rows).items()})
    assert torch.equal(from_box, from_dict)


def test_box_and_dict_envs_with_the_same_seed_encode_identically():
    layout, rows = collect("RecGym-ShortVideo-v0", "box", seed=5)
    _, batch = collect("RecGym-ShortVideo-v0", "dict", seed=5)
    encoder = ObservationEncoder(layout)
    assert torch.equal(encoder(rows), encoder(batch))


def test_changing_one_code_changes_only_that_entrys_embedding(env_batches):
    _, layout, rows = env_batches
    torch.manual_seed(1)
    encoder = ObservationEncoder(layout)
    base = encoder(torch.as_tensor(rows[:1]))
    fields = [field for field in layout if field.kind == "categorical"]
    if not fields:  # RecGym-RatingsEmbedding-v0: dense columns only
        assert len(encoder.embeddings) == 0 and encoder.output_dim == layout.size
    for field in fields:
        dim = encoder.embeddings[field.name].embedding_dim
        for entry in {0, field.size - 1}:
            changed = rows[:1].copy()
            column = field.offset + entry
            new_code = (int(changed[0, column]) + 1) % field.n_categories
            changed[0, column] = new_code
            out = encoder(torch.as_tensor(changed))
            entry_cols = slice(encoder.output_slices[field.name].start + entry * dim,
                               encoder.output_slices[field.name].start + (entry + 1) * dim)
            torch.testing.assert_close(out[0, entry_cols], encoder.embeddings[field.name].weight[new_code], rtol=0, atol=0)
            untouched = torch.ones(encoder.output_dim, dtype=torch.bool)
            untouched[entry_cols] = False
            assert torch.equal(out[0, untouched], base[0, untouched]), field.name
            assert not torch.equal(out[0, entry_cols], base[0, entry_cols]), field.name


def test_changing_a_numeric_value_changes_only_its_column():
    layout, rows = collect("RecGym-ShortVideo-v0")
    encoder = ObservationEncoder(layout)
    base = encoder(rows[:1])
    for field in layout:
        if field.kind == "categorical":
            continue
        changed = rows[:1].copy()
        changed[0, field.offset] = 1 - changed[0, field.offset]
        diff = (encoder(changed) - base)[0].nonzero().flatten().tolist()
        assert diff == [encoder.output_slices[field.name].start], field.name


def test_gradients_reach_the_embedding_tables_of_the_codes_used():
    layout, rows = collect("RecGym-ShortVideo-v0")
    encoder = ObservationEncoder(layout)
    (encoder(rows) ** 2).sum().backward()
    for field in layout:
        if field.kind != "categorical":
            continue
        grad = encoder.embeddings[field.name].weight.grad
        used = np.unique(rows[:, field.flat_slice].astype(np.int64))
        assert grad is not None and grad[used].abs().sum(dim=1).gt(0).all(), field.name
        unused = np.setdiff1d(np.arange(field.n_categories), used)
        assert grad[unused].abs().sum() == 0, field.name


def test_a_batch_of_one_and_single_observations(env_batches):
    env_id, layout, rows = env_batches
    encoder = ObservationEncoder(layout)
    encoder.eval()
    one = encoder(torch.as_tensor(rows[:1]))
    assert one.shape == (1, encoder.output_dim)
    torch.testing.assert_close(one[0], encoder(torch.as_tensor(rows))[0])
    _, batch = collect(env_id, mode="dict", steps=1)
    assert encoder(batch).shape == (1, encoder.output_dim)
    with pytest.raises(ValueError, match="leading batch dimension"):
        encoder(torch.as_tensor(rows[0]))
    with pytest.raises(ValueError, match="leading batch dimension"):
        encoder({k: v[0] for k, v in batch.items()})


def test_numeric_scaling_uses_bounds_when_finite_and_symlog_otherwise():
    layout = ObservationLayout([
        numeric("bounded", 10.0, 30.0, (2,)),
        numeric("half", 0.0, FLOAT32_MAX),
        numeric("free", -np.inf, np.inf),
        binary("flag", (1,)),
        categorical("code", 3),
    ])
    rows = torch.tensor([[10.0, 30.0, 1e6, -(np.e - 1), 1.0, 2.0]])
    out = ObservationEncoder(layout)(rows)[0, :5]
    torch.testing.assert_close(out, torch.tensor([-1.0, 1.0, np.log1p(1e6), -1.0, 1.0], dtype=torch.float32))
    raw = ObservationEncoder(layout, normalize=False)(rows)[0, :5]
    torch.testing.assert_close(raw, rows[0, :5])


def test_embedding_widths_follow_the_rule_and_the_overrides():
    assert [default_embedding_dim(n) for n in (1, 2, 3, 8, 20, 1000)] == [2, 2, 3, 5, 9, 16]
    layout = ObservationLayout([categorical("a", 8), categorical("b", 20, (3,)), numeric("x", 0, 1)])
    assert ObservationEncoder(layout).output_dim == 1 + 5 + 3 * 9
    assert ObservationEncoder(layout, 4).output_dim == 1 + 4 + 3 * 4
    assert ObservationEncoder(layout, {"b": 2}).output_dim == 1 + 5 + 3 * 2
    assert ObservationEncoder(layout, max_embedding_dim=3).output_dim == 1 + 3 + 3 * 3
    with pytest.raises(ValueError, match="not categorical fields"):
        ObservationEncoder(layout, {"x": 2})
    with pytest.raises(ValueError, match="embedding_dim"):
        ObservationEncoder(layout, 0)
    with pytest.raises(ValueError, match="layout"):
        ObservationEncoder(ObservationLayout([]))


def test_bad_batches_are_rejected_with_the_field_named():
    layout, rows = collect("RecGym-ShortVideo-v0", "dict", steps=2)
    encoder = ObservationEncoder(layout)
    with pytest.raises(ValueError, match="missing the fields"):
        encoder({k: v for k, v in rows.items() if k != "gender"})
    with pytest.raises(ValueError, match="interests"):
        encoder(rows | {"interests": rows["interests"][:1]})
    with pytest.raises(ValueError, match=r"\(n, 81\)"):
        encoder(torch.zeros(2, 80))


def test_networks_shapes_bounds_and_gradients():
    torch.manual_seed(0)
    layout, rows = collect("RecGym-ShortVideo-v0")
    q = QNetwork(ObservationEncoder(layout), n_actions=10)
    values = q(rows)
    assert values.shape == (len(rows), 10)
    values.sum().backward()
    assert all(p.grad is not None for p in q.parameters())

    layout, rows = collect("RecGym-RatingsEmbedding-v0")
    low, high = np.linspace(-2, 0, 16), np.linspace(1, 3, 16)
    actor = Actor(ObservationEncoder(layout), 16, (32,), low, high)
    with torch.no_grad():
        for layer in actor.head:  # saturate tanh both ways: actions still within bounds
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(1e3)
        actions = actor(rows)
    assert actions.shape == (len(rows), 16)
    assert (actions >= torch.as_tensor(low, dtype=torch.float32)).all()
    assert (actions <= torch.as_tensor(high, dtype=torch.float32)).all()
    critic = Critic(ObservationEncoder(layout), 16, (32, 32))
    assert critic(rows, actions).shape == (len(rows),)
    with pytest.raises(ValueError, match="actions must have shape"):
        critic(rows, actions[:, :3])
    with pytest.raises(ValueError, match="action bounds"):
        Actor(FlatEncoder((4,)), 2, (8,), 1.0, 1.0)
    with pytest.raises(ValueError, match="action_low and action_high"):
        Actor(FlatEncoder((4,)), 2, (8,), np.zeros(3), 1.0)


def test_mlp_and_flat_encoder():
    net = mlp(4, [8, 6], 2, activation=torch.nn.Tanh)
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert net(torch.zeros(3, 4)).shape == (3, 2)
    assert [type(m).__name__ for m in mlp(4, [], 2)] == ["Linear"]
    with pytest.raises(ValueError, match="hidden_sizes"):
        mlp(4, [0], 2)
    encoder = FlatEncoder((2, 3))
    assert encoder.output_dim == 6 and encoder(np.ones((5, 2, 3), np.float64)).dtype == torch.float32
    q = QNetwork(encoder, 3, hidden=(8,))
    assert q(torch.ones(5, 2, 3)).shape == (5, 3)
    with pytest.raises(ValueError, match="output_dim"):
        QNetwork(torch.nn.Identity(), 3)
