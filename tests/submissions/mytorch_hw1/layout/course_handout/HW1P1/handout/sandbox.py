"""Scratch space for trying MyTorch out (not graded)."""

import numpy as np

from mytorch.tensor import Tensor

x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
(x * x).sum().backward()
print(x.grad)
