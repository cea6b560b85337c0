"""The bounded replay buffer: ring order, uniform sampling of stored transitions only, flags, Dict spaces, save/load."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from helpers import SMALL_WORLD

from agents.replay_buffer import ReplayBatch, ReplayBuffer, to_torch

BOX = spaces.Box(-1e6, 1e6, (2,), np.float32)
DICT = spaces.Dict(
    [
        ("x", spaces.Box(-1e6, 1e6, (3,), np.float32)),
        ("code", spaces.Discrete(1000)),
        ("codes", spaces.MultiDiscrete([1000, 1000])),
        ("flags", spaces.MultiBinary(4)),
    ]
)


def marked_obs(marker, space=BOX):
    """An observation (or batch) that encodes ``marker`` in every field, so a sampled row names its transition."""
    marker = np.asarray(marker)
    if isinstance(space, spaces.Box):
        return np.stack([marker, -marker], axis=-1).astype(np.float32)
    return {
        "x": np.stack([marker, marker + 0.5, -marker], axis=-1).astype(np.float32),
        "code": marker.astype(np.int64),
        "codes": np.stack([marker, 999 - marker], axis=-1).astype(np.int64),
        "flags": np.stack([(marker >> bit) & 1 for bit in range(4)], axis=-1).astype(np.int8),
    }


def add_marked(buffer, markers, space=BOX):
    """Add transitions whose every field is a function of their marker (``n_envs`` markers per call)."""
    markers = np.asarray(markers)
    buffer.add(
        marked_obs(markers, space),
        marked_obs(markers + 1000 if isinstance(space, spaces.Box) else markers + 1, space),
        markers % 5,
        markers * 10.0,
        markers % 3 == 0,
        markers % 4 == 0,
    )


def check_consistent(batch: ReplayBatch, space=BOX):
    """Every field of every row belongs to the same transition; returns the rows' markers."""
    if isinstance(space, spaces.Box):
        markers = batch.observations[:, 0].astype(np.int64)
        np.testing.assert_array_equal(batch.observations, marked_obs(markers))
        np.testing.assert_array_equal(batch.next_observations, marked_obs(markers + 1000))
    else:
        markers = batch.observations["code"]
        for key, expected in marked_obs(markers, space).items():
            np.testing.assert_array_equal(batch.observations[key], expected, err_msg=key)
            assert batch.observations[key].dtype == expected.dtype, key
        for key, expected in marked_obs(markers + 1, space).items():
            np.testing.assert_array_equal(batch.next_observations[key], expected, err_msg=key)
    np.testing.assert_array_equal(batch.actions, markers % 5)
    np.testing.assert_array_equal(batch.rewards, markers * 10.0)
    np.testing.assert_array_equal(batch.terminated, (markers % 3 == 0).astype(np.float32))
    np.testing.assert_array_equal(batch.truncated, (markers % 4 == 0).astype(np.float32))
    return markers


def test_ring_wraps_and_drops_the_oldest_transitions_exactly():
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=5, seed=0)
    for marker in range(1, 6):
        add_marked(buffer, marker)
    assert len(buffer) == 5 and buffer.full and buffer.pos == 0
    for marker in range(6, 9):  # capacity + 3 adds: 1, 2, 3 are gone
        add_marked(buffer, marker)
    assert len(buffer) == 5 and buffer.full and buffer.pos == 3
    # Slots 0..2 were overwritten by 6, 7, 8; slots 3, 4 still hold 4, 5.
    np.testing.assert_array_equal(check_consistent(buffer.get(np.arange(5))), [6, 7, 8, 4, 5])
    sampled = check_consistent(buffer.sample(500))
    assert set(sampled) == {4, 5, 6, 7, 8}


def test_sampling_never_returns_unwritten_slots():
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=100, seed=1)
    for marker in range(1, 8):  # slots 7..99 still hold zeros (marker 0 would be garbage)
        add_marked(buffer, marker)
    assert len(buffer) == 7 and not buffer.full
    sampled = check_consistent(buffer.sample(2000))
    assert set(sampled) == set(range(1, 8))
    counts = np.bincount(sampled, minlength=8)[1:]
    assert counts.min() > 2000 / 7 * 0.75  # roughly uniform
    with pytest.raises(ValueError, match="indices"):
        buffer.get([7])


def test_sampling_is_reproducible_with_the_same_seed():
    def filled(seed):
        buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=50, seed=seed)
        for marker in range(1, 31):
            add_marked(buffer, marker)
        return buffer

    first, second, other = filled(7), filled(7), filled(8)
    for _ in range(3):
        a, b = first.sample(64), second.sample(64)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first.sample(64).rewards, other.sample(64).rewards)
    # A generator passed in is used instead of the buffer's own (which is left untouched).
    state = first.rng.bit_generator.state
    np.testing.assert_array_equal(
        first.sample(32, rng=np.random.default_rng(3)).rewards, second.sample(32, rng=np.random.default_rng(3)).rewards
    )
    assert first.rng.bit_generator.state == state


def test_terminated_and_truncated_are_stored_apart():
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=16, seed=0)
    flags = [(False, False), (True, False), (False, True), (True, True)]
    for marker, (terminated, truncated) in enumerate(flags):
        buffer.add(marked_obs(marker), marked_obs(marker), 0, 0.0, terminated, truncated)
    batch = buffer.get(np.arange(4))
    np.testing.assert_array_equal(batch.terminated, [0, 1, 0, 1])
    np.testing.assert_array_equal(batch.truncated, [0, 0, 1, 1])
    assert batch.terminated.dtype == batch.truncated.dtype == np.float32


def test_vector_batches_interleave_in_one_ring():
    n_envs, capacity = 3, 7  # capacity not a multiple of n_envs: a batch splits across the wrap
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=capacity, n_envs=n_envs, seed=0)
    added = []
    for step in range(4):
        markers = np.array([10 * (step + 1) + env for env in range(n_envs)])
        add_marked(buffer, markers)
        added.extend(markers)
    assert len(buffer) == capacity and buffer.full and buffer.pos == 12 % capacity
    slots = np.full(capacity, -1)
    for t, marker in enumerate(added):  # transition t of the stream goes to slot t % capacity
        slots[t % capacity] = marker
    np.testing.assert_array_equal(check_consistent(buffer.get(np.arange(capacity))), slots)
    assert set(slots) == set(added[-capacity:])


def test_single_env_accepts_unbatched_and_batched_transitions_alike():
    one = ReplayBuffer(DICT, spaces.Box(-1, 1, (2,), np.float32), capacity=4, seed=0)
    two = ReplayBuffer(DICT, spaces.Box(-1, 1, (2,), np.float32), capacity=4, seed=0)
    obs = marked_obs(np.int64(5), DICT)
    one.add(obs, obs, np.array([0.5, -0.5]), 1.0, True, False)
    two.add({k: v[None] for k, v in obs.items()}, {k: v[None] for k, v in obs.items()}, [[0.5, -0.5]], [1.0], [True], [False])
    a, b = one.get([0]), two.get([0])
    for key in obs:
        np.testing.assert_array_equal(a.observations[key], b.observations[key])
    np.testing.assert_array_equal(a.actions, [[0.5, -0.5]])
    assert a.actions.dtype == np.float32
    np.testing.assert_array_equal(a.actions, b.actions)


def test_dict_observations_round_trip_with_their_dtypes():
    buffer = ReplayBuffer(DICT, spaces.Discrete(5), capacity=32, n_envs=2, seed=0)
    for step in range(5):
        add_marked(buffer, np.array([2 * step + 1, 2 * step + 2]), DICT)
    markers = check_consistent(buffer.get(np.arange(10)), DICT)
    np.testing.assert_array_equal(markers, np.arange(1, 11))
    assert set(check_consistent(buffer.sample(300), DICT)) == set(range(1, 11))


def test_real_short_video_dict_observations_round_trip():
    env = gym.make("RecGym-ShortVideo-v0", observation_mode="dict", **SMALL_WORLD)
    buffer = ReplayBuffer(env.observation_space, env.action_space, capacity=64, seed=0)
    obs, _ = env.reset(seed=3)
    seen = []
    for action in np.random.default_rng(0).integers(0, env.action_space.n, size=20):
        next_obs, reward, terminated, truncated, _ = env.step(int(action))
        buffer.add(obs, next_obs, action, reward, terminated, truncated)
        seen.append((obs, int(action), reward, next_obs))
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
    stored = buffer.get(np.arange(len(seen)))
    for row, (obs, action, reward, next_obs) in enumerate(seen):
        for key, space in env.observation_space.spaces.items():
            np.testing.assert_array_equal(stored.observations[key][row], obs[key], err_msg=key)
            np.testing.assert_array_equal(stored.next_observations[key][row], next_obs[key], err_msg=key)
            assert stored.observations[key].dtype == space.dtype, key
        assert stored.actions[row] == action and stored.rewards[row] == np.float32(reward)


@pytest.mark.parametrize("space", [BOX, DICT], ids=["box", "dict"])
@pytest.mark.parametrize("n_added", [13, 45], ids=["partial", "wrapped"])
def test_save_load_round_trip_is_exact_and_continues_identically(tmp_path, space, n_added):
    buffer = ReplayBuffer(space, spaces.Discrete(5), capacity=30, n_envs=3, seed=11)
    for step in range(n_added // 3):
        add_marked(buffer, np.arange(3) + 3 * step + 1, space)
    buffer.sample(10)  # advance the generator: the saved state must be the current one
    path = buffer.save(tmp_path / "buffer.npz")
    loaded = ReplayBuffer.load(path)
    assert (len(loaded), loaded.pos, loaded.full, loaded.capacity, loaded.n_envs) == (
        len(buffer),
        buffer.pos,
        buffer.full,
        buffer.capacity,
        buffer.n_envs,
    )
    assert loaded.observation_space == buffer.observation_space and loaded.action_space == buffer.action_space
    assert check_consistent(loaded.get(np.arange(len(loaded))), space).tolist() == (
        check_consistent(buffer.get(np.arange(len(buffer))), space).tolist()
    )
    for step in range(3):  # same next samples, also after more adds (which wrap)
        np.testing.assert_array_equal(loaded.sample(16).rewards, buffer.sample(16).rewards)
        for target in (buffer, loaded):
            add_marked(target, np.arange(3) + 500 + 3 * step, space)
    np.testing.assert_array_equal(
        check_consistent(loaded.get(np.arange(len(loaded))), space), check_consistent(buffer.get(np.arange(len(buffer))), space)
    )


def test_save_refuses_to_overwrite_unless_asked(tmp_path):
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=8, seed=0)
    add_marked(buffer, 1)
    path = buffer.save(tmp_path / "buffer.npz")
    before = path.read_bytes()
    add_marked(buffer, 2)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        buffer.save(path)
    assert path.read_bytes() == before
    buffer.save(path, overwrite=True)
    assert len(ReplayBuffer.load(path)) == 2
    # The path is used as given: no ".npz" appended.
    assert buffer.save(tmp_path / "plain").name == "plain" and (tmp_path / "plain").exists()


@pytest.mark.parametrize("capacity", [0, -3, 2.5, True, "10"])
def test_bad_capacity_is_rejected(capacity):
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(BOX, spaces.Discrete(5), capacity=capacity)


def test_bad_construction_arguments_are_rejected():
    with pytest.raises(ValueError, match="n_envs"):
        ReplayBuffer(BOX, spaces.Discrete(5), capacity=8, n_envs=0)
    with pytest.raises(ValueError, match="capacity must be at least n_envs=4"):
        ReplayBuffer(BOX, spaces.Discrete(5), capacity=3, n_envs=4)
    with pytest.raises(ValueError, match=r"capacity=\d+ needs \d+ bytes"):
        ReplayBuffer(BOX, spaces.Discrete(5), capacity=10**14)
    unsupported = [
        spaces.Tuple([BOX]),
        spaces.Discrete(3),
        spaces.Dict({"nested": spaces.Dict({"x": BOX})}),
        spaces.Dict({"text": spaces.Text(5)}),
        spaces.Dict({}),
    ]
    for space in unsupported:
        with pytest.raises(ValueError, match="observation_space"):
            ReplayBuffer(space, spaces.Discrete(5), capacity=8)
    for action_space in (spaces.MultiDiscrete([2, 2]), spaces.MultiBinary(3), spaces.Tuple([spaces.Discrete(2)])):
        with pytest.raises(ValueError, match="action_space"):
            ReplayBuffer(BOX, action_space, capacity=8)


def test_add_rejects_wrong_shapes_and_leaves_the_buffer_unchanged():
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=8, n_envs=2, seed=0)
    obs, good = (
        np.zeros((2, 2)),
        {"actions": [0, 1], "rewards": [0.0, 0.0], "terminated": [False, False], "truncated": [False, False]},
    )
    cases = {
        "obs": dict(obs=np.zeros((3, 2)), next_obs=obs, **good),
        "next_obs": dict(obs=obs, next_obs=np.zeros(2), **good),
        "actions": dict(obs=obs, next_obs=obs, **(good | {"actions": [0]})),
        "rewards": dict(obs=obs, next_obs=obs, **(good | {"rewards": 1.0})),
        "terminated": dict(obs=obs, next_obs=obs, **(good | {"terminated": [[False], [False]]})),
        "truncated": dict(obs=obs, next_obs=obs, **(good | {"truncated": [False, False, False]})),
    }
    for name, kwargs in cases.items():
        with pytest.raises(ValueError, match=rf"^{name} must have shape"):
            buffer.add(**kwargs)
    # The last argument is the bad one, so everything before it was checked and nothing was written.
    assert len(buffer) == 0 and buffer.pos == 0

    dict_buffer = ReplayBuffer(DICT, spaces.Discrete(5), capacity=8, seed=0)
    obs = marked_obs(np.int64(1), DICT)
    with pytest.raises(ValueError, match=r"missing \['flags'\]"):
        dict_buffer.add({k: v for k, v in obs.items() if k != "flags"}, obs, 0, 0.0, False, False)
    with pytest.raises(ValueError, match=r"obs\['codes'\] must have shape"):
        dict_buffer.add(obs | {"codes": np.zeros(3, np.int64)}, obs, 0, 0.0, False, False)
    with pytest.raises(ValueError, match="obs must be a dict"):
        dict_buffer.add(np.zeros(4), obs, 0, 0.0, False, False)
    assert len(dict_buffer) == 0


def test_sample_rejects_an_empty_buffer_and_bad_batch_sizes():
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=8, seed=0)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(4)
    add_marked(buffer, 1)
    for batch_size in (0, -1, 1.5):
        with pytest.raises(ValueError, match="batch_size"):
            buffer.sample(batch_size)


def test_to_torch_keeps_values_and_gives_float_flags():
    torch = pytest.importorskip("torch")
    buffer = ReplayBuffer(DICT, spaces.Discrete(5), capacity=8, seed=0)
    add_marked(buffer, np.int64(3), DICT)
    batch = buffer.sample(4)
    tensors = to_torch(batch)
    assert tensors.observations["code"].dtype == torch.int64
    assert tensors.observations["x"].dtype == torch.float32
    assert tensors.actions.dtype == torch.int64
    assert tensors.terminated.dtype == tensors.truncated.dtype == tensors.rewards.dtype == torch.float32
    np.testing.assert_array_equal(tensors.observations["codes"].numpy(), batch.observations["codes"])
    np.testing.assert_array_equal((1 - tensors.terminated).numpy(), 1 - batch.terminated)


# ---------------------------------------------------------------------------------------------- extend
def stored(buffer):
    """Everything a buffer holds that sampling can see: its transitions in slot order, ``pos`` and ``full``."""
    return buffer.get(np.arange(len(buffer))), buffer.pos, buffer.full


def assert_same_contents(buffer, reference):
    (batch, pos, full), (expected, expected_pos, expected_full) = stored(buffer), stored(reference)
    assert (pos, full) == (expected_pos, expected_full)
    for name, value, want in zip(ReplayBatch._fields, batch, expected, strict=True):
        if isinstance(want, dict):
            assert value.keys() == want.keys(), name
            for key in want:
                np.testing.assert_array_equal(value[key], want[key], err_msg=f"{name}[{key}]")
                assert value[key].dtype == want[key].dtype, f"{name}[{key}]"
        else:
            np.testing.assert_array_equal(value, want, err_msg=name)
            assert value.dtype == want.dtype, name


def marked_rows(markers, space):
    """The six arguments of ``n`` marked transitions, batched."""
    markers = np.asarray(markers, dtype=np.int64)
    next_markers = markers + 1000 if isinstance(space, spaces.Box) else markers + 1
    return (marked_obs(markers, space), marked_obs(next_markers, space), markers % 5, markers * 10.0, markers % 3 == 0,
            markers % 4 == 0)  # fmt: skip


def row(arguments, i):
    return tuple({k: v[i] for k, v in a.items()} if isinstance(a, dict) else a[i] for a in arguments)


@pytest.mark.parametrize("space", [BOX, DICT], ids=["box", "dict"])
@pytest.mark.parametrize("n_envs", [1, 3])
def test_extend_stores_exactly_what_row_by_row_adds_would(space, n_envs):
    # Batch sizes cover empty batches, wrapping, a batch of exactly the capacity and batches larger than it.
    capacity = 7
    buffer = ReplayBuffer(space, spaces.Discrete(5), capacity=capacity, n_envs=n_envs, seed=0)
    reference = ReplayBuffer(space, spaces.Discrete(5), capacity=capacity, seed=0)
    marker = 1
    for size in (0, 3, 1, 5, 7, 0, 16, 2, 9, 4):
        arguments = marked_rows(np.arange(marker, marker + size), space)
        marker += size
        buffer.extend(*arguments)
        for i in range(size):
            reference.add(*row(arguments, i))
        assert_same_contents(buffer, reference)
    check_consistent(buffer.sample(200), space)


def test_extend_casts_values_as_add_does():
    # float64 observations, Python lists, integer flags and a Box action space: extend and add store the same values.
    action_space = spaces.Box(-1, 1, (2,), np.float32)
    buffer = ReplayBuffer(BOX, action_space, capacity=5, seed=0)
    reference = ReplayBuffer(BOX, action_space, capacity=5, seed=0)
    rng = np.random.default_rng(0)
    for size in (3, 4):
        arguments = (
            rng.normal(size=(size, 2)),
            rng.normal(size=(size, 2)).tolist(),
            rng.uniform(-1, 1, (size, 2)),
            rng.normal(size=size).tolist(),
            rng.integers(0, 2, size),
            [bool(flag) for flag in rng.integers(0, 2, size)],
        )
        buffer.extend(*arguments)
        for i in range(size):
            reference.add(*(np.asarray(a)[i] for a in arguments))
        assert_same_contents(buffer, reference)


def test_extend_rejects_bad_batches_and_leaves_the_buffer_unchanged():
    buffer = ReplayBuffer(BOX, spaces.Discrete(5), capacity=8, seed=0)
    reference = ReplayBuffer(BOX, spaces.Discrete(5), capacity=8, seed=0)
    add_marked(buffer, 1)
    add_marked(reference, 1)
    good = dict(zip(("obs", "next_obs", "actions", "rewards", "terminated", "truncated"), marked_rows([2, 3], BOX), strict=True))
    cases = {
        "obs": good | {"obs": np.zeros((2, 3))},
        "next_obs": good | {"next_obs": np.zeros((3, 2))},
        "actions": good | {"actions": [0]},
        "rewards": good | {"rewards": 1.0},
        "terminated": good | {"terminated": [[False], [False]]},
        "truncated": good | {"truncated": [False, False, False]},
    }
    for name, kwargs in cases.items():
        with pytest.raises(ValueError, match=rf"^{name} must have shape \(n, \*\(\d*,?\)\) with the same n = 2"):
            buffer.extend(**kwargs)
    with pytest.raises(ValueError, match="leading dimension"):
        buffer.extend(np.float32(1.0), *marked_rows([2], BOX)[1:])
    with pytest.raises(ValueError, match=r"^obs must have shape"):  # one unbatched observation is read as 2 rows of 1 value
        buffer.extend(np.zeros(2), *marked_rows([2, 3], BOX)[1:])
    assert_same_contents(buffer, reference)

    dict_buffer = ReplayBuffer(DICT, spaces.Discrete(5), capacity=8, seed=0)
    obs, *rest = marked_rows([1, 2], DICT)
    with pytest.raises(ValueError, match=r"missing \['flags'\]"):
        dict_buffer.extend({k: v for k, v in obs.items() if k != "flags"}, obs, *rest[1:])
    with pytest.raises(ValueError, match=r"obs\['codes'\] must have shape \(n, \*\(2,\)\) with the same n = 2"):
        dict_buffer.extend(obs | {"codes": np.zeros((3, 2), np.int64)}, *rest)
    with pytest.raises(ValueError, match="obs must be a dict"):
        dict_buffer.extend(np.zeros((2, 4)), *rest)
    assert len(dict_buffer) == 0 and dict_buffer.pos == 0
