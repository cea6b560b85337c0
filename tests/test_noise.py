"""Exploration noise: Gaussian moments, Ornstein-Uhlenbeck stationary variance and autocorrelation, resets, seeding."""

import math

import numpy as np
import pytest

from agents.noise import GaussianNoise, LinearSchedule, OrnsteinUhlenbeckNoise


def ou(seed=0, theta=0.5, sigma=0.3, dt=0.1, action_dim=2, n_envs=4000, **kwargs):
    return OrnsteinUhlenbeckNoise(theta, sigma, dt, action_dim, n_envs, np.random.default_rng(seed), **kwargs)


def test_gaussian_mean_and_std():
    noise = GaussianNoise(0.3, action_dim=4, rng=np.random.default_rng(0))
    draws = noise.sample(50_000)
    assert draws.shape == (50_000, 4)
    # 200k draws: the standard error of the mean is 0.3 / 447 = 7e-4, of the std about 5e-4.
    np.testing.assert_allclose(draws.mean(axis=0), 0.0, atol=4e-3)
    np.testing.assert_allclose(draws.std(axis=0), 0.3, rtol=0.02)
    assert abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1]) < 0.02


def test_gaussian_scale_schedule_decays_linearly():
    noise = GaussianNoise(0.5, 3, np.random.default_rng(1), scale_schedule=LinearSchedule(1.0, 0.2, 1000))
    assert noise.current_sigma(0) == pytest.approx(0.5)
    assert noise.current_sigma(500) == pytest.approx(0.5 * 0.6)
    assert noise.current_sigma(10**6) == pytest.approx(0.1)
    np.testing.assert_allclose(noise.sample(100_000, step=5000).std(), 0.1, rtol=0.02)
    np.testing.assert_allclose(noise.sample(100_000, step=0).std(), 0.5, rtol=0.02)


def test_linear_schedule_values_and_validation():
    schedule = LinearSchedule(1.0, 0.0, 10)
    assert [schedule(step) for step in (0, 5, 10, 20)] == [1.0, 0.5, 0.0, 0.0]
    for kwargs, name in (({"start": -1.0}, "start"), ({"end": float("nan")}, "end"), ({"duration": 0}, "duration")):
        with pytest.raises(ValueError, match=name):
            LinearSchedule(**({"start": 1.0, "end": 0.0, "duration": 10} | kwargs))


def test_ou_stationary_variance_and_autocorrelation():
    theta, sigma, dt = 0.5, 0.3, 0.1
    noise = ou(theta=theta, sigma=sigma, dt=dt)
    for _ in range(300):  # 300 * theta * dt = 15 time constants: the start at 0 is forgotten
        noise.sample()
    path = np.stack([noise.sample() for _ in range(60)])  # (time, env, dim)
    stationary = sigma**2 / (2 * theta)
    assert path.var() == pytest.approx(stationary, rel=0.03)
    lag1 = (path[1:] * path[:-1]).mean() / path.var()
    assert lag1 == pytest.approx(math.exp(-theta * dt), abs=0.01)
    lag10 = (path[10:] * path[:-10]).mean() / path.var()
    assert lag10 == pytest.approx(math.exp(-10 * theta * dt), abs=0.02)
    np.testing.assert_allclose(path.mean(), 0.0, atol=0.01)
    assert noise.stationary_std == pytest.approx(math.sqrt(stationary))


def test_ou_small_dt_matches_euler_maruyama_growth():
    # From 0, Var(x_k) = sigma^2 / (2 theta) * (1 - exp(-2 theta k dt)); for small dt about sigma^2 k dt.
    noise = ou(theta=0.15, sigma=0.2, dt=0.01, n_envs=20_000, action_dim=1)
    for _ in range(10):
        values = noise.sample()
    assert values.var() == pytest.approx(0.2**2 / 0.3 * -math.expm1(-2 * 0.15 * 0.1), rel=0.04)
    assert values.var() == pytest.approx(0.2**2 * 10 * 0.01, rel=0.04)


def test_ou_reset_zeroes_selected_envs_only():
    noise = ou(n_envs=6, action_dim=3)
    for _ in range(5):
        noise.sample()
    before = noise.state.copy()
    assert (before != 0).all()
    noise.reset([1, 4])
    np.testing.assert_array_equal(noise.state[[1, 4]], 0.0)
    np.testing.assert_array_equal(noise.state[[0, 2, 3, 5]], before[[0, 2, 3, 5]])
    noise.reset(np.array([True, False, False, False, False, False]))
    np.testing.assert_array_equal(noise.state[0], 0.0)
    np.testing.assert_array_equal(noise.state[[2, 3, 5]], before[[2, 3, 5]])
    noise.reset([])
    np.testing.assert_array_equal(noise.state[[2, 3, 5]], before[[2, 3, 5]])
    noise.reset()
    np.testing.assert_array_equal(noise.state, 0.0)
    for bad in ([6], [0.5], np.ones(5, bool)):
        with pytest.raises(ValueError, match="env"):
            noise.reset(bad)


def test_ou_scale_schedule_scales_samples_not_the_process():
    plain, scaled = ou(seed=3, n_envs=5), ou(seed=3, n_envs=5, scale_schedule=LinearSchedule(1.0, 0.25, 10))
    for step in range(20):
        a, b = plain.sample(step=step), scaled.sample(step=step)
        np.testing.assert_allclose(b, a * scaled.scale(step))
    np.testing.assert_array_equal(plain.state, scaled.state)
    assert scaled.current_sigma(100) == pytest.approx(0.3 * 0.25)


@pytest.mark.parametrize(
    "make", [lambda seed: GaussianNoise(0.2, 3, np.random.default_rng(seed)), lambda seed: ou(seed, n_envs=4)]
)
def test_reproducible_with_a_seed_and_state_dict_continues_the_sequence(make):
    first, second, other = make(7), make(7), make(8)
    a = [first.sample(4) for _ in range(5)]
    b = [second.sample(4) for _ in range(5)]
    c = [other.sample(4) for _ in range(5)]
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
    assert not np.array_equal(np.stack(a), np.stack(c))
    saved = first.state_dict()
    expected = [first.sample(4) for _ in range(3)]
    restored = make(99)
    restored.load_state_dict(saved)
    np.testing.assert_array_equal(np.stack([restored.sample(4) for _ in range(3)]), np.stack(expected))


def test_state_dict_rejects_another_kind_or_shape():
    with pytest.raises(ValueError, match="gaussian"):
        ou().load_state_dict(GaussianNoise(0.1, 2, np.random.default_rng(0)).state_dict())
    with pytest.raises(ValueError, match="shape"):
        ou(n_envs=3).load_state_dict(ou(n_envs=4).state_dict())


def test_ou_batch_must_match_its_envs():
    with pytest.raises(ValueError, match="n_envs"):
        ou(n_envs=4).sample(3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"theta": 0.0}, "theta"),
        ({"sigma": -0.1}, "sigma"),
        ({"dt": 0}, "dt"),
        ({"action_dim": 0}, "action_dim"),
        ({"n_envs": 1.5}, "n_envs"),
        ({"sigma": float("inf")}, "sigma"),
    ],
)
def test_bad_ou_parameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ou(**kwargs)


def test_bad_gaussian_parameters_raise():
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(-1.0, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        GaussianNoise(1.0, 2, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scale_schedule"):
        GaussianNoise(1.0, 2, np.random.default_rng(0), scale_schedule=lambda step: 1.0)  # type: ignore[arg-type]
