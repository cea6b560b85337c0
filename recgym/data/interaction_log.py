"""The short-video interaction log as a pandas DataFrame, saved and loaded without losing anything."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from recgym.data.tables import format_of, save_frame
from recgym.simulators.short_video.config import ShortVideoConfig
from recgym.simulators.short_video.outcomes import LIKED, OUTCOME_NAMES, WATCHED

_NUMERIC_DTYPES = {
    "vid_id": "int32",
    "user_id": "int32",
    "session_id": "int64",
    "time_step": "int32",
    "timestamp": "float64",
    "session_length": "float64",
    "num_vids_session": "int32",
    "vid_num_views": "int64",
    "creator_id": "int64",
    "user_age": "int64",
    "interaction_score": "float64",
    "reward": "float64",
    "watch_seconds": "float64",
    "position": "int32",
    "from_history": "bool",
}


def _names(codes: np.ndarray, names: tuple[str, ...]) -> pd.Series:
    """Map codes to names; negative codes (no previous video) become missing."""
    lookup = np.array((*names, None), dtype=object)
    return pd.Series(lookup[np.where(codes < 0, len(names), codes)], dtype="str")


def interaction_frame(
    columns: Mapping[str, np.ndarray],
    *,
    config: ShortVideoConfig,
    video_category: np.ndarray,
    video_creator: np.ndarray,
    video_initial_views: np.ndarray,
    user_age: np.ndarray,
    user_gender: np.ndarray,
    user_location: np.ndarray,
    user_interests: np.ndarray,
    cf_score_table: np.ndarray,
) -> pd.DataFrame:
    """Build the seed's table from the stored log columns and the user and video attributes.

    Clocks, counters, the previous video and view counts are derived from the rows in order:
    a user's historical log counts as one block (``session_id`` -1), each later session as its own.

    Returns
    -------
    pandas.DataFrame
        One row per interaction: ``vid_id, user_id, session_id, time_step, action, timestamp,
        session_length, num_vids_session, vid_category, vid_num_views, creator_id, user_age,
        user_gender, user_loc, user_int_1 .. user_int_k, last_vid_category, last_action,
        interaction_score, reward, watch_seconds, position, from_history``. ``action`` is the
        user's response (watched/skipped/liked/session_end), as the seed names it; ``timestamp``
        is the user's total seconds on the platform after the interaction; ``vid_num_views`` the
        video's view count after it; names are strings, and ``last_*`` is missing at a session's
        first step.
    """
    users = columns["user_id"].astype(np.int64)
    videos = columns["vid_id"].astype(np.int64)
    outcomes = columns["action"].astype(np.int64)
    seconds = pd.Series(columns["watch_seconds"])
    viewed = pd.Series((outcomes == WATCHED) | (outcomes == LIKED)).astype(np.int32)
    by_session = [pd.Series(users), pd.Series(columns["session_id"])]
    categories = pd.Series(video_category[videos])
    frame = {
        "vid_id": columns["vid_id"],
        "user_id": columns["user_id"],
        "session_id": columns["session_id"],
        "time_step": columns["time_step"],
        "action": _names(outcomes, OUTCOME_NAMES),
        "timestamp": seconds.groupby(users).cumsum().to_numpy(),
        "session_length": seconds.groupby(by_session).cumsum().to_numpy(),
        "num_vids_session": viewed.groupby(by_session).cumsum().to_numpy(),
        "vid_category": _names(video_category[videos], config.categories),
        "vid_num_views": video_initial_views[videos] + pd.Series(videos).groupby(videos).cumcount().to_numpy() + 1,
        "creator_id": video_creator[videos],
        "user_age": user_age[users],
        "user_gender": _names(user_gender[users], config.genders),
        "user_loc": _names(user_location[users], config.locations),
    }
    for k in range(user_interests.shape[1]):
        frame[f"user_int_{k + 1}"] = _names(user_interests[users, k], config.categories)
    previous_category = categories.groupby(by_session).shift(1, fill_value=-1).to_numpy()
    previous_outcome = pd.Series(outcomes).groupby(by_session).shift(1, fill_value=-1).to_numpy()
    frame.update(
        {
            "last_vid_category": _names(previous_category, config.categories),
            "last_action": _names(previous_outcome, OUTCOME_NAMES),
            "interaction_score": cf_score_table[outcomes],
            "reward": config.reward_table()[outcomes],
            "watch_seconds": columns["watch_seconds"],
            "position": columns["position"],
            "from_history": columns["session_id"] == -1,
        }
    )
    return pd.DataFrame(frame).astype(_NUMERIC_DTYPES)


def save_interaction_log(frame: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False,
                         format: str | None = None) -> Path:
    """Write a log DataFrame to Parquet or CSV; see :func:`recgym.data.tables.save_frame` (never overwrites unless asked)."""
    return save_frame(frame, path, overwrite=overwrite, format=format)


def load_interaction_log(path: str | os.PathLike[str], *, format: str | None = None) -> pd.DataFrame:
    """Read a log written by :func:`save_interaction_log`, restoring its column dtypes."""
    path = Path(path)
    kind = format_of(path, format)
    if kind == "parquet":
        frame = pd.read_parquet(path)
    else:
        header = pd.read_csv(path, nrows=0).columns
        names = {c: "str" for c in header if c not in _NUMERIC_DTYPES}
        # Names are never empty, so only an empty field is missing: "NA", "None" or "01" stay names.
        frame = pd.read_csv(path, dtype=names, keep_default_na=False, na_values={c: [""] for c in names})
    names = [c for c in frame.columns if c not in _NUMERIC_DTYPES]
    return frame.astype({**{k: v for k, v in _NUMERIC_DTYPES.items() if k in frame}, **dict.fromkeys(names, "str")})
