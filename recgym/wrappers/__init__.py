"""Gymnasium wrappers that record recommender metrics per episode (single and vector envs).

- :class:`RecordRecMetrics`: a single env; the last step's ``info["rec_metrics"]`` holds the
  episode's metrics (see :mod:`recgym.wrappers.episode_metrics` for their definitions).
- :class:`RecordRecMetricsVector`: a vector env in any autoreset mode; ``info["rec_metrics"]``
  holds arrays and ``info["_rec_metrics"]`` flags the envs whose episode ended.
"""

from recgym.wrappers.env_facts import CatalogueFacts, catalogue_facts
from recgym.wrappers.episode_metrics import DEFAULT_WINDOW, REC_METRICS_KEY, EpisodeMetricsRecorder
from recgym.wrappers.impression_window import ImpressionWindow
from recgym.wrappers.record_rec_metrics import RecordRecMetrics
from recgym.wrappers.vector_infos import env_info, transition_infos
from recgym.wrappers.vector_record_rec_metrics import RecordRecMetricsVector, autoreset_mode

__all__ = [
    "DEFAULT_WINDOW",
    "REC_METRICS_KEY",
    "CatalogueFacts",
    "EpisodeMetricsRecorder",
    "ImpressionWindow",
    "RecordRecMetrics",
    "RecordRecMetricsVector",
    "autoreset_mode",
    "catalogue_facts",
    "env_info",
    "transition_infos",
]
