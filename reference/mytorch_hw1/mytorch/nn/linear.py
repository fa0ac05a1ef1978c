"""Linear: the fully connected layer."""

import numpy as np

from .. import tensor
from .module import Module


class Linear(Module):
    """y = x @ W^T + b, for x of shape (batch, in_features).

    The weight (out_features, in_features) and the bias (out_features,) are
    parameters, drawn uniformly from [-1/sqrt(in_features), 1/sqrt(in_features)]
    with `rng` when given (an int seed or a numpy Generator / RandomState),
    otherwise with numpy's global RNG (so ``np.random.seed`` fixes them).
    """

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
        """x (batch, in_features) -> (batch, out_features)."""
        # BEGIN SOLUTION
        return x @ self.weight.T() + self.bias
        # END SOLUTION

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"
