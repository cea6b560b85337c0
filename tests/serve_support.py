"""Shared by the serve tests: skip without the ``serve`` extra (fail under CI), and compare trajectories exactly."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest


def require_serve_extra() -> None:
    """Skip the calling module when fastapi, uvicorn or httpx is missing; under CI they must be installed."""
    missing = [name for name in ("fastapi", "uvicorn", "httpx") if importlib.util.find_spec(name) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install the serve extra (pip install -e '.[dev,serve]'); missing {missing}")
        pytest.skip(f"the serve extra is not installed (missing {missing})", allow_module_level=True)


def assert_same_value(a, b) -> None:
    """Observations equal bit for bit, with the same dtypes (dicts key by key)."""
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same_value(a[key], b[key])
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def assert_same_step(remote_step, local_step) -> None:
    """Two ``env.step`` results equal: observation bit for bit, reward, flags and info exactly."""
    assert_same_value(remote_step[0], local_step[0])
    assert remote_step[1] == local_step[1]
    assert type(remote_step[1]) is float
    assert remote_step[2:4] == tuple(local_step[2:4])
    assert remote_step[4] == local_step[4]
