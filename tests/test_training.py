"""The training loop (transitions across autoresets, callbacks, evaluation) and TensorBoard monitoring."""

import math
from collections import defaultdict

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from helpers import SMALL_RATINGS_WORLD, SMALL_WORLD
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.base import Agent
from agents.baselines import GreedyBusinessPolicy
from agents.dqn import DQN, DQNConfig
from agents.evaluation import run_sessions, summarise
from agents.oracle import RatingsOracle, ShortVideoOracle
from agents.tensorboard import TensorBoardCallback
from agents.training import Callback, evaluate, train


class Scripted(gym.Env):
    """Episodes of scripted lengths whose observations name them: ``(env_id, episode, t)``.

    Episode ``e`` lasts ``lengths[e % len(lengths)]`` steps and ends terminated or truncated as
    ``terminate`` says; step ``t`` (1-based) pays ``100 * e + t``. Info: ``regret`` 0.5,
    ``watch_seconds`` t, ``outcome`` watched on odd t and skipped on even t, ``video`` ``10 * e + t``.
    """

    def __init__(self, env_id=0, lengths=(3, 1, 4, 2, 5), terminate=(True, False, True, True, False)):
        self.env_id, self.lengths, self.terminate = env_id, lengths, terminate
        self.observation_space = spaces.Box(-1e6, 1e6, (3,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.episode = -1

    def _obs(self):
        return np.array([self.env_id, self.episode, self.t], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.episode = -1
        self.episode += 1
        self.t = 0
        return self._obs(), {"episode": self.episode}

    def step(self, action):
        self.t += 1
        k = self.episode % len(self.lengths)
        end = self.t >= self.lengths[k]
        terminated = end and self.terminate[k]
        info = {"regret": 0.5, "watch_seconds": float(self.t), "outcome": "watched" if self.t % 2 else "skipped"}
        info["video"] = 10 * self.episode + self.t
        return self._obs(), float(100 * self.episode + self.t), terminated, end and not terminated, info


def expected_episode(env: Scripted, episode: int):
    """The transitions ``(obs, next_obs, reward, terminated, truncated)`` of one scripted episode."""
    k = episode % len(env.lengths)
    length = env.lengths[k]
    rows = []
    for t in range(length):
        end = t + 1 == length
        rows.append(
            ((env.env_id, episode, t), (env.env_id, episode, t + 1), 100 * episode + t + 1, end and env.terminate[k],
             end and not env.terminate[k])
        )  # fmt: skip
    return rows


class Recorder(Agent):
    """Acts 0, records every observed transition, reports a fake loss every other update."""

    def __init__(self):
        self.rows = []
        self.num_timesteps = 0
        self.updates = 0

    def act(self, observations, *, deterministic=False):
        return np.zeros(len(observations), dtype=np.int64)

    def observe(self, observations, actions, rewards, next_observations, terminated, truncated):
        for i in range(len(actions)):
            key = tuple(int(x) for x in observations[i]), tuple(int(x) for x in next_observations[i])
            self.rows.append((*key, float(rewards[i]), bool(terminated[i]), bool(truncated[i])))
        self.num_timesteps += len(actions)

    def update(self):
        self.updates += 1
        return {"loss": 1.0} if self.updates % 2 == 0 else {}

    def save(self, path, *, overwrite=False):
        raise NotImplementedError

    @classmethod
    def load(cls, path, **overrides):
        raise NotImplementedError


class Collect(Callback):
    def __init__(self, stop_after=None):
        self.episodes, self.steps, self.updates, self.evals, self.ended = [], [], [], [], []
        self.stop_after, self.started = stop_after, None

    def on_start(self, run):
        self.started = run

    def on_step(self, step):
        self.steps.append(step)
        if self.stop_after is not None and step.run_steps >= self.stop_after:
            return False
        return None

    def on_episode_end(self, episode):
        self.episodes.append(episode)

    def on_update(self, metrics, num_timesteps):
        self.updates.append((dict(metrics), num_timesteps))

    def on_eval(self, result, num_timesteps):
        self.evals.append((result, num_timesteps))

    def on_end(self, result):
        self.ended.append(result)


SCRIPTS = [((3, 1, 4, 2, 5), (True, False, True, True, False)), ((2, 2, 6), (False, True, True)), ((1, 3), (True, True))]


def scripted_env(kind):
    if kind == "single":
        return Scripted(0, *SCRIPTS[0]), [Scripted(0, *SCRIPTS[0])]
    mode = {"next_step": AutoresetMode.NEXT_STEP, "same_step": AutoresetMode.SAME_STEP, "disabled": AutoresetMode.DISABLED}[kind]
    fns = [lambda i=i: Scripted(i, *SCRIPTS[i]) for i in range(3)]
    return gym.vector.SyncVectorEnv(fns, autoreset_mode=mode), [Scripted(i, *SCRIPTS[i]) for i in range(3)]


# ---------------------------------------------------------------------------------------------- transitions
@pytest.mark.parametrize("kind", ["single", "next_step", "same_step", "disabled"])
def test_loop_stores_exactly_the_real_transitions_across_autoresets(kind):
    env, references = scripted_env(kind)
    agent, collect = Recorder(), Collect()
    result = train(agent, env, 60, seed=0, callbacks=[collect], progress_bar=False)

    stored = defaultdict(list)
    for row in agent.rows:
        stored[row[0][0]].append(row)
    for reference in references:
        rows = stored[reference.env_id]
        episodes = max(row[0][1] for row in rows)
        expected = [row for e in range(episodes + 1) for row in expected_episode(reference, e)]
        # Every stored transition is a real one, in order, with no reset step and nothing missing
        # (the last episode may be cut by the step budget).
        assert rows == expected[: len(rows)]
        assert len(expected) - len(rows) < reference.lengths[episodes % len(reference.lengths)]
    assert result.num_timesteps == agent.num_timesteps == len(agent.rows) >= 60

    # Episode records: returns, lengths and end kinds of every finished episode.
    finished = defaultdict(int)
    for record in collect.episodes:
        reference = references[record.env_index]
        e = finished[record.env_index]
        finished[record.env_index] += 1
        transitions = expected_episode(reference, e)
        assert record.length == len(transitions)
        assert record.episode_return == sum(row[2] for row in transitions)
        assert record.terminated == transitions[-1][3]
        assert record.info["video"] == 10 * e + len(transitions)  # the final step's info
    np.testing.assert_array_equal(result.episode_returns, [r.episode_return for r in collect.episodes])

    # Step records describe the transitions: the info of every valid row is that transition's.
    shown = [(s.infos["video"], s.valid & s.infos["_video"]) for s in collect.steps if "video" in s.infos]
    videos = sorted(int(v) for ids, mask in shown for v in ids[mask])
    assert videos == sorted(10 * row[0][1] + row[0][2] + 1 for row in agent.rows)
    assert sum(int(s.valid.sum()) for s in collect.steps) == len(agent.rows)
    assert collect.updates == [({"loss": 1.0}, collect.steps[i].num_timesteps) for i in range(1, len(collect.steps), 2)]
    assert collect.ended == [result] and collect.started.total_steps == 60


def test_next_step_reset_rows_are_marked_invalid():
    env, _ = scripted_env("next_step")
    collect = Collect()
    train(Recorder(), env, 30, seed=0, callbacks=[collect], progress_bar=False)
    for before, after in zip(collect.steps, collect.steps[1:], strict=False):
        ended = (before.terminated | before.truncated) & before.valid
        np.testing.assert_array_equal(after.valid, ~ended)


def test_loop_on_the_native_short_video_vector_env_never_stores_a_reset_step():
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=4, vectorization_mode="vector_entry_point", max_steps=5, **SMALL_WORLD)
    layout = env.unwrapped.observation_layout
    steps = layout["session"].flat_slice.start  # session[0]: steps taken in the session

    class RecordingDQN(DQN):
        def observe(self, observations, actions, rewards, next_observations, terminated, truncated):
            self.seen = [*getattr(self, "seen", []), (observations[:, steps].copy(), next_observations[:, steps].copy(),
                                                      terminated.copy(), truncated.copy())]  # fmt: skip
            super().observe(observations, actions, rewards, next_observations, terminated, truncated)

    agent = RecordingDQN.for_env(env, DQNConfig(learning_starts=50, batch_size=16, exploration_steps=100, seed=0))
    result = train(agent, env, 300, seed=0, progress_bar=False)
    before = np.concatenate([s[0] for s in agent.seen])
    after = np.concatenate([s[1] for s in agent.seen])
    truncated = np.concatenate([s[3] for s in agent.seen])
    np.testing.assert_array_equal(after, before + 1)  # a reset step would go from the final count to 0
    assert truncated.any() and np.all(after[truncated] == 5)  # truncation keeps the final observation
    assert len(before) == agent.num_timesteps == len(agent.replay_buffer) == result.num_timesteps


def test_the_eval_env_must_not_be_the_training_env():
    env = Scripted()
    with pytest.raises(ValueError, match="eval_env"):
        train(Recorder(), env, 10, eval_env=env, progress_bar=False)


def test_a_callback_can_stop_training_early():
    collect = Collect(stop_after=10)
    result = train(Recorder(), Scripted(), 1_000, callbacks=[collect], progress_bar=False)
    assert result.stopped_early and result.num_timesteps == 10 and collect.ended == [result]


def test_periodic_evaluation_runs_on_schedule_with_exact_results():
    env, _ = scripted_env("next_step")
    collect = Collect()
    result = train(
        Recorder(), env, 30, seed=0, callbacks=[collect], eval_env=Scripted(0, *SCRIPTS[0]), eval_every=10, eval_episodes=3,
        progress_bar=False,
    )  # fmt: skip
    steps = [num_timesteps for _, num_timesteps in collect.evals]
    assert len(steps) == 3 and steps == [step for step, _ in result.evaluations] and steps[-1] == result.num_timesteps
    counts = [step.num_timesteps for step in collect.steps]
    assert steps == [next(count for count in counts if count >= due) for due in (10, 20, 30)]  # first step past each multiple
    for evaluation, _ in collect.evals:  # episodes of length 3, 1 and 4 of the first script: same world every time
        np.testing.assert_array_equal(evaluation.returns, [1 + 2 + 3, 101, 4 * 200 + 1 + 2 + 3 + 4])


# ---------------------------------------------------------------------------------------------- evaluate
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_evaluate_counts_the_first_episodes_to_start_and_averages_info_metrics(mode):
    env = gym.vector.SyncVectorEnv(
        [lambda: Scripted(0, (3, 1, 4), (True, True, True)), lambda: Scripted(1, (2, 2, 2), (True, False, True))],
        autoreset_mode=mode,
    )
    result = evaluate(lambda observations: np.zeros(len(observations), np.int64), env, episodes=4, seed=0)
    # Start order: env0 ep0, env1 ep0, then env1 ep1 (env1 ends first), then env0 ep1.
    np.testing.assert_array_equal(result.returns, [6.0, 3.0, 203.0, 101.0])
    np.testing.assert_array_equal(result.lengths, [3, 2, 2, 1])
    assert result.mean_return == 78.25 and result.std_return == pytest.approx(np.std([6, 3, 203, 101]))
    assert result.metrics == pytest.approx(
        {"regret": 0.5, "watch_seconds": 13 / 8, "watch_rate": 5 / 8, "skip_rate": 3 / 8, "like_rate": 0.0, "end_rate": 0.0,
         "distinct_items": 5.0}
    )  # fmt: skip


def test_evaluate_matches_run_sessions_on_the_short_video_env():
    result = evaluate(GreedyBusinessPolicy, "RecGym-ShortVideo-v0", episodes=60, seed=3, num_envs=8, **SMALL_WORLD)
    played = run_sessions("RecGym-ShortVideo-v0", GreedyBusinessPolicy, sessions=60, seed=3, num_envs=8, **SMALL_WORLD)
    sessions = summarise(played)
    assert result.mean_return == pytest.approx(sessions["mean_return"])
    assert result.mean_length == pytest.approx(sessions["mean_steps"])
    assert result.metrics["watch_seconds"] == pytest.approx(played["watch_seconds"].sum() / played["steps"].sum())
    assert result.metrics["watch_rate"] == pytest.approx(sessions["watched_rate"])
    assert 0 < result.metrics["coverage"] <= 1


def test_oracles_beat_the_baselines_on_their_own_ground_truth():
    oracle = evaluate(ShortVideoOracle, "RecGym-ShortVideo-v0", episodes=300, seed=0, num_envs=16, **SMALL_WORLD)
    greedy = evaluate(GreedyBusinessPolicy, "RecGym-ShortVideo-v0", episodes=300, seed=0, num_envs=16, **SMALL_WORLD)
    assert oracle.mean_return > greedy.mean_return
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    env.reset(seed=0)
    oracle_policy = ShortVideoOracle(env)
    expected = oracle_policy.expected_rewards()
    assert expected.shape == (1, env.action_space.n) and oracle_policy.act()[0] == expected.argmax()
    ratings = evaluate(RatingsOracle, "RecGym-Ratings-v0", episodes=4, seed=0, num_envs=2, **SMALL_RATINGS_WORLD)
    assert ratings.metrics["regret"] == 0.0


def test_evaluate_pools_several_worlds():
    def run(seed):
        return evaluate(GreedyBusinessPolicy, "RecGym-ShortVideo-v0", episodes=20, seed=seed, num_envs=4, **SMALL_WORLD)

    seeds, pooled = [run(1), run(2)], run([1, 2])
    np.testing.assert_array_equal(pooled.returns, np.concatenate([r.returns for r in seeds]))
    assert pooled.episodes == 40
    assert pooled.metrics["watch_rate"] == pytest.approx(np.mean([r.metrics["watch_rate"] for r in seeds]))


# ---------------------------------------------------------------------------------------------- TensorBoard
def read_scalars(logdir, skip=()):
    files = [file for file in logdir.glob("events.out.tfevents.*") if file not in skip]
    assert len(files) == 1
    accumulator = EventAccumulator(str(files[0]), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [event.value for event in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def test_tensorboard_event_files_hold_the_listed_scalars(tmp_path):
    logdir = tmp_path / "run"
    logdir.mkdir()
    keep = logdir / "events.out.tfevents.earlier"
    keep.write_bytes(b"an earlier run")
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=4, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    agent = DQN.for_env(env, DQNConfig(learning_starts=100, batch_size=16, exploration_steps=300, hidden_sizes=(16,), seed=0))
    callback = TensorBoardCallback(logdir, log_every=100)
    eval_env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=4, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    train(agent, env, 400, seed=0, callbacks=[callback], eval_env=eval_env, eval_every=200, eval_episodes=8, progress_bar=False)
    scalars = read_scalars(logdir, skip=[keep])
    for tag in (
        "rollout/episode_return", "rollout/episode_length", "train/loss", "train/q_mean", "rollout/epsilon",
        "rollout/watch_seconds", "rollout/watch_rate", "rollout/like_rate", "rollout/skip_rate", "rollout/coverage",
        "eval/mean_return", "eval/std_return", "time/steps_per_second",
    ):  # fmt: skip
        assert tag in scalars, tag
        assert scalars[tag] and all(math.isfinite(value) for value in scalars[tag]), tag
    assert len(scalars["rollout/episode_return"]) >= 4
    assert scalars["rollout/epsilon"] == sorted(scalars["rollout/epsilon"], reverse=True)
    assert all(0 < value <= 1 for value in scalars["rollout/coverage"])
    assert keep.read_bytes() == b"an earlier run"  # an existing file is never touched

    second = TensorBoardCallback(logdir, log_every=100)
    train(Recorder(), Scripted(), 5, callbacks=[second], progress_bar=False)
    assert len(list(logdir.glob("events.out.tfevents.*"))) == 3


def test_tensorboard_logs_regret_on_a_ratings_env(tmp_path):
    env = gym.make_vec("RecGym-Ratings-v0", num_envs=2, vectorization_mode="vector_entry_point", **SMALL_RATINGS_WORLD)
    agent = DQN.for_env(env, DQNConfig(learning_starts=20, batch_size=8, exploration_steps=50, hidden_sizes=(8,), seed=0))
    train(agent, env, 60, seed=0, callbacks=[TensorBoardCallback(tmp_path, log_every=20)], progress_bar=False)
    scalars = read_scalars(tmp_path)
    assert scalars["rollout/regret"] and all(math.isfinite(v) and v >= 0 for v in scalars["rollout/regret"])
    assert "rollout/coverage" in scalars and "rollout/episode_return" in scalars
