"""Fitting simulated worlds to real logs: ALS in NumPy and a rating world calibrated to a log (issue 4)."""

from recgym.calibration.als import ALSFactors, fit_als
from recgym.calibration.calibrate import CalibratedWorld, calibrate_world, fold_biases

__all__ = ["ALSFactors", "CalibratedWorld", "calibrate_world", "fit_als", "fold_biases"]
