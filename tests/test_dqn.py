"""DQN: config validation, target-network schedules, Double-DQN targets, ε per env step, warm-up, learning, checkpoints."""

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from helpers import SMALL_WORLD

from agents.dqn import DQN, DQNConfig, PerActionQNetwork, epsilon_at
from agents.networks import QNetwork, polyak_update
from agents.replay_buffer import ReplayBatch, ReplayBuffer, TensorBatch
from agents.training import evaluate, train


class Chain(gym.Env):
    """Deterministic 5-state chain: action 1 moves right, 0 left; reaching the last state pays 1 and terminates.

    Observations are one-hot states; episodes are truncated after ``max_steps``. The optimal
    policy moves right everywhere (return 1 in 4 steps).
    """

    def __init__(self, n_states: int = 5, max_steps: int = 20) -> None:
        self.n_states, self.max_steps = n_states, max_steps
        self.observation_space = spaces.Box(0.0, 1.0, (n_states,), np.float32)
        self.action_space = spaces.Discrete(2)

    def _obs(self):
        obs = np.zeros(self.n_states, np.float32)
        obs[self.state] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state, self.t = 0, 0
        return self._obs(), {}

    def step(self, action):
        self.state = min(self.state + 1, self.n_states - 1) if int(action) == 1 else max(self.state - 1, 0)
        self.t += 1
        terminated = self.state == self.n_states - 1
        return self._obs(), float(terminated), terminated, self.t >= self.max_steps and not terminated, {}


def chain_states(n: int = 5) -> np.ndarray:
    return np.eye(n, dtype=np.float32)


def step_agent(agent, env, obs, steps, *, record=None):
    """Drive ``agent`` on a single env by hand for ``steps`` steps; return the last observation."""
    for _ in range(steps):
        action = agent.act(obs[None])
        next_obs, reward, terminated, truncated, _ = env.step(int(action[0]))
        agent.observe(obs[None], action, np.array([reward]), next_obs[None], np.array([terminated]), np.array([truncated]))
        metrics = agent.update()
        if record is not None:
            record.append((int(action[0]), metrics.get("loss")))
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
    return obs


def chain_agent(**overrides):
    config = DQNConfig(
        **{
            "hidden_sizes": (32,),
            "learning_rate": 1e-2,
            "batch_size": 32,
            "learning_starts": 32,
            "train_freq": 1,
            "target_update_interval": 50,
            "exploration_steps": 500,
            "epsilon_end": 0.05,
            "gamma": 0.9,
            "seed": 0,
        }
        | overrides
    )
    env = Chain()
    return DQN.for_env(env, config), env


def parameters(module):
    return [p.detach().clone() for p in module.parameters()]


# ---------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("learning_rate", 0.0),
        ("learning_rate", float("nan")),
        ("buffer_size", 0),
        ("batch_size", 2.5),
        ("gamma", 1.5),
        ("learning_starts", -1),
        ("train_freq", 0),
        ("gradient_steps", True),
        ("target_update_interval", 0),
        ("tau", 0.0),
        ("tau", 1.1),
        ("double_q", 1),
        ("loss", "l1"),
        ("max_grad_norm", -1.0),
        ("epsilon_start", -0.1),
        ("epsilon_end", 2.0),
        ("exploration_fraction", 1.5),
        ("exploration_steps", -5),
        ("epsilon_decay", "cosine"),
        ("hidden_sizes", (64, 0)),
        ("hidden_sizes", "64"),
        ("q_network", "dueling"),
        ("embedding_dim", 0),
        ("embedding_dim", {"gender": 0}),
        ("max_embedding_dim", 0),
        ("normalize_observations", "yes"),
        ("seed", -1),
        ("device", "not-a-device"),
    ],
)
def test_bad_config_values_raise_value_error_naming_the_field(name, value):
    with pytest.raises(ValueError, match=name):
        DQNConfig(**{name: value})


def test_exponential_decay_needs_positive_epsilons():
    with pytest.raises(ValueError, match="epsilon_end"):
        DQNConfig(epsilon_decay="exponential", epsilon_end=0.0)


def test_seed_preset_holds_the_seeds_numbers_and_accepts_overrides():
    preset = DQNConfig.seed_preset()
    assert (preset.gamma, preset.learning_rate, preset.loss, preset.batch_size) == (0.95, 1e-3, "mse", 50)
    assert (preset.train_freq, preset.gradient_steps, preset.double_q, preset.hidden_sizes) == (1, 1, False, (64, 64))
    assert (preset.epsilon_start, preset.epsilon_end, preset.epsilon_decay) == (1.0, 0.01, "exponential")
    # The seed multiplies ε by 0.995 per step: the exponential schedule matches to within 1% of ε.
    for step in (0, 100, 500, 900):
        assert epsilon_at(step, 1.0, 0.01, preset.exploration_steps, "exponential") == pytest.approx(0.995**step, rel=0.01)
    # No target network in the seed: the target is the online network of the previous update.
    assert (preset.tau, preset.target_update_interval) == (1.0, 1)
    assert DQNConfig.seed_preset(gamma=0.5).gamma == 0.5
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    agent = DQN.for_env(env, preset)
    assert isinstance(agent.q_network, QNetwork)
    embeddings = agent.q_network.encoder.embeddings
    seed_dims = {"gender": 1, "location": 2, "interests": 4, "last_category": 4, "last_outcome": 2}
    assert {name: embeddings[name].embedding_dim for name in seed_dims} == seed_dims


def test_non_discrete_action_space_is_rejected():
    with pytest.raises(ValueError, match="Discrete"):
        DQN(spaces.Box(0, 1, (2,), np.float32), spaces.Box(-1, 1, (1,), np.float32), DQNConfig())


# ---------------------------------------------------------------------------------------------- networks
def test_for_env_picks_the_network_from_the_layout_and_box_and_dict_agree():
    box_env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    dict_env = gym.make("RecGym-ShortVideo-v0", observation_mode="dict", **SMALL_WORLD)
    vector_env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=3, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    config = DQNConfig(exploration_steps=10, seed=3)
    box, as_dict, vector = (DQN.for_env(env, config) for env in (box_env, dict_env, vector_env))
    assert isinstance(box.q_network, PerActionQNetwork)
    assert isinstance(DQN.for_env(box_env, config.replace(q_network="flat")).q_network, QNetwork)
    assert isinstance(DQN.for_env(Chain(), config).q_network, QNetwork)  # no layout: flat floats
    obs, _ = box_env.reset(seed=0)
    dict_obs, _ = dict_env.reset(seed=0)
    q_box = box.q_values(obs[None])
    torch.testing.assert_close(q_box, as_dict.q_values({k: np.asarray(v)[None] for k, v in dict_obs.items()}), rtol=0, atol=0)
    torch.testing.assert_close(q_box, vector.q_values(obs[None]), rtol=0, atol=0)
    vector_obs, _ = vector_env.reset(seed=0)
    assert vector.act(vector_obs).shape == (3,)


def test_per_action_network_scores_each_candidate_from_its_own_slot():
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    agent = DQN.for_env(env, DQNConfig(exploration_steps=0, seed=1))
    layout = env.unwrapped.observation_layout
    obs, _ = env.reset(seed=0)
    # Swapping two candidates' slots (in every candidate field) swaps their Q-values and nothing else.
    swapped = obs.copy()
    for field in layout:
        if field.name.startswith("candidate_"):
            columns = np.arange(field.flat_slice.start, field.flat_slice.stop)
            swapped[columns[[2, 5]]] = obs[columns[[5, 2]]]
    q, q_swapped = agent.q_values(obs[None])[0], agent.q_values(swapped[None])[0]
    order = np.arange(q.shape[0])
    order[[2, 5]] = [5, 2]
    torch.testing.assert_close(q_swapped, q[order])
    assert not torch.equal(q, q_swapped)


# ---------------------------------------------------------------------------------------------- target network
def test_hard_target_update_copies_exactly_on_schedule_and_is_frozen_in_between():
    agent, env = chain_agent(learning_starts=8, batch_size=8, target_update_interval=5, tau=1.0)
    obs, _ = env.reset(seed=0)
    copies = changed_online = 0
    previous_target = parameters(agent.target_network)
    for _ in range(60):
        before_online = parameters(agent.q_network)
        obs = step_agent(agent, env, obs, 1)
        target, online = parameters(agent.target_network), parameters(agent.q_network)
        changed_online += any(not torch.equal(a, b) for a, b in zip(before_online, online, strict=True))
        if agent.num_timesteps >= 8 and agent.num_timesteps % 5 == 0:
            assert all(torch.equal(t, o) for t, o in zip(target, online, strict=True))
            copies += 1
        else:
            assert all(torch.equal(t, p) for t, p in zip(target, previous_target, strict=True))
            if agent.num_timesteps > 8:
                assert not all(torch.equal(t, o) for t, o in zip(target, online, strict=True))
        previous_target = target
    assert copies == agent.n_target_updates == 11  # steps 10, 15, ..., 60
    assert changed_online == 60 - 7  # a gradient step at every env step from step 8 on


def test_soft_target_update_moves_by_exactly_tau():
    tau = 0.1
    agent, env = chain_agent(learning_starts=8, batch_size=8, target_update_interval=1, tau=tau)
    obs, _ = env.reset(seed=0)
    obs = step_agent(agent, env, obs, 8)
    for _ in range(20):
        before = parameters(agent.target_network)
        obs = step_agent(agent, env, obs, 1)
        after, online = parameters(agent.target_network), parameters(agent.q_network)
        for t_before, t_after, o in zip(before, after, online, strict=True):
            torch.testing.assert_close(t_after, tau * o + (1 - tau) * t_before, rtol=0, atol=1e-6)
        assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))


def test_soft_update_with_a_vector_batch_happens_once_per_update_call():
    agent, _ = chain_agent(learning_starts=4, batch_size=4, target_update_interval=2, tau=0.5)
    obs = chain_states()[[0, 1, 2, 3]]
    for call in range(1, 6):
        before = parameters(agent.target_network)
        agent.observe(obs, np.ones(4, np.int64), np.zeros(4), obs, np.zeros(4, bool), np.zeros(4, bool))
        metrics = agent.update()
        assert metrics["gradient_steps"] == 4  # train_freq 1: four gradient steps for four env steps
        for t_before, t_after, o in zip(before, parameters(agent.target_network), parameters(agent.q_network), strict=True):
            torch.testing.assert_close(t_after, 0.5 * o + 0.5 * t_before, rtol=0, atol=1e-6)
        assert agent.n_target_updates == call


def test_polyak_update_with_tau_one_is_an_exact_copy():
    source, target = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    polyak_update(source.parameters(), target.parameters(), 1.0)
    assert all(torch.equal(a, b) for a, b in zip(source.parameters(), target.parameters(), strict=True))


# ---------------------------------------------------------------------------------------------- TD targets
def linear_agent(double_q):
    """A DQN whose online and target networks are single linear layers with hand-set weights."""
    config = DQNConfig(hidden_sizes=(), gamma=0.9, double_q=double_q, exploration_steps=0)
    agent = DQN(spaces.Box(-10, 10, (2,), np.float32), spaces.Discrete(3), config)
    with torch.no_grad():
        agent.q_network.head[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]]))
        agent.target_network.head[0].weight.copy_(torch.tensor([[3.0, 0.0], [0.0, -1.0], [1.0, 1.0]]))
        agent.q_network.head[0].bias.zero_()
        agent.target_network.head[0].bias.zero_()
    return agent


def tiny_batch():
    next_obs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 2.0]])
    return TensorBatch(
        observations=torch.zeros(3, 2),
        actions=torch.zeros(3, dtype=torch.int64),
        next_observations=next_obs,
        rewards=torch.tensor([0.5, -1.0, 2.0]),
        terminated=torch.tensor([0.0, 0.0, 1.0]),
        truncated=torch.tensor([1.0, 0.0, 0.0]),
    )


def test_double_dqn_targets_equal_a_hand_computation():
    # Online Q(s') = [1, 0, 2], [0, 1, -1], [1, 2, 0] -> argmax 2, 1, 1.
    # Target Q(s') = [3, 0, 1], [0, -1, 1], [3, -2, 3] -> evaluated at those: 1, -1, -2.
    # Row 0 is truncated (still bootstraps), row 2 terminated (does not).
    targets = linear_agent(double_q=True).td_targets(tiny_batch())
    torch.testing.assert_close(targets, torch.tensor([0.5 + 0.9 * 1.0, -1.0 + 0.9 * -1.0, 2.0]))


def test_plain_dqn_targets_equal_a_hand_computation():
    # max over the target network: 3, 1, 3.
    targets = linear_agent(double_q=False).td_targets(tiny_batch())
    torch.testing.assert_close(targets, torch.tensor([0.5 + 0.9 * 3.0, -1.0 + 0.9 * 1.0, 2.0]))


# ---------------------------------------------------------------------------------------------- exploration
def test_epsilon_decays_linearly_per_env_step_with_vector_batches():
    agent, _ = chain_agent(epsilon_start=1.0, epsilon_end=0.1, exploration_steps=10, learning_starts=1000)
    obs = chain_states()[[0, 1, 2]]
    assert agent.exploration() == {"epsilon": 1.0}
    for _ in range(5):
        agent.observe(obs, np.zeros(3, np.int64), np.zeros(3), obs, np.zeros(3, bool), np.zeros(3, bool))
        t = agent.num_timesteps
        assert agent.exploration()["epsilon"] == pytest.approx(max(0.1, 1.0 - 0.09 * t), abs=1e-12)
    assert agent.num_timesteps == 15 and agent.epsilon == 0.1


def test_epsilon_schedule_from_the_fraction_of_total_steps_and_exponential_decay():
    agent, _ = chain_agent(exploration_steps=None, exploration_fraction=0.5, epsilon_end=0.2)
    with pytest.raises(RuntimeError, match="exploration_steps"):
        agent.exploration()
    agent.set_total_steps(40)  # decays over 20 steps
    agent.num_timesteps = 5
    assert agent.epsilon == pytest.approx(1.0 - 0.8 * 5 / 20, abs=1e-12)
    agent.num_timesteps = 25
    assert agent.epsilon == 0.2
    expo, _ = chain_agent(exploration_steps=100, epsilon_decay="exponential", epsilon_end=0.01)
    expo.num_timesteps = 50
    assert expo.epsilon == pytest.approx(0.1, rel=1e-12)


def test_train_tells_the_agent_its_horizon_and_epsilon_follows_env_steps():
    agent, _ = chain_agent(exploration_steps=None, exploration_fraction=0.5, learning_starts=10_000)
    env = gym.vector.SyncVectorEnv([Chain for _ in range(4)])
    train(agent, env, 40, seed=0, progress_bar=False)
    assert agent.total_steps == 40 and agent.num_timesteps >= 40
    assert agent.epsilon == 0.05
    agent.num_timesteps = 10
    assert agent.epsilon == pytest.approx(1.0 - 0.95 * 10 / 20, abs=1e-12)


def test_actions_are_epsilon_greedy():
    agent, _ = chain_agent(epsilon_start=1.0, epsilon_end=1.0, exploration_steps=0)
    obs = np.repeat(chain_states()[:1], 2000, axis=0)
    greedy = agent.act(obs, deterministic=True)
    assert np.all(greedy == greedy[0])
    random_share = np.mean(agent.act(obs) != greedy[0])
    assert random_share == pytest.approx(0.5, abs=0.05)  # ε = 1: uniform over two actions
    never, _ = chain_agent(epsilon_start=0.0, epsilon_end=0.0, exploration_steps=0)
    np.testing.assert_array_equal(never.act(obs), never.act(obs, deterministic=True))


# ---------------------------------------------------------------------------------------------- learning
def test_no_update_before_learning_starts():
    agent, env = chain_agent(learning_starts=30, batch_size=4)
    obs, _ = env.reset(seed=0)
    initial = parameters(agent.q_network)
    record = []
    obs = step_agent(agent, env, obs, 29, record=record)
    assert all(loss is None for _, loss in record) and agent.n_updates == 0
    assert all(torch.equal(a, b) for a, b in zip(initial, parameters(agent.q_network), strict=True))
    step_agent(agent, env, obs, 1, record=record)
    assert record[-1][1] is not None and agent.n_updates == 1


def test_train_freq_and_gradient_steps_set_the_replay_ratio():
    agent, _ = chain_agent(learning_starts=0, batch_size=4, train_freq=4, gradient_steps=3)
    obs = chain_states()[[0, 1]]
    steps = []
    for _ in range(6):
        agent.observe(obs, np.zeros(2, np.int64), np.zeros(2), obs, np.zeros(2, bool), np.zeros(2, bool))
        steps.append(agent.update().get("gradient_steps", 0))
    assert steps == [0, 3, 0, 3, 0, 3]  # one round of 3 gradient steps every 4 env steps


def test_dqn_solves_a_tiny_deterministic_chain():
    agent, env = chain_agent()
    obs, _ = env.reset(seed=0)
    step_agent(agent, env, obs, 1500)
    greedy = agent.act(chain_states()[:4], deterministic=True)
    np.testing.assert_array_equal(greedy, [1, 1, 1, 1])  # move right everywhere
    result = evaluate(agent, Chain(), episodes=3, seed=0)
    assert result.mean_return == 1.0 and result.mean_length == 4.0
    q = agent.q_values(chain_states()[:4]).numpy()[:, 1]
    np.testing.assert_allclose(q, 0.9 ** np.arange(3, -1, -1), atol=0.1)  # Q*(s, right) = γ^(3 - s)


# ---------------------------------------------------------------------------------------------- checkpoints
def test_save_load_acts_identically_and_continues_training_identically(tmp_path):
    agent, env = chain_agent(learning_starts=16, batch_size=16, target_update_interval=20, exploration_steps=300)
    obs, _ = env.reset(seed=0)
    obs = step_agent(agent, env, obs, 150)
    path = agent.save(tmp_path / "dqn.pt", include_buffer=True)
    twin_env = copy.deepcopy(env)
    loaded = DQN.load(path)
    states = chain_states()
    torch.testing.assert_close(loaded.q_values(states), agent.q_values(states), rtol=0, atol=0)
    assert (loaded.num_timesteps, loaded.n_updates, loaded.epsilon) == (agent.num_timesteps, agent.n_updates, agent.epsilon)
    original, resumed = [], []
    step_agent(agent, env, obs.copy(), 100, record=original)
    step_agent(loaded, twin_env, obs.copy(), 100, record=resumed)
    assert original == resumed  # same exploring actions, same losses, bit for bit
    assert sum(loss is not None for _, loss in original) == 100
    for a, b in zip(parameters(agent.target_network), parameters(loaded.target_network), strict=True):
        assert torch.equal(a, b)


def test_save_without_buffer_acts_identically_and_never_overwrites(tmp_path):
    agent, env = chain_agent(learning_starts=16, batch_size=16)
    obs, _ = env.reset(seed=0)
    step_agent(agent, env, obs, 50)
    path = agent.save(tmp_path / "dqn.pt")
    with pytest.raises(FileExistsError):
        agent.save(path)
    loaded = DQN.load(path)
    assert len(loaded.replay_buffer) == 0 and len(agent.replay_buffer) == 50
    states = np.repeat(chain_states(), 20, axis=0)
    np.testing.assert_array_equal(loaded.act(states), agent.act(states))  # exploration RNG restored too
    assert DQN.load(path, learning_rate=1e-4).optimizer.param_groups[0]["lr"] == 1e-4


def test_save_load_with_a_layout_and_dict_observations(tmp_path):
    env = gym.make_vec(
        "RecGym-ShortVideo-v0", num_envs=2, vectorization_mode="vector_entry_point", observation_mode="dict", **SMALL_WORLD
    )
    agent = DQN.for_env(env, DQNConfig(learning_starts=8, batch_size=8, exploration_steps=20, buffer_size=64, seed=2))
    train(agent, env, 40, seed=0, progress_bar=False)
    loaded = DQN.load(agent.save(tmp_path / "dqn.pt", include_buffer=True))
    obs, _ = env.reset(seed=1)
    torch.testing.assert_close(loaded.q_values(obs), agent.q_values(obs), rtol=0, atol=0)
    assert len(loaded.replay_buffer) == len(agent.replay_buffer) == 40
    assert loaded.update() == agent.update()  # nothing due: same counters


# ---------------------------------------------------------------------------------------------- batched observe, act
def _rows_of(observations, rows):
    return {key: value[rows] for key, value in observations.items()} if isinstance(observations, dict) else observations[rows]


@pytest.mark.parametrize("mode", ["box", "dict"])
def test_observe_stores_a_batch_exactly_as_row_by_row_adds_would(mode):
    # observe stores its rows with one ReplayBuffer.extend; a one-env buffer fed the same rows one add at a time
    # (what observe did before) must hold the same transitions in the same slots, through wrap-arounds.
    kwargs = SMALL_WORLD | ({"observation_mode": "dict"} if mode == "dict" else {})
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=5, vectorization_mode="vector_entry_point", **kwargs)
    agent = DQN.for_env(env, DQNConfig(buffer_size=23, exploration_steps=10, learning_starts=10**6, seed=0))
    reference = ReplayBuffer(env.single_observation_space, env.single_action_space, 23)
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=0)
    for step in range(14):
        actions = rng.integers(0, 10, 5)
        next_obs, rewards, terminated, truncated, _ = env.step(actions)
        rows = rng.random(5) < 0.7 if step != 3 else np.zeros(5, bool)  # any subset of the envs, none included
        arguments = (
            _rows_of(obs, rows),
            actions[rows],
            rewards[rows],
            _rows_of(next_obs, rows),
            terminated[rows],
            truncated[rows],
        )
        agent.observe(*arguments)
        o, a, r, o2, te, tr = arguments
        for i in range(int(rows.sum())):
            reference.add(*(_rows_of(value, i) for value in (o, o2, a, r, te, tr)))
        obs = next_obs
    buffer = agent.replay_buffer
    assert agent.num_timesteps > buffer.capacity and buffer.full
    assert (buffer.pos, buffer.full) == (reference.pos, reference.full)
    every = np.arange(buffer.capacity)
    for name, value, expected in zip(ReplayBatch._fields, buffer.get(every), reference.get(every), strict=True):
        for key in expected if isinstance(expected, dict) else [None]:
            got, want = (value[key], expected[key]) if key is not None else (value, expected)
            np.testing.assert_array_equal(got, want, err_msg=f"{name} {key}")
            assert got.dtype == want.dtype


@pytest.mark.parametrize("epsilon", [1.0, 0.6, 0.0])
@pytest.mark.parametrize("n", [1, 6])
def test_act_returns_exactly_the_greedy_actions_and_draws_of_the_epsilon_greedy_rule(epsilon, n):
    # The rule act implemented before skipping the network when every row explores: greedy actions first, then
    # one uniform draw and one random action per row from the agent's generator.
    agent, _ = chain_agent(epsilon_start=epsilon, epsilon_end=epsilon, exploration_steps=0)
    obs = chain_states()[np.arange(n) % 5]
    expected_rng = copy.deepcopy(agent.rng)
    for _ in range(30):
        greedy = agent.q_values(obs).argmax(dim=1).numpy().astype(np.int64)
        explore = expected_rng.random(n) < epsilon
        expected = np.where(explore, expected_rng.integers(0, 2, size=n), greedy)
        actions = agent.act(obs)
        np.testing.assert_array_equal(actions, expected)
        assert actions.dtype == np.int64 and actions.shape == (n,)
    assert agent.rng.bit_generator.state == expected_rng.bit_generator.state


def test_act_skips_the_network_only_when_every_row_explores_and_still_checks_the_batch(monkeypatch):
    agent, _ = chain_agent(epsilon_start=1.0, epsilon_end=1.0, exploration_steps=0)
    calls = []
    forward = agent.q_network.forward
    monkeypatch.setattr(agent.q_network, "forward", lambda observations: calls.append(len(observations)) or forward(observations))
    states = chain_states()
    agent.act(states)
    assert calls == []  # ε = 1: every row explores
    agent.act(states, deterministic=True)
    assert calls == [5]
    state = copy.deepcopy(agent.rng.bit_generator.state)
    for bad in (states[0], states[:, :3], np.float32(1.0)):
        with pytest.raises(ValueError, match="leading batch dimension"):
            agent.act(bad)
    assert agent.rng.bit_generator.state == state  # rejected before any draw
    half, _ = chain_agent(epsilon_start=0.5, epsilon_end=0.5, exploration_steps=0)
    monkeypatch.setattr(half.q_network, "forward", lambda observations: calls.append(len(observations)) or forward(observations))
    calls.clear()
    half.act(np.repeat(states, 8, axis=0))  # 40 rows: some exploit, so the network runs on the whole batch
    assert calls == [40]
