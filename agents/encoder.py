"""Observation encoders: turn a batch of observations into one float feature vector per row.

:class:`ObservationEncoder` follows the seed's idea (categorical features through learned
embeddings, numeric ones concatenated) but reads every field's place, kind and size from the
env's declared :class:`~recgym.envs.observation.ObservationLayout` instead of hard-coded offsets.
:class:`FlatEncoder` is the plain alternative for ``Box`` envs without a layout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from recgym.envs.observation import FLOAT32_MAX, ObservationField, ObservationLayout

Observations = torch.Tensor | np.ndarray | Mapping[str, torch.Tensor | np.ndarray]
"""A batch of flat ``(n, layout.size)`` rows, or one ``(n, *field.shape)`` array per field name."""


def default_embedding_dim(n_categories: int, max_dim: int = 16) -> int:
    """Embedding width for a field with ``n_categories`` codes: ``round(1.6 * n_categories ** 0.56)``, capped.

    The rule of thumb from fastai's tabular models; it gives 2 for 2 codes, 3 for 3, 5 for 8,
    9 for 20 and reaches the cap of 16 at about 60 codes.

    Parameters
    ----------
    n_categories : int
        Number of codes.
    max_dim : int
        Cap.

    Returns
    -------
    int
        Between 1 and ``max_dim``.
    """
    return max(1, min(int(max_dim), round(1.6 * n_categories**0.56)))


def _bounded(value: float) -> bool:
    # The layout writes +-FLOAT32_MAX for an unbounded side (a finite Box bound Gymnasium accepts).
    return math.isfinite(value) and abs(value) < FLOAT32_MAX


class ObservationEncoder(nn.Module):
    """Embed categorical fields and concatenate them with the (scaled) binary and numeric fields.

    Output layout, in this order:

    1. every binary and numeric field, in layout order, one column per entry. Binary entries
       stay 0/1. With ``normalize=True`` a numeric field with finite bounds is mapped affinely
       from ``[low, high]`` to ``[-1, 1]``; one with an unbounded side (``+-inf`` or the layout's
       ``FLOAT32_MAX`` sentinel) goes through ``symlog(x) = sign(x) * log1p(|x|)``, a fixed,
       state-free squashing that keeps sign and order. With ``normalize=False`` values pass as they are.
    2. every categorical field, in layout order: each field has its own ``nn.Embedding(n_categories, dim)``
       table, and a field of shape ``(k,)`` embeds each of its ``k`` codes with that shared table and
       **concatenates** them (``k * dim`` columns, entry by entry). Concatenation, not mean pooling,
       because in recgym the position carries meaning: candidate slot ``i`` is action ``i``.

    ``output_slices`` gives each field's columns in the output.

    Parameters
    ----------
    layout : ObservationLayout
        The env's declared layout (``env.unwrapped.observation_layout``).
    embedding_dim : int or Mapping[str, int], optional
        Width of every categorical field's embedding, or widths by field name (fields not named
        use the default). Default: :func:`default_embedding_dim` of the field's ``n_categories``.
    max_embedding_dim : int
        Cap of the default width.
    normalize : bool
        Scale numeric fields as described above.

    Attributes
    ----------
    output_dim : int
        Columns of the output.
    output_slices : dict of str to slice
        Each field's columns in the output.
    embeddings : torch.nn.ModuleDict
        One ``nn.Embedding`` per categorical field, by field name.

    Notes
    -----
    Input is either a flat batch ``(n, layout.size)`` (the ``Box`` observation; categorical codes
    are read from their float columns and cast to ``long``) or a mapping with one ``(n, *field.shape)``
    tensor per field (``observation_mode="dict"``). Both give identical outputs for the same
    observations. NumPy arrays are accepted and moved to the module's device. Codes outside
    ``[0, n_categories)`` raise ``IndexError`` from the embedding lookup.

    Examples
    --------
    >>> import gymnasium as gym, recgym, torch
    >>> env = gym.make("RecGym-ShortVideo-v0")
    >>> encoder = ObservationEncoder(env.unwrapped.observation_layout)
    >>> obs, _ = env.reset(seed=0)
    >>> encoder(torch.as_tensor(obs)[None]).shape == (1, encoder.output_dim)
    True
    """

    dense_columns: torch.Tensor
    scale: torch.Tensor
    shift: torch.Tensor
    symlog_mask: torch.Tensor

    def __init__(
        self,
        layout: ObservationLayout,
        embedding_dim: int | Mapping[str, int] | None = None,
        *,
        max_embedding_dim: int = 16,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(layout, ObservationLayout):
            raise ValueError(f"layout must be an ObservationLayout, got {type(layout).__name__}")
        if isinstance(max_embedding_dim, bool) or not isinstance(max_embedding_dim, int) or max_embedding_dim < 1:
            raise ValueError(f"max_embedding_dim must be a positive integer, got {max_embedding_dim!r}")
        self.layout = layout
        self.normalize = bool(normalize)
        self._dense_fields = [field for field in layout if field.kind != "categorical"]
        self._categorical_fields = [field for field in layout if field.kind == "categorical"]
        dims = self._embedding_dims(embedding_dim, max_embedding_dim)

        self.embeddings = nn.ModuleDict(
            {field.name: nn.Embedding(field.n_categories, dims[field.name]) for field in self._categorical_fields}
        )
        columns: list[int] = []
        scale: list[float] = []
        shift: list[float] = []
        symlog: list[bool] = []
        self.output_slices: dict[str, slice] = {}
        start = 0
        for field in self._dense_fields:
            columns.extend(range(field.flat_slice.start, field.flat_slice.stop))
            field_scale, field_shift, field_symlog = self._scaling(field)
            scale += [field_scale] * field.size
            shift += [field_shift] * field.size
            symlog += [field_symlog] * field.size
            self.output_slices[field.name] = slice(start, start + field.size)
            start += field.size
        self._n_dense = start
        for field in self._categorical_fields:
            width = field.size * dims[field.name]
            self.output_slices[field.name] = slice(start, start + width)
            start += width
        self.output_dim = start
        if self.output_dim == 0:
            raise ValueError("layout must have at least one field, got an empty layout")
        # Derived from the layout, so kept out of the state dict (which then holds only learned weights).
        self.register_buffer("dense_columns", torch.tensor(columns, dtype=torch.long), persistent=False)
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32), persistent=False)
        self.register_buffer("shift", torch.tensor(shift, dtype=torch.float32), persistent=False)
        self.register_buffer("symlog_mask", torch.tensor(symlog, dtype=torch.bool), persistent=False)
        self._any_symlog = any(symlog)

    def _embedding_dims(self, embedding_dim: int | Mapping[str, int] | None, max_dim: int) -> dict[str, int]:
        for field in self._categorical_fields:
            if field.n_categories < 1:
                raise ValueError(f"categorical field {field.name!r} must have n_categories >= 1, got {field.n_categories}")
        dims = {field.name: default_embedding_dim(field.n_categories, max_dim) for field in self._categorical_fields}
        if embedding_dim is None:
            return dims
        if isinstance(embedding_dim, Mapping):
            unknown = sorted(set(embedding_dim) - set(dims))
            if unknown:
                raise ValueError(f"embedding_dim names {unknown}, which are not categorical fields; those are {sorted(dims)}")
            overrides = dict(embedding_dim)
        else:
            overrides = dict.fromkeys(dims, embedding_dim)
        for name, dim in overrides.items():
            if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
                raise ValueError(f"embedding_dim must be a positive integer (for field {name!r}), got {dim!r}")
        return dims | overrides

    def _scaling(self, field: ObservationField) -> tuple[float, float, bool]:
        """``(scale, shift, symlog)`` for one dense field's entries."""
        if field.kind == "binary" or not self.normalize:
            return 1.0, 0.0, False
        if _bounded(field.low) and _bounded(field.high) and field.high > field.low:
            width = field.high - field.low
            return 2.0 / width, -(field.high + field.low) / width, False
        return 1.0, 0.0, True

    def _device(self) -> torch.device:
        return self.scale.device

    def _tensor(self, value: torch.Tensor | np.ndarray) -> torch.Tensor:
        return torch.as_tensor(value, device=self._device())

    def _scale(self, dense: torch.Tensor) -> torch.Tensor:
        scaled = torch.addcmul(self.shift, dense, self.scale)
        if self._any_symlog:
            scaled = torch.where(self.symlog_mask, torch.sign(dense) * torch.log1p(dense.abs()), scaled)
        return scaled

    def forward(self, observations: Observations) -> torch.Tensor:
        """Encode a batch.

        Parameters
        ----------
        observations : torch.Tensor, numpy.ndarray or Mapping[str, tensor or array]
            ``(n, layout.size)`` flat rows, or one ``(n, *field.shape)`` batch per field name.

        Returns
        -------
        torch.Tensor
            ``(n, output_dim)`` float32.

        Raises
        ------
        ValueError
            If the batch's shape or keys do not match the layout.
        """
        return self.embed(*self.split(observations))

    def split(self, observations: Observations) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The raw parts of a batch: ``(n, n_dense)`` float32 binary and numeric columns, and each categorical field's codes.

        Parameters
        ----------
        observations : torch.Tensor, numpy.ndarray or Mapping[str, tensor or array]
            As for :meth:`forward`.

        Returns
        -------
        dense : torch.Tensor
            Unscaled binary and numeric columns, in layout order.
        codes : dict of str to torch.Tensor
            ``(n, field.size)`` int64 codes of every categorical field, by name.
        """
        if isinstance(observations, Mapping):
            return self._split_dict(observations)
        return self._split_flat(self._tensor(observations))

    def embed(self, dense: torch.Tensor, codes: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``(n, output_dim)`` features from the parts :meth:`split` returns (dense columns scaled, codes embedded)."""
        parts = [self._scale(dense)] if self._n_dense else []
        for field in self._categorical_fields:
            embedded = self.embeddings[field.name](codes[field.name])
            parts.append(embedded.reshape(len(embedded), -1))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]

    def _split_flat(self, rows: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if rows.ndim != 2 or rows.shape[1] != self.layout.size:
            raise ValueError(
                f"observations must be a batch of flat rows of shape (n, {self.layout.size}), got {tuple(rows.shape)}"
                " (add a leading batch dimension for a single observation)"
            )
        dense = rows.index_select(1, self.dense_columns).float()
        codes = {field.name: rows[:, field.flat_slice].long() for field in self._categorical_fields}
        return dense, codes

    def _split_dict(self, batch: Mapping[str, torch.Tensor | np.ndarray]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        missing = [field.name for field in self.layout if field.name not in batch]
        if missing:
            raise ValueError(f"observations is missing the fields {missing}")
        values = {field.name: self._tensor(batch[field.name]) for field in self.layout}
        first = values[self.layout.fields[0].name]
        n = first.shape[0] if first.ndim else -1
        for field in self.layout:
            value = values[field.name]
            if tuple(value.shape) != (n, *field.shape):
                raise ValueError(
                    f"observations[{field.name!r}] must have shape (n, *{field.shape}) with the same n for every field, "
                    f"got {tuple(value.shape)} (add a leading batch dimension for a single observation)"
                )
        dense_parts = [values[field.name].reshape(n, -1).float() for field in self._dense_fields]
        dense = torch.cat(dense_parts, dim=1) if dense_parts else first.new_empty((n, 0), dtype=torch.float32)
        codes = {field.name: values[field.name].reshape(n, -1).long() for field in self._categorical_fields}
        return dense, codes

    def extra_repr(self) -> str:
        """Summary shown by ``print(encoder)``."""
        return f"fields={len(self.layout.fields)}, output_dim={self.output_dim}, normalize={self.normalize}"


class FlatEncoder(nn.Module):
    """Flatten each observation into float32 columns, unchanged: for ``Box`` envs without a layout.

    Parameters
    ----------
    observation_shape : tuple of int
        Shape of one observation.

    Attributes
    ----------
    output_dim : int
        ``prod(observation_shape)``.
    """

    def __init__(self, observation_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.observation_shape = tuple(int(size) for size in observation_shape)
        self.output_dim = math.prod(self.observation_shape)
        if self.output_dim < 1:
            raise ValueError(f"observation_shape must have at least one entry, got {observation_shape!r}")

    def forward(self, observations: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``(n, *observation_shape)`` to ``(n, output_dim)`` float32."""
        rows = torch.as_tensor(observations)
        if tuple(rows.shape[1:]) != self.observation_shape:
            raise ValueError(f"observations must have shape (n, *{self.observation_shape}), got {tuple(rows.shape)}")
        return rows.reshape(len(rows), -1).float()
