"""Fitting ALS with Spark MLlib (``pyspark.ml.recommendation.ALS``) and bringing the factors back to NumPy.

PySpark is the optional extra ``recgym[spark]`` (``pip install -e ".[spark]"``; Java 17 must be
on ``PATH``). Nothing here is imported unless ``ALSRecommender(backend="spark")`` is used.

:func:`spark_session` starts (or returns the running) session: ``local[2]`` by default, kept on
the loopback interface (``SPARK_LOCAL_IP``, ``spark.driver.bindAddress`` and ``spark.driver.host``
set to 127.0.0.1) with the web UI and console progress bars off. For any other master URL
(``spark://host:7077``, ``yarn``, ``k8s://...``) nothing is bound to loopback, since the cluster
must reach the driver.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from recgym._validation import check_int, check_real
from recgym.calibration.als import ALSFactors

DEFAULT_MASTER = "local[2]"
LOOPBACK = "127.0.0.1"


def require_pyspark() -> Any:
    """The ``pyspark`` module; ``ImportError`` with the install command if the ``spark`` extra is missing."""
    try:
        import pyspark
    except ImportError as error:  # the optional extra is missing
        raise ImportError(
            "backend='spark' needs PySpark, the optional extra recgym[spark]: pip install -e \".[spark]\" "
            "(and Java 17 on PATH)"
        ) from error
    return pyspark


def spark_session(master: str | None = None, app_name: str = "recgym") -> Any:
    """The running Spark session, or a new one on ``master`` (default ``local[2]``).

    A process runs one Spark session at a time: asking for another master while one runs raises
    ``ValueError``.

    Parameters
    ----------
    master : str, optional
        Spark master URL. Local masters (``local``, ``local[N]``, ``local[*]``) stay on loopback.
    app_name : str
        Application name shown by the cluster manager.

    Returns
    -------
    pyspark.sql.SparkSession
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    master = DEFAULT_MASTER if master is None else master
    if not isinstance(master, str) or not master:
        raise ValueError(f"master must be a non-empty Spark master URL such as 'local[2]', got {master!r}")
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)
        builder = builder.config("spark.driver.bindAddress", LOOPBACK).config("spark.driver.host", LOOPBACK)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: no Java, or the master is unreachable
        raise RuntimeError(f"could not start a Spark session on master {master!r} (is Java 17 on PATH?): {error}") from error
    running = session.sparkContext.master
    if running != master:  # getOrCreate hands back a session that was already running, whatever master was asked
        raise ValueError(
            f"a Spark session on master {running!r} is already running in this process, so master {master!r} cannot be "
            "used; stop it first (session.stop()) or ask for the same master"
        )
    return session


def _factor_matrix(frame: pd.DataFrame, n: int, rank: int) -> np.ndarray:
    """``(n, rank)`` factors from Spark's ``(id, features)`` rows; ids Spark never saw get zeros."""
    matrix = np.zeros((n, rank))
    if len(frame):
        matrix[frame["id"].to_numpy()] = np.stack(frame["features"].to_numpy())
    return matrix


def fit_spark_als(
    session: Any,
    users: Any,
    items: Any,
    ratings: Any,
    n_users: int,
    n_items: int,
    *,
    rank: int = 10,
    regularization: float = 0.05,
    n_iterations: int = 10,
    seed: int = 0,
    n_blocks: int | None = None,
) -> ALSFactors:
    """Fit ``rating ≈ p_u · q_i`` with Spark's ALS and return the factors as :class:`~recgym.calibration.ALSFactors`.

    Parameters
    ----------
    session : pyspark.sql.SparkSession
    users, items : array of int, shape (n_ratings,)
        Ids in ``[0, n_users)`` and ``[0, n_items)``.
    ratings : array of float, shape (n_ratings,)
    n_users, n_items : int
        Sizes of the returned factor matrices (ids without ratings get zero factors).
    rank : int
        Spark's ``rank``.
    regularization : float
        Spark's ``regParam`` (λ scaled by each user's and item's number of ratings).
    n_iterations : int
        Spark's ``maxIter``.
    seed : int
        Spark's ``seed`` (its random initial factors).
    n_blocks : int, optional
        ``numUserBlocks`` and ``numItemBlocks``; default the session's default parallelism (fewer
        blocks than Spark's 10 are much faster on a few cores).

    Returns
    -------
    ALSFactors
        Without biases (``global_mean`` 0).
    """
    require_pyspark()
    from pyspark.ml.recommendation import ALS

    n_users = check_int("n_users", n_users, minimum=1)
    n_items = check_int("n_items", n_items, minimum=1)
    rank = check_int("rank", rank, minimum=1)
    regularization = check_real("regularization", regularization, minimum=0.0)
    n_iterations = check_int("n_iterations", n_iterations, minimum=1)
    if n_blocks is None:
        n_blocks = max(1, int(session.sparkContext.defaultParallelism))
    n_blocks = check_int("n_blocks", n_blocks, minimum=1)
    if max(n_users, n_items) > np.iinfo(np.int32).max:
        raise ValueError(f"Spark's ALS needs ids that fit in 32 bits, got n_users={n_users} and n_items={n_items}")
    frame = pd.DataFrame(
        {
            "user": np.asarray(users, dtype=np.int32),
            "item": np.asarray(items, dtype=np.int32),
            "rating": np.asarray(ratings, dtype=np.float32),
        }
    )
    als = ALS(
        rank=rank,
        regParam=regularization,
        maxIter=n_iterations,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=int(seed),
        numUserBlocks=n_blocks,
        numItemBlocks=n_blocks,
    )
    model = als.fit(session.createDataFrame(frame))
    user_factors = _factor_matrix(model.userFactors.toPandas(), n_users, rank)
    item_factors = _factor_matrix(model.itemFactors.toPandas(), n_items, rank)
    return ALSFactors(user_factors, item_factors, np.zeros(n_users), np.zeros(n_items), 0.0)
