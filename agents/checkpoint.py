"""Agent checkpoints: one ``torch.save`` file per checkpoint, never replacing an earlier one unless asked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from recgym.data.files import write_new_file

FORMAT_VERSION = 1


def save_checkpoint(path: str | os.PathLike[str], kind: str, state: dict[str, Any], *, overwrite: bool = False) -> Path:
    """Write ``state`` (tensors, state dicts, plain Python values, NumPy RNG states) for an agent of ``kind``.

    Raises ``FileExistsError`` if ``path`` exists and ``overwrite`` is False.
    """
    payload = {"format_version": FORMAT_VERSION, "kind": kind, "state": state}
    return write_new_file(path, lambda temporary: torch.save(payload, temporary), overwrite=overwrite)


def load_checkpoint(path: str | os.PathLike[str], kind: str) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` for an agent of ``kind``; return its state."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    # Checkpoints hold NumPy generator states (plain dicts) and config values, so full unpickling is
    # needed; load only checkpoints you wrote or trust, as with any pickle.
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{str(path)!r} is not a recgym checkpoint (format version {FORMAT_VERSION})")
    if payload.get("kind") != kind:
        raise ValueError(f"{str(path)!r} holds a {payload.get('kind')!r} agent, not {kind!r}")
    return payload["state"]
