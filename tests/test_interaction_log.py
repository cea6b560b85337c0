"""The interaction log: one row per historical interaction and per step, the seed's columns derived correctly,
and an exact round trip through Parquet and CSV that never overwrites a file unless asked."""

import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from helpers import DEFAULT_REWARDS, SMALL_WORLD

from recgym.data import load_interaction_log

SEED_COLUMNS = [
    "vid_id", "user_id", "session_id", "action", "timestamp", "vid_category", "vid_num_views", "user_age",
    "user_gender", "user_loc", "user_int_1", "user_int_2", "interaction_score",
]
EXTRA_COLUMNS = [
    "time_step", "num_vids_session", "session_length", "last_vid_category", "last_action", "reward", "watch_seconds",
    "creator_id", "position", "from_history",
]


def play(env, n_steps, seed=0, action_seed=0):
    """Random actions; returns (actions, rewards, infos) of every step, resetting after each episode."""
    rng = np.random.default_rng(action_seed)
    env.reset(seed=seed)
    actions, rewards, infos = [], [], []
    for _ in range(n_steps):
        action = int(rng.integers(10))
        _, reward, terminated, truncated, info = env.step(action)
        actions.append(action)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            env.reset()
    return actions, rewards, infos


@pytest.fixture(scope="module")
def played():
    env = gym.make("RecGym-ShortVideoFatigue-v0", **SMALL_WORLD)
    env.reset(seed=31)
    history_length = len(env.unwrapped.interaction_log())
    actions, rewards, infos = play(env, 400, seed=31)
    return env, history_length, actions, rewards, infos, env.unwrapped.interaction_log()


def test_log_length_is_history_plus_steps_taken(played):
    _, history_length, actions, _, _, log = played
    assert len(log) == history_length + len(actions)
    history = log[log["from_history"]]
    assert len(history) == history_length
    assert history.index.max() < history_length  # the history comes first
    assert (history["session_id"] == -1).all() and (history["position"] == -1).all()
    steps = log[~log["from_history"]]
    assert (steps["session_id"] >= 0).all()
    # SPEC §1: round(max(5, Normal(30, 10))) historical interactions per user.
    per_user = history.groupby("user_id").size()
    assert per_user.index.tolist() == list(range(SMALL_WORLD["n_users"]))
    assert per_user.min() >= 5
    assert 20 <= per_user.mean() <= 40


def test_log_has_the_seed_columns_and_more(played):
    log = played[-1]
    for column in SEED_COLUMNS + EXTRA_COLUMNS:
        assert column in log.columns, column
    assert set(log["action"]) == {"watched", "skipped", "liked", "session_end"}
    assert set(log.loc[log["from_history"], "action"]) == {"watched", "skipped", "liked"}


def test_step_rows_match_the_actions_rewards_and_infos(played):
    _, _, actions, rewards, infos, log = played
    steps = log[~log["from_history"]]
    np.testing.assert_array_equal(steps["position"].to_numpy(), actions)
    np.testing.assert_array_equal(steps["reward"].to_numpy(), rewards)
    np.testing.assert_array_equal(steps["action"].to_numpy(), [i["outcome"] for i in infos])
    np.testing.assert_array_equal(steps["vid_id"].to_numpy(), [i["video"] for i in infos])
    np.testing.assert_array_equal(steps["user_id"].to_numpy(), [i["user"] for i in infos])
    np.testing.assert_array_equal(steps["session_id"].to_numpy(), [i["session_id"] for i in infos])
    np.testing.assert_array_equal(steps["watch_seconds"].to_numpy(), [i["watch_seconds"] for i in infos])
    np.testing.assert_allclose(steps["session_length"].to_numpy(), [i["session_watch_seconds"] for i in infos], atol=1e-9)
    np.testing.assert_array_equal(steps["num_vids_session"].to_numpy(), [i["session_videos_watched"] for i in infos])
    np.testing.assert_array_equal(steps["time_step"].to_numpy(), [i["session_steps"] - 1 for i in infos])
    np.testing.assert_array_equal(steps["reward"].to_numpy(), steps["action"].map(DEFAULT_REWARDS).to_numpy())


def test_derived_columns_follow_from_the_rows_in_order(played):
    env, _, _, _, _, log = played
    simulator = env.unwrapped.core.simulator
    config = env.unwrapped.core.config
    seconds = log["watch_seconds"].to_numpy()
    viewed = log["action"].isin(["watched", "liked"]).to_numpy()
    # Plain loops over the rows as the reference.
    user_clock, session_clock, session_views, session_steps, previous = {}, {}, {}, {}, {}
    view_counts = simulator.videos.initial_views.copy()
    for row, user, session, video, category, action in zip(
        range(len(log)), log["user_id"], log["session_id"], log["vid_id"], log["vid_category"], log["action"], strict=True
    ):
        key = (user, session)
        user_clock[user] = user_clock.get(user, 0.0) + seconds[row]
        session_clock[key] = session_clock.get(key, 0.0) + seconds[row]
        session_views[key] = session_views.get(key, 0) + viewed[row]
        view_counts[video] += 1
        assert log.at[row, "timestamp"] == pytest.approx(user_clock[user], abs=1e-7)
        assert log.at[row, "session_length"] == pytest.approx(session_clock[key], abs=1e-7)
        assert log.at[row, "num_vids_session"] == session_views[key]
        assert log.at[row, "time_step"] == session_steps.get(key, 0)
        assert log.at[row, "vid_num_views"] == view_counts[video]
        last_category, last_action = previous.get(key, (None, None))
        if last_category is None:
            assert pd.isna(log.at[row, "last_vid_category"]) and pd.isna(log.at[row, "last_action"])
        else:
            assert (log.at[row, "last_vid_category"], log.at[row, "last_action"]) == (last_category, last_action)
        previous[key] = (category, action)
        session_steps[key] = session_steps.get(key, 0) + 1
    # The last row of each video carries its current view count; unlogged videos keep their initial count.
    np.testing.assert_array_equal(view_counts, simulator.videos.views)
    last_rows = log.groupby("vid_id").tail(1)
    np.testing.assert_array_equal(last_rows["vid_num_views"].to_numpy(), simulator.videos.views[last_rows["vid_id"]])
    # Static attributes.
    users, videos = log["user_id"].to_numpy(), log["vid_id"].to_numpy()
    people = simulator.users
    np.testing.assert_array_equal(log["user_age"].to_numpy(), people.age[users])
    np.testing.assert_array_equal(log["user_gender"].to_numpy(), np.array(config.genders)[people.gender[users]])
    np.testing.assert_array_equal(log["user_loc"].to_numpy(), np.array(config.locations)[people.location[users]])
    for k in range(config.n_interests):
        np.testing.assert_array_equal(log[f"user_int_{k + 1}"].to_numpy(),
                                      np.array(config.categories)[people.interests[users, k]])
    np.testing.assert_array_equal(log["vid_category"].to_numpy(),
                                  np.array(config.categories)[simulator.videos.category[videos]])
    np.testing.assert_array_equal(log["creator_id"].to_numpy(), simulator.videos.creator[videos])
    np.testing.assert_array_equal(log["interaction_score"].to_numpy(),
                                  log["action"].map({"liked": 2.0, "watched": 1.0, "skipped": -2.0,
                                                     "session_end": -0.5}).to_numpy())


def test_vector_env_log_counts_every_stepped_env_but_not_reset_steps():
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=6, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    env.reset(seed=2)
    history_length = len(env.unwrapped.interaction_log())
    rng = np.random.default_rng(0)
    stepped = 0
    for _ in range(80):
        _, _, _, _, info = env.step(rng.integers(0, 10, size=6))
        stepped += int(info.get("_outcome", np.zeros(6, dtype=bool)).sum())
    log = env.unwrapped.interaction_log()
    assert len(log) == history_length + stepped
    assert stepped > 300


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_save_and_load_round_trip_exactly(played, tmp_path, suffix):
    env, *_, log = played
    path = env.unwrapped.save_interaction_log(tmp_path / f"log{suffix}")
    assert path == tmp_path / f"log{suffix}"
    loaded = load_interaction_log(path)
    pd.testing.assert_frame_equal(loaded, log)
    assert sorted(os.listdir(tmp_path)) == [f"log{suffix}"]  # no temporary file left behind


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_vector_env_log_round_trips(tmp_path, suffix):
    env = gym.make_vec("RecGym-ShortVideo-v0", num_envs=3, vectorization_mode="vector_entry_point", **SMALL_WORLD)
    env.reset(seed=1)
    for _ in range(30):
        env.step(np.zeros(3, dtype=np.int64))
    path = env.unwrapped.save_interaction_log(tmp_path / f"vector{suffix}")
    pd.testing.assert_frame_equal(load_interaction_log(path), env.unwrapped.interaction_log())


def test_saving_onto_an_existing_file_raises_and_leaves_it_untouched(played, tmp_path):
    env, *_, log = played
    for name in ("existing.csv", "existing.parquet"):
        path = tmp_path / name
        path.write_bytes(b"precious")
        with pytest.raises(FileExistsError, match="overwrite=True"):
            env.unwrapped.save_interaction_log(path)
        assert path.read_bytes() == b"precious"
        env.unwrapped.save_interaction_log(path, overwrite=True)
        pd.testing.assert_frame_equal(load_interaction_log(path), log)
    assert sorted(os.listdir(tmp_path)) == ["existing.csv", "existing.parquet"]


def test_format_is_chosen_by_suffix_or_argument(played, tmp_path):
    env, *_, log = played
    with pytest.raises(ValueError, match=r"\.txt"):
        env.unwrapped.save_interaction_log(tmp_path / "log.txt")
    with pytest.raises(ValueError, match="'xlsx'"):
        env.unwrapped.save_interaction_log(tmp_path / "log.csv", format="xlsx")
    assert not any(tmp_path.iterdir())
    path = env.unwrapped.save_interaction_log(tmp_path / "log.dat", format="csv")
    assert path.read_text().splitlines()[0].split(",")[:3] == list(log.columns[:3])
    pd.testing.assert_frame_equal(load_interaction_log(path, format="csv"), log)
    path = env.unwrapped.save_interaction_log(tmp_path / "log.bin", format="parquet")
    assert path.read_bytes()[:4] == b"PAR1"
    pd.testing.assert_frame_equal(load_interaction_log(path, format="parquet"), log)


def test_csv_round_trip_keeps_names_that_look_like_missing_values_or_numbers(tmp_path):
    env = gym.make("RecGym-ShortVideo-v0", genders=("m", "f", "NA"), locations=("None", "02", "east"),
                   location_effects={}, **SMALL_WORLD)
    env.reset(seed=0)
    log = env.unwrapped.interaction_log()
    assert {"NA", "m", "f"} <= set(log["user_gender"]) and {"None", "02"} <= set(log["user_loc"])
    path = env.unwrapped.save_interaction_log(tmp_path / "log.csv")
    pd.testing.assert_frame_equal(load_interaction_log(path), log)


def test_large_max_steps_does_not_preallocate_a_huge_log():
    # In a child process capped at 4 GiB of address space, so the outcome does not depend on the
    # machine's memory overcommit policy.
    code = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "import gymnasium as gym, recgym\n"
        "env = gym.make('RecGym-ShortVideo-v0', max_steps=10**9, n_users=30, n_videos=200)\n"
        "env.reset(seed=0)\n"
        "_, _, _, truncated, _ = env.step(0)\n"
        "assert not truncated\n"
    )
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]


def test_saved_log_has_a_normal_file_mode(tmp_path):
    env = gym.make("RecGym-ShortVideo-v0", **SMALL_WORLD)
    env.reset(seed=0)
    mask = os.umask(0o022)
    try:
        path = env.unwrapped.save_interaction_log(tmp_path / "log.parquet")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644
