"""A fresh directory for each training run: created atomically, never an existing one reused.

``recgym train`` writes every file of a run (config, checkpoint, tables, figure, TensorBoard
events) into the directory :func:`new_run_directory` returns. Automatic names count up,
``{stem}_1``, ``{stem}_2``, …; an explicit name that exists is refused. Each directory is made
with ``mkdir(exist_ok=False)``, so two runs started at the same moment never share one, and
nothing that already exists under ``logdir`` is modified.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MAX_AUTOMATIC_RUNS = 100_000
"""How many ``{stem}_{k}`` names :func:`new_run_directory` tries before giving up."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")


class RunExistsError(FileExistsError):
    """An explicitly named run directory exists already (runs are never overwritten)."""


def run_stem(agent: str, env_id: str, seed: int) -> str:
    """The automatic name of a run before its counter: ``{agent}_{env_id}_seed{seed}``.

    Characters other than letters, digits and ``. _ + = -`` become ``-``.

    Examples
    --------
    >>> run_stem("dqn", "RecGym-ShortVideo-v0", 0)
    'dqn_RecGym-ShortVideo-v0_seed0'
    """
    return _UNSAFE.sub("-", f"{agent}_{env_id}_seed{seed}")


def _check_name(parameter: str, name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{parameter} must be a non-empty directory name, got {name!r}")
    if name in (".", "..") or "/" in name or os.sep in name or (os.altsep is not None and os.altsep in name):
        raise ValueError(f"{parameter} must be a single directory name (no path separators, not '.' or '..'), got {name!r}")
    return name


def new_run_directory(logdir: str | os.PathLike[str], name: str | None = None, *, stem: str = "run") -> Path:
    """Create and return a new, empty run directory under ``logdir``.

    Parameters
    ----------
    logdir : str or os.PathLike
        Parent directory of all runs; created (with its parents) if missing.
    name : str, optional
        Exact name of the run directory. If it exists, :class:`RunExistsError` is raised and
        nothing in it is touched.
    stem : str
        Used when ``name`` is None: the directory is ``{stem}_{k}`` with the first ``k >= 1``
        whose directory does not exist yet.

    Returns
    -------
    pathlib.Path
        The new directory (``logdir / name`` or ``logdir / f"{stem}_{k}"``).

    Raises
    ------
    RunExistsError
        ``name`` is given and ``logdir / name`` exists.
    ValueError
        ``name`` or ``stem`` is empty or contains a path separator, or ``logdir`` is not a directory.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> new_run_directory(root, stem="dqn").name, new_run_directory(root, stem="dqn").name
    ('dqn_1', 'dqn_2')
    """
    logdir = Path(logdir)
    if name is not None:
        _check_name("run_name", name)
    _check_name("stem", stem)
    if logdir.exists() and not logdir.is_dir():
        raise ValueError(f"logdir must be a directory, but {str(logdir)!r} is a file")
    logdir.mkdir(parents=True, exist_ok=True)
    if name is not None:
        path = logdir / name
        try:
            path.mkdir()
        except FileExistsError:
            raise RunExistsError(
                f"run directory {str(path)!r} already exists; runs are never overwritten: "
                "choose another run name, or leave it out to get a fresh numbered directory"
            ) from None
        return path
    for k in range(1, MAX_AUTOMATIC_RUNS + 1):
        path = logdir / f"{stem}_{k}"
        try:
            path.mkdir()  # atomic: if another process made it first, try the next number
        except FileExistsError:
            continue
        return path
    raise RunExistsError(f"{str(logdir)!r} already holds {MAX_AUTOMATIC_RUNS} runs named {stem}_k; use another logdir")
