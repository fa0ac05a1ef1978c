"""Autograd engine: a topological-order backward pass (each node runs once)."""

import numpy as np

from . import tensor


def _parents(node):
    return [n for n in getattr(node, "next_functions", []) if n is not None]


def backward(grad_fn, grad_of_outputs):
    """Run the graph below grad_fn once per node, in reverse topological order."""
    if grad_fn is None:
        return
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in _parents(node):
            visit(parent)
        order.append(node)

    visit(grad_fn)
    pending = {id(grad_fn): grad_of_outputs.data}
    for node in reversed(order):
        grad = pending.pop(id(node), None)
        if grad is None:
            continue
        if isinstance(node, AccumulateGrad):
            node.apply(tensor.Tensor(grad))
            continue
        results = node.apply(tensor.Tensor(grad))
        if not isinstance(results, (tuple, list)):
            results = [results]
        for parent, result in zip(node.next_functions, results):
            if parent is None or result is None:
                continue
            data = result.data if isinstance(result, tensor.Tensor) else np.asarray(result)
            key = id(parent)
            pending[key] = data if key not in pending else pending[key] + data


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
        tensors = [a for a in args if isinstance(a, tensor.Tensor)]
        for t in tensors:
            if t.grad_fn is not None:
                backward_function.next_functions.append(t.grad_fn)
            elif t.requires_grad:
                backward_function.next_functions.append(AccumulateGrad(t))
            else:
                backward_function.next_functions.append(None)
        output = cls.forward(backward_function.ctx, *args)
        if any(t.requires_grad for t in tensors):
            output.requires_grad = True
            output.is_leaf = False
            output.grad_fn = backward_function
        return output


class AccumulateGrad:
    def __init__(self, tensor):
        self.variable = tensor
        self.next_functions = []
        self.function_name = "AccumulateGrad"

    def apply(self, arg):
        if self.variable.grad is None:
            self.variable.grad = tensor.Tensor(arg.data.copy())
        else:
            self.variable.grad.data += arg.data


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
