"""Who the users and videos are: structure-of-arrays samplers (no per-user Python objects)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recgym.simulators.short_video.config import ShortVideoConfig


@dataclass(frozen=True)
class Users:
    """The user population; every attribute is an array indexed by user id.

    Attributes
    ----------
    age : numpy.ndarray
        ``(n_users,)`` int64, years.
    gender, location : numpy.ndarray
        ``(n_users,)`` int64 codes into ``config.genders`` / ``config.locations``.
    interests : numpy.ndarray
        ``(n_users, n_interests)`` int64 category codes.
    interest_mask : numpy.ndarray
        ``(n_users, n_categories)`` bool, True where the category is one of the user's interests.
    """

    age: np.ndarray
    gender: np.ndarray
    location: np.ndarray
    interests: np.ndarray
    interest_mask: np.ndarray

    def __len__(self) -> int:
        return len(self.age)


@dataclass(frozen=True)
class Videos:
    """The catalogue; every attribute is an array indexed by video id.

    Attributes
    ----------
    category, creator : numpy.ndarray
        ``(n_videos,)`` int64 codes.
    duration : numpy.ndarray
        ``(n_videos,)`` float64 seconds.
    initial_views : numpy.ndarray
        ``(n_videos,)`` int64 view counts before the historical log.
    views : numpy.ndarray
        ``(n_videos,)`` int64 current view counts; the only mutable attribute (each impression adds one).
    """

    category: np.ndarray
    creator: np.ndarray
    duration: np.ndarray
    initial_views: np.ndarray
    views: np.ndarray

    def __len__(self) -> int:
        return len(self.category)


def sample_videos(config: ShortVideoConfig, rng: np.random.Generator) -> Videos:
    """Draw the catalogue: uniform category and creator, ``round(Normal(mean, std))`` initial views."""
    n = config.n_videos
    category = rng.integers(0, config.n_categories, size=n)
    creator = rng.integers(0, config.n_creators, size=n)
    views = np.maximum(np.rint(rng.normal(config.initial_views_mean, config.initial_views_std, size=n)), 0)
    return Videos(
        category=category,
        creator=creator,
        duration=np.full(n, config.video_duration, dtype=np.float64),
        initial_views=views.astype(np.int64),
        views=views.astype(np.int64),
    )


def sample_users(config: ShortVideoConfig, rng: np.random.Generator) -> Users:
    """Draw the population: uniform age, gender and location, and ``n_interests`` interest categories."""
    n, n_categories = config.n_users, config.n_categories
    age = rng.integers(config.age_range[0], config.age_range[1] + 1, size=n)
    gender = rng.integers(0, len(config.genders), size=n)
    location = rng.integers(0, len(config.locations), size=n)
    if config.distinct_interests:
        # The first k entries of a uniform random permutation per user: k distinct categories.
        interests = np.argsort(rng.random((n, n_categories)), axis=1)[:, : config.n_interests]
    else:
        interests = rng.integers(0, n_categories, size=(n, config.n_interests))
    interest_mask = np.zeros((n, n_categories), dtype=bool)
    interest_mask[np.arange(n)[:, None], interests] = True
    return Users(age=age, gender=gender, location=location, interests=interests, interest_mask=interest_mask)
