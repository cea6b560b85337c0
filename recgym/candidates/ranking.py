"""Top-k selection with the seed's tie order: higher score first, lower item id first among equals."""

from __future__ import annotations

import numpy as np


def ranking_keys(scores: np.ndarray) -> np.ndarray:
    """Map float32 scores to distinct int64 keys ordered like (score, then lower item id).

    The float's bits, made order-preserving, fill the high 32 bits and the reversed item id the
    low 32, so every key is distinct and a larger key is a better item. Distinct keys matter:
    selection on values with many ties (a CF score of 0 for most items) is far slower.
    """
    values = np.asarray(scores, dtype=np.float32) + np.float32(0.0)  # -0.0 becomes +0.0
    bits = values.view(np.int32)
    ordered = np.where(bits < 0, bits ^ np.int32(0x7FFFFFFF), bits).astype(np.int64)
    n_items = values.shape[-1]
    return (ordered << 32) | (n_items - 1 - np.arange(n_items, dtype=np.int64))


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the ``k`` best item ids of each row, best first; equal scores keep ascending item id.

    The seed ranks with a stable sort over items in id order, so ties go to the lower id.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_rows, n_items)`` scores, compared as float32; ``-inf`` ranks last.
    k : int
        Items to keep, ``1 <= k <= n_items``.

    Returns
    -------
    numpy.ndarray
        ``(n_rows, k)`` int64 item ids.
    """
    n_items = scores.shape[1]
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be in [1, {n_items}], got {k!r}")
    keys = ranking_keys(scores)
    best = np.partition(keys, n_items - k, axis=1)[:, n_items - k :]
    best = -np.sort(-best, axis=1)  # best key first
    return n_items - 1 - (best & np.int64(0xFFFFFFFF))
