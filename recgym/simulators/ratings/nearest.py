"""Map action vectors in embedding space to the nearest item (seed 001's recommender step)."""

from __future__ import annotations

import numpy as np

from recgym._validation import check_choice

METRICS = ("euclidean", "cosine")


class NearestItemIndex:
    """The nearest item to each action vector, by euclidean distance or cosine similarity.

    Ties go to the lowest item number. With ``"cosine"`` a zero action is equally similar to every
    item, so it maps to the lowest-numbered allowed item.

    Parameters
    ----------
    embeddings : ndarray of shape (n_items, embedding_dim)
        Public item embeddings; kept in float64 so near-ties resolve as a direct computation would.
    metric : {"euclidean", "cosine"}
    """

    def __init__(self, embeddings: np.ndarray, metric: str = "euclidean") -> None:
        self.metric = check_choice("metric", metric, METRICS)
        self._embeddings = np.array(embeddings, dtype=np.float64)
        self._buffer: np.ndarray | None = None
        self._prepare()

    def _prepare(self) -> None:
        squared = np.einsum("ij,ij->i", self._embeddings, self._embeddings)
        if self.metric == "euclidean":
            self._keys, self._offset = self._embeddings.T.copy(), squared
        else:
            norms = np.sqrt(squared)
            # A zero embedding has similarity 0 to everything (it points nowhere).
            self._keys, self._offset = (self._embeddings / np.where(norms > 0, norms, 1.0)[:, None]).T.copy(), None

    def update(self, items: np.ndarray, embeddings: np.ndarray) -> None:
        """Replace the embeddings of ``items`` (items that arrived)."""
        self._embeddings[items] = embeddings
        self._prepare()

    def nearest(self, actions: np.ndarray, excluded: np.ndarray | None = None) -> np.ndarray:
        """Return the nearest allowed item for each row of ``actions`` (shape ``(n, embedding_dim)``).

        ``excluded`` is an optional ``(n, n_items)`` boolean mask of items a row may not get; a row
        whose every item is excluded gets the nearest of all items.
        """
        actions = np.asarray(actions, dtype=np.float64)
        shape = (len(actions), self._keys.shape[1])
        if self._buffer is None or self._buffer.shape != shape:
            # Reused between calls: a fresh multi-megabyte array per step costs more in page faults than the product.
            self._buffer = np.empty(shape, dtype=np.float64)
        cost = np.matmul(actions, self._keys, out=self._buffer)
        # Lower cost is nearer: squared distance minus the action's own (constant) norm, or -cosine.
        if self.metric == "euclidean":
            cost *= -2.0
            cost += self._offset
        else:
            np.negative(cost, out=cost)
        if excluded is not None:
            blocked = excluded & ~excluded.all(axis=1)[:, None]
            cost[blocked] = np.inf
        return cost.argmin(axis=1)


def brute_force_nearest(
    embeddings: np.ndarray, actions: np.ndarray, metric: str, excluded: np.ndarray | None = None
) -> np.ndarray:
    """Reference for :class:`NearestItemIndex`: every distance computed directly, one action at a time."""
    chosen = np.empty(len(actions), dtype=np.int64)
    for row, action in enumerate(np.asarray(actions, dtype=np.float64)):
        allowed = np.ones(len(embeddings), dtype=bool) if excluded is None or excluded[row].all() else ~excluded[row]
        best, best_cost = -1, np.inf
        for item in np.flatnonzero(allowed):
            vector = embeddings[item].astype(np.float64)
            if metric == "euclidean":
                cost = float(np.sqrt(np.sum((vector - action) ** 2)))
            else:
                denominator = np.linalg.norm(vector) * np.linalg.norm(action)
                cost = -float(vector @ action / denominator) if denominator > 0 else 0.0
            if best < 0 or cost < best_cost:
                best, best_cost = item, cost
        chosen[row] = best
    return chosen
