"""Optimizer: zero_grad() fills the gradients with zeros (they stay Tensors)."""

import numpy as np


class Optimizer:
    def __init__(self, params):
        self.params = list(params)

    def step(self):
        raise NotImplementedError("Subclasses of Optimizer must implement step")

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.data = np.zeros_like(param.grad.data)
