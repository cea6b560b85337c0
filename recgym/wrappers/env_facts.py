"""What a recommender metric needs to know about an env's world: catalogue size, category names, creators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CatalogueFacts:
    """Sizes of a world's catalogue, read from a recgym env's config (None where the env has no such thing).

    Attributes
    ----------
    catalogue_size : int or None
        Items the env can show (``n_videos`` of the short-video envs, ``n_items`` of the rating envs).
    categories : tuple of str or None
        Category names in code order (short-video envs; ``info["category"]`` holds these names).
    n_creators : int or None
        Creators of the catalogue (short-video envs; ``info["creator"]`` holds ``0 … n_creators - 1``).
    """

    catalogue_size: int | None = None
    categories: tuple[str, ...] | None = None
    n_creators: int | None = None


def _base(env: Any) -> Any:
    """The innermost env: through Gymnasium wrappers and vector wrappers, and to the first env of a ``SyncVectorEnv``."""
    base = getattr(env, "unwrapped", env)
    envs = getattr(base, "envs", None)  # SyncVectorEnv around single envs
    if envs:
        base = getattr(envs[0], "unwrapped", envs[0])
    return base


def _positive(value: Any) -> int | None:
    return int(value) if isinstance(value, int | np.integer) and not isinstance(value, bool) and value > 0 else None


def catalogue_facts(env: Any) -> CatalogueFacts:
    """The :class:`CatalogueFacts` of a recgym env (single, vector or wrapped); all None for an env that is not recgym's.

    Parameters
    ----------
    env : gymnasium.Env or gymnasium.vector.VectorEnv
        Any env; recgym envs expose their world's config as ``env.unwrapped.core.config``.

    Returns
    -------
    CatalogueFacts
    """
    config = getattr(getattr(_base(env), "core", None), "config", None)
    size = None
    for name in ("n_videos", "n_items"):
        size = size or _positive(getattr(config, name, None))
    categories = getattr(config, "categories", None)
    categories = tuple(categories) if isinstance(categories, tuple | list) and categories else None
    return CatalogueFacts(size, categories, _positive(getattr(config, "n_creators", None)))
