"""recgym: Gymnasium environments for training and comparing recommendation policies in simulation."""

from recgym.envs.registration import ENV_IDS, RATINGS_IDS, SHORT_VIDEO_IDS, register_envs

__version__ = "0.1.0"

register_envs()

__all__ = ["ENV_IDS", "RATINGS_IDS", "SHORT_VIDEO_IDS", "__version__", "register_envs"]
