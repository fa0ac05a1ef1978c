"""The autograd engine: graph nodes and the backward traversal.

How the graph is built (``Function.apply``): each call of an operation creates
one ``BackwardFunction`` node for its result. The node's ``next_functions``
hold one entry per Tensor argument, in argument order (arguments that are not
Tensors, such as a shape or an axis, get no entry):

- a leaf Tensor that requires a gradient -> an ``AccumulateGrad`` for it;
- a non-leaf Tensor (the result of an earlier operation) -> its ``grad_fn``;
- a constant (a leaf that does not require a gradient) -> ``None``.

The result requires a gradient iff any Tensor argument does, and it is then
not a leaf and carries the node as its ``grad_fn``. An operation's
``backward`` returns one gradient per Tensor argument, in the same order as
``next_functions``.

Only leaves that require a gradient receive ``.grad``: intermediate results
and constants keep ``grad`` None after a backward pass.
"""

import numpy as np

from . import tensor


def backward(grad_fn, grad_of_outputs):
    """Propagate `grad_of_outputs` backwards from the node `grad_fn`, depth first.

    `grad_fn` is a BackwardFunction, an AccumulateGrad or None (a constant,
    nothing to do). `grad_of_outputs` is the gradient of the final output with
    respect to the output of `grad_fn`'s operation, a Tensor. The node's
    gradients for its inputs are passed recursively to `grad_fn.next_functions`;
    gradients reaching the same leaf along several paths add up in its `.grad`.
    """
    # BEGIN SOLUTION
    if grad_fn is None or grad_of_outputs is None:
        return
    grads = grad_fn.apply(grad_of_outputs)
    if grads is None:
        return
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    for next_fn, grad in zip(grad_fn.next_functions, grads):
        if next_fn is None or grad is None:
            continue
        if not isinstance(grad, tensor.Tensor):
            grad = tensor.Tensor(grad)
        backward(next_fn, grad)
    # END SOLUTION


class Function:
    """Superclass of the differentiable operations (see mytorch/nn/functional.py).

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    as static methods and are called through ``apply``, e.g. ``Add.apply(a, b)``.
    """

    @staticmethod
    def forward(ctx, *args):
        """Compute the result Tensor from the arguments; save what backward needs on `ctx`."""
        raise NotImplementedError("All subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return the gradient (a Tensor) for each Tensor argument of forward, in order."""
        raise NotImplementedError("All subclasses must implement backward")

    @classmethod
    def apply(cls, *args):
        """Run the forward pass of `cls` on `args` and link the result into the graph."""
        backward_function = BackwardFunction(cls)
        # BEGIN SOLUTION
        requires_grad = False
        for arg in args:
            if not isinstance(arg, tensor.Tensor):
                continue
            if arg.requires_grad and arg.is_leaf:
                node = AccumulateGrad(arg)
            elif not arg.is_leaf:
                node = arg.grad_fn
            else:
                node = None
            backward_function.next_functions.append(node)
            requires_grad = requires_grad or arg.requires_grad
        output = cls.forward(backward_function.ctx, *args)
        if requires_grad:
            output.requires_grad = True
            output.is_leaf = False
            output.grad_fn = backward_function
        return output
        # END SOLUTION


class AccumulateGrad:
    """The graph node of a leaf Tensor that requires a gradient: adds gradients into `.grad`."""

    def __init__(self, tensor):
        self.variable = tensor
        self.next_functions = []  # a leaf has no parents
        self.function_name = "AccumulateGrad"

    def apply(self, arg):
        """Add the gradient `arg` (a Tensor of the leaf's shape) into the leaf's `.grad`."""
        # BEGIN SOLUTION
        data = arg.data if isinstance(arg, tensor.Tensor) else np.asarray(arg)
        assert data.shape == self.variable.shape, (
            f"gradient of shape {data.shape} for a tensor of shape {self.variable.shape}")
        if self.variable.grad is None:
            self.variable.grad = tensor.Tensor(np.array(data, copy=True))
        else:
            self.variable.grad.data = self.variable.grad.data + data
        # END SOLUTION


class ContextManager:
    """What forward leaves for backward.

    Tensors go through ``save_for_backward`` and come back in ``saved_tensors``;
    anything else (shapes, axes, flags) is stored as an attribute, e.g.
    ``ctx.shape = a.shape``.
    """

    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        """Keep Tensors (or None) for backward, in order, in ``saved_tensors``."""
        for item in tensors:
            if item is not None and not isinstance(item, tensor.Tensor):
                raise TypeError(
                    f"save_for_backward takes Tensors, got {type(item).__name__}; "
                    "store other values as attributes of ctx")
        self.saved_tensors = self.saved_tensors + tuple(tensors)


class BackwardFunction:
    """The graph node of one call of an operation: calls the operation's backward."""

    def __init__(self, cls):
        self.ctx = ContextManager()
        self._forward_cls = cls
        self.next_functions = []
        self.function_name = cls.__name__

    def apply(self, *args):
        """Return the operation's gradients for its Tensor inputs given `args`."""
        return self._forward_cls.backward(self.ctx, *args)

    def __repr__(self):
        return f"<BackwardFunction {self.function_name}>"
