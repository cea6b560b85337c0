"""Candidate slates: CF retrieval of the top items, business re-scoring, and the refresh schedule."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from recgym._indexing import slot_rows
from recgym._validation import check_int, check_real
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


# Fields of a candidate: those of the observation, in its order, then the video id, the candidate's
# entry in its slot's retrieval pool and the two fixed terms of its business score.
CATEGORY, CREATOR, IS_INTEREST, VIEWS, SIMILARITY, SCORE, VIDEO, ENTRY, SIMILARITY_TERM, INTEREST_TERM = range(10)
N_FIELDS = INTEREST_TERM + 1
N_OBSERVED = SCORE + 1
"""Leading candidate fields that the observation shows, in its order (``candidate_category`` ... ``candidate_score``)."""


class Slates:
    """The current candidate slate of every slot, best business score first.

    Stored as one float64 table whose leading fields are laid out as the observation's candidate
    fields, so a slate is built with a few whole-table operations and observed with one copy. The
    per-field attributes read it (ids and counts are whole numbers, exact in float64); they are
    copies, so read them again after a step.

    Attributes
    ----------
    table : numpy.ndarray
        ``(n_slots, N_FIELDS, n_candidates)`` float64, fields indexed by ``CATEGORY`` ... ``INTEREST_TERM``.
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

    def __init__(self, n_slots: int, n_candidates: int) -> None:
        self.table = np.zeros((n_slots, N_FIELDS, n_candidates), dtype=np.float64)
        self.fresh = np.zeros(n_slots, dtype=bool)

    @property
    def video(self) -> np.ndarray:
        """``(n_slots, n_candidates)`` int64 video ids."""
        return self.table[:, VIDEO].astype(np.int64)

    @property
    def category(self) -> np.ndarray:
        """``(n_slots, n_candidates)`` int64 category codes."""
        return self.table[:, CATEGORY].astype(np.int64)

    @property
    def creator(self) -> np.ndarray:
        """``(n_slots, n_candidates)`` int64 creator codes."""
        return self.table[:, CREATOR].astype(np.int64)

    @property
    def views(self) -> np.ndarray:
        """``(n_slots, n_candidates)`` int64 view counts when the slate was made."""
        return self.table[:, VIEWS].astype(np.int64)

    @property
    def similarity(self) -> np.ndarray:
        """``(n_slots, n_candidates)`` float64 CF scores."""
        return self.table[:, SIMILARITY].copy()

    @property
    def score(self) -> np.ndarray:
        """``(n_slots, n_candidates)`` float64 business scores."""
        return self.table[:, SCORE].copy()

    @property
    def is_interest(self) -> np.ndarray:
        """``(n_slots, n_candidates)`` bool: the candidate's category is one of the user's interests."""
        return self.table[:, IS_INTEREST].astype(bool)

    def videos_at(self, slots: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The int64 video ids at ``positions[i]`` of slot ``slots[i]``'s slate."""
        return self.table[slots, VIDEO, positions].astype(np.int64)

    def observed(self, rows: np.ndarray | slice) -> np.ndarray:
        """``(n, N_OBSERVED * n_candidates)`` float64: the slates' observed fields of ``rows``, flat, in observation order.

        ``rows`` are slot numbers or a slice; a slice gives a view.
        """
        observed = self.table[rows, :N_OBSERVED]
        return observed.reshape(len(observed), N_OBSERVED * self.table.shape[2])


_FEW_SLOTS = 16
"""Where tiny arrays make other operations cheaper (measured): with fewer slots in all (a single env has one),
slates come from per-entry "shown" flags; for fewer slots in one call, the candidates are gathered and sorted
as a contiguous field-major copy."""


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
        # Per slot, the retrieved items in CF order with every candidate field except the views and
        # the score, which depend on the current view counts. Entry-major: a candidate's fields are one
        # contiguous record, so a slate is gathered as n_candidates records per slot.
        self._pool = np.zeros((n_slots, self._pool_size, N_FIELDS), dtype=np.float64)
        self._records = self._pool.reshape(-1, N_FIELDS)  # a view: one row per (slot, entry)
        self._fresh_pool = np.zeros_like(self._pool)
        self._fresh_pool[:, :, ENTRY] = np.arange(self._pool_size)
        # A slate holds the first n_candidates pool entries not shown yet, in CF order. Only entries of
        # the slate are ever shown, so while the pool lasts they are the slate's entries minus the one
        # just shown plus the next entry never offered: kept per slot, with no search over the pool.
        # The pool lasts unless the catalogue caps it (fewer items than n_candidates plus the steps
        # between retrievals); then, and for a few slots, where a stable sort of per-entry "shown"
        # flags takes fewer operations, slates come from the flags (entries not shown yet first, then
        # the shown ones, each in CF order).
        capped = self._pool_size < config.n_candidates + self._refresh_interval
        self._pool_shown = np.zeros((n_slots, self._pool_size), dtype=bool) if capped or n_slots < _FEW_SLOTS else None
        self._slate_entries_at_start = np.arange(config.n_candidates, dtype=np.int64)
        self._slate_entries = np.tile(self._slate_entries_at_start, (n_slots, 1))
        self._next_entry = np.full(n_slots, config.n_candidates, dtype=np.int64)
        self._steps_since_refresh = np.zeros(n_slots, dtype=np.int64)
        self._slot_user = np.full(n_slots, -1, dtype=np.int64)
        self.slates = Slates(n_slots, config.n_candidates)
        # Constants of a step as arrays (0-d, or index columns): cheaper than Python numbers in
        # operations on the tiny arrays of a step.
        self._entry_offsets = np.arange(0, n_slots * self._pool_size, self._pool_size)[:, None]
        self._slate_offsets = np.arange(0, n_slots * config.n_candidates, config.n_candidates)[:, None]
        self._slot_column = np.arange(n_slots)[:, None, None]
        self._fields = np.arange(N_FIELDS)[None, :, None]
        self._one = np.array(1)
        self._w_views = np.array(config.business_weights[1])
        self._views_scale = np.array(config.views_scale)

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
        shown = self.slates.table[slots, ENTRY, positions].astype(np.int64)
        if self._pool_shown is not None:
            self._pool_shown[slots, shown] = True
        else:
            # The slate without the shown entry (exactly one per row), then the next entry of the pool.
            rows = slot_rows(slots, len(self._pool))
            entries = self._slate_entries[rows]
            self._slate_entries[rows, :-1] = entries[entries != shown[:, None]].reshape(len(slots), -1)
            self._slate_entries[rows, -1] = self._next_entry[rows]
            self._next_entry[rows] += self._one
        self.slates.fresh[slots] = False
        # Without cf_refresh_interval a retrieval lasts the whole session (max_steps ends it).
        if self.config.cf_refresh_interval is not None:
            steps = self._steps_since_refresh[slots] + self._one
            self._steps_since_refresh[slots] = steps
            due = slots[(steps >= self._refresh_interval) & ~ended]
            if len(due):
                self._refresh(due)
        self._build_slates(slots)

    def _refresh(self, slots: np.ndarray) -> None:
        users = self._slot_user[slots]
        similarity = self.cf.scores(users)
        # CF scores are finite: adding -inf to the seen items ranks them last, as top_k's exclude would.
        pool = top_k(similarity + self.cf.seen_offsets(users), self._pool_size)
        category = self._item_category[pool]
        is_interest = self._interest[users[:, None], category]
        pool_similarity = similarity[np.arange(len(slots))[:, None], pool].astype(np.float64)
        w_similarity, _, w_interest = self.config.business_weights
        entries = self._fresh_pool[: len(slots)].copy()  # zeros, and each entry's number
        entries[:, :, CATEGORY] = category
        entries[:, :, CREATOR] = self._item_creator[pool]
        entries[:, :, IS_INTEREST] = is_interest
        entries[:, :, SIMILARITY] = pool_similarity
        entries[:, :, VIDEO] = pool
        entries[:, :, SIMILARITY_TERM] = w_similarity * pool_similarity
        entries[:, :, INTEREST_TERM] = w_interest * is_interest
        rows = slot_rows(slots, len(self._pool))
        self._pool[rows] = entries
        if self._pool_shown is not None:
            self._pool_shown[rows] = False
        else:
            self._slate_entries[rows] = self._slate_entries_at_start
            self._next_entry[rows] = self.config.n_candidates
        self._steps_since_refresh[slots] = 0
        self.slates.fresh[slots] = True

    def _build_slates(self, slots: np.ndarray) -> None:
        rows = slot_rows(slots, len(self._pool))
        n, n_candidates = len(slots), self.config.n_candidates
        if self._pool_shown is None:
            keep = self._slate_entries[rows]
        else:  # the first n_candidates entries not shown yet, in CF order (a stable sort keeps it)
            keep = self._pool_shown[rows].argsort(axis=1, kind="stable")[:, :n_candidates]
        # The records of those entries, viewed field-major (n, fields, n_candidates) for the arithmetic.
        # For many slots, one take of whole rows of the flat pool; for a few, a contiguous copy (on tiny
        # arrays, index arithmetic and strided operations cost more than the data).
        few = n < _FEW_SLOTS
        if few:
            candidates = self._pool[slots[:, None], keep].transpose(0, 2, 1).copy()
        else:
            offsets = self._entry_offsets if isinstance(rows, slice) else slots[:, None] * self._pool_size
            records = self._records.take((offsets + keep).ravel(), axis=0)
            candidates = records.reshape(n, n_candidates, N_FIELDS).transpose(0, 2, 1)
        candidates[:, VIEWS] = self._item_views[candidates[:, VIDEO].astype(np.int64)]
        # business_scores, with the fixed terms of each pool entry computed at retrieval (same sums, same order).
        score = candidates[:, SIMILARITY_TERM] + self._w_views * (self._views_scale * candidates[:, VIEWS])
        candidates[:, SCORE] = score + candidates[:, INTEREST_TERM]
        order = (-candidates[:, SCORE]).argsort(axis=1, kind="stable")
        # Best business score first, into the field-major slate table.
        if few:
            self.slates.table[rows] = candidates[self._slot_column[:n], self._fields, order[:, None, :]]
        else:
            ordered = records.take((self._slate_offsets[:n] + order).ravel(), axis=0)
            self.slates.table[rows] = ordered.reshape(n, n_candidates, N_FIELDS).transpose(0, 2, 1)
