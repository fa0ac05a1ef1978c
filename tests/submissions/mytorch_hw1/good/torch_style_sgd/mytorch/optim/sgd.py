"""SGD written the way torch.optim.SGD is: v = momentum * v + g; p = p - lr * v."""

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr=0.001, momentum=0.0):
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.velocity = {}

    def step(self):
        for index, param in enumerate(self.params):
            if param.grad is None:
                continue
            grad = param.grad.data
            if self.momentum:
                if index not in self.velocity:
                    self.velocity[index] = np.array(grad, copy=True)
                else:
                    self.velocity[index] = self.momentum * self.velocity[index] + grad
                grad = self.velocity[index]
            param.data -= self.lr * grad
