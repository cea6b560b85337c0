"""Reading real rating logs in the MovieLens formats, and the MovieLens-100K log shipped inside ``recbole``.

Three formats are read, all with one rating per line:

- ``"csv"``: MovieLens ``ratings.csv`` (ML-20M, ML-25M, ml-latest): comma-separated with the header
  ``userId,movieId,rating,timestamp`` (``user_id`` and ``item_id`` are accepted for the first two).
- ``"udata"``: ML-100K ``u.data`` (and its ``u1.base`` ... splits): tab-separated, no header, the four
  fields ``user item rating timestamp``.
- ``"recbole"``: RecBole atomic ``.inter`` files: tab-separated with the header
  ``user_id:token item_id:token rating:float timestamp:float``.

The MovieLens data falls under GroupLens's terms (research use only, no redistribution without
permission, cite Harper & Konstan 2015): read the files where they are installed and never commit
them, or anything derived from them, to a repository.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recgym._validation import check_choice

RATING_FORMATS = ("csv", "udata", "recbole")
"""Format names :func:`read_ratings` accepts."""

COLUMNS = ("user_id", "item_id", "rating", "timestamp")
"""Columns of the frame :func:`read_ratings` returns."""

ML100K_RESOURCE = ("dataset_example", "ml-100k", "ml-100k.inter")
"""Where MovieLens-100K lies inside the ``recbole`` package."""

RECBOLE_INSTALL = "pip install --no-deps recbole==1.2.1"

_SUFFIX_FORMATS = {".csv": "csv", ".inter": "recbole"}
_DESCRIPTIONS = {
    "csv": "comma-separated lines under the header userId,movieId,rating,timestamp",
    "udata": "tab-separated lines 'user item rating timestamp' without a header (ML-100K u.data)",
    "recbole": "tab-separated lines under the header 'user_id:token item_id:token rating:float timestamp:float'",
}
_SEPARATORS = {"csv": ",", "udata": "\t", "recbole": "\t"}
_HEADER_NAMES = {
    # Our column -> the header names that may hold it, in order of preference.
    "csv": {"user_id": ("userId", "user_id"), "item_id": ("movieId", "item_id"), "rating": ("rating",),
            "timestamp": ("timestamp",)},
    "recbole": {name: (name,) for name in COLUMNS},
}
_FIELD_NAMES = {"user_id": "user id", "item_id": "item id", "rating": "rating", "timestamp": "timestamp"}
# Strings pandas reads as a missing value by default (pandas.read_csv's na_values).
_MISSING = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})


def _problem(path: Path, kind: str, message: str) -> ValueError:
    return ValueError(f"{str(path)!r}: {message} (expected a {kind!r} rating log: {_DESCRIPTIONS[kind]})")


# ---------------------------------------------------------------------------------------------- formats
def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for line in handle:
                if line.strip("\r\n"):
                    return line.rstrip("\r\n")
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r} is not a UTF-8 text file; expected a rating log") from None
    return ""


def _format_of(path: Path, format: str | None) -> str:
    if format is not None:
        return check_choice("format", format, (*RATING_FORMATS, None))
    if path.suffix.lower() in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[path.suffix.lower()]
    line = _first_line(path)
    if "\t" in line:
        return "recbole" if ":" in line else "udata"
    if "," in line:
        return "csv"
    raise ValueError(
        f"{str(path)!r}: cannot tell the format from its name or first line {line[:80]!r}; "
        f"pass format= one of {list(RATING_FORMATS)!r}"
    )


# ---------------------------------------------------------------------------------------------- errors
def _diagnose(path: Path, kind: str, n_fields: int, positions: dict[str, int]) -> None:
    """Find the first bad line of a log the fast reader rejected, and raise a ``ValueError`` naming it.

    Returns only if every line looks right (the caller then raises a generic error).
    """
    has_header = kind != "udata"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=_SEPARATORS[kind])
        seen_header = not has_header
        for fields in reader:
            if not fields:  # a blank line: skipped, as pandas does
                continue
            if not seen_header:
                seen_header = True
                continue
            line = reader.line_num
            if len(fields) != n_fields:
                raise _problem(path, kind, f"line {line} has {len(fields)} field(s) {fields!r}, expected {n_fields}")
            for column, position in positions.items():
                _check_field(path, kind, line, column, fields[position])


def _check_field(path: Path, kind: str, line: int, column: str, text: str) -> None:
    name = _FIELD_NAMES[column]
    if text.strip() in _MISSING:
        raise _problem(path, kind, f"line {line}: the {name} is missing or NaN ({text!r}); every {name} must be given")
    if column in ("user_id", "item_id"):
        return
    try:
        value = float(text)
    except ValueError:
        raise _problem(path, kind, f"line {line}: the {name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise _problem(path, kind, f"line {line}: the {name} {text!r} is not a finite number")
    if column == "timestamp" and value != int(value):
        raise _problem(path, kind, f"line {line}: the timestamp {text!r} is not a whole number of seconds")


# ---------------------------------------------------------------------------------------------- reading
def _parse(path: Path, kind: str) -> tuple[pd.DataFrame, int, dict[str, int]]:
    """Read the file with pandas: the raw frame, its number of fields and the position of each column."""
    has_header = kind != "udata"
    with warnings.catch_warnings():
        # A first data row longer than the header: pandas only warns (and drops fields).
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            raw = pd.read_csv(path, sep=_SEPARATORS[kind], header=0 if has_header else None, index_col=False, engine="c")
        except pd.errors.EmptyDataError:
            raise _problem(path, kind, "the file holds no lines, only blank ones") from None
        except UnicodeDecodeError:
            raise ValueError(f"{str(path)!r} is not a UTF-8 text file; expected a {kind!r} rating log") from None
        except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
            n_fields = len(_first_line(path).split(_SEPARATORS[kind])) if has_header else 4
            _diagnose(path, kind, n_fields, {})
            raise _problem(path, kind, f"pandas could not parse it: {error}") from None
    if not has_header:
        if raw.shape[1] != len(COLUMNS):
            raise _problem(path, kind, f"line 1 has {raw.shape[1]} field(s), expected {len(COLUMNS)}")
        return raw, len(COLUMNS), {column: position for position, column in enumerate(COLUMNS)}
    header = [str(name).strip() for name in raw.columns]
    if kind == "recbole":
        header = [name.split(":", 1)[0] for name in header]
    positions: dict[str, int] = {}
    for column, names in _HEADER_NAMES[kind].items():
        found = [header.index(name) for name in names if name in header]
        if found:
            positions[column] = found[0]
    missing = [names[0] for column, names in _HEADER_NAMES[kind].items() if column not in positions]
    if missing:
        raise _problem(path, kind, f"the header lacks the column(s) {missing!r}; it names {[str(c) for c in raw.columns]!r}")
    return raw, raw.shape[1], positions


def _ids(path: Path, kind: str, raw: pd.DataFrame, position: int) -> pd.Series:
    """An id column as read: int64 when every id is an integer, else the exact strings of the file."""
    column = raw.iloc[:, position]
    if column.dtype.kind == "i":
        return column.astype(np.int64)
    text = pd.read_csv(path, sep=_SEPARATORS[kind], header=0 if kind != "udata" else None, index_col=False,
                       usecols=[position], dtype=str, keep_default_na=False, engine="c")
    return text.iloc[:, 0].str.strip()


def read_ratings(path: str | os.PathLike[str], format: str | None = None) -> pd.DataFrame:
    """Read a MovieLens-format rating log.

    Parameters
    ----------
    path : str or path-like
        A ``ratings.csv``, ``u.data`` or RecBole ``.inter`` file (see the module docstring).
    format : {"csv", "udata", "recbole"} or None
        The file's format; ``None`` tells it from the suffix (``.csv``, ``.inter``), else from the
        first line (tab-separated with ``name:type`` fields: ``"recbole"``; other tab-separated:
        ``"udata"``; comma-separated: ``"csv"``).

    Returns
    -------
    pandas.DataFrame
        One row per line, in file order, with columns ``user_id`` and ``item_id`` (the ids as read:
        int64 when every id of the column is an integer, else the strings of the file), ``rating``
        (float64) and ``timestamp`` (int64, seconds). Repeated (user, item) pairs are kept as they
        are (a user may re-rate an item); deduplicate them yourself if needed. Extra columns of a
        file with a header are ignored; blank lines are skipped.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        For an unknown format, an empty file or one with a header only, missing or misnamed header
        columns, a line with the wrong number of fields, and a missing, non-numeric, NaN or infinite
        rating or timestamp (or a fractional timestamp), naming the file and, where there is one,
        the line.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} is not a file; expected a rating log")
    kind = _format_of(path, format)
    if path.stat().st_size == 0:
        raise _problem(path, kind, "the file is empty")
    raw, n_fields, positions = _parse(path, kind)
    if len(raw) == 0:
        raise _problem(path, kind, "the file has a header but no ratings")
    columns = {column: raw.iloc[:, position] for column, position in positions.items()}
    clean = not any(column.isna().any() for column in columns.values())
    for column in ("rating", "timestamp"):
        values = columns[column]
        clean = clean and values.dtype.kind in "iuf" and bool(np.isfinite(values.to_numpy(np.float64)).all())
    if clean and columns["timestamp"].dtype.kind == "f":
        clean = bool((columns["timestamp"] == np.floor(columns["timestamp"])).all())
    if not clean:
        _diagnose(path, kind, n_fields, positions)
        raise _problem(path, kind, "a rating, timestamp or id is missing or not a number")
    return pd.DataFrame({
        "user_id": _ids(path, kind, raw, positions["user_id"]),
        "item_id": _ids(path, kind, raw, positions["item_id"]),
        "rating": columns["rating"].to_numpy(np.float64),
        "timestamp": columns["timestamp"].to_numpy(np.int64),
    })


# ---------------------------------------------------------------------------------------------- reindexing
@dataclass(frozen=True, eq=False)
class RatingLog:
    """A rating log with users and items numbered ``0 .. n - 1``, as NumPy arrays (read-only).

    Built by :func:`reindex_ratings`. Index ``u`` stands for the original id ``user_ids[u]`` (and
    likewise for items); the original ids are sorted, so index order is id order.

    Attributes
    ----------
    users, items : numpy.ndarray of int64, shape (n_ratings,)
        Index of each rating's user and item.
    ratings : numpy.ndarray of float64, shape (n_ratings,)
    timestamps : numpy.ndarray of int64, shape (n_ratings,), or None
        ``None`` when the source had no ``timestamp`` column.
    user_ids, item_ids : numpy.ndarray, shapes (n_users,) and (n_items,)
        Original id of each index, ascending (int64 for integer ids, else object).
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray | None
    user_ids: np.ndarray
    item_ids: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ratings)
        for name in ("users", "items", "timestamps"):
            array = getattr(self, name)
            if array is not None and len(array) != n:
                raise ValueError(f"{name} must have one entry per rating ({n}), got {len(array)}")
        for name, ids, indexes in (("users", self.user_ids, self.users), ("items", self.item_ids, self.items)):
            if n and (indexes.min() < 0 or indexes.max() >= len(ids)):
                raise ValueError(f"{name} must lie in [0, {len(ids)}), got values in [{indexes.min()}, {indexes.max()}]")
        for name in ("users", "items", "ratings", "timestamps", "user_ids", "item_ids"):
            array = getattr(self, name)
            if array is not None:
                array.flags.writeable = False

    @property
    def n_users(self) -> int:
        """Number of distinct users."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return len(self.item_ids)

    @property
    def n_ratings(self) -> int:
        """Number of ratings (rows)."""
        return len(self.ratings)

    def __len__(self) -> int:
        return self.n_ratings

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with the original ids: ``user_id, item_id, rating[, timestamp]``, in log order."""
        frame = {"user_id": self.user_ids[self.users], "item_id": self.item_ids[self.items], "rating": self.ratings.copy()}
        if self.timestamps is not None:
            frame["timestamp"] = self.timestamps.copy()
        return pd.DataFrame(frame)


def _codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    values = frame[column]
    if values.isna().any():
        raise ValueError(f"{column} must not be missing, got {int(values.isna().sum())} missing value(s)")
    codes, uniques = pd.factorize(values, sort=True)
    ids = np.asarray(uniques)
    if ids.dtype.kind in "iu":
        ids = ids.astype(np.int64)
    elif ids.dtype.kind != "f":
        ids = ids.astype(object)
    return codes.astype(np.int64), ids


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if values.dtype.kind not in "iuf":
        raise ValueError(f"{column} must be numeric, got dtype {values.dtype}")
    array = values.to_numpy(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{column} must hold finite numbers, got {int((~np.isfinite(array)).sum())} NaN or infinite value(s)")
    return array


def reindex_ratings(frame: pd.DataFrame) -> RatingLog:
    """Number a log's users and items ``0 .. n - 1`` in the order of their original ids.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``user_id``, ``item_id``, ``rating`` and optionally ``timestamp`` (as returned by
        :func:`read_ratings`); other columns are ignored.

    Returns
    -------
    RatingLog
        ``RatingLog.to_frame()`` gives back the same rows with the same ids.

    Raises
    ------
    ValueError
        If a column is missing, an id is missing, or a rating or timestamp is not a finite number
        (or a timestamp is fractional).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in ("user_id", "item_id", "rating") if column not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks the column(s) {missing!r}; it has {list(map(str, frame.columns))!r}")
    users, user_ids = _codes(frame, "user_id")
    items, item_ids = _codes(frame, "item_id")
    ratings = _numbers(frame, "rating")
    timestamps = None
    if "timestamp" in frame.columns:
        stamps = _numbers(frame, "timestamp")
        if not (stamps == np.floor(stamps)).all():
            raise ValueError("timestamp must hold whole numbers of seconds")
        timestamps = frame["timestamp"].to_numpy(np.int64)
    return RatingLog(users, items, ratings, timestamps, user_ids, item_ids)


# ---------------------------------------------------------------------------------------------- the real log
def movielens_100k_path() -> Path:
    """Path of MovieLens-100K (the RecBole ``.inter`` file) inside the installed ``recbole`` package.

    Nothing is imported: the package is only located. Install it (2 MB, data only, no torch) with
    ``pip install --no-deps recbole==1.2.1``. Read the file with :func:`read_ratings`; the data is for
    research use only under GroupLens's terms: never commit it, or anything derived from it.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ModuleNotFoundError
        If ``recbole`` is not installed.
    FileNotFoundError
        If the installed ``recbole`` does not hold the file.
    """
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"MovieLens-100K ships inside the 'recbole' package, which is not installed; run `{RECBOLE_INSTALL}`",
            name="recbole",
        )
    candidates = [Path(location, *ML100K_RESOURCE) for location in spec.submodule_search_locations]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"the installed 'recbole' package lacks {'/'.join(ML100K_RESOURCE)} (looked at {[str(c) for c in candidates]!r}); "
        f"run `{RECBOLE_INSTALL}`"
    )

