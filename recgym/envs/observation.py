"""Declared observation layouts: one list of named fields gives both the ``Dict`` and the flat ``Box`` space.

Agents read the layout (``env.unwrapped.observation_layout``) to find each field in the flat vector
and to embed categorical fields, instead of hard-coding offsets as the seed did.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from gymnasium import spaces

FLOAT32_MAX = float(np.finfo(np.float32).max)
"""Bound for unbounded numeric features (finite, so Gymnasium's checker does not warn)."""

FieldKind = Literal["categorical", "binary", "numeric"]


@dataclass(frozen=True)
class ObservationField:
    """One named part of an observation.

    Attributes
    ----------
    name : str
        Key in ``Dict`` mode.
    kind : {"categorical", "binary", "numeric"}
        Categorical fields hold codes in ``[0, n_categories)``; binary fields 0 or 1.
    shape : tuple of int
        Shape of one observation's field (``()`` for a scalar).
    n_categories : int
        Number of codes of a categorical field (0 otherwise).
    low, high : float
        Bounds of a numeric field.
    offset : int
        Where the field starts in the flat ``Box`` vector.
    """

    name: str
    kind: FieldKind
    shape: tuple[int, ...]
    n_categories: int = 0
    low: float = 0.0
    high: float = 0.0
    offset: int = 0

    @property
    def size(self) -> int:
        """Number of entries in the flat vector."""
        return math.prod(self.shape)

    @property
    def flat_slice(self) -> slice:
        """The field's entries in the flat ``Box`` vector."""
        return slice(self.offset, self.offset + self.size)

    def space(self) -> spaces.Space:
        """The field's space in ``Dict`` mode."""
        if self.kind == "categorical":
            if self.shape == ():
                return spaces.Discrete(self.n_categories)
            return spaces.MultiDiscrete(np.full(self.shape, self.n_categories, dtype=np.int64))
        if self.kind == "binary":
            return spaces.MultiBinary(list(self.shape))
        return spaces.Box(self.low, self.high, shape=self.shape, dtype=np.float32)

    def bounds(self) -> tuple[float, float]:
        """Lowest and highest value of the field's entries."""
        if self.kind == "categorical":
            # A single code still gets a range of width one: Gymnasium warns on equal Box bounds.
            return 0.0, float(max(self.n_categories - 1, 1))
        if self.kind == "binary":
            return 0.0, 1.0
        return self.low, self.high


def categorical(name: str, n_categories: int, shape: tuple[int, ...] = ()) -> ObservationField:
    """A field of category codes in ``[0, n_categories)``."""
    return ObservationField(name, "categorical", shape, n_categories=n_categories)


def binary(name: str, shape: tuple[int, ...]) -> ObservationField:
    """A field of 0/1 flags."""
    return ObservationField(name, "binary", shape)


def numeric(name: str, low: float, high: float, shape: tuple[int, ...] = (1,)) -> ObservationField:
    """A float32 field within ``[low, high]`` (widened to ``[low, low + 1]`` if they are equal)."""
    high = max(float(high), float(low) + 1.0) if high == low else float(high)
    return ObservationField(name, "numeric", shape, low=float(low), high=high)


class ObservationLayout:
    """An ordered set of observation fields with their offsets in the flat vector.

    Parameters
    ----------
    fields : Sequence[ObservationField]
        In flat order; offsets are assigned here.
    """

    def __init__(self, fields: Sequence[ObservationField]) -> None:
        placed = []
        offset = 0
        for item in fields:
            placed.append(
                ObservationField(item.name, item.kind, item.shape, item.n_categories, item.low, item.high, offset)
            )
            offset += item.size
        self.fields: tuple[ObservationField, ...] = tuple(placed)
        self.size = offset
        self._by_name = {item.name: item for item in self.fields}
        if len(self._by_name) != len(self.fields):
            raise ValueError(f"field names must be distinct, got {[item.name for item in fields]}")

    def __getitem__(self, name: str) -> ObservationField:
        return self._by_name[name]

    def __iter__(self):
        return iter(self.fields)

    def dict_space(self) -> spaces.Dict:
        """The ``Dict`` observation space: one flat key per field, in the flat vector's order."""
        # A sequence of pairs keeps this order (a plain dict would be sorted by key).
        return spaces.Dict([(item.name, item.space()) for item in self.fields])

    def box_space(self) -> spaces.Box:
        """The flat ``Box`` observation space (float32), categorical codes included as numbers."""
        low = np.empty(self.size, dtype=np.float32)
        high = np.empty(self.size, dtype=np.float32)
        for item in self.fields:
            low[item.flat_slice], high[item.flat_slice] = item.bounds()
        return spaces.Box(low, high, dtype=np.float32)

    def flatten(self, batch: Mapping[str, np.ndarray]) -> np.ndarray:
        """Concatenate a batch of ``Dict`` observations into ``(n, size)`` float32 rows."""
        first = batch[self.fields[0].name]
        out = np.empty((len(first), self.size), dtype=np.float32)
        for item in self.fields:
            out[:, item.flat_slice] = batch[item.name].reshape(len(first), item.size)
        return out

    def unflatten(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Split ``(n, size)`` flat rows back into a batch of ``Dict`` observations (codes as int64)."""
        n = len(rows)
        batch: dict[str, np.ndarray] = {}
        for item in self.fields:
            values = rows[:, item.flat_slice].reshape((n, *item.shape))
            if item.kind == "categorical":
                values = values.astype(np.int64)
            elif item.kind == "binary":
                values = values.astype(np.int8)
            batch[item.name] = values
        return batch
