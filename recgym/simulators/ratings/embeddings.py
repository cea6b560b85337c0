"""Public item embeddings: what an agent may see of an item, a noisy projection of its hidden attributes."""

from __future__ import annotations

import numpy as np


class EmbeddingProjection:
    """The world's fixed map from hidden item attributes to public embeddings in ``[-1, 1]``.

    ``embedding = clip((attributes - centre) @ W / scale + noise * Normal(0, 1), -1, 1)``, where
    ``W`` is an ``(n_features, embedding_dim)`` matrix of ``Normal(0, 1 / n_features)`` entries
    drawn once per world, ``centre`` is the initial catalogue's mean attribute vector and
    ``scale`` the largest absolute projected value per dimension over the initial catalogue (so
    the initial embeddings span ``[-1, 1]`` before noise). Items that arrive later use the same
    ``W``, ``centre`` and ``scale``. With ``embedding_dim < n_features`` or ``noise > 0`` the
    hidden attributes cannot be recovered exactly from the embeddings.

    Parameters
    ----------
    initial_items : ndarray of shape (n_items, n_features)
        Hidden attributes of the initial catalogue.
    embedding_dim : int
    noise : float
        Noise standard deviation relative to the ``[-1, 1]`` range.
    rng : numpy.random.Generator
    """

    def __init__(self, initial_items: np.ndarray, embedding_dim: int, noise: float, rng: np.random.Generator) -> None:
        n_features = initial_items.shape[1]
        self.weights = rng.normal(0.0, 1.0 / np.sqrt(n_features), size=(n_features, embedding_dim))
        self.centre = initial_items.mean(axis=0)
        projected = (initial_items - self.centre) @ self.weights
        scale = np.abs(projected).max(axis=0)
        self.scale = np.where(scale > 0, scale, 1.0)
        self.noise = float(noise)

    def __call__(self, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Embed ``(n, n_features)`` hidden attributes as ``(n, embedding_dim)`` float32 public vectors."""
        projected = (items - self.centre) @ self.weights / self.scale
        if self.noise > 0:
            projected += self.noise * rng.standard_normal(projected.shape)
        return np.clip(projected, -1.0, 1.0).astype(np.float32)
