"""Candidate slates: CF retrieval of the top items, business re-scoring, and the refresh schedule."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from recgym._validation import check_int, check_real
from recgym.candidates.business import business_scores
from recgym.candidates.item_cf import ItemItemCosineCF
from recgym.candidates.ranking import top_k
from recgym.simulators.short_video.reward import outcome_table

DEFAULT_CF_SCORES: Mapping[str, float] = {"watched": 1.0, "skipped": -2.0, "liked": 2.0, "session_end": -0.5}


@dataclass(frozen=True)
class CandidateConfig:
    """How candidates are generated; every field is a keyword argument of the short-video envs.

    Parameters
    ----------
    n_candidates : int
        Candidates per slate, ``r`` (10): the size of the ``Discrete`` action space.
    cf_scores : Mapping[str, float]
        Interaction score of each outcome in the item x user matrix: the seed's table
        (liked 2, watched 1, skipped -2, other -0.5; its code used -1 for skips).
    business_weights : (float, float, float)
        ``(w1, w2, w3)`` of ``w1 * similarity + w2 * (views_scale * views) + w3 * is_interest``.
    views_scale : float
        The 0.1 that scales view counts in the business score.
    cf_refresh_interval : int or None
        When a session's CF scores are recomputed from the whole log. ``None`` (default): at the
        session's start, as a production retrieval stage runs once per request; later slates
        are the best not-yet-shown items of that retrieval. ``k``: also every ``k`` steps;
        ``1`` recomputes at every step, as the seed did, so every slate of a running session
        equals a brute-force recomputation from the whole log (slower: see the README's
        benchmarks). A session's final observation reuses the last retrieval. The business
        score is always recomputed from current view counts; ``info["candidates_fresh"]`` says
        whether the CF scores behind a slate were just recomputed.
    """

    n_candidates: int = 10
    cf_scores: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CF_SCORES))
    business_weights: tuple[float, float, float] = (0.5, 0.1, 0.3)
    views_scale: float = 0.1
    cf_refresh_interval: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_candidates", check_int("n_candidates", self.n_candidates, minimum=1))
        outcome_table("cf_scores", self.cf_scores)
        set_(self, "cf_scores", dict(self.cf_scores))
        weights = self.business_weights
        if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__") or len(weights) != 3:
            raise ValueError(f"business_weights must be a (w1, w2, w3) triple, got {weights!r}")
        set_(self, "business_weights", tuple(check_real(f"business_weights[{i}]", w) for i, w in enumerate(weights)))
        set_(self, "views_scale", check_real("views_scale", self.views_scale))
        if self.cf_refresh_interval is not None:
            set_(self, "cf_refresh_interval", check_int("cf_refresh_interval", self.cf_refresh_interval, minimum=1))

    def cf_score_table(self) -> np.ndarray:
        """Return the CF scores as a float64 array indexed by outcome code."""
        return outcome_table("cf_scores", self.cf_scores)

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Names of all fields: the keyword arguments this config takes."""
        return frozenset(f.name for f in dataclasses.fields(cls))


@dataclass
class Slates:
    """The current candidate slate of every slot, best business score first.

    Attributes
    ----------
    video, category, creator : numpy.ndarray
        ``(n_slots, n_candidates)`` int64.
    views : numpy.ndarray
        ``(n_slots, n_candidates)`` int64 view counts when the slate was made.
    similarity, score : numpy.ndarray
        ``(n_slots, n_candidates)`` float64 CF score and final business score.
    is_interest : numpy.ndarray
        ``(n_slots, n_candidates)`` bool.
    fresh : numpy.ndarray
        ``(n_slots,)`` bool: the CF scores behind the slate were computed from the whole log as
        it stands (with ``cf_refresh_interval=1``: at every step of a running session).
    """

    video: np.ndarray
    category: np.ndarray
    creator: np.ndarray
    views: np.ndarray
    similarity: np.ndarray
    score: np.ndarray
    is_interest: np.ndarray
    fresh: np.ndarray


class CandidateGenerator:
    """Builds each slot's slate from an incremental :class:`ItemItemCosineCF` and the business scores.

    Parameters
    ----------
    config : CandidateConfig
        Slate size, score tables, weights and refresh schedule.
    item_category, item_creator : numpy.ndarray
        ``(n_items,)`` int64 codes.
    item_views : numpy.ndarray
        ``(n_items,)`` view counts; read at every slate, so pass the live array.
    user_interest_mask : numpy.ndarray
        ``(n_users, n_categories)`` bool.
    n_slots : int
        Concurrent sessions.
    max_steps : int
        Longest session: with ``cf_refresh_interval=None`` one retrieval must fill every slate.
    """

    def __init__(
        self,
        config: CandidateConfig,
        item_category: np.ndarray,
        item_creator: np.ndarray,
        item_views: np.ndarray,
        user_interest_mask: np.ndarray,
        n_slots: int,
        max_steps: int,
    ) -> None:
        n_items, n_users = len(item_category), len(user_interest_mask)
        if config.n_candidates > n_items:
            raise ValueError(f"n_candidates must be <= n_videos ({n_items}), got {config.n_candidates!r}")
        self.config = config
        self.cf = ItemItemCosineCF(n_items, n_users)
        self._cf_table = config.cf_score_table().astype(np.float32)
        self._item_category = item_category
        self._item_creator = item_creator
        self._item_views = item_views
        self._interest = user_interest_mask
        # Each retrieval keeps enough items to fill every slate until the next one, including the
        # final observation of a session that ends when a retrieval is due.
        self._refresh_interval = config.cf_refresh_interval or max_steps
        self._pool_size = min(config.n_candidates + self._refresh_interval, n_items)
        self._pool = np.zeros((n_slots, self._pool_size), dtype=np.int64)
        self._pool_similarity = np.zeros((n_slots, self._pool_size), dtype=np.float64)
        self._pool_shown = np.zeros((n_slots, self._pool_size), dtype=bool)
        self._steps_since_refresh = np.zeros(n_slots, dtype=np.int64)
        self._slot_user = np.full(n_slots, -1, dtype=np.int64)
        shape = (n_slots, config.n_candidates)
        self.slates = Slates(
            video=np.zeros(shape, dtype=np.int64),
            category=np.zeros(shape, dtype=np.int64),
            creator=np.zeros(shape, dtype=np.int64),
            views=np.zeros(shape, dtype=np.int64),
            similarity=np.zeros(shape, dtype=np.float64),
            score=np.zeros(shape, dtype=np.float64),
            is_interest=np.zeros(shape, dtype=bool),
            fresh=np.zeros(n_slots, dtype=bool),
        )

    def observe(self, items: np.ndarray, users: np.ndarray, outcomes: np.ndarray, *, distinct_pairs: bool = False) -> None:
        """Add interactions (outcome codes) to the CF statistics (see :meth:`ItemItemCosineCF.add`)."""
        self.cf.add(items, users, self._cf_table[outcomes], distinct_pairs=distinct_pairs)

    def start(self, slots: np.ndarray, users: np.ndarray) -> None:
        """Make fresh slates for new sessions of ``users`` in ``slots``."""
        self._slot_user[slots] = users
        self._refresh(slots)
        self._build_slates(slots)

    def advance(self, slots: np.ndarray, positions: np.ndarray, ended: np.ndarray) -> None:
        """After the videos at ``positions`` of the slates were shown, make the next slates for ``slots``.

        Sessions that ``ended`` get their next slate from the current pool without a new retrieval:
        their next slate only fills the final observation, and a new session retrieves anyway.
        """
        shown = self.slates.video[slots, positions]
        self._pool_shown[slots] |= self._pool[slots] == shown[:, None]
        self._steps_since_refresh[slots] += 1
        due = slots[(self._steps_since_refresh[slots] >= self._refresh_interval) & ~ended]
        if len(due):
            self._refresh(due)
        self._build_slates(slots)

    def _refresh(self, slots: np.ndarray) -> None:
        users = self._slot_user[slots]
        similarity = self.cf.scores(users)
        ranked = np.where(self.cf.seen[users], -np.inf, similarity)
        pool = top_k(ranked, self._pool_size)
        self._pool[slots] = pool
        self._pool_similarity[slots] = similarity[np.arange(len(slots))[:, None], pool]
        self._pool_shown[slots] = False
        self._steps_since_refresh[slots] = 0

    def _build_slates(self, slots: np.ndarray) -> None:
        # The first n_candidates pool entries not shown yet, in CF order (a stable sort keeps it).
        rows = np.arange(len(slots))[:, None]
        keep = np.argsort(self._pool_shown[slots], axis=1, kind="stable")[:, : self.config.n_candidates]
        video = self._pool[slots][rows, keep]
        similarity = self._pool_similarity[slots][rows, keep]
        views = self._item_views[video]
        category = self._item_category[video]
        is_interest = self._interest[self._slot_user[slots][:, None], category]
        score = business_scores(similarity, views, is_interest, self.config.business_weights, self.config.views_scale)
        order = np.argsort(-score, axis=1, kind="stable")
        slates = self.slates
        slates.video[slots] = video = video[rows, order]
        slates.category[slots] = category[rows, order]
        slates.creator[slots] = self._item_creator[video]
        slates.views[slots] = views[rows, order]
        slates.similarity[slots] = similarity[rows, order]
        slates.score[slots] = score[rows, order]
        slates.is_interest[slots] = is_interest[rows, order]
        slates.fresh[slots] = self._steps_since_refresh[slots] == 0
