"""Fit a slope with the package's own pieces (an absolute import of the package)."""

import numpy as np

from minigrad.ops import square


def fit_slope(xs, ys):
    """The least-squares slope w of ys ~ w * xs."""
    # BEGIN SOLUTION
    return float(np.sum(xs * ys) / np.sum(square(xs)))
    # END SOLUTION
