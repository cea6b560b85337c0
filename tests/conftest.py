"""Shared fixtures for the recgym test suite.

BLAS threads are pinned to one before NumPy is imported: the CF scoring is a pair of small
matrix products, and multi-threaded OpenBLAS on a shared 2-core machine (or under
``pytest -n 2``) spins instead of computing, making the suite tens of times slower.
"""

import os
import shutil

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import ENV_IDS, SMALL_WORLD  # noqa: E402

import recgym  # noqa: E402, F401  (registers the ids)


@pytest.fixture(scope="session", autouse=True)
def _sb3_logs_in_a_temporary_directory(tmp_path_factory):
    """SB3 models trained without a logger make an empty ``SB3-<time>`` folder in the system's temp directory
    at every ``learn()``; pointing ``SB3_LOGDIR`` at one pytest directory keeps the suite from littering."""
    os.environ.setdefault("SB3_LOGDIR", str(tmp_path_factory.mktemp("sb3_logs")))


@pytest.fixture(params=ENV_IDS)
def env_id(request):
    return request.param


@pytest.fixture
def small_env(env_id):
    env = gym.make(env_id, **SMALL_WORLD)
    yield env
    env.close()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every Spark test of a test process (local[2], on loopback, no UI).

    Outside CI the Spark tests are skipped where PySpark or Java is missing; in CI (``CI`` set, as
    ``.ci/run`` runs) both must be there, so the tests fail rather than skip.
    """
    in_ci = bool(os.environ.get("CI"))
    if not in_ci:
        pytest.importorskip("pyspark", reason="PySpark is not installed (the optional extra: pip install -e '.[spark]')")
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.skip("Spark needs Java (17) on PATH or JAVA_HOME")
    from agents.spark_als import spark_session

    session = spark_session("local[2]", app_name="recgym-tests")
    yield session
    session.stop()
