"""Reference of the toy numpy assignment (engine tests)."""

import numpy as np


def scale(x, factor):
    """Return x * factor as a new array."""
    # BEGIN SOLUTION
    return x * factor
    # END SOLUTION


class Accumulator:
    """Adds numbers to a running total that starts at `start`."""

    def __init__(self, start):
        # BEGIN SOLUTION
        self.value = float(start)
        # END SOLUTION

    def add(self, value):
        """Add `value` to the total."""
        # BEGIN SOLUTION
        self.value += value
        # END SOLUTION

    def total(self):
        """The running total."""
        # BEGIN SOLUTION
        return self.value
        # END SOLUTION


def column_means(X):
    """Return the mean of each column of X, shape (D,)."""
    # BEGIN SOLUTION
    return X.mean(axis=0)
    # END SOLUTION
