"""Reading and writing logs: the simulated interaction log and real MovieLens-format rating logs."""

from recgym.data.interaction_log import interaction_frame, load_interaction_log, save_interaction_log
from recgym.data.movielens import RatingLog, movielens_100k_path, read_ratings, reindex_ratings

__all__ = [
    "RatingLog",
    "interaction_frame",
    "load_interaction_log",
    "movielens_100k_path",
    "read_ratings",
    "reindex_ratings",
    "save_interaction_log",
]
