"""The differentiable operations, and the losses built from them.

Each operation is a ``Function`` with static ``forward(ctx, ...)`` returning a
new Tensor and ``backward(ctx, grad_output)`` returning one gradient Tensor per
Tensor argument of forward, in order. Call them through ``apply``:
``Add.apply(a, b)``; ``Function.apply`` links the result into the graph.

Broadcasting: elementwise operations follow numpy broadcasting. The gradient
for an operand that was broadcast is summed back to that operand's own shape
(see ``unbroadcast``): a bias of shape (out,) added to (N, out) gets the sum
of the gradient over the batch axis.
"""

import numpy as np

from .. import tensor
from ..autograd_engine import Function


def unbroadcast(grad, shape):
    """Sum the numpy array `grad` down to `shape`, undoing numpy broadcasting.

    Leading axes that broadcasting added are summed away; axes where `shape`
    has size 1 and `grad` does not are summed with keepdims.
    """
    shape = tuple(shape)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad.reshape(shape)


class Add(Function):
    """a + b, elementwise with broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return tensor.Tensor(a.data + b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad_output.data, a.shape)
        grad_b = unbroadcast(grad_output.data, b.shape)
        return tensor.Tensor(grad_a), tensor.Tensor(grad_b)


class Sub(Function):
    """a - b, elementwise with broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return tensor.Tensor(a.data - b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad_output.data, a.shape)
        grad_b = unbroadcast(-grad_output.data, b.shape)
        return tensor.Tensor(grad_a), tensor.Tensor(grad_b)


class Mul(Function):
    """a * b, elementwise with broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return tensor.Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad_output.data * b.data, a.shape)
        grad_b = unbroadcast(grad_output.data * a.data, b.shape)
        return tensor.Tensor(grad_a), tensor.Tensor(grad_b)


Mult = Mul  # the name some handouts use


class Div(Function):
    """a / b, elementwise with broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return tensor.Tensor(a.data / b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = unbroadcast(grad_output.data / b.data, a.shape)
        grad_b = unbroadcast(-grad_output.data * a.data / (b.data * b.data), b.shape)
        return tensor.Tensor(grad_a), tensor.Tensor(grad_b)


class MatMul(Function):
    """a @ b for matrices: (N, K) @ (K, M) -> (N, M); stacks of matrices broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        if a.data.ndim < 2 or b.data.ndim < 2:
            raise ValueError(f"MatMul needs matrices, got shapes {a.shape} and {b.shape}")
        ctx.save_for_backward(a, b)
        return tensor.Tensor(a.data @ b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad = grad_output.data
        grad_a = unbroadcast(grad @ np.swapaxes(b.data, -1, -2), a.shape)
        grad_b = unbroadcast(np.swapaxes(a.data, -1, -2) @ grad, b.shape)
        return tensor.Tensor(grad_a), tensor.Tensor(grad_b)


class ReLU(Function):
    """max(a, 0) elementwise; the gradient at 0 is 0 (as in torch)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return tensor.Tensor(np.where(a.data > 0, a.data, 0.0))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return tensor.Tensor(grad_output.data * (a.data > 0))


class Transpose(Function):
    """The transpose of a (axes reversed; for a matrix, a.T)."""

    @staticmethod
    def forward(ctx, a):
        return tensor.Tensor(np.transpose(a.data))

    @staticmethod
    def backward(ctx, grad_output):
        return tensor.Tensor(np.transpose(grad_output.data))


class Reshape(Function):
    """a reshaped to `shape` (a tuple; -1 allowed as in numpy)."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return tensor.Tensor(a.data.reshape(shape))

    @staticmethod
    def backward(ctx, grad_output):
        return tensor.Tensor(grad_output.data.reshape(ctx.shape))


class Log(Function):
    """The natural logarithm, elementwise."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return tensor.Tensor(np.log(a.data))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return tensor.Tensor(grad_output.data / a.data)


class Exp(Function):
    """The exponential, elementwise."""

    @staticmethod
    def forward(ctx, a):
        out = tensor.Tensor(np.exp(a.data))
        ctx.result = out.data
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return tensor.Tensor(grad_output.data * ctx.result)


class Sum(Function):
    """The sum of a: of all entries (axis None, a 0-d result) or along `axis` as np.sum."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape = a.shape
        ctx.axis = axis
        ctx.keepdims = keepdims
        return tensor.Tensor(np.sum(a.data, axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad_output):
        grad = grad_output.data
        if ctx.axis is not None and not ctx.keepdims:
            grad = np.expand_dims(grad, ctx.axis)
        return tensor.Tensor(np.broadcast_to(grad, ctx.shape).copy())


class LogSoftmaxNLL(Function):
    """Mean negative log-likelihood of log-softmax(logits): forward and a fused backward."""

    @staticmethod
    def forward(ctx, logits, labels):
        z = logits.data - logits.data.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        rows = np.arange(len(z))
        ctx.probs = np.exp(log_probs)
        ctx.labels = labels
        return tensor.Tensor(-log_probs[rows, labels].mean())

    @staticmethod
    def backward(ctx, grad_output):
        grad = ctx.probs.copy()
        grad[np.arange(len(grad)), ctx.labels] -= 1.0
        return tensor.Tensor(grad * (grad_output.data / len(grad)))


def cross_entropy(predicted, target):
    """Mean cross-entropy of the logits `predicted` against integer labels `target`."""
    labels = np.asarray(target.data if isinstance(target, tensor.Tensor) else target).astype(int)
    return LogSoftmaxNLL.apply(predicted, labels)
