"""DDPG: soft target updates, action bounds, critic targets, learning a known optimum, checkpoints, the ratings env."""

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.ddpg import DDPG, DDPGConfig
from agents.encoder import FlatEncoder, ObservationEncoder
from agents.networks import polyak_update
from agents.noise import GaussianNoise, OrnsteinUhlenbeckNoise
from agents.replay_buffer import TensorBatch

torch.set_num_threads(1)

OPTIMUM_MATRIX = np.array([[0.5, -0.3], [0.2, 0.4]])
OPTIMUM_BIAS = np.array([0.3, -0.2])
SMALL_RATINGS = {"n_users": 60, "n_items": 80, "embedding_dim": 4, "frame_size": 3}


def best_action(context):
    """The tiny task's optimum for a batch of contexts: linear, and inside [-1, 1]^2."""
    return context @ OPTIMUM_MATRIX.T + OPTIMUM_BIAS


class ContextualTarget(gym.Env):
    """One-step episodes: observe a context c in [-1, 1]^2, get reward -||a - a*(c)||^2 for action a."""

    def __init__(self, low=-1.0, high=1.0):
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Box(np.full(2, low, np.float32), np.full(2, high, np.float32))
        self._context = np.zeros(2, np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._context = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return self._context.copy(), {}

    def step(self, action):
        reward = -float(np.sum((np.asarray(action, np.float64) - best_action(self._context)) ** 2))
        return self._context.copy(), reward, True, False, {}


def small_config(**changes):
    base = {"actor_hidden": (32, 32), "critic_hidden": (32, 32), "batch_size": 32, "buffer_size": 5000, "learning_starts": 0}
    return DDPGConfig(**(base | changes))


def run(agent, env, steps, seed=0):
    """Train ``agent`` on the single env ``env`` for ``steps`` steps; return the update metrics."""
    obs, _ = env.reset(seed=seed)
    metrics = []
    for _ in range(steps):
        action = agent.act(obs[None])
        next_obs, reward, terminated, truncated, _ = env.step(action[0])
        agent.observe(obs[None], action, np.array([reward]), next_obs[None], np.array([terminated]), np.array([truncated]))
        metrics.append(agent.update())
        obs = env.reset()[0] if terminated or truncated else next_obs
    return metrics


def parameters(module):
    return [p.detach().clone() for p in module.parameters()]


# ----------------------------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor_lr", 0.0),
        ("critic_lr", -1e-3),
        ("critic_lr", float("nan")),
        ("buffer_size", 0),
        ("batch_size", 2.5),
        ("gamma", 1.5),
        ("tau", 0.0),
        ("tau", 1.01),
        ("learning_starts", -1),
        ("train_freq", 0),
        ("gradient_steps", True),
        ("noise", "pink"),
        ("noise_sigma", -0.1),
        ("noise_theta", 0.0),
        ("noise_dt", -1.0),
        ("noise_final_scale", -1.0),
        ("noise_decay_steps", -5),
        ("actor_hidden", (256, 0)),
        ("critic_hidden", "256"),
        ("max_grad_norm", 0.0),
        ("seed", -1),
        ("seed", 1.5),
    ],
)
def test_bad_config_values_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        DDPGConfig(**{field: value})


def test_config_normalises_hidden_sizes_and_replace_validates():
    config = DDPGConfig(actor_hidden=[64, 64])
    assert config.actor_hidden == (64, 64)
    assert config.replace(tau=0.1).tau == 0.1
    with pytest.raises(ValueError, match="tau"):
        config.replace(tau=2.0)
    with pytest.raises(ValueError, match="unknown"):
        config.replace(taux=0.1)


def test_ratings_preset_is_valid_and_takes_overrides():
    preset = DDPGConfig.ratings_preset(seed=3)
    assert preset.gamma == 0.0 and preset.gradient_steps == 32 and preset.seed == 3
    with pytest.raises(ValueError, match="gamma"):
        DDPGConfig.ratings_preset(gamma=-1.0)


def test_agent_rejects_unsuitable_spaces():
    with pytest.raises(ValueError, match="Box action"):
        DDPG(spaces.Box(-1, 1, (2,)), spaces.Discrete(3))
    with pytest.raises(ValueError, match="finite"):
        DDPG(spaces.Box(-1, 1, (2,)), spaces.Box(-np.inf, np.inf, (2,)))
    with pytest.raises(ValueError, match="layout"):
        DDPG(spaces.Dict({"x": spaces.Box(-1, 1, (2,))}), spaces.Box(-1, 1, (2,)))


# ----------------------------------------------------------------------------------------------- targets


def test_polyak_update_is_exact():
    online, target = [torch.randn(3, 4), torch.randn(5)], [torch.randn(3, 4), torch.randn(5)]
    old = [t.clone() for t in target]
    polyak_update(online, target, 0.25)
    for o, t, before in zip(online, target, old, strict=True):
        torch.testing.assert_close(t, 0.25 * o + 0.75 * before, rtol=1e-6, atol=1e-7)
    polyak_update(online, target, 1.0)
    for o, t in zip(online, target, strict=True):
        torch.testing.assert_close(t, o, rtol=0, atol=0)


def test_targets_soft_update_by_exactly_tau_after_each_gradient_step():
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(tau=0.05, learning_starts=64, gradient_steps=1, seed=3))
    run(agent, env, 63)
    # The target networks start as exact copies and do not move before learning starts.
    for online, target in ((agent.actor, agent.actor_target), (agent.critic, agent.critic_target)):
        for p, t in zip(online.parameters(), target.parameters(), strict=True):
            torch.testing.assert_close(p, t, rtol=0, atol=0)
    for _ in range(3):
        old_targets = [parameters(agent.actor_target), parameters(agent.critic_target)]
        old_online = [parameters(agent.actor), parameters(agent.critic)]
        assert run(agent, env, 1)[0], "an update was due"
        for online, target, old, before in (
            (agent.actor, agent.actor_target, old_targets[0], old_online[0]),
            (agent.critic, agent.critic_target, old_targets[1], old_online[1]),
        ):
            moved = False
            for p, t, o, b in zip(online.parameters(), target.parameters(), old, before, strict=True):
                torch.testing.assert_close(t, 0.05 * p + 0.95 * o, rtol=1e-6, atol=1e-7)
                moved |= not torch.equal(p, b)
            assert moved, "the online network learned, so the check above is not trivial"
    assert agent.n_updates == 3


def test_gradient_steps_soft_update_once_each():
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(tau=1.0, gradient_steps=4, train_freq=2, seed=1))
    run(agent, env, 10)
    assert agent.n_updates == 5 * 4
    # tau = 1 copies the online networks into the targets after every gradient step.
    for p, t in zip(agent.actor.parameters(), agent.actor_target.parameters(), strict=True):
        torch.testing.assert_close(p, t, rtol=0, atol=0)


def test_critic_target_equals_a_hand_computation_terminated_vs_truncated():
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(gamma=0.9, batch_size=4, seed=0))
    # Make Q'(s', a') = 2.5 everywhere, so the targets can be written down by hand.
    last = agent.critic_target.head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(2.5)
    observations = torch.tensor([[0.1, 0.2], [0.3, -0.4], [0.0, 0.5], [-0.6, 0.7]])
    batch = TensorBatch(
        observations=observations,
        actions=torch.zeros(4, 2),
        next_observations=observations.flip(0),
        rewards=torch.tensor([1.0, -2.0, 0.5, 3.0]),
        terminated=torch.tensor([1.0, 0.0, 0.0, 1.0]),
        truncated=torch.tensor([0.0, 1.0, 0.0, 1.0]),
    )
    expected = torch.tensor([1.0, -2.0 + 0.9 * 2.5, 0.5 + 0.9 * 2.5, 3.0])  # truncation still bootstraps
    torch.testing.assert_close(agent.critic_targets(batch), expected)

    # The update regresses the critic on exactly these targets: replay the buffer's draw to check its loss.
    for row in range(4):
        agent.observe(
            observations[row : row + 1].numpy(),
            batch.actions[row : row + 1].numpy(),
            batch.rewards[row : row + 1].numpy(),
            batch.next_observations[row : row + 1].numpy(),
            batch.terminated[row : row + 1].numpy().astype(bool),
            batch.truncated[row : row + 1].numpy().astype(bool),
        )
    indices = copy.deepcopy(agent.replay_buffer.rng).integers(0, 4, size=4)
    with torch.no_grad():
        q = agent.critic(observations[indices], batch.actions[indices])
    metrics = agent.update()
    assert metrics["critic_loss"] == pytest.approx(float(((q - expected[indices]) ** 2).mean()), rel=1e-5)
    assert metrics["mean_q"] == pytest.approx(float(q.mean()), rel=1e-5, abs=1e-6)


# ----------------------------------------------------------------------------------------------- acting


@pytest.mark.parametrize("noise", ["gaussian", "ou"])
def test_action_bounds_respected_under_large_noise(noise):
    low, high = np.array([-2.0, 0.0, 0.5], np.float32), np.array([1.0, 3.0, 0.6], np.float32)
    observation_space = spaces.Box(-1, 1, (4,), np.float32)
    agent = DDPG(
        observation_space,
        spaces.Box(low, high),
        small_config(noise=noise, noise_sigma=50.0, noise_theta=1.0, noise_dt=0.5, learning_starts=100),
        n_envs=8,
    )
    observations = np.random.default_rng(0).uniform(-1, 1, (8, 4)).astype(np.float32)
    seen = []
    for _ in range(40):  # 320 transitions: warm-up (uniform) then noisy actor actions
        actions = agent.act(observations)
        assert actions.shape == (8, 3) and actions.dtype == np.float32
        seen.append(actions)
        agent.observe(observations, actions, np.zeros(8), observations, np.zeros(8, bool), np.zeros(8, bool))
    seen = np.concatenate(seen)
    assert (seen >= low).all() and (seen <= high).all()
    assert (seen[-100:] == low).any() and (seen[-100:] == high).any(), "large noise reaches both bounds"
    deterministic = agent.act(observations, deterministic=True)
    assert (deterministic >= low).all() and (deterministic <= high).all()


def test_warm_up_is_uniform_then_actor_plus_noise_and_deterministic_has_no_noise():
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(learning_starts=50, noise_sigma=0.2, seed=5))
    obs = np.zeros((2000, 2), np.float32)
    warm = agent.act(obs)
    np.testing.assert_allclose(warm.mean(axis=0), 0.0, atol=0.05)
    np.testing.assert_allclose(warm.var(axis=0), 1 / 3, rtol=0.1)  # Uniform(-1, 1)
    agent.num_timesteps = 50
    greedy = agent.act(obs[:1], deterministic=True)
    noisy = agent.act(obs) - greedy
    np.testing.assert_allclose(noisy.std(axis=0), 0.2, rtol=0.1)
    # The same observation gets the same action (up to float rounding, which depends on the batch size).
    np.testing.assert_allclose(agent.act(obs[:3], deterministic=True), np.repeat(greedy, 3, axis=0), rtol=1e-6, atol=1e-7)


def test_exploration_reports_the_decaying_noise_scale():
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(noise_sigma=0.4, noise_final_scale=0.25, noise_decay_steps=100))
    assert agent.exploration() == {"noise_scale": pytest.approx(0.4)}
    run(agent, env, 50)
    assert agent.exploration()["noise_scale"] == pytest.approx(0.4 * (1 - 0.75 * 0.5))
    run(agent, env, 60)
    assert agent.exploration()["noise_scale"] == pytest.approx(0.1)


def test_ou_noise_restarts_for_the_envs_whose_episode_ended():
    agent = DDPG(spaces.Box(-1, 1, (2,), np.float32), spaces.Box(-1, 1, (2,), np.float32), small_config(noise="ou"), n_envs=3)
    assert isinstance(agent.noise, OrnsteinUhlenbeckNoise)
    obs = np.zeros((3, 2), np.float32)
    for _ in range(3):
        actions = agent.act(obs)
    assert (agent.noise.state != 0).all()
    agent.observe(obs, actions, np.zeros(3), obs, np.array([True, False, False]), np.array([False, False, True]))
    np.testing.assert_array_equal(agent.noise.state[[0, 2]], 0.0)
    assert (agent.noise.state[1] != 0).all()
    with pytest.raises(ValueError, match="n_envs"):
        agent.act(obs[:2])
    # A partial batch (a next_step loop leaving out reset steps) is stored, but matches no env's noise.
    agent.act(obs)
    state = agent.noise.state.copy()
    agent.observe(obs[:2], actions[:2], np.ones(2), obs[:2], np.array([True, True]), np.zeros(2, bool))
    np.testing.assert_array_equal(agent.noise.state, state)
    assert len(agent.replay_buffer) == 5 and agent.num_timesteps == 5
    with pytest.raises(ValueError, match="one row per transition"):
        agent.observe(obs, actions[:2], np.ones(3), obs, np.zeros(3, bool), np.zeros(3, bool))


def test_no_update_before_learning_starts_or_between_train_freq():
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(learning_starts=20, train_freq=3, seed=0))
    metrics = run(agent, env, 29)
    assert all(m == {} for m in metrics[:19])
    assert [bool(m) for m in metrics[19:]] == [True, False, False, True, False, False, True, False, False, True]
    assert set(metrics[19]) == {"critic_loss", "actor_loss", "mean_q"}


# ----------------------------------------------------------------------------------------------- learning


def test_moves_its_action_toward_a_known_optimum():
    env = ContextualTarget()
    agent = DDPG.for_env(
        env,
        small_config(
            actor_hidden=(64, 64),
            critic_hidden=(64, 64),
            batch_size=64,
            learning_starts=200,
            actor_lr=1e-3,
            critic_lr=2e-3,
            gamma=0.0,
            tau=0.05,
            noise_sigma=0.3,
            seed=0,
        ),
    )
    contexts = np.random.default_rng(123).uniform(-1, 1, (256, 2)).astype(np.float32)
    optimum = best_action(contexts)

    def distance():
        return float(np.linalg.norm(agent.act(contexts, deterministic=True) - optimum, axis=1).mean())

    before = distance()
    metrics = run(agent, env, 1200, seed=1)
    after = distance()
    assert before > 0.3
    assert after < 0.25 * before, (before, after)
    assert after < 0.12
    assert all(np.isfinite(list(m.values())).all() for m in metrics if m)


# ----------------------------------------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("noise", ["gaussian", "ou"])
def test_save_load_gives_identical_actions_and_identical_next_updates(tmp_path, noise):
    env = ContextualTarget()
    config = small_config(noise=noise, learning_starts=30, max_grad_norm=1.0, seed=11)
    agent = DDPG.for_env(env, config)
    run(agent, env, 60, seed=2)
    path = agent.save(tmp_path / "ddpg.pt")
    loaded = DDPG.load(path)
    assert loaded.config == agent.config and loaded.num_timesteps == 60 and loaded.n_updates == agent.n_updates
    contexts = np.random.default_rng(0).uniform(-1, 1, (16, 2)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(contexts, deterministic=True), agent.act(contexts, deterministic=True))
    np.testing.assert_array_equal(loaded.act(contexts[:1]), agent.act(contexts[:1]))
    # Both continue on the same transitions: same metrics and the same parameters, bit for bit.
    env_a, env_b = ContextualTarget(), ContextualTarget()
    metrics_a, metrics_b = run(agent, env_a, 25, seed=9), run(loaded, env_b, 25, seed=9)
    assert metrics_a == metrics_b and any(metrics_a)
    for name in ("actor", "critic", "actor_target", "critic_target"):
        for p, q in zip(getattr(agent, name).parameters(), getattr(loaded, name).parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert agent.exploration() == loaded.exploration()


def test_save_load_during_warm_up_continues_the_random_actions(tmp_path):
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(learning_starts=100, seed=4))
    run(agent, env, 20)
    loaded = DDPG.load(agent.save(tmp_path / "warm.pt"))
    contexts = np.zeros((5, 2), np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(loaded.act(contexts), agent.act(contexts))


def test_checkpoint_never_overwrites_and_load_overrides(tmp_path):
    env = ContextualTarget()
    agent = DDPG.for_env(env, small_config(seed=0))
    run(agent, env, 40)
    path = agent.save(tmp_path / "ddpg.pt", replay_buffer=False)
    with pytest.raises(FileExistsError):
        agent.save(path)
    agent.save(path, overwrite=True, replay_buffer=False)
    loaded = DDPG.load(path, actor_lr=5e-4, learning_starts=100)
    assert loaded.config.actor_lr == 5e-4 and loaded.actor_optimizer.param_groups[0]["lr"] == 5e-4
    assert len(loaded.replay_buffer) == 0
    contexts = np.zeros((3, 2), np.float32)
    np.testing.assert_array_equal(loaded.act(contexts, deterministic=True), agent.act(contexts, deterministic=True))
    with pytest.raises(ValueError, match="unknown"):
        DDPG.load(path, tau_typo=0.1)


# ----------------------------------------------------------------------------------------------- recgym


@pytest.mark.parametrize("mode", ["box", "dict"])
def test_trains_on_ratings_embedding_vector_env(mode):
    vec = gym.make_vec(
        "RecGym-RatingsEmbedding-v0",
        num_envs=30,
        vectorization_mode="vector_entry_point",
        autoreset_mode="same_step",
        observation_mode=mode,
        max_steps=40,
        **SMALL_RATINGS,
    )
    agent = DDPG.for_env(vec, small_config(learning_starts=300, batch_size=64, gradient_steps=2, noise="ou", seed=0))
    assert isinstance(agent.actor.encoder, ObservationEncoder) and agent.n_envs == 30
    observations, _ = vec.reset(seed=0)
    losses = []
    for _ in range(100):  # 3,000 transitions, 2 episode ends per env
        actions = agent.act(observations)
        assert vec.single_action_space.contains(actions[0]) and actions.shape == (30, 4)
        next_observations, rewards, terminated, truncated, infos = vec.step(actions)
        done = terminated | truncated
        final = next_observations
        if done.any():  # same-step autoreset: the true last observation is in final_obs
            final = copy.deepcopy(next_observations)
            for i in np.flatnonzero(done):
                if mode == "dict":
                    for key in final:
                        final[key][i] = infos["final_obs"][i][key]
                else:
                    final[i] = infos["final_obs"][i]
        agent.observe(observations, actions, rewards, final, terminated, truncated)
        metrics = agent.update()
        if metrics:
            losses.append(metrics)
        observations = next_observations
    vec.close()
    assert len(losses) == 91  # from the 10th step on (300 transitions)
    assert all(np.isfinite([m["critic_loss"], m["actor_loss"], m["mean_q"]]).all() for m in losses)
    assert agent.replay_buffer.get(np.arange(len(agent.replay_buffer))).truncated.sum() == 2 * 30


def test_for_env_without_layout_flattens():
    agent = DDPG.for_env(gym.vector.SyncVectorEnv([ContextualTarget, ContextualTarget]), small_config())
    assert isinstance(agent.actor.encoder, FlatEncoder) and isinstance(agent.noise, GaussianNoise) and agent.n_envs == 2
