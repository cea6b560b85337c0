"""The versions of Python and of named packages, for the ``config.json`` of a run."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib import metadata


def package_versions(packages: Iterable[str]) -> dict[str, str]:
    """``{"python": ..., package: version or "not installed", ...}`` for the given distribution names.

    Examples
    --------
    >>> package_versions(["numpy"])["numpy"] != "not installed"
    True
    """
    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
