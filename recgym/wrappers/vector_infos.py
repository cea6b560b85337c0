"""Reading Gymnasium vector infos: one env's entries, and the infos of the transitions of a same-step autoreset step.

A vector env's ``info`` holds one array of ``num_envs`` values per key and a ``_key`` array of
flags marking the envs that have the key. A nested dict (``info["episode"]``,
``info["rec_metrics"]``) holds such arrays in turn. With same-step autoreset, an env whose
episode ended has the **new** episode's reset info in the top-level rows, and its last step's
info in ``info["final_info"]``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

FINAL_KEYS = ("final_obs", "final_info")
"""Same-step autoreset's keys for the ended episodes' last observation and info."""


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def env_info(infos: Mapping[str, Any], index: int, *, skip: tuple[str, ...] = FINAL_KEYS) -> dict[str, Any]:
    """Env ``index``'s entries of a vector info dict: each key whose ``_key`` flag is set for it, as Python values.

    Parameters
    ----------
    infos : Mapping
        A vector env's info.
    index : int
        The env.
    skip : tuple of str
        Keys left out (by default ``final_obs`` and ``final_info``).

    Returns
    -------
    dict
        NumPy scalars become Python numbers (as a single recgym env reports them); nested dicts
        are read the same way.
    """
    single: dict[str, Any] = {}
    for key, value in infos.items():
        if key.startswith("_") or key in skip:
            continue
        flags = infos.get(f"_{key}")
        if flags is not None and not flags[index]:
            continue
        if isinstance(value, Mapping):
            single[key] = env_info(value, index, skip=())
        else:
            single[key] = _plain(value[index])
    return single


def transition_infos(infos: dict[str, Any], done: np.ndarray, keys: Collection[str] | None = None) -> dict[str, Any]:
    """The info of a same-step autoreset step as it describes the step's transitions.

    Rows of ended envs come from ``final_info`` (their last step), the others from the top level.
    Keys only in ``final_info`` get flags for the ended rows only. Returns ``infos`` itself when no
    env ended.

    Parameters
    ----------
    infos : dict
        The vector env's info of the step.
    done : numpy.ndarray of bool, shape ``(num_envs,)``
        ``terminated | truncated`` of the step.
    keys : collection of str, optional
        Merge only these keys of ``final_info`` (the others keep their top-level rows); default all.

    Returns
    -------
    dict
        A new info dict (arrays copied where rows were replaced).
    """
    final = infos.get("final_info")
    if final is None or not done.any():
        return infos
    merged = dict(infos)
    for key, value in final.items():
        if key.startswith("_") or (keys is not None and key not in keys):
            continue
        rows = done & final.get(f"_{key}", done)
        current = infos.get(key)
        if current is None or isinstance(current, Mapping) or np.asarray(current).dtype != np.asarray(value).dtype:
            current = np.array(value, copy=True)
            flags = np.zeros(len(done), dtype=bool)
        else:
            current = np.array(current, copy=True)
            flags = np.array(infos.get(f"_{key}", np.ones(len(done), dtype=bool)), copy=True)
        current[rows] = np.asarray(value)[rows]
        flags[done] = rows[done]
        merged[key], merged[f"_{key}"] = current, flags
    return merged
