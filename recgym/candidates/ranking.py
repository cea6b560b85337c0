"""Top-k selection with the seed's tie order: higher score first, lower item id first among equals."""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _reversed_ids(n_items: int) -> np.ndarray:
    ids = n_items - 1 - np.arange(n_items, dtype=np.int64)
    ids.flags.writeable = False
    return ids


def ranking_keys(scores: np.ndarray) -> np.ndarray:
    """Map float32 scores to distinct int64 keys ordered like (score, then lower item id).

    The float's bits, made order-preserving, fill the high 32 bits and the reversed item id the
    low 32, so every key is distinct and a larger key is a better item. Distinct keys matter:
    selection on values with many ties (a CF score of 0 for most items) is far slower.
    """
    values = np.asarray(scores, dtype=np.float32) + np.float32(0.0)  # -0.0 becomes +0.0; a fresh array
    bits = values.view(np.int32)
    # A negative float's bits order backwards: flipping its 31 value bits makes int32 order float order.
    bits ^= (bits >> 31) & np.int32(0x7FFFFFFF)
    keys = bits.astype(np.int64)
    keys <<= 32
    keys |= _reversed_ids(values.shape[-1])
    return keys


@functools.cache
def _excluded_keys(n_items: int) -> np.ndarray:
    keys = ranking_keys(np.full((1, n_items), -np.inf, dtype=np.float32))[0]
    keys.flags.writeable = False
    return keys


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Return the ``k`` best item ids of each row, best first; equal scores keep ascending item id.

    The seed ranks with a stable sort over items in id order, so ties go to the lower id.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_rows, n_items)`` scores, compared as float32; ``-inf`` ranks last.
    k : int
        Items to keep, ``1 <= k <= n_items``.
    exclude : numpy.ndarray, optional
        ``(n_rows, n_items)`` bool: items ranked as if their score were ``-inf``.

    Returns
    -------
    numpy.ndarray
        ``(n_rows, k)`` int64 item ids.
    """
    n_items = scores.shape[1]
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, {n_items}], got {k!r}")
    keys = ranking_keys(scores)
    if exclude is not None:
        np.copyto(keys, _excluded_keys(n_items), where=exclude)
    best = np.partition(keys, n_items - k, axis=1)[:, n_items - k :]
    best.sort(axis=1)  # the keys are distinct: ascending, then reversed below, is best first
    return n_items - 1 - (best[:, ::-1] & np.int64(0xFFFFFFFF))
