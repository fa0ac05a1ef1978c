"""Autograd engine: an explicit stack instead of recursion; every backward returns a
sequence of gradients."""

import numpy as np

from . import tensor


def backward(grad_fn, grad_of_outputs):
    stack = [(grad_fn, grad_of_outputs)]
    while stack:
        node, grad = stack.pop()
        if node is None or grad is None:
            continue
        results = node.apply(grad)
        if isinstance(node, AccumulateGrad):
            continue
        for parent, result in zip(node.next_functions, list(results)):
            if parent is not None and result is not None:
                stack.append((parent, result))


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
        needs_grad = False
        for arg in args:
            if isinstance(arg, tensor.Tensor):
                if arg.is_leaf:
                    backward_function.next_functions.append(AccumulateGrad(arg) if arg.requires_grad else None)
                else:
                    backward_function.next_functions.append(arg.grad_fn)
                needs_grad |= arg.requires_grad
        output = cls.forward(backward_function.ctx, *args)
        if needs_grad:
            output.requires_grad, output.is_leaf, output.grad_fn = True, False, backward_function
        return output


class AccumulateGrad:
    def __init__(self, tensor):
        self.variable = tensor
        self.next_functions = []
        self.function_name = "AccumulateGrad"

    def apply(self, arg):
        grad = np.array(arg.data, dtype=np.float64)
        if self.variable.grad is None:
            self.variable.grad = tensor.Tensor(grad)
        else:
            self.variable.grad = tensor.Tensor(self.variable.grad.data + grad)
        return ()


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
