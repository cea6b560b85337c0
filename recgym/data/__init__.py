"""Reading and writing logs: the simulated interaction log (and, later, real rating logs)."""

from recgym.data.interaction_log import interaction_frame, load_interaction_log, save_interaction_log

__all__ = ["interaction_frame", "load_interaction_log", "save_interaction_log"]
