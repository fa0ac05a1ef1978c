"""Stochastic gradient descent, with optional momentum."""

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """SGD(params, lr=0.001, momentum=0.0).

    For each parameter with a gradient, ``step`` updates (on ``.data``, building
    no graph):

        buffer = momentum * buffer - lr * grad
        param  = param + buffer

    With a constant lr this gives the same parameters as torch.optim.SGD
    (dampening 0, no Nesterov, no weight decay), whose buffer is
    ``momentum * buffer + grad`` and update ``param - lr * buffer``.
    Parameters whose ``.grad`` is None are left alone.
    """

    def __init__(self, params, lr=0.001, momentum=0.0):
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.momentums = [np.zeros(param.shape, dtype=param.data.dtype) for param in self.params]

    def step(self):
        """Update every parameter in place from its gradient."""
        # BEGIN SOLUTION
        for param, buffer in zip(self.params, self.momentums):
            if param.grad is None:
                continue
            buffer *= self.momentum
            buffer -= self.lr * param.grad.data
            param.data += buffer
        # END SOLUTION
