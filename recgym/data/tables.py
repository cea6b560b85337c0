"""Saving tables (logs, results) to Parquet or CSV without ever replacing a user's file by accident."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from recgym.data.files import write_new_file

TABLE_FORMATS = ("parquet", "csv")
_SUFFIX_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def format_of(path: Path, format: str | None) -> str:
    """The table format named by ``format``, or else by the path's suffix."""
    if format is not None:
        if format not in TABLE_FORMATS:
            raise ValueError(f"format must be one of {list(TABLE_FORMATS)!r} or None, got {format!r}")
        return format
    try:
        return _SUFFIX_FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(
            f"path must end in one of {sorted(_SUFFIX_FORMATS)!r} (or pass format=), got {str(path)!r}"
        ) from None


def save_frame(frame: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False,
                         format: str | None = None) -> Path:
    """Write a DataFrame to Parquet or CSV (chosen by ``format`` or the path's suffix).

    An existing file is never replaced unless ``overwrite=True``; the file appears whole or not at
    all (written beside it, then renamed).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    kind = format_of(path, format)

    def write(temporary: str) -> None:
        if kind == "parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)

    return write_new_file(path, write, overwrite=overwrite)
