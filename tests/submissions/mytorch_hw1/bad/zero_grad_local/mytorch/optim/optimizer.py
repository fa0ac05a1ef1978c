"""Optimizer: the superclass of optimizers."""


class Optimizer:
    def __init__(self, params):
        self.params = list(params)

    def step(self):
        raise NotImplementedError("Subclasses of Optimizer must implement step")

    def zero_grad(self):
        for param in self.params:
            grad = param.grad
            grad = None
