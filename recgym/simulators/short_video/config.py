"""Every number of the short-video world (SPEC §1) as a validated, frozen dataclass.

Defaults reproduce seed 003 ("InstaTok"), with its defects fixed: the continuation
probability is clipped to [0, 1] and a user's two interests are distinct by default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from recgym._validation import check_bool, check_int, check_names, check_range, check_real
from recgym.simulators.short_video.reward import outcome_table

DEFAULT_CATEGORIES: tuple[str, ...] = (
    "comedy",
    "educational",
    "news",
    "food",
    "politics",
    "animals",
    "tech",
    "fashion",
)
DEFAULT_LOCATION_EFFECTS: Mapping[tuple[str, str], float] = {
    ("west", "tech"): 0.1,
    ("mid", "animals"): 0.1,
    ("east", "food"): 0.1,
    ("west", "educational"): -0.2,
    ("mid", "news"): -0.2,
    ("east", "tech"): -0.2,
}

DEFAULT_REWARDS: Mapping[str, float] = {"watched": 1.0, "skipped": -2.0, "liked": 2.0, "session_end": -0.5}


@dataclass(frozen=True)
class ShortVideoConfig:
    """The world, the response model and the session clock of the short-video simulator.

    Every field is a keyword argument of ``gym.make("RecGym-ShortVideo-v0", ...)``.
    Invalid values raise ``ValueError`` naming the field, the value and what is allowed.

    Parameters
    ----------
    categories : tuple of str
        Video categories.
    n_users, n_videos, n_creators : int
        Population, catalogue and creator counts (200, 3,000, 20).
    video_duration : float
        Seconds a watched or liked video adds to the session clock (6).
    initial_views_mean, initial_views_std : float
        A video's initial view count is ``round(Normal(mean, std))``, floored at 0.
    age_range : (int, int)
        Inclusive range of user ages (18, 29).
    genders, locations : tuple of str
        Values of the user's gender and location.
    n_interests : int
        Interest categories per user (2).
    distinct_interests : bool
        Draw a user's interests without replacement (the seed drew with replacement).
    history_mean, history_std, history_min : float, float, int
        Each user has ``round(max(history_min, Normal(mean, std)))`` logged interactions before
        any agent acts (30, 10, 5).
    base_propensity_range : (float, float)
        The continuation probability starts as ``Uniform(low, high)`` per shown video.
    interest_bonus : float
        Added when the video's category is one of the user's interests (+0.3).
    location_effects : Mapping[(location, category), float] or None
        Added when a user at ``location`` is shown ``category``. ``None`` (default): the seed's
        +0.1 bonuses and -0.2 penalties, keeping those whose location and category exist (so
        ``categories`` or ``locations`` can change on their own).
    rewards : Mapping[str, float]
        Reward of each outcome: watched +1, liked +2, skipped -2, session_end -0.5.
    skip_seconds_range : (float, float)
        A skip or a session end adds ``Uniform(low, high)`` seconds (1, 5).
    max_steps : int
        Steps after which a session is truncated (50).
    boredom_increase, boredom_decay : float
        In-session boredom (0 disables it): after each shown video every category's boredom is
        multiplied by ``boredom_decay`` and the shown category's grows by ``boredom_increase``;
        a video's continuation probability loses its category's boredom.
    like_mood_shift, skip_mood_shift : float
        In-session mood (0 disables it): added to the continuation probability of every later
        video in the session after a like or a skip (the seed's +0.05 and -0.3); mood stays
        within [-1, 1].
    log_interactions : bool
        Record every simulated interaction in the interaction log (``True``). ``False`` keeps only
        the historical rows, so memory stays flat over any number of steps (the log grows by about
        80 bytes per step otherwise); ``interaction_log()`` then raises. Nothing else changes: the
        same seed gives the same trajectory either way.
    """

    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    n_users: int = 200
    n_videos: int = 3000
    n_creators: int = 20
    video_duration: float = 6.0
    initial_views_mean: float = 50.0
    initial_views_std: float = 10.0
    age_range: tuple[int, int] = (18, 29)
    genders: tuple[str, ...] = ("m", "f")
    locations: tuple[str, ...] = ("west", "mid", "east")
    n_interests: int = 2
    distinct_interests: bool = True
    history_mean: float = 30.0
    history_std: float = 10.0
    history_min: int = 5
    base_propensity_range: tuple[float, float] = (0.0, 1.0)
    interest_bonus: float = 0.3
    location_effects: Mapping[tuple[str, str], float] | None = None
    rewards: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_REWARDS))
    skip_seconds_range: tuple[float, float] = (1.0, 5.0)
    max_steps: int = 50
    boredom_increase: float = 0.0
    boredom_decay: float = 0.5
    like_mood_shift: float = 0.0
    skip_mood_shift: float = 0.0
    log_interactions: bool = True

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "categories", check_names("categories", self.categories))
        set_(self, "n_users", check_int("n_users", self.n_users, minimum=1))
        set_(self, "n_videos", check_int("n_videos", self.n_videos, minimum=1))
        set_(self, "n_creators", check_int("n_creators", self.n_creators, minimum=1))
        set_(self, "video_duration", check_real("video_duration", self.video_duration, minimum=0.0, strict_minimum=True))
        set_(self, "initial_views_mean", check_real("initial_views_mean", self.initial_views_mean, minimum=0.0))
        set_(self, "initial_views_std", check_real("initial_views_std", self.initial_views_std, minimum=0.0))
        set_(self, "age_range", check_range("age_range", self.age_range, minimum=0, integer=True))
        set_(self, "genders", check_names("genders", self.genders))
        set_(self, "locations", check_names("locations", self.locations))
        set_(self, "n_interests", check_int("n_interests", self.n_interests, minimum=1))
        check_bool("distinct_interests", self.distinct_interests)
        if self.distinct_interests and self.n_interests > len(self.categories):
            raise ValueError(
                f"n_interests must be <= len(categories) = {len(self.categories)} when distinct_interests "
                f"is True, got {self.n_interests!r}"
            )
        set_(self, "history_mean", check_real("history_mean", self.history_mean, minimum=0.0))
        set_(self, "history_std", check_real("history_std", self.history_std, minimum=0.0))
        set_(self, "history_min", check_int("history_min", self.history_min, minimum=0))
        low, high = check_range("base_propensity_range", self.base_propensity_range)
        if low < 0.0 or high > 1.0:
            raise ValueError(f"base_propensity_range must lie within [0, 1], got {self.base_propensity_range!r}")
        set_(self, "base_propensity_range", (low, high))
        set_(self, "interest_bonus", check_real("interest_bonus", self.interest_bonus, minimum=-1.0, maximum=1.0))
        set_(self, "location_effects", self._checked_location_effects())
        outcome_table("rewards", self.rewards)
        set_(self, "rewards", dict(self.rewards))
        set_(self, "skip_seconds_range", check_range("skip_seconds_range", self.skip_seconds_range, minimum=0.0))
        set_(self, "max_steps", check_int("max_steps", self.max_steps, minimum=1))
        set_(self, "boredom_increase", check_real("boredom_increase", self.boredom_increase, minimum=0.0, maximum=1.0))
        set_(self, "boredom_decay", check_real("boredom_decay", self.boredom_decay, minimum=0.0, maximum=1.0))
        set_(self, "like_mood_shift", check_real("like_mood_shift", self.like_mood_shift, minimum=-1.0, maximum=1.0))
        set_(self, "skip_mood_shift", check_real("skip_mood_shift", self.skip_mood_shift, minimum=-1.0, maximum=1.0))
        check_bool("log_interactions", self.log_interactions)

    def _checked_location_effects(self) -> dict[tuple[str, str], float]:
        if self.location_effects is None:
            return {
                (location, category): effect
                for (location, category), effect in DEFAULT_LOCATION_EFFECTS.items()
                if location in self.locations and category in self.categories
            }
        if not isinstance(self.location_effects, Mapping):
            raise ValueError(
                f"location_effects must be a mapping {{(location, category): effect}}, got {self.location_effects!r}"
            )
        effects: dict[tuple[str, str], float] = {}
        for key, value in self.location_effects.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ValueError(f"location_effects keys must be (location, category) pairs, got {key!r}")
            location, category = key
            if location not in self.locations:
                raise ValueError(
                    f"location_effects key {key!r}: location must be one of {list(self.locations)!r}, got {location!r}"
                )
            if category not in self.categories:
                raise ValueError(
                    f"location_effects key {key!r}: category must be one of {list(self.categories)!r}, got {category!r}"
                )
            effects[(location, category)] = check_real(f"location_effects[{key!r}]", value, minimum=-1.0, maximum=1.0)
        return effects

    @property
    def n_categories(self) -> int:
        """Number of video categories."""
        return len(self.categories)

    @property
    def has_fatigue(self) -> bool:
        """Whether any in-session effect (boredom or mood) is switched on."""
        return self.boredom_increase > 0.0 or self.like_mood_shift != 0.0 or self.skip_mood_shift != 0.0

    @property
    def max_session_seconds(self) -> float:
        """An upper bound on a session's clock: every step at the longest duration."""
        return self.max_steps * max(self.video_duration, self.skip_seconds_range[1])

    def location_effect_matrix(self) -> np.ndarray:
        """Return the location effects as a ``(n_locations, n_categories)`` float64 array."""
        matrix = np.zeros((len(self.locations), self.n_categories), dtype=np.float64)
        for (location, category), effect in self.location_effects.items():
            matrix[self.locations.index(location), self.categories.index(category)] += effect
        return matrix

    def reward_table(self) -> np.ndarray:
        """Return the rewards as a float64 array indexed by outcome code."""
        return outcome_table("rewards", self.rewards)

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Names of all fields: the keyword arguments this config takes."""
        return frozenset(f.name for f in dataclasses.fields(cls))
