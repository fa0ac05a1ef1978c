"""Operations. Every backward returns a tuple (one entry per Tensor argument); forward
keeps plain arrays on ctx instead of save_for_backward. Multiplication is `Mult`."""

import numpy as np

from .. import tensor
from ..autograd_engine import Function


def reduce_to(grad, shape):
    """Sum grad over the axes broadcasting created, so that it has `shape`."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    if axes:
        grad = np.sum(grad, axis=axes, keepdims=True)
    return grad.reshape(shape)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return tensor.Tensor(a.data + b.data)

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.data
        return tensor.Tensor(reduce_to(g, ctx.shapes[0])), tensor.Tensor(reduce_to(g, ctx.shapes[1]))


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return tensor.Tensor(np.subtract(a.data, b.data))

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.data
        return tensor.Tensor(reduce_to(g, ctx.shapes[0])), tensor.Tensor(reduce_to(np.negative(g), ctx.shapes[1]))


class Mult(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a.data.copy(), b.data.copy()
        return tensor.Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.data
        return (tensor.Tensor(reduce_to(g * ctx.b, ctx.a.shape)),
                tensor.Tensor(reduce_to(g * ctx.a, ctx.b.shape)))


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = a.data / b.data
        ctx.a_shape, ctx.b, ctx.out = a.shape, b.data.copy(), out
        return tensor.Tensor(out)

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.data
        grad_a = reduce_to(g / ctx.b, ctx.a_shape)
        grad_b = reduce_to(-g * ctx.out / ctx.b, ctx.b.shape)
        return tensor.Tensor(grad_a), tensor.Tensor(grad_b)


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a.data, b.data
        return tensor.Tensor(np.matmul(a.data, b.data))

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.data
        grad_a = np.matmul(g, np.swapaxes(ctx.b, -1, -2))
        grad_b = np.matmul(np.swapaxes(ctx.a, -1, -2), g)
        return tensor.Tensor(reduce_to(grad_a, ctx.a.shape)), tensor.Tensor(reduce_to(grad_b, ctx.b.shape))


class ReLU(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.mask = a.data > 0
        return tensor.Tensor(np.where(ctx.mask, a.data, 0.0))

    @staticmethod
    def backward(ctx, grad_output):
        return (tensor.Tensor(np.where(ctx.mask, grad_output.data, 0.0)),)


class Transpose(Function):
    @staticmethod
    def forward(ctx, a):
        return tensor.Tensor(a.data.T)

    @staticmethod
    def backward(ctx, grad_output):
        return (tensor.Tensor(grad_output.data.T),)


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return tensor.Tensor(np.reshape(a.data, shape))

    @staticmethod
    def backward(ctx, grad_output):
        return (tensor.Tensor(np.reshape(grad_output.data, ctx.shape)), None)


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.a = a.data
        return tensor.Tensor(np.log(a.data))

    @staticmethod
    def backward(ctx, grad_output):
        return (tensor.Tensor(grad_output.data / ctx.a),)


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.out = np.exp(a.data)
        return tensor.Tensor(ctx.out)

    @staticmethod
    def backward(ctx, grad_output):
        return (tensor.Tensor(grad_output.data * ctx.out),)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return tensor.Tensor(a.data.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad_output):
        g = np.asarray(grad_output.data)
        if ctx.axis is not None and not ctx.keepdims:
            g = np.expand_dims(g, ctx.axis)
        return (tensor.Tensor(g * np.ones(ctx.shape)), None, None)


def cross_entropy(predicted, target):
    """Mean cross-entropy, with logsumexp computed around each row's maximum."""
    n = predicted.shape[0]
    labels = np.asarray(target.data).astype(np.int64)
    shift = tensor.Tensor(np.max(predicted.data, axis=1, keepdims=True))
    z = predicted - shift
    lse = z.exp().sum(axis=1, keepdims=True).log()
    mask = np.zeros(predicted.shape)
    mask[np.arange(n), labels] = 1.0
    picked = (z * tensor.Tensor(mask)).sum(axis=1, keepdims=True)
    return (lse - picked).sum() / tensor.Tensor(np.array(float(n)))
