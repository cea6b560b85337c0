"""Saving tables (logs, results) to Parquet or CSV without ever replacing a user's file by accident."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _link_without_replacing(source: str, path: Path) -> None:
    """Give ``source`` the name ``path`` unless ``path`` exists, deciding atomically where links exist."""
    try:
        os.link(source, path)  # fails if path exists, even if it appeared after our first check
    except FileExistsError:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it") from None
    except OSError:  # a file system without hard links: check, then rename
        if path.exists():
            raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it") from None
        os.replace(source, path)


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
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if kind == "parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_without_replacing(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path
