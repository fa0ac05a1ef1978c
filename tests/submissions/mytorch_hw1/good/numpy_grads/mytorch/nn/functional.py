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
        return unbroadcast(grad_output.data, a.shape), unbroadcast(-grad_output.data, b.shape)


class Mul(Function):
    """a * b, elementwise with broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return tensor.Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return (unbroadcast(grad_output.data * b.data, a.shape),
                unbroadcast(grad_output.data * a.data, b.shape))


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
        grad_b = unbroadcast(-grad_output.data * a.data / b.data ** 2, b.shape)
        return grad_a, grad_b


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
        return tensor.Tensor(np.maximum(a.data, 0))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output.data * (a.data > 0).astype(grad_output.data.dtype)


class Transpose(Function):
    """The transpose of a (axes reversed; for a matrix, a.T)."""

    @staticmethod
    def forward(ctx, a):
        return tensor.Tensor(np.transpose(a.data))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.data.transpose()


class Reshape(Function):
    """a reshaped to `shape` (a tuple; -1 allowed as in numpy)."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return tensor.Tensor(a.data.reshape(shape))

    @staticmethod
    def backward(ctx, grad_output):
        return np.reshape(grad_output.data, ctx.shape)


class Log(Function):
    """The natural logarithm, elementwise."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return tensor.Tensor(np.log(a.data))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output.data * (1.0 / a.data)


class Exp(Function):
    """The exponential, elementwise."""

    @staticmethod
    def forward(ctx, a):
        out = tensor.Tensor(np.exp(a.data))
        ctx.result = out.data
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.data * ctx.result


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
        return np.broadcast_to(grad, ctx.shape).copy()


def cross_entropy(predicted, target):
    """The mean cross-entropy loss of a batch, as a 0-d Tensor.

    Args:
        predicted: (N, C) Tensor of logits (before softmax).
        target: (N,) Tensor of integer class labels in [0, C).

    loss = mean over the batch of ( logsumexp(predicted[i]) - predicted[i, target[i]] ),
    computed with the log-sum-exp trick (the row maximum, a constant, is
    subtracted before exponentiating) and built from the differentiable
    operations above, so that ``loss.backward()`` works.
    """
    batch_size, num_classes = predicted.shape
    labels = np.asarray(target.data if isinstance(target, tensor.Tensor) else target).astype(int)
    row_max = tensor.Tensor(predicted.data.max(axis=1, keepdims=True))
    shifted = predicted - row_max
    log_sum_exp = shifted.exp().sum(axis=1, keepdims=True).log()
    log_probs = shifted - log_sum_exp
    one_hot = np.zeros((batch_size, num_classes), dtype=predicted.data.dtype)
    one_hot[np.arange(batch_size), labels] = 1
    return -(log_probs * tensor.Tensor(one_hot)).sum() / batch_size
