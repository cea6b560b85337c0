"""Learned weights for pairs of categorical codes: the "wide" part of a wide-and-deep candidate scorer.

A per-candidate Q head (:class:`agents.dqn.PerActionQNetwork`) sees each candidate's fields beside
the context's and has to learn from data how they interact: whether a video's category suits the
user's location, is one of the user's interests, repeats the category just shown. An MLP learns
such interactions slowly from concatenated embeddings, and in the short-video envs they are most
of what separates a good choice from a poor one. :class:`CategoricalCrosses` gives every
combination ``(candidate code, context code)`` of a declared pair of categorical fields its own
learned scalar and adds it to that candidate's score: a linear model on one-hot crossed features,
the "wide" part of Cheng et al. (2016), *Wide & Deep Learning for Recommender Systems*.

Example: the pair ``("candidate_category", "last_category")`` in ``RecGym-ShortVideoFatigue-v0``
learns one number per (category shown now, category shown last), so the penalty for repeating a
category is a single weight per category instead of a pattern an MLP must discover.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import nn

from recgym.envs.observation import ObservationField, ObservationLayout

CrossPairs = tuple[tuple[str, str], ...]
"""``((candidate_field, context_field), ...)``: field names of an :class:`~recgym.envs.observation.ObservationLayout`."""


def _field(layout: ObservationLayout, name: str) -> ObservationField:
    for field in layout:
        if field.name == name:
            return field
    raise ValueError(f"crosses name {name!r}, which is not a field of the layout; its fields are {[f.name for f in layout]}")


def candidate_fields(layout: ObservationLayout, n_actions: int) -> list[ObservationField]:
    """Categorical fields with one code per action (shape ``(n_actions,)``): what describes each candidate."""
    return [field for field in layout if field.kind == "categorical" and tuple(field.shape) == (n_actions,)]


def context_fields(layout: ObservationLayout, n_actions: int) -> list[ObservationField]:
    """Categorical fields that are not per action: what describes the user and the session."""
    return [field for field in layout if field.kind == "categorical" and tuple(field.shape) != (n_actions,)]


def all_crosses(layout: ObservationLayout, n_actions: int, exclude: Iterable[str] = ()) -> CrossPairs:
    """Every ``(candidate field, context field)`` pair of categorical fields, leaving out the fields named in ``exclude``.

    Parameters
    ----------
    layout : ObservationLayout
        The env's declared observation layout.
    n_actions : int
        Number of actions (= candidates).
    exclude : iterable of str
        Field names to leave out on either side.

    Returns
    -------
    CrossPairs
        In layout order.
    """
    skip = set(exclude)
    return tuple(
        (candidate.name, context.name)
        for candidate in candidate_fields(layout, n_actions)
        if candidate.name not in skip
        for context in context_fields(layout, n_actions)
        if context.name not in skip
    )


class CategoricalCrosses(nn.Module):
    """``(n, n_actions)`` sum, over the declared pairs, of a learned weight per (candidate code, context code).

    For a pair ``(c, g)`` the weight table has ``n_categories(c) * n_categories(g)`` entries,
    initialised to zero (so the term starts neutral). Candidate ``a``'s score gets
    ``w[c[a], g]``; a context field with several codes (shape ``(m,)``, such as the user's two
    interests) adds ``w[c[a], g[j]]`` for each of its ``m`` codes.

    Parameters
    ----------
    layout : ObservationLayout
        The env's declared observation layout.
    n_actions : int
        Number of actions (= candidates).
    pairs : sequence of (str, str)
        ``(candidate_field, context_field)``: a categorical field of shape ``(n_actions,)`` and a
        categorical field of another shape.

    Raises
    ------
    ValueError
        If a name is not a field of the layout, or a field is not of the kind its side needs.
    """

    def __init__(self, layout: ObservationLayout, n_actions: int, pairs: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.n_actions = int(n_actions)
        self.pairs: CrossPairs = tuple((str(candidate), str(context)) for candidate, context in pairs)
        if not self.pairs:
            raise ValueError("pairs must name at least one (candidate_field, context_field) pair, got none")
        tables = []
        self._context_sizes: list[int] = []
        for candidate_name, context_name in self.pairs:
            candidate, context = _field(layout, candidate_name), _field(layout, context_name)
            if candidate.kind != "categorical" or tuple(candidate.shape) != (self.n_actions,):
                raise ValueError(
                    f"crosses pair ({candidate_name!r}, {context_name!r}): {candidate_name!r} must be a categorical field "
                    f"of shape ({self.n_actions},), one code per candidate; got a {candidate.kind} field "
                    f"of shape {candidate.shape}"
                )
            if context.kind != "categorical" or tuple(context.shape) == (self.n_actions,):
                raise ValueError(
                    f"crosses pair ({candidate_name!r}, {context_name!r}): {context_name!r} must be a categorical field "
                    f"of the context (not one code per candidate); got a {context.kind} field of shape {context.shape}"
                )
            table = nn.Embedding(candidate.n_categories * context.n_categories, 1)
            nn.init.zeros_(table.weight)
            tables.append(table)
            self._context_sizes.append(context.n_categories)
        self.tables = nn.ModuleList(tables)

    def forward(self, codes: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The term to add to each candidate's score.

        Parameters
        ----------
        codes : Mapping[str, torch.Tensor]
            ``(n, field.size)`` int64 codes by field name, as :meth:`agents.encoder.ObservationEncoder.split` gives them.

        Returns
        -------
        torch.Tensor
            ``(n, n_actions)`` float32.
        """
        terms = []
        for (candidate, context), table, size in zip(self.pairs, self.tables, self._context_sizes, strict=True):
            index = codes[candidate][:, :, None] * size + codes[context][:, None, :]  # (n, n_actions, m)
            terms.append(table(index).squeeze(3).sum(dim=2))
        return sum(terms[1:], terms[0])

    def extra_repr(self) -> str:
        """The pairs, as ``print(module)`` shows them."""
        return ", ".join(f"{candidate} x {context}" for candidate, context in self.pairs)
