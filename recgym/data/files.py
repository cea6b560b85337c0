"""Writing a user's files safely: a file appears whole or not at all, and an existing one is never replaced unless asked."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _link_without_replacing(source: str, path: Path) -> None:
    """Give ``source`` the name ``path`` unless ``path`` exists, deciding atomically where links exist."""
    try:
        os.link(source, path)  # fails if path exists, even if it appeared after our first check
    except FileExistsError:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it") from None
    except OSError:  # a file system without hard links: check, then rename
        if path.exists():
            raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it") from None
        os.replace(source, path)


def write_new_file(path: str | os.PathLike[str], write: Callable[[str], None], *, overwrite: bool = False) -> Path:
    """Create ``path`` with ``write(temporary_path)``: written beside it, then renamed into place.

    Raises ``FileExistsError`` if ``path`` exists and ``overwrite`` is False (decided atomically where the
    file system has hard links, so a file that appears meanwhile is not replaced either).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
        if overwrite:
            os.replace(temporary, path)
        else:
            _link_without_replacing(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path
