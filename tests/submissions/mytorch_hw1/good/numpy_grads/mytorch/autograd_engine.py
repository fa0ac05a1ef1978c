"""Autograd engine; operations may return numpy arrays from backward (wrapped here)."""

import numpy as np

from . import tensor


def _as_tensor(grad):
    return grad if isinstance(grad, tensor.Tensor) else tensor.Tensor(np.asarray(grad))


def backward(grad_fn, grad_of_outputs):
    if grad_fn is None:
        return
    grads = grad_fn.apply(_as_tensor(grad_of_outputs))
    if isinstance(grad_fn, AccumulateGrad):
        return
    if isinstance(grads, (tensor.Tensor, np.ndarray)):
        grads = [grads]
    for index, next_fn in enumerate(grad_fn.next_functions):
        if next_fn is not None and grads[index] is not None:
            backward(next_fn, _as_tensor(grads[index]))


class Function:
    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("All subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("All subclasses must implement backward")

    @classmethod
    def apply(cls, *args):
        backward_function = BackwardFunction(cls)
        parents = [arg for arg in args if isinstance(arg, tensor.Tensor)]
        for parent in parents:
            if not parent.is_leaf:
                backward_function.next_functions.append(parent.grad_fn)
            elif parent.requires_grad:
                backward_function.next_functions.append(AccumulateGrad(parent))
            else:
                backward_function.next_functions.append(None)
        result = cls.forward(backward_function.ctx, *args)
        result.requires_grad = any(p.requires_grad for p in parents)
        if result.requires_grad:
            result.is_leaf = False
            result.grad_fn = backward_function
        return result


class AccumulateGrad:
    def __init__(self, tensor):
        self.variable = tensor
        self.next_functions = []
        self.function_name = "AccumulateGrad"

    def apply(self, arg):
        if self.variable.grad is None:
            self.variable.grad = tensor.Tensor(np.zeros(self.variable.shape))
        self.variable.grad.data = self.variable.grad.data + arg.data


class ContextManager:
    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        for item in tensors:
            if item is not None and not isinstance(item, tensor.Tensor):
                raise TypeError(
                    f"save_for_backward takes Tensors, got {type(item).__name__}; "
                    "store other values as attributes of ctx")
        self.saved_tensors = self.saved_tensors + tuple(tensors)


class BackwardFunction:
    def __init__(self, cls):
        self.ctx = ContextManager()
        self._forward_cls = cls
        self.next_functions = []
        self.function_name = cls.__name__

    def apply(self, *args):
        return self._forward_cls.backward(self.ctx, *args)

    def __repr__(self):
        return f"<BackwardFunction {self.function_name}>"
