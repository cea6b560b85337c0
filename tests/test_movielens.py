"""Reading MovieLens-format rating logs, reindexing them, and the real MovieLens-100K log inside recbole.

The real log is research-use-only data (GroupLens terms): it is read where recbole installs it and
nothing derived from it is written anywhere.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import real_log_path

from recgym.data import RatingLog, movielens_100k_path, read_ratings, reindex_ratings

FORMATS = ("csv", "udata", "recbole")
RECBOLE_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"



def small_log(seed: int = 0, n: int = 60) -> pd.DataFrame:
    """A small log with sparse, unsorted integer ids, half-star ratings and one repeated (user, item) pair."""
    rng = np.random.default_rng(seed)
    users = rng.choice([3, 10, 42, 7, 1001, 55], size=n)
    items = rng.choice(np.arange(5, 500, 17), size=n)
    frame = pd.DataFrame({
        "user_id": users.astype(np.int64),
        "item_id": items.astype(np.int64),
        "rating": rng.integers(1, 11, size=n) / 2.0,
        "timestamp": rng.integers(874_724_710, 893_286_638, size=n).astype(np.int64),
    })
    frame.loc[n - 1, ["user_id", "item_id"]] = frame.loc[0, ["user_id", "item_id"]].to_numpy()
    return frame


def write_log(frame: pd.DataFrame, path: Path, format: str) -> Path:
    """Write ``frame`` in one of the three formats (independently of the reader)."""
    rows = ["\t".join(str(v) for v in row) if format != "csv" else ",".join(str(v) for v in row)
            for row in frame[["user_id", "item_id", "rating", "timestamp"]].itertuples(index=False)]
    header = {"csv": ["userId,movieId,rating,timestamp"], "udata": [], "recbole": [RECBOLE_HEADER]}[format]
    path.write_text("\n".join(header + rows) + "\n")
    return path


def write_text(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("explicit", [True, False])
def test_round_trip(tmp_path, format, explicit):
    frame = small_log()
    name = {"csv": "ratings.csv", "udata": "u.data", "recbole": "log.inter"}[format]
    path = write_log(frame, tmp_path / name, format)
    read = read_ratings(path, format=format if explicit else None)
    pd.testing.assert_frame_equal(read, frame)
    assert list(read.dtypes) == [np.int64, np.int64, np.float64, np.int64]


@pytest.mark.parametrize("format", FORMATS)
def test_format_told_from_first_line_when_the_suffix_says_nothing(tmp_path, format):
    frame = small_log(seed=1)
    path = write_log(frame, tmp_path / "ratings.txt", format)
    pd.testing.assert_frame_equal(read_ratings(path), frame)


def test_suffix_decides_over_contents(tmp_path):
    # A .csv suffix means "csv", so a tab-separated file behind it is rejected, not silently guessed.
    path = write_log(small_log(), tmp_path / "ratings.csv", "udata")
    with pytest.raises(ValueError, match="userId"):
        read_ratings(path)


def test_string_ids_are_kept_as_read(tmp_path):
    path = write_text(tmp_path, "r.csv", "userId,movieId,rating,timestamp\nu1,007,4.5,10\nu2,8,3,11\nu1,m9,2,12\n")
    read = read_ratings(path)
    assert read["user_id"].tolist() == ["u1", "u2", "u1"]
    assert read["item_id"].tolist() == ["007", "8", "m9"]  # one non-integer id: all stay strings, "007" included
    assert read["rating"].tolist() == [4.5, 3.0, 2.0]
    assert read["timestamp"].tolist() == [10, 11, 12]


def test_extra_columns_blank_lines_and_alternative_names(tmp_path):
    text = "user_id,item_id,genre,rating,timestamp\n\n1,2,x,4,100\n\n3,4,y,5,200\n"
    read = read_ratings(write_text(tmp_path, "r.csv", text))
    assert read.to_dict("list") == {"user_id": [1, 3], "item_id": [2, 4], "rating": [4.0, 5.0], "timestamp": [100, 200]}


def test_float_timestamps_of_recbole_become_integers(tmp_path):
    read = read_ratings(write_text(tmp_path, "x.inter", f"{RECBOLE_HEADER}\n1\t2\t3.0\t881250949.0\n"))
    assert read["timestamp"].dtype == np.int64 and read["timestamp"].iloc[0] == 881250949


def test_duplicate_pairs_are_kept(tmp_path):
    frame = small_log()
    assert frame.duplicated(["user_id", "item_id"]).any()
    read = read_ratings(write_log(frame, tmp_path / "u.data", "udata"))
    assert len(read) == len(frame)
    assert len(reindex_ratings(read)) == len(frame)


# ---------------------------------------------------------------------------------------------- errors
GOOD_CSV = "userId,movieId,rating,timestamp\n1,2,3.5,100\n"
BAD_FILES = [
    # (name, contents, format, words the message must contain)
    ("empty.csv", "", None, ["empty"]),
    ("blank.data", "\n\n", "udata", ["no lines"]),
    ("header_only.csv", "userId,movieId,rating,timestamp\n", None, ["no ratings"]),
    ("misnamed.csv", "userId,itemId,rating,timestamp\n1,2,3,4\n", None, ["'movieId'", "itemId"]),
    ("no_rating.csv", "userId,movieId,score,timestamp\n1,2,3,4\n", None, ["'rating'"]),
    ("misnamed.inter", "user:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t3\t4\n", None, ["'user_id'"]),
    ("short.data", "1\t2\t3\t100\n1\t5\t4\n", None, ["line 2 has 3 field", "expected 4"]),
    ("long.data", "1\t2\t3\t100\n1\t5\t4\t100\t9\n", None, ["line 2", "expected 4"]),
    ("long_first.data", "1\t2\t3\t100\t9\n", "udata", ["line 1 has 5", "expected 4"]),
    ("comma.data", "1,2,3,100\n", "udata", ["line 1 has 1", "expected 4"]),
    ("long.csv", GOOD_CSV + "1,2,3.5,100\n4,5,3,100,7\n", None, ["line 4", "5 field", "expected 4"]),
    ("long_first.csv", "userId,movieId,rating,timestamp\n1,2,3.5,100,7\n", None, ["line 2", "5 field", "expected 4"]),
    ("short.csv", GOOD_CSV + "4,5,3\n", None, ["line 3 has 3 field"]),
    ("word.csv", GOOD_CSV + "4,5,good,100\n", None, ["line 3", "rating 'good' is not a number"]),
    ("word.data", "1\t2\t3\tyesterday\n", None, ["line 1", "timestamp 'yesterday' is not a number"]),
    ("nan.csv", GOOD_CSV + "4,5,NaN,100\n", None, ["line 3", "rating is missing", "'NaN'"]),
    ("hole.inter", f"{RECBOLE_HEADER}\n1\t2\t\t100\n", None, ["line 2", "rating is missing"]),
    ("inf.csv", GOOD_CSV + "4,5,inf,100\n", None, ["line 3", "'inf' is not a finite number"]),
    ("fraction.csv", GOOD_CSV + "4,5,3,100.5\n", None, ["line 3", "timestamp '100.5' is not a whole number"]),
    ("no_user.csv", GOOD_CSV + ",5,3,100\n", None, ["line 3", "user id is missing"]),
    ("header.data", "user\titem\trating\ttimestamp\n1\t2\t3\t4\n", None, ["line 1", "rating 'rating' is not a number"]),
    ("mystery.txt", "hello world\n", None, ["cannot tell the format", "format="]),
]


@pytest.mark.parametrize(("name", "text", "format", "words"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_malformed_logs_raise_naming_file_and_problem(tmp_path, name, text, format, words):
    path = write_text(tmp_path, name, text)
    with pytest.raises(ValueError) as error:
        read_ratings(path, format=format)
    message = str(error.value)
    assert name in message
    for word in words:
        assert word in message


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.csv"):
        read_ratings(tmp_path / "nothing.csv")
    path = write_text(tmp_path, "r.csv", GOOD_CSV)
    with pytest.raises(ValueError, match=r"format must be one of \['csv', 'udata', 'recbole', None\], got 'tsv'"):
        read_ratings(path, format="tsv")


# ---------------------------------------------------------------------------------------------- reindexing
@pytest.mark.parametrize("ids", ["int", "str"])
def test_reindex_maps_back_to_original_ids(ids):
    frame = small_log(seed=2)
    if ids == "str":
        frame["user_id"] = "u" + frame["user_id"].astype(str)
        frame["item_id"] = "i" + frame["item_id"].astype(str)
    log = reindex_ratings(frame)
    assert isinstance(log, RatingLog)
    assert log.n_users == frame["user_id"].nunique() and log.n_items == frame["item_id"].nunique()
    np.testing.assert_array_equal(np.unique(log.users), np.arange(log.n_users))
    np.testing.assert_array_equal(np.unique(log.items), np.arange(log.n_items))
    assert list(log.user_ids) == sorted(frame["user_id"].unique())
    assert list(log.item_ids) == sorted(frame["item_id"].unique())
    assert list(log.user_ids[log.users]) == frame["user_id"].tolist()
    assert list(log.item_ids[log.items]) == frame["item_id"].tolist()
    assert log.users.dtype == np.int64 and log.ratings.dtype == np.float64 and log.timestamps.dtype == np.int64
    back = log.to_frame()
    assert back["user_id"].tolist() == frame["user_id"].tolist()
    assert back["item_id"].tolist() == frame["item_id"].tolist()
    np.testing.assert_array_equal(back["rating"], frame["rating"])
    np.testing.assert_array_equal(back["timestamp"], frame["timestamp"])
    with pytest.raises(ValueError):
        log.users[0] = 1  # read-only


def test_reindex_without_timestamps_and_bad_frames():
    log = reindex_ratings(pd.DataFrame({"user_id": [5, 2], "item_id": [1, 1], "rating": [3.0, 4.0]}))
    assert log.timestamps is None and list(log.to_frame().columns) == ["user_id", "item_id", "rating"]
    assert log.users.tolist() == [1, 0] and log.user_ids.tolist() == [2, 5]
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['rating'\]"):
        reindex_ratings(pd.DataFrame({"user_id": [1], "item_id": [1]}))
    with pytest.raises(ValueError, match="rating must hold finite numbers"):
        reindex_ratings(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [np.nan]}))
    with pytest.raises(ValueError, match="user_id must not be missing"):
        reindex_ratings(pd.DataFrame({"user_id": [1, None], "item_id": [1, 2], "rating": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="rating must be numeric"):
        reindex_ratings(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": ["good"]}))
    with pytest.raises(ValueError, match="timestamp must hold whole numbers"):
        reindex_ratings(pd.DataFrame({"user_id": [1], "item_id": [1], "rating": [1.0], "timestamp": [1.5]}))
    with pytest.raises(ValueError, match="frame must be a pandas DataFrame"):
        reindex_ratings({"user_id": [1]})


# ---------------------------------------------------------------------------------------------- the real log
def test_missing_recbole_is_explained(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "recbole" else real_find_spec(name, *a))
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps recbole==1\.2\.1"):
        movielens_100k_path()


def test_movielens_100k_facts():
    path = real_log_path()
    assert path.name == "ml-100k.inter" and path.is_file()
    frame = read_ratings(path)
    assert len(frame) == 100_000
    assert frame["user_id"].nunique() == 943 and frame["item_id"].nunique() == 1682
    assert frame["rating"].value_counts().sort_index().tolist() == [6110, 11370, 27145, 34174, 21201]
    assert not frame.duplicated(["user_id", "item_id"]).any()
    assert list(frame.dtypes) == [np.int64, np.int64, np.float64, np.int64]
    log = reindex_ratings(frame)
    assert (log.n_users, log.n_items) == (943, 1682)
    np.testing.assert_array_equal(log.user_ids, np.arange(1, 944))
    np.testing.assert_array_equal(log.item_ids, np.arange(1, 1683))
    # The first row of u.data (the .inter keeps its rows and order).
    assert frame.iloc[0].tolist() == [196, 242, 3.0, 881250949]
