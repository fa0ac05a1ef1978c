"""A scalar that records how it was computed."""


class Scalar:
    """A number with a gradient; + and * build the graph, backward() fills .grad."""

    def __init__(self, value, parents=()):
        self.value = float(value)
        self.grad = 0.0
        self.parents = parents  # (parent, local derivative) pairs

    def __add__(self, other):
        # BEGIN SOLUTION
        return Scalar(self.value + other.value, ((self, 1.0), (other, 1.0)))
        # END SOLUTION

    def __mul__(self, other):
        # BEGIN SOLUTION
        return Scalar(self.value * other.value, ((self, other.value), (other, self.value)))
        # END SOLUTION

    def backward(self, seed=1.0):
        """Add `seed` times d(self)/d(node) to every node's grad."""
        # BEGIN SOLUTION
        self.grad += seed
        for parent, local in self.parents:
            parent.backward(seed * local)
        # END SOLUTION
