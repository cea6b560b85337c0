"""The latent-factor rating simulator of seed 000 (SPEC §2).

With seed 001's public item embeddings (SPEC §3) and seed 002's arriving users and items (SPEC §4).
"""

from recgym.simulators.ratings.best_items import best_items, dense_best_items
from recgym.simulators.ratings.config import RatingsConfig
from recgym.simulators.ratings.embeddings import EmbeddingProjection
from recgym.simulators.ratings.nearest import METRICS, NearestItemIndex
from recgym.simulators.ratings.simulator import EMPTY, RatingResult, RatingsSimulator, Requests

__all__ = [
    "EMPTY",
    "METRICS",
    "EmbeddingProjection",
    "NearestItemIndex",
    "RatingResult",
    "RatingsConfig",
    "RatingsSimulator",
    "Requests",
    "best_items",
    "dense_best_items",
]
