"""The Tensor class: a numpy array plus what autograd needs."""

import numpy as np

from . import autograd_engine
from .nn import functional as F


class Tensor:
    """A numpy array (`.data`) that can take part in automatic differentiation.

    Args:
        data: anything ``np.array`` accepts; it is copied.
        requires_grad: whether gradients are computed for this tensor.
        is_leaf: False for the results of operations (set by Function.apply).
        is_parameter: True for a module's learnable parameters.

    After ``backward()``, leaves with ``requires_grad`` hold their gradient in
    ``.grad`` (a Tensor); intermediate results and constants keep None.
    """

    def __init__(self, data, requires_grad=False, is_leaf=True, is_parameter=False):
        self.data = np.array(data)
        self.requires_grad = requires_grad
        self.is_leaf = is_leaf
        self.grad_fn = None  # the BackwardFunction that made this tensor, if any
        self.grad = None
        self.is_parameter = is_parameter

    # ------------------------------------------------------------------
    # Magic methods and properties
    # ------------------------------------------------------------------
    def __str__(self):
        if self.grad_fn is None:
            return str(self.data)
        name = getattr(self.grad_fn, "function_name", type(self.grad_fn).__name__)
        return "{}, grad_fn={}".format(self.data, name)

    def __repr__(self):
        return "Tensor({}, requires_grad={})".format(self.data.__repr__(), self.requires_grad)

    @property
    def shape(self):
        """The shape of the underlying array."""
        return self.data.shape

    def _wrap(self, other):
        """`other` as a Tensor; numbers and arrays become constants of this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if np.isscalar(other) and np.issubdtype(self.data.dtype, np.inexact):
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    # ------------------------------------------------------------------
    # Factories (static: Tensor.zeros(2, 3), ...)
    # ------------------------------------------------------------------
    @staticmethod
    def zeros(*shape):
        """A constant tensor of zeros of the given shape."""
        return Tensor(np.zeros(shape))

    @staticmethod
    def ones(*shape):
        """A constant tensor of ones of the given shape."""
        return Tensor(np.ones(shape))

    @staticmethod
    def arange(*interval):
        """A constant tensor with ``np.arange(*interval)``."""
        return Tensor(np.arange(*interval))

    @staticmethod
    def randn(*shape):
        """A constant tensor of standard normal samples (numpy's global RNG)."""
        return Tensor(np.random.normal(0, 1, shape))

    @staticmethod
    def empty(*shape):
        """A constant tensor of the given shape with unspecified values."""
        return Tensor(np.empty(shape))

    def copy(self):
        """A new leaf tensor holding a copy of the data (no grad, not a parameter)."""
        return Tensor(self.data)

    # ------------------------------------------------------------------
    # Autograd
    # ------------------------------------------------------------------
    def backward(self):
        """Backpropagate from this tensor, seeding its gradient with ones of its shape."""
        seed = Tensor(np.ones(self.shape, dtype=self.data.dtype))
        if self.grad_fn is not None:
            autograd_engine.backward(self.grad_fn, seed)
        elif self.requires_grad and self.is_leaf:
            autograd_engine.AccumulateGrad(self).apply(seed)

    # ------------------------------------------------------------------
    # Tensor operations (each one goes through a Function in nn/functional.py)
    # ------------------------------------------------------------------
    def T(self):
        """The transpose (axes reversed)."""
        return F.Transpose.apply(self)

    def reshape(self, *shape):
        """The tensor with a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor(self.data.reshape(shape), requires_grad=self.requires_grad)

    def log(self):
        """The elementwise natural logarithm."""
        return F.Log.apply(self)

    def exp(self):
        """The elementwise exponential."""
        return F.Exp.apply(self)

    def sum(self, axis=None, keepdims=False):
        """The sum of all entries (a 0-d tensor), or along `axis` as ``np.sum`` does."""
        return F.Sum.apply(self, axis, keepdims)

    def __add__(self, other):
        """self + other (numpy broadcasting)."""
        return F.Add.apply(self, self._wrap(other))

    def __sub__(self, other):
        """self - other (numpy broadcasting)."""
        return F.Sub.apply(self, self._wrap(other))

    def __mul__(self, other):
        """self * other, elementwise (numpy broadcasting)."""
        return F.Mul.apply(self, self._wrap(other))

    def __truediv__(self, other):
        """self / other, elementwise (numpy broadcasting)."""
        return F.Div.apply(self, self._wrap(other))

    def __matmul__(self, other):
        """self @ other, matrix product."""
        return F.MatMul.apply(self, self._wrap(other))

    def __neg__(self):
        """-self."""
        return F.Mul.apply(self, self._wrap(-1))

    # Reflected operators (number OP tensor) reuse the ones above.
    def __radd__(self, other):
        return self._wrap(other) + self

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __rmul__(self, other):
        return self._wrap(other) * self

    def __rtruediv__(self, other):
        return self._wrap(other) / self

    def __rmatmul__(self, other):
        return self._wrap(other) @ self
