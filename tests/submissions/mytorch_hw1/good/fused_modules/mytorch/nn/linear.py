"""Linear layer as a single Function with a hand-written backward."""

import numpy as np

from .. import tensor
from ..autograd_engine import Function
from .module import Module


class LinearFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return tensor.Tensor(np.dot(x.data, weight.data.T) + bias.data)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        g = grad_output.data
        grad_x = np.dot(g, weight.data)
        grad_w = np.dot(g.T, x.data)
        grad_b = np.sum(g, axis=0)
        return tensor.Tensor(grad_x), tensor.Tensor(grad_w), tensor.Tensor(grad_b)


class Linear(Module):
    def __init__(self, in_features, out_features, rng=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        if rng is None:
            rng = np.random
        elif not hasattr(rng, "uniform"):
            rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = tensor.Tensor(rng.uniform(-bound, bound, (out_features, in_features)),
                                    requires_grad=True, is_parameter=True)
        self.bias = tensor.Tensor(rng.uniform(-bound, bound, (out_features,)),
                                  requires_grad=True, is_parameter=True)

    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias)

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"
