"""Array operations."""

import numpy as np


def square(x):
    """Return x ** 2, elementwise, as a new array."""
    # BEGIN SOLUTION
    return np.asarray(x) ** 2
    # END SOLUTION
