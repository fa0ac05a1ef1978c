"""Autograd engine (each result remembers its gradient)."""

import numpy as np

from . import tensor


def backward(grad_fn, grad_of_outputs):
    if grad_fn is None:
        return
    if hasattr(grad_fn, "result"):
        grad_fn.result.grad = grad_of_outputs
    grads = grad_fn.apply(grad_of_outputs)
    if isinstance(grad_fn, AccumulateGrad):
        return
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    for next_fn, grad in zip(grad_fn.next_functions, grads):
        if next_fn is not None and grad is not None:
            backward(next_fn, grad)


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
        requires_grad = False
        for arg in args:
            if not isinstance(arg, tensor.Tensor):
                continue
            if arg.is_leaf and arg.requires_grad:
                backward_function.next_functions.append(AccumulateGrad(arg))
            elif arg.is_leaf:
                backward_function.next_functions.append(None)
            else:
                backward_function.next_functions.append(arg.grad_fn)
            requires_grad = requires_grad or arg.requires_grad
        output = cls.forward(backward_function.ctx, *args)
        if requires_grad:
            output.requires_grad = True
            output.is_leaf = False
            output.grad_fn = backward_function
            backward_function.result = output  # so that backward can show each result's gradient
        return output


class AccumulateGrad:
    def __init__(self, tensor):
        self.variable = tensor
        self.next_functions = []
        self.function_name = "AccumulateGrad"

    def apply(self, arg):
        if self.variable.grad is None:
            self.variable.grad = tensor.Tensor(arg.data)
        else:
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
