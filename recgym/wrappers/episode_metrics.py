"""Per-episode recommender metrics accumulated from step infos, for any number of concurrent episodes (slots).

:class:`EpisodeMetricsRecorder` keeps running sums per slot (return, length, outcome counts,
watch seconds, regret, categories shown) and two :class:`~recgym.wrappers.impression_window.ImpressionWindow`
objects shared by every slot (items and creators shown). :meth:`~EpisodeMetricsRecorder.finish`
turns the sums of the episodes that ended into the metrics below, through :mod:`recgym.metrics`.
The single-env wrapper :class:`~recgym.wrappers.RecordRecMetrics` is a recorder of one slot, the
vector wrapper :class:`~recgym.wrappers.RecordRecMetricsVector` one of ``num_envs`` slots.

Metrics of an episode (each present when the env reports what it needs; NaN where it is undefined):

=======================  ==================================================================================
key                      value
=======================  ==================================================================================
``return``               sum of the episode's rewards
``length``               its steps
``watch_seconds``        seconds watched in the episode (sum of ``info["watch_seconds"]``)
``watch_rate`` …         share of the episode's steps with ``info["outcome"]`` watched / liked / skipped /
                         session_end (``watch_rate``, ``like_rate``, ``skip_rate``, ``end_rate``)
``category_coverage``    distinct categories shown in the episode / number of categories
``diversity``            intra-list diversity of the episode's shown categories: the share of pairs of its
                         impressions in different categories (:mod:`recgym.metrics.diversity`; NaN for one step)
``regret``               mean ``info["regret"]`` per step (rating envs); ``cumulative_regret`` its sum,
                         ``zero_regret_rate`` the share of steps that recommended a best item
``catalogue_coverage``   distinct items among the last ``window`` impressions of all envs, when the
                         episode ended / catalogue size
``creator_gini``         Gini coefficient of impressions per creator (every creator, shown or not) among the
                         last ``window`` impressions of all envs, when the episode ended (0 = equal exposure)
=======================  ==================================================================================

Coverage and exposure concentration describe the policy's recent recommendations as a whole,
so they are taken over a window of impressions rather than one episode (an episode of seven
steps would cover 0.2 % of a 3,000-video catalogue whatever the policy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recgym._validation import check_int
from recgym.metrics import OUTCOME_RATES, diversity_from_counts, gini, rates_from_counts, regret_from_totals, share_shown
from recgym.wrappers.env_facts import catalogue_facts
from recgym.wrappers.impression_window import ImpressionWindow

REC_METRICS_KEY = "rec_metrics"
"""The ``info`` key under which the wrappers put an ended episode's metrics."""

DEFAULT_WINDOW = 10_000
"""Impressions over which ``catalogue_coverage`` and ``creator_gini`` are taken by default."""

ITEM_KEYS = ("video", "item")
"""``info`` keys naming the shown item (the first one present is used)."""

INFO_KEYS = ("outcome", "watch_seconds", "regret", "category", "creator", *ITEM_KEYS)
"""Every ``info`` key the recorder reads."""

_OUTCOMES = tuple(OUTCOME_RATES)
_OUTCOME_COLUMN = {name: column for column, name in enumerate(_OUTCOMES)}


def _rows(infos: Mapping[str, Any], key: str, mask: np.ndarray) -> np.ndarray | None:
    """Rows of ``mask`` whose info has ``key`` (its ``_key`` flag set), or None if no row has it."""
    if key not in infos:
        return None
    flags = infos.get(f"_{key}")
    rows = mask if flags is None else mask & flags
    return rows if rows.any() else None


class EpisodeMetricsRecorder:
    """Running per-episode sums for ``n_slots`` concurrent episodes and the shared impression windows.

    Parameters
    ----------
    n_slots : int
        Concurrent episodes (1 for a single env, ``num_envs`` for a vector env).
    catalogue_size : int, optional
        Items the env can show; without it ``catalogue_coverage`` is not reported.
    categories : sequence of str, optional
        Category names in code order; without them ``category_coverage`` and ``diversity`` are not reported.
    n_creators : int, optional
        Creators of the catalogue; without it ``creator_gini`` is not reported.
    window : int
        Impressions (of all slots together) over which ``catalogue_coverage`` and ``creator_gini`` are taken.
    """

    def __init__(
        self,
        n_slots: int,
        *,
        catalogue_size: int | None = None,
        categories: Sequence[str] | None = None,
        n_creators: int | None = None,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        n = check_int("n_slots", n_slots, minimum=1)
        self.window = check_int("window", window, minimum=1)
        self.categories = tuple(categories) if categories is not None else None
        if self.categories is not None and (not self.categories or len(set(self.categories)) != len(self.categories)):
            raise ValueError(f"categories must be distinct names, at least one, got {categories!r}")
        self._category_code = {name: code for code, name in enumerate(self.categories or ())}
        self.items = ImpressionWindow(catalogue_size, self.window) if catalogue_size is not None else None
        self.creators = ImpressionWindow(n_creators, self.window) if n_creators is not None else None
        self.returns = np.zeros(n)
        self.lengths = np.zeros(n, dtype=np.int64)
        self.outcomes = np.zeros((n, len(_OUTCOMES)), dtype=np.int64)
        self.outcome_steps = np.zeros(n, dtype=np.int64)
        self.watch_seconds = np.zeros(n)
        self.category_counts = np.zeros((n, len(self.categories or ())), dtype=np.int64)
        self.regret_total = np.zeros(n)
        self.regret_zero = np.zeros(n, dtype=np.int64)
        self.regret_steps = np.zeros(n, dtype=np.int64)
        self._reported: set[str] = set()  # info kinds seen: a metric is reported once its inputs have appeared

    def start(self, slots: np.ndarray | slice) -> None:
        """Forget the sums of ``slots`` (their new episodes start)."""
        for array in (self.returns, self.lengths, self.outcomes, self.outcome_steps, self.watch_seconds,
                      self.category_counts, self.regret_total, self.regret_zero, self.regret_steps):  # fmt: skip
            array[slots] = 0

    def add(self, mask: np.ndarray, rewards: np.ndarray, infos: Mapping[str, Any]) -> None:
        """Add one step of the slots in ``mask``.

        Parameters
        ----------
        mask : numpy.ndarray of bool, shape ``(n_slots,)``
            Slots that took a real step (a transition of their episode).
        rewards : numpy.ndarray, shape ``(n_slots,)``
        infos : Mapping
            The step's info in vector form: an array of ``n_slots`` values per key, and optional
            ``_key`` flags of the rows that have the key (rows without it are skipped for that key).
        """
        self.returns[mask] += rewards[mask]
        self.lengths[mask] += 1
        rows = _rows(infos, "outcome", mask)
        if rows is not None:
            outcomes = np.asarray(infos["outcome"])[rows]
            for column, name in enumerate(_OUTCOMES):
                self.outcomes[rows, column] += outcomes == name
            self.outcome_steps[rows] += 1
            self._reported.add("outcome")
        rows = _rows(infos, "watch_seconds", mask)
        if rows is not None:
            self.watch_seconds[rows] += np.asarray(infos["watch_seconds"], dtype=np.float64)[rows]
            self._reported.add("watch_seconds")
        rows = _rows(infos, "regret", mask)
        if rows is not None:
            regrets = np.asarray(infos["regret"], dtype=np.float64)[rows]
            self.regret_total[rows] += regrets
            self.regret_zero[rows] += regrets == 0.0
            self.regret_steps[rows] += 1
            self._reported.add("regret")
        rows = _rows(infos, "category", mask) if self.categories is not None else None
        if rows is not None:
            code = self._category_code
            try:
                codes = [code[name] for name in np.asarray(infos["category"])[rows].tolist()]
            except KeyError as error:
                raise ValueError(f"info['category'] holds {error.args[0]!r}, not one of categories {self.categories!r}") from None
            np.add.at(self.category_counts, (np.flatnonzero(rows), codes), 1)
            self._reported.add("category")
        if self.items is not None:
            for key in ITEM_KEYS:
                rows = _rows(infos, key, mask)
                if rows is not None:
                    self.items.add(np.asarray(infos[key])[rows])
                    self._reported.add("item")
                    break
        rows = _rows(infos, "creator", mask) if self.creators is not None else None
        if rows is not None:
            self.creators.add(np.asarray(infos["creator"])[rows])  # type: ignore[union-attr]
            self._reported.add("creator")

    def add_one(self, slot: int, reward: float, info: Mapping[str, Any]) -> None:
        """Add one step of one slot from a single env's ``info`` (scalars); the same sums as :meth:`add`, faster for one row."""
        self.returns[slot] += reward
        self.lengths[slot] += 1
        outcome = info.get("outcome")
        if outcome is not None:
            column = _OUTCOME_COLUMN.get(outcome)
            if column is not None:
                self.outcomes[slot, column] += 1
            self.outcome_steps[slot] += 1
            self._reported.add("outcome")
        seconds = info.get("watch_seconds")
        if seconds is not None:
            self.watch_seconds[slot] += seconds
            self._reported.add("watch_seconds")
        regret = info.get("regret")
        if regret is not None:
            self.regret_total[slot] += regret
            self.regret_zero[slot] += regret == 0.0
            self.regret_steps[slot] += 1
            self._reported.add("regret")
        category = info.get("category") if self.categories is not None else None
        if category is not None:
            code = self._category_code.get(category)
            if code is None:
                raise ValueError(f"info['category'] holds {category!r}, not one of categories {self.categories!r}")
            self.category_counts[slot, code] += 1
            self._reported.add("category")
        if self.items is not None:
            for key in ITEM_KEYS:
                item = info.get(key)
                if item is not None:
                    self.items.add_one(int(item))
                    self._reported.add("item")
                    break
        creator = info.get("creator") if self.creators is not None else None
        if creator is not None:
            self.creators.add_one(int(creator))  # type: ignore[union-attr]
            self._reported.add("creator")

    def finish(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """The metrics (see the module docstring) of the episodes of ``slots``, which have just ended.

        Parameters
        ----------
        slots : numpy.ndarray of int
            Slots whose episodes ended.

        Returns
        -------
        dict of str to numpy.ndarray of float64
            One array per metric, aligned with ``slots``. The slots' sums are kept until :meth:`start`.
        """
        slots = np.asarray(slots, dtype=np.int64)
        metrics: dict[str, np.ndarray] = {"return": self.returns[slots].astype(np.float64), "length": self.lengths[slots] * 1.0}
        if "watch_seconds" in self._reported:
            metrics["watch_seconds"] = self.watch_seconds[slots].copy()
        if "outcome" in self._reported:
            counts = dict(zip(_OUTCOMES, self.outcomes[slots].T, strict=True))
            metrics |= rates_from_counts(counts, self.outcome_steps[slots])
        if "category" in self._reported:
            counts = self.category_counts[slots]
            shown = counts.sum(axis=1)
            with np.errstate(invalid="ignore"):
                metrics["category_coverage"] = np.where(shown > 0, np.count_nonzero(counts, axis=1) / counts.shape[1], np.nan)
            metrics["diversity"] = np.asarray(diversity_from_counts(counts), dtype=np.float64).reshape(len(slots))
        if "regret" in self._reported:
            metrics |= regret_from_totals(self.regret_total[slots], self.regret_zero[slots], self.regret_steps[slots])
        if "item" in self._reported and self.items is not None:
            metrics["catalogue_coverage"] = np.full(len(slots), share_shown(self.items.counts))
        if "creator" in self._reported and self.creators is not None:
            metrics["creator_gini"] = np.full(len(slots), gini(self.creators.counts))
        return metrics


def recorder_for(
    env: Any,
    n_slots: int,
    *,
    window: int,
    buffer_length: int,
    info_key: str,
    catalogue_size: int | None = None,
    categories: Sequence[str] | None = None,
    n_creators: int | None = None,
) -> EpisodeMetricsRecorder:
    """The recorder of a metrics wrapper around ``env``: the given world sizes, or those of the env's config.

    Also checks the wrappers' own arguments ``buffer_length`` and ``info_key`` (``ValueError`` naming them).
    """
    if isinstance(buffer_length, bool) or not isinstance(buffer_length, int) or buffer_length < 1:
        raise ValueError(f"buffer_length must be a positive integer, got {buffer_length!r}")
    if not isinstance(info_key, str) or not info_key:
        raise ValueError(f"info_key must be a non-empty string, got {info_key!r}")
    facts = catalogue_facts(env)
    return EpisodeMetricsRecorder(
        n_slots,
        catalogue_size=catalogue_size if catalogue_size is not None else facts.catalogue_size,
        categories=categories if categories is not None else facts.categories,
        n_creators=n_creators if n_creators is not None else facts.n_creators,
        window=window,
    )
