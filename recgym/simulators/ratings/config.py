"""Every number of the latent-factor rating world (SPEC §2-§4) as a validated, frozen dataclass.

Defaults reproduce seed 000: 1,000 users and 1,000 items with 10 Uniform(0, 1) attributes each, mean
rating ``Q_i · P_u`` and Gaussian noise of standard deviation 0.1, drawn independently per rating
(the seed drew one noise value per batch).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from recgym._validation import check_bool, check_int, check_real
from recgym.simulators.ratings.attributes import check_distribution

DEFAULT_N_USERS = 1000
DEFAULT_N_ITEMS = 1000
DEFAULT_N_FEATURES = 10


def _checked_attributes(name: str, value: Any) -> np.ndarray | None:
    if value is None:
        return None
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 2-D array of real numbers, got {type(value).__name__}") from None
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a non-empty 2-D array (rows, n_features), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite numbers only")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class RatingsConfig:
    """The rating world: population, catalogue, hidden attributes, noise, arrivals and drift.

    Every field is a keyword argument of ``gym.make("RecGym-Ratings-v0", ...)`` and of
    ``RecGym-RatingsEmbedding-v0``. Invalid values raise ``ValueError`` naming the field, the value
    and what is allowed.

    Parameters
    ----------
    n_users, n_items, n_features : int or None
        Population, catalogue and attribute count. ``None``: the rows / columns of
        ``user_attributes`` and ``item_attributes`` when given, else 1,000, 1,000 and 10.
    noise_std : float
        Standard deviation of the Gaussian noise added to each rating independently (0.1).
    attribute_distribution : {"uniform", "normal", "beta"}
        Distribution of each hidden attribute (``"uniform"``).
    attribute_params : (float, float)
        Its parameters: (low, high), (mean, std) or (alpha, beta); ``(0, 1)`` by default.
    user_attributes, item_attributes : array of shape (rows, n_features) or None
        Fixed hidden attributes instead of drawn ones, e.g. factors fitted to a real log
        (:func:`recgym.calibration.calibrate_world`).
    new_users_per_period, new_items_per_period : float
        Cold start: at the start of each period after the first, ``Poisson(rate)`` new users (items)
        replace users (items) drawn uniformly at random, so sizes and spaces stay fixed. A new user
        has no ratings; a retired item disappears from every user's frame.
    arrival_distribution : str or None
        Distribution of the arrivals' attributes; ``None``: ``attribute_distribution`` (or, for
        given attribute arrays, a uniformly drawn row of the initial array).
    arrival_params : (float, float) or None
        Its parameters; ``None``: ``attribute_params``.
    user_drift_std : float
        Drift: at the start of each period after the first, every user's attributes move by
        ``Normal(0, user_drift_std)`` per feature (0 disables it).
    n_history : int
        Ratings each user has given before the first period, on distinct random items (0).
    frame_size : int
        How many of a user's latest (item, rating) pairs the observation shows (10, as in seed 001).
    embedding_dim : int
        Size of the public item embeddings (16).
    embedding_noise : float
        Noise of the public embeddings, relative to their scale (0.1); see
        :func:`recgym.simulators.ratings.embeddings.public_embeddings`.
    chunk_bytes : int
        Memory bound of one block of the best-item search (64 MiB): the users × items rating
        matrix is never materialised beyond it.
    log_interactions : bool
        Record every simulated rating in the interaction log (``True``). ``False`` keeps only the
        ``n_history`` historical rows, so memory stays flat over any number of steps (the log grows
        by about 100 bytes per rating otherwise); ``interaction_log()`` then raises. Nothing else
        changes: the same seed gives the same trajectory either way.
    """

    n_users: int | None = None
    n_items: int | None = None
    n_features: int | None = None
    noise_std: float = 0.1
    attribute_distribution: str = "uniform"
    attribute_params: tuple[float, float] = (0.0, 1.0)
    user_attributes: np.ndarray | None = None
    item_attributes: np.ndarray | None = None
    new_users_per_period: float = 0.0
    new_items_per_period: float = 0.0
    arrival_distribution: str | None = None
    arrival_params: tuple[float, float] | None = None
    user_drift_std: float = 0.0
    n_history: int = 0
    frame_size: int = 10
    embedding_dim: int = 16
    embedding_noise: float = 0.1
    chunk_bytes: int = 64 * 2**20
    log_interactions: bool = True

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        users = _checked_attributes("user_attributes", self.user_attributes)
        items = _checked_attributes("item_attributes", self.item_attributes)
        set_(self, "user_attributes", users)
        set_(self, "item_attributes", items)
        set_(self, "n_users", self._resolved_size("n_users", self.n_users, users, 0, DEFAULT_N_USERS, "user_attributes"))
        set_(self, "n_items", self._resolved_size("n_items", self.n_items, items, 0, DEFAULT_N_ITEMS, "item_attributes"))
        given = users if users is not None else items
        set_(self, "n_features",
             self._resolved_size("n_features", self.n_features, given, 1, DEFAULT_N_FEATURES, "the attribute arrays"))
        if users is not None and items is not None and users.shape[1] != items.shape[1]:
            raise ValueError(
                f"user_attributes and item_attributes must have the same number of columns, "
                f"got {users.shape[1]} and {items.shape[1]}"
            )
        set_(self, "noise_std", check_real("noise_std", self.noise_std, minimum=0.0))
        distribution, params = check_distribution(
            "attribute_distribution", self.attribute_distribution, "attribute_params", self.attribute_params
        )
        set_(self, "attribute_distribution", distribution)
        set_(self, "attribute_params", params)
        set_(self, "new_users_per_period", check_real("new_users_per_period", self.new_users_per_period, minimum=0.0))
        set_(self, "new_items_per_period", check_real("new_items_per_period", self.new_items_per_period, minimum=0.0))
        if self.arrival_distribution is not None or self.arrival_params is not None:
            distribution, params = check_distribution(
                "arrival_distribution",
                self.arrival_distribution if self.arrival_distribution is not None else self.attribute_distribution,
                "arrival_params",
                self.arrival_params if self.arrival_params is not None else self.attribute_params,
            )
            set_(self, "arrival_distribution", distribution)
            set_(self, "arrival_params", params)
        set_(self, "user_drift_std", check_real("user_drift_std", self.user_drift_std, minimum=0.0))
        set_(self, "n_history", check_int("n_history", self.n_history, minimum=0, maximum=self.n_items))
        set_(self, "frame_size", check_int("frame_size", self.frame_size, minimum=1))
        set_(self, "embedding_dim", check_int("embedding_dim", self.embedding_dim, minimum=1))
        set_(self, "embedding_noise", check_real("embedding_noise", self.embedding_noise, minimum=0.0))
        set_(self, "chunk_bytes", check_int("chunk_bytes", self.chunk_bytes, minimum=1024))
        check_bool("log_interactions", self.log_interactions)

    @staticmethod
    def _resolved_size(name: str, value: Any, array: np.ndarray | None, axis: int, default: int, source: str) -> int:
        if value is None:
            return default if array is None else int(array.shape[axis])
        value = check_int(name, value, minimum=1)
        if array is not None and value != array.shape[axis]:
            raise ValueError(f"{name} must equal the size given by {source} ({array.shape[axis]}), got {value!r}")
        return value

    @property
    def has_arrivals(self) -> bool:
        """Whether new users or items arrive between periods."""
        return self.new_users_per_period > 0.0 or self.new_items_per_period > 0.0

    @property
    def changes_between_periods(self) -> bool:
        """Whether anything (arrivals, drift) happens at a period boundary."""
        return self.has_arrivals or self.user_drift_std > 0.0

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Names of all fields: the keyword arguments this config takes."""
        return frozenset(f.name for f in dataclasses.fields(cls))
