"""Monitoring with Stable-Baselines3: the recommender-metrics callback and the ``VecEnv`` adapter of recgym's vector envs.

This is the only part of ``recgym`` that imports Stable-Baselines3.

- :class:`RecMetricsCallback`: logs ``rec/<metric>`` (watch time, outcome rates, coverage,
  diversity, creator Gini, regret …) through SB3's logger, so the metrics appear in TensorBoard
  next to SB3's own.
- :class:`RecGymVecEnv`: a Gymnasium vector env (recgym's native ones above all) as an SB3 ``VecEnv``.
- :func:`make_sb3_vec_env`: the native vector env of an id, with the metrics wrapper, the adapter
  and SB3's ``VecMonitor``, ready for ``PPO("MlpPolicy", env)``.
"""

from recgym.monitoring.callback import RecMetricsCallback
from recgym.monitoring.sb3_vec_env import EPISODE_INFO_KEYS, RecGymVecEnv, make_sb3_vec_env, make_vector_env

__all__ = ["EPISODE_INFO_KEYS", "RecGymVecEnv", "RecMetricsCallback", "make_sb3_vec_env", "make_vector_env"]
