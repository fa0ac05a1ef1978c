"""Optimizer: the superclass of optimizers."""


class Optimizer:
    """Holds the parameters (Tensors) an optimizer updates."""

    def __init__(self, params):
        self.params = list(params)

    def step(self):
        """Update every parameter from its gradient; subclasses define it."""
        raise NotImplementedError("Subclasses of Optimizer must implement step")

    def zero_grad(self):
        """Forget the gradients of every parameter (sets ``.grad`` to None)."""
        # BEGIN SOLUTION
        for param in self.params:
            param.grad = None
        # END SOLUTION
