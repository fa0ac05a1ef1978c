"""Drivers of the mytorch_hw1 assignment, run in the sandboxed worker (on the student's
package) and in the judge (on the reference, for `ctx.expected`).

Each public function whose first parameter is `kit` is a driver: it builds objects with
the student's MyTorch (kit.student.mytorch..., kit.student.hw1.mnist), drives them and
returns plain data (arrays, numbers, strings, None, tuples of those). Verdicts are the
judge's (checks.py). Only the standard library and numpy are used here.

Isolation: to charge each mistake to the question that owns it, drivers replace the
parts a check is not about with the grader's own exact pieces:

- the operations' Function classes are called directly through a ContextManager
  (forward, then backward), without the student's autograd engine;
- the autograd graphs are built from the grader's own operations (`_ops`: subclasses
  of the student's Function, so the student's Function.apply links them and the
  student's engine runs their backward), so a wrong Mul costs the Mul question and not
  the autograd one;
- networks are seeded by the grader's weighted sum sum(out * G) (not the student's
  loss), and the MLP question uses the grader's affine layers (not the student's Linear);
- SGD gets its gradients set by hand (no backward pass);
- train() and validate() drive probe models, optimizers and losses.
"""

import sys

import numpy as np

# -- helpers ---------------------------------------------------------------------------

_CACHE = {}


def _modules(kit):
    mytorch = kit.student.mytorch
    return mytorch.tensor.Tensor, mytorch.autograd_engine, mytorch.nn.functional


def _data(value, what):
    """The numpy array inside `value` (a Tensor, an array or a number) as float64."""
    plain = isinstance(value, (np.ndarray, np.generic, int, float)) and not isinstance(value, bool)
    data = value if plain else getattr(value, "data", value)
    if isinstance(data, memoryview) or data is None:
        raise TypeError(f"{what} is {type(value).__name__}, not a Tensor")
    try:
        array = np.asarray(data)
        if array.dtype == object:
            raise TypeError
        return np.array(array, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} holds {type(data).__name__} data that is not numbers "
                        f"(a Tensor inside a Tensor, or an array of Tensors?)") from None


def _grad(tensor, what):
    """A tensor's .grad as an array, or None."""
    grad = getattr(tensor, "grad", None)
    return None if grad is None else _data(grad, f"{what}.grad")


def _grad_kind(tensor, Tensor):
    grad = getattr(tensor, "grad", None)
    if grad is None:
        return "None"
    if isinstance(grad, Tensor):
        return "Tensor"
    return type(grad).__name__


def _as_tensor_result(value, Tensor, what):
    if not isinstance(value, Tensor):
        raise TypeError(f"{what} returned {type(value).__name__}, not a Tensor")
    return value


def _raw(grad_output):
    """The array of an upstream gradient (the student's engine may pass a Tensor or an array)."""
    if isinstance(grad_output, np.ndarray):
        return grad_output
    return np.asarray(getattr(grad_output, "data", grad_output))


def _unbroadcast(grad, shape):
    """`grad` summed over the axes numpy broadcasting added or stretched, as `shape`."""
    shape = tuple(shape)
    lead = grad.ndim - len(shape)
    stretched = [lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1]
    axes = tuple(range(lead)) + tuple(stretched)
    return (grad.sum(axis=axes) if axes else grad).reshape(shape)


def _gradients(result, count, name):
    """The gradients a Function's backward returned, as a list of `count` entries
    (a single Tensor for one Tensor argument is allowed, and so are trailing Nones
    for non-Tensor arguments such as an axis)."""
    if isinstance(result, (tuple, list)):
        items = list(result)
    else:
        items = [result]
    if len(items) > count and all(item is None for item in items[count:]):
        items = items[:count]
    if len(items) != count:
        raise ValueError(f"{name}.backward returned {len(items)} gradient(s); it must return one per "
                         f"Tensor argument of forward ({count})")
    return items


# -- the grader's own operations ---------------------------------------------------------

def _ops(kit):
    """Exact operations written by the grader, as subclasses of the student's Function
    (so the student's Function.apply builds their nodes and the student's engine calls
    their backward). Unary backward passes return a gradient that is both a Tensor and
    a one-item sequence, so any reasonable engine convention reads it."""
    Tensor, engine, _ = _modules(kit)
    Function = engine.Function
    key = (id(Tensor), id(Function))
    if _CACHE.get("ops_key") == key:
        return _CACHE["ops"]

    class Grad(Tensor):
        """A gradient Tensor that also reads as a 1-tuple holding itself."""

        def __iter__(self):
            yield self

        def __len__(self):
            return 1

        def __getitem__(self, index):
            if index in (0, -1):
                return self
            raise IndexError(index)

    def unary(name, value, derivative):
        def forward(ctx, a):
            ctx.gc_input = np.array(a.data, dtype=np.float64)
            return Tensor(value(ctx.gc_input))

        def backward(ctx, grad_output):
            grad = _raw(grad_output) * derivative(ctx.gc_input)
            return Grad(grad)

        return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})

    def binary(name, value, derivatives):
        def forward(ctx, a, b):
            ctx.gc_inputs = (np.array(a.data, dtype=np.float64), np.array(b.data, dtype=np.float64))
            return Tensor(value(*ctx.gc_inputs))

        def backward(ctx, grad_output):
            a, b = ctx.gc_inputs
            grad = _raw(grad_output)
            da, db = derivatives(a, b)
            return (Tensor(_unbroadcast(grad * da, a.shape)), Tensor(_unbroadcast(grad * db, b.shape)))

        return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})

    def summing(axis):  # the axis is the class's own: apply() gets Tensors only
        def forward(ctx, a):
            ctx.gc_shape = np.shape(a.data)
            return Tensor(np.sum(np.array(a.data, dtype=np.float64), axis=axis))

        def backward(ctx, grad_output):
            grad = np.array(_raw(grad_output), dtype=np.float64)
            if axis is not None:
                grad = np.expand_dims(grad, axis)
            return Grad(np.broadcast_to(grad, ctx.gc_shape).copy())

        return forward, backward

    def weighted_forward(ctx, a, weights):
        ctx.gc_weights = np.array(weights.data, dtype=np.float64)
        return Tensor(np.sum(np.array(a.data, dtype=np.float64) * ctx.gc_weights))

    def weighted_backward(ctx, grad_output):
        # the weights are a constant: a zero gradient (not None) suits every engine
        return Tensor(_raw(grad_output) * ctx.gc_weights), Tensor(np.zeros_like(ctx.gc_weights))

    def affine_forward(ctx, x, weight, bias):
        ctx.gc_inputs = tuple(np.array(t.data, dtype=np.float64) for t in (x, weight, bias))
        x, weight, bias = ctx.gc_inputs
        return Tensor(x @ weight.T + bias)

    def affine_backward(ctx, grad_output):
        x, weight, _ = ctx.gc_inputs
        grad = np.array(_raw(grad_output), dtype=np.float64)
        return Tensor(grad @ weight), Tensor(grad.T @ x), Tensor(grad.sum(axis=0))

    def make(name, forward, backward):
        return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})

    ops = {
        "add": binary("GraderAdd", lambda a, b: a + b, lambda a, b: (np.ones_like(a + b), np.ones_like(a + b))),
        "sub": binary("GraderSub", lambda a, b: a - b, lambda a, b: (np.ones_like(a - b), -np.ones_like(a - b))),
        "mul": binary("GraderMul", lambda a, b: a * b, lambda a, b: (b + 0 * a, a + 0 * b)),
        "ratio": binary("GraderRatio", lambda a, b: a / (1.0 + b * b),
                        lambda a, b: (1.0 / (1.0 + b * b) + 0 * a, -2.0 * a * b / (1.0 + b * b) ** 2)),
        "neg": unary("GraderNeg", lambda a: -a, lambda a: -np.ones_like(a)),
        "square": unary("GraderSquare", lambda a: a * a, lambda a: 2.0 * a),
        "tanh": unary("GraderTanh", np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
        "sum": make("GraderSum", *summing(None)),
        "sum0": make("GraderSum0", *summing(0)),
        "weighted": make("GraderWeightedSum", weighted_forward, weighted_backward),
        "affine": make("GraderAffine", affine_forward, affine_backward),
    }
    _CACHE["ops_key"], _CACHE["ops"] = key, ops
    return ops


# -- operations: Sub, Mul, Div through a ContextManager ----------------------------------

OP_CLASSES = {"sub": ("Sub",), "mul": ("Mul", "Mult"), "div": ("Div",), "exp": ("Exp",),
              "log": ("Log",), "sum": ("Sum",), "matmul": ("MatMul",), "transpose": ("Transpose",),
              "relu": ("ReLU",)}
SYMBOLS = {"sub": "-", "mul": "*", "div": "/", "add": "+"}


def _op_class(kit, op):
    _, _, F = _modules(kit)
    names = OP_CLASSES[op]
    for name in names:
        try:
            return getattr(F, name), name
        except kit.Missing:
            continue
    raise kit.Missing(f"mytorch.nn.functional.{names[0]}")


def _op_call(kit, op, a, b, grad):
    """The student's Function class for `op` (sub, mul, div, matmul) called directly:
    forward(ctx, Tensor(a), Tensor(b)) with a fresh ContextManager, then backward(ctx,
    Tensor(grad)) unless grad is None. Returns (forward value, gradient for a, gradient
    for b, whether forward left its inputs unchanged); a gradient the student returned as
    None is None, and both are None when backward was not called."""
    Tensor, engine, _ = _modules(kit)
    cls, name = _op_class(kit, op)
    ctx = engine.ContextManager()
    a, b = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    first = Tensor(a.copy(), requires_grad=True)
    second = Tensor(b.copy(), requires_grad=True)
    out = _as_tensor_result(cls.forward(ctx, first, second), Tensor, f"{name}.forward")
    value = _data(out, f"{name}.forward's result")
    unchanged = bool(np.array_equal(first.data, a) and np.array_equal(second.data, b))
    if grad is None:
        return value, None, None, unchanged
    grads = _gradients(cls.backward(ctx, Tensor(np.array(grad, dtype=np.float64))), 2, name)
    return (value, *(None if g is None else _data(g, f"{name}.backward's gradient") for g in grads), unchanged)


def _unary_call(kit, op, a, grad, axis=None, keepdims=False):
    """The student's Function class for a one-Tensor operation (exp, log, relu,
    transpose; sum with `axis` and `keepdims`) called directly through a
    ContextManager (backward only when grad is not None). Returns (forward value,
    gradient for a or None)."""
    Tensor, engine, _ = _modules(kit)
    cls, name = _op_class(kit, op)
    ctx = engine.ContextManager()
    tensor = Tensor(np.array(a, dtype=np.float64), requires_grad=True)
    if op == "sum":
        out = cls.forward(ctx, tensor, None if axis is None else int(axis), bool(keepdims))
    else:
        out = cls.forward(ctx, tensor)
    value = _data(_as_tensor_result(out, Tensor, f"{name}.forward"), f"{name}.forward's result")
    if grad is None:
        return value, None
    (gradient,) = _gradients(cls.backward(ctx, Tensor(np.array(grad, dtype=np.float64))), 1, name)
    return value, None if gradient is None else _data(gradient, f"{name}.backward's gradient")


def _operators(kit, op, a, b, number):
    """The Tensor operator for `op` (sub, mul, div): Tensor(a) op Tensor(b), Tensor(a) op
    number and number op Tensor(a) (constants), and whether Tensor(a, requires_grad=True)
    op Tensor(b) is linked into the graph (requires_grad, not a leaf, a grad_fn)."""
    Tensor, _, _ = _modules(kit)
    symbol = SYMBOLS[op]
    a, b = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    apply = {"sub": lambda x, y: x - y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y}[op]
    values = []
    for left, right, shown in ((Tensor(a.copy()), Tensor(b.copy()), f"Tensor {symbol} Tensor"),
                               (Tensor(a.copy()), float(number), f"Tensor {symbol} {number}"),
                               (float(number), Tensor(a.copy()), f"{number} {symbol} Tensor")):
        result = apply(left, right)
        values.append(_data(_as_tensor_result(result, Tensor, shown), f"{shown}'s result"))
    linked = apply(Tensor(a.copy(), requires_grad=True), Tensor(b.copy()))
    flags = (bool(getattr(linked, "requires_grad", False)), not bool(getattr(linked, "is_leaf", True)),
             getattr(linked, "grad_fn", None) is not None)
    return (*values, flags)


def sub_call(kit, a, b, grad):
    """Sub through a ContextManager (see _op_call)."""
    return _op_call(kit, "sub", a, b, grad)


def mul_call(kit, a, b, grad):
    """Mul (or Mult) through a ContextManager (see _op_call)."""
    return _op_call(kit, "mul", a, b, grad)


def div_call(kit, a, b, grad):
    """Div through a ContextManager (see _op_call)."""
    return _op_call(kit, "div", a, b, grad)


def matmul_call(kit, a, b, grad):
    """MatMul through a ContextManager (see _op_call)."""
    return _op_call(kit, "matmul", a, b, grad)


def sub_operators(kit, a, b, number):
    """Tensor.__sub__ and __rsub__ (see _operators)."""
    return _operators(kit, "sub", a, b, number)


def mul_operators(kit, a, b, number):
    """Tensor.__mul__ and __rmul__ (see _operators)."""
    return _operators(kit, "mul", a, b, number)


def div_operators(kit, a, b, number):
    """Tensor.__truediv__ and __rtruediv__ (see _operators)."""
    return _operators(kit, "div", a, b, number)


def exp_call(kit, a, grad):
    """Exp through a ContextManager (see _unary_call)."""
    return _unary_call(kit, "exp", a, grad)


def log_call(kit, a, grad):
    """Log through a ContextManager (see _unary_call)."""
    return _unary_call(kit, "log", a, grad)


def sum_call(kit, a, grad, axis, keepdims):
    """Sum(a, axis, keepdims) through a ContextManager (see _unary_call)."""
    return _unary_call(kit, "sum", a, grad, axis, keepdims)


def transpose_call(kit, a, grad):
    """Transpose through a ContextManager (see _unary_call)."""
    return _unary_call(kit, "transpose", a, grad)


def relu_call(kit, a, grad):
    """The ReLU Function of mytorch/nn/functional.py through a ContextManager (see _unary_call)."""
    return _unary_call(kit, "relu", a, grad)


# -- autograd: graphs of the grader's operations ---------------------------------------

def graph(kit, leaves, requires, program, reduce, times):
    """Build `program` over `leaves` with the grader's operations and run the student's
    backward `times` times from its last node (summed to a scalar first when `reduce`).

    `program` is a tuple of steps (op, i, j, number): op is add, sub, mul, ratio (a / (1 + b^2)),
    neg, square, tanh, sum (all entries), sum0 (along axis 0), scale (times the constant
    `number`, a Tensor that does not require grad) or shift (plus that constant); i and j
    index the values so far (the leaves first, then each step's result).

    Returns (output value, each leaf's grad (None when it has none), whether each step's
    result has a grad, whether each scale or shift constant has a grad, the type of each leaf's
    grad: "Tensor", "None" or another type's name, the output's requires_grad)."""
    Tensor, _, _ = _modules(kit)
    ops = _ops(kit)
    leaf_tensors = [Tensor(np.array(value, dtype=np.float64), requires_grad=bool(flag))
                    for value, flag in zip(leaves, requires)]
    values = list(leaf_tensors)
    constants = []
    for op, i, j, number in program:
        if op in ("add", "sub", "mul", "ratio"):
            values.append(ops[op].apply(values[i], values[j]))
        elif op in ("neg", "square", "tanh"):
            values.append(ops[op].apply(values[i]))
        elif op == "sum":
            values.append(ops["sum"].apply(values[i]))
        elif op == "sum0":
            values.append(ops["sum0"].apply(values[i]))
        elif op in ("scale", "shift"):
            constant = Tensor(np.array(float(number)))
            constants.append(constant)
            values.append(ops["mul" if op == "scale" else "add"].apply(values[i], constant))
        else:
            raise ValueError(f"unknown step {op!r}")
    out = values[-1]
    if reduce:
        out = ops["sum"].apply(out)
    for _ in range(int(times)):
        out.backward()
    nodes = values[len(leaf_tensors):] + ([out] if reduce else [])
    return (_data(out, "the output"),
            tuple(_grad(t, f"leaf {k}") for k, t in enumerate(leaf_tensors)),
            tuple(getattr(t, "grad", None) is not None for t in nodes),
            tuple(getattr(t, "grad", None) is not None for t in constants),
            tuple(_grad_kind(t, Tensor) for t in leaf_tensors),
            bool(getattr(out, "requires_grad", False)))


def graph_nodes(kit):
    """The graph's nodes, as the handout describes them, for y = x * c and z = y + c with
    x a leaf that requires grad and c a constant (built with the grader's operations).
    Returns ((rule, holds), ...)."""
    Tensor, engine, _ = _modules(kit)
    ops = _ops(kit)
    x = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.full(3, 2.0))
    y = ops["mul"].apply(x, c)
    z = ops["add"].apply(y, c)
    cc = ops["mul"].apply(c, c)
    rules = []

    def rule(text, test):
        try:
            holds = bool(test())
        except Exception as exc:  # noqa: BLE001 - any failure of the rule is reported as such
            text += f" ({type(exc).__name__}: {exc})"
            holds = False
        rules.append((text[:290], holds))

    node = getattr(y, "grad_fn", None)

    def nexts(node):
        return list(getattr(node, "next_functions", None) or [])

    rule("y = x * c has requires_grad True", lambda: y.requires_grad)
    rule("y = x * c is not a leaf (is_leaf False)", lambda: y.is_leaf is False)
    rule("y = x * c has a grad_fn (a BackwardFunction)", lambda: isinstance(node, engine.BackwardFunction))
    rule("y.grad_fn.next_functions has one entry per Tensor argument (2)", lambda: len(nexts(node)) == 2)
    rule("y.grad_fn.next_functions[0] is an AccumulateGrad for x (its .variable is x)",
         lambda: isinstance(nexts(node)[0], engine.AccumulateGrad) and nexts(node)[0].variable is x)
    rule("y.grad_fn.next_functions[1] is None (c is a constant)", lambda: nexts(node)[1] is None)
    rule("z = y + c: z.grad_fn.next_functions[0] is y.grad_fn (y is not a leaf)",
         lambda: nexts(z.grad_fn)[0] is node)
    rule("c * c (constants only) has requires_grad False", lambda: cc.requires_grad is False)
    rule("c * c (constants only) is a leaf with grad_fn None", lambda: cc.is_leaf is True and cc.grad_fn is None)
    rule("x (a leaf) keeps is_leaf True and grad_fn None", lambda: x.is_leaf is True and x.grad_fn is None)
    return tuple(rules)


def leaf_backward(kit, x):
    """backward() called on a leaf that requires grad: its grad (ones, in the reference)."""
    Tensor, _, _ = _modules(kit)
    leaf = Tensor(np.array(x, dtype=np.float64), requires_grad=True)
    leaf.backward()
    return _grad(leaf, "the leaf")


def reshape(kit, x, shape, weights, as_tuple):
    """The student's Tensor.reshape: y = x.reshape(*shape) (or x.reshape(shape)), then the
    grader's sum(y * weights) backpropagated. Returns (y, x.grad)."""
    Tensor, _, _ = _modules(kit)
    ops = _ops(kit)
    leaf = Tensor(np.array(x, dtype=np.float64), requires_grad=True)
    shape = tuple(int(n) for n in shape)
    y = leaf.reshape(shape) if as_tuple else leaf.reshape(*shape)
    _as_tensor_result(y, Tensor, "x.reshape(...)")
    ops["weighted"].apply(y, Tensor(np.array(weights, dtype=np.float64))).backward()
    return _data(y, "x.reshape(...)"), _grad(leaf, "x")


# -- Linear and MLPs ---------------------------------------------------------------------

def _set(param, value, what):
    if not hasattr(param, "data"):
        raise TypeError(f"{what} is {type(param).__name__}, not a Tensor")
    param.data = np.array(value, dtype=np.float64)


def linear(kit, x, weight, bias, upstream, x_requires):
    """The student's Linear(in, out), its weight and bias set to `weight` and `bias`,
    applied to Tensor(x); the grader's sum(out * upstream) is backpropagated (unless
    upstream is None). Returns (output, weight.grad, bias.grad, x.grad or None)."""
    Tensor, _, _ = _modules(kit)
    ops = _ops(kit)
    Linear = kit.student.mytorch.nn.linear.Linear
    layer = Linear(weight.shape[1], weight.shape[0])
    _set(layer.weight, weight, "Linear.weight")
    _set(layer.bias, bias, "Linear.bias")
    inputs = Tensor(np.array(x, dtype=np.float64), requires_grad=bool(x_requires))
    out = _as_tensor_result(layer(inputs), Tensor, "Linear.forward")
    if upstream is None:
        return _data(out, "Linear's output"), None, None, None
    ops["weighted"].apply(out, Tensor(np.array(upstream, dtype=np.float64))).backward()
    return (_data(out, "Linear's output"), _grad(layer.weight, "weight"), _grad(layer.bias, "bias"),
            _grad(inputs, "x") if x_requires else None)


def _affine_layer(kit, weight, bias):
    """A Module of the grader's: x @ weight.T + bias, exact, with the student's Tensors."""
    Tensor, _, _ = _modules(kit)
    ops = _ops(kit)
    Module = kit.student.mytorch.nn.module.Module

    class GraderAffine(Module):
        def __init__(self):
            super().__init__()
            self.weight = Tensor(np.array(weight, dtype=np.float64), requires_grad=True, is_parameter=True)
            self.bias = Tensor(np.array(bias, dtype=np.float64), requires_grad=True, is_parameter=True)

        def forward(self, x):
            return ops["affine"].apply(x, self.weight, self.bias)

    return GraderAffine()


def mlp(kit, x, weights, biases, upstream):
    """Sequential(A1, ReLU(), A2, ReLU(), ..., Ak) with the grader's affine layers A and the
    student's ReLU module and Sequential, on Tensor(x, requires_grad=True); the grader's
    sum(out * upstream) is backpropagated (unless upstream is None). Returns (output,
    weight grads, bias grads, x.grad)."""
    Tensor, _, _ = _modules(kit)
    ops = _ops(kit)
    ReLU = kit.student.mytorch.nn.activations.ReLU
    Sequential = kit.student.mytorch.nn.sequential.Sequential
    layers, affine = [], []
    for index, (weight, bias) in enumerate(zip(weights, biases)):
        layer = _affine_layer(kit, weight, bias)
        affine.append(layer)
        layers.append(layer)
        if index < len(weights) - 1:
            layers.append(ReLU())
    model = Sequential(*layers)
    inputs = Tensor(np.array(x, dtype=np.float64), requires_grad=True)
    out = _as_tensor_result(model(inputs), Tensor, "Sequential.forward")
    if upstream is None:
        return _data(out, "the network's output"), (), (), None
    ops["weighted"].apply(out, Tensor(np.array(upstream, dtype=np.float64))).backward()
    return (_data(out, "the network's output"),
            tuple(_grad(layer.weight, f"layer {k} weight") for k, layer in enumerate(affine)),
            tuple(_grad(layer.bias, f"layer {k} bias") for k, layer in enumerate(affine)),
            _grad(inputs, "x"))


def relu_module(kit, x):
    """The student's ReLU module (mytorch.nn.activations.ReLU) applied to Tensor(x)."""
    Tensor, _, _ = _modules(kit)
    module = kit.student.mytorch.nn.activations.ReLU()
    return _data(_as_tensor_result(module(Tensor(np.array(x, dtype=np.float64))), Tensor, "ReLU()(x)"),
                 "ReLU()(x)")


# -- cross-entropy -----------------------------------------------------------------------

def ce_call(kit, logits, labels, backward):
    """The student's CrossEntropyLoss()(Tensor(logits, requires_grad=True), Tensor(labels)),
    backpropagated when `backward`. Returns (loss value, logits.grad or None)."""
    Tensor, _, _ = _modules(kit)
    criterion = kit.student.mytorch.nn.loss.CrossEntropyLoss()
    x = Tensor(np.array(logits, dtype=np.float64), requires_grad=True)
    loss = _as_tensor_result(criterion(x, Tensor(np.array(labels))), Tensor, "CrossEntropyLoss")
    value = _data(loss, "the loss")
    if not backward:
        return value, None
    loss.backward()
    return value, _grad(x, "logits")


# -- SGD ---------------------------------------------------------------------------------

def _parameters(kit, values):
    Tensor, _, _ = _modules(kit)
    return [Tensor(np.array(v, dtype=np.float64), requires_grad=True, is_parameter=True) for v in values]


def _integrity(tensors, optimizer, Tensor):
    """What step() must leave alone: the same leaf Tensors, holding numpy arrays."""
    held = list(getattr(optimizer, "params", []) or [])
    return (all(any(h is t for h in held) for t in tensors) and len(held) == len(tensors),
            all(getattr(t, "is_leaf", False) is True and getattr(t, "grad_fn", None) is None for t in tensors),
            all(getattr(t, "requires_grad", False) is True for t in tensors),
            all(isinstance(t.data, np.ndarray) and t.data.dtype.kind == "f" for t in tensors))


def sgd(kit, params, steps, lr, momentum):
    """The student's SGD over leaf parameters holding `params`: before each step, each
    parameter's .grad is set by hand to Tensor(g) (or None) from `steps`, then step() runs.
    momentum None builds SGD(params, lr=lr) (the default momentum). Returns (the parameters'
    values after each step, (same objects in optimizer.params, still leaves without grad_fn,
    still requiring grad, .data still float arrays))."""
    Tensor, _, _ = _modules(kit)
    SGD = kit.student.mytorch.optim.sgd.SGD
    tensors = _parameters(kit, params)
    optimizer = SGD(tensors, lr=float(lr)) if momentum is None else \
        SGD(tensors, lr=float(lr), momentum=float(momentum))
    history = []
    for number, grads in enumerate(steps):
        for tensor, grad in zip(tensors, grads):
            tensor.grad = None if grad is None else Tensor(np.array(grad, dtype=np.float64))
        optimizer.step()
        history.append(tuple(_data(t, f"after step {number + 1}, parameter {k}") for k, t in enumerate(tensors)))
    return tuple(history), _integrity(tensors, optimizer, Tensor)


def sgd_model(kit, params, grads, lr):
    """SGD(model.parameters(), lr) for a Module holding the parameters as attributes: one
    step with hand-set gradients. Returns (the values the model's attributes hold after
    the step, the integrity flags of `sgd`)."""
    Tensor, _, _ = _modules(kit)
    SGD = kit.student.mytorch.optim.sgd.SGD
    Module = kit.student.mytorch.nn.module.Module
    tensors = _parameters(kit, params)

    class Holder(Module):
        def __init__(self):
            super().__init__()
            for index, tensor in enumerate(tensors):
                setattr(self, f"p{index}", tensor)

    model = Holder()
    optimizer = SGD(model.parameters(), lr=float(lr))
    for tensor, grad in zip(tensors, grads):
        tensor.grad = Tensor(np.array(grad, dtype=np.float64))
    optimizer.step()
    held = tuple(_data(getattr(model, f"p{k}"), f"model.p{k}") for k in range(len(tensors)))
    return held, _integrity(tensors, optimizer, Tensor)


def zero_grad(kit, params, grads):
    """Set each parameter's grad by hand, call the student's SGD.zero_grad(), and report
    each grad afterwards ("None", "zeros" or "kept"); then step() (which must then
    change nothing) and return the values after it."""
    Tensor, _, _ = _modules(kit)
    SGD = kit.student.mytorch.optim.sgd.SGD
    tensors = _parameters(kit, params)
    optimizer = SGD(tensors, lr=0.5)
    for tensor, grad in zip(tensors, grads):
        tensor.grad = Tensor(np.array(grad, dtype=np.float64))
    optimizer.zero_grad()
    states = []
    for k, tensor in enumerate(tensors):
        grad = getattr(tensor, "grad", None)
        if grad is None:
            states.append("None")
        else:
            states.append("zeros" if not np.any(_data(grad, f"parameter {k}.grad")) else "kept")
    optimizer.step()
    return tuple(states), tuple(_data(t, f"parameter {k}") for k, t in enumerate(tensors))


# -- hw1/mnist.py ------------------------------------------------------------------------

def _images(array):
    array = np.asarray(array)
    values = np.array(array, dtype=np.float64)
    return values / 255.0 if array.dtype == np.uint8 else values


def _accuracy(kit, model, val_x, val_y):
    """The fraction of rows of val_x whose arg-max output of `model` is the label."""
    Tensor, _, _ = _modules(kit)
    hits = 0
    for start in range(0, len(val_x), 500):
        scores = _data(model(Tensor(val_x[start:start + 500])), "the model's output")
        hits += int(np.sum(np.argmax(scores.reshape(len(scores), -1), axis=1) == val_y[start:start + 500]))
    return hits / max(len(val_x), 1)


def _floats(result, what):
    if isinstance(result, np.ndarray):
        result = result.reshape(-1).tolist()
    if not isinstance(result, (list, tuple)):
        raise TypeError(f"{what} returned {type(result).__name__}; it must return the list of "
                        "validation accuracies, one per epoch")
    values = []
    for item in result:
        try:
            values.append(float(np.asarray(getattr(item, "data", item)).reshape(())))
        except (TypeError, ValueError):
            raise TypeError(f"{what} returned a list holding {type(item).__name__}; "
                            "each accuracy must be a number") from None
    return tuple(values)


def mnist_accuracies(kit, seed):
    """The student's hw1.mnist.mnist(train_x, train_y, val_x, val_y) on the staged fixture
    `mnist` (images as float64 in [0, 1], integer labels), numpy's global RNG seeded
    with `seed` first.

    While it runs, each call of the module's validate(model, ...) is watched: after it,
    the grader measures the model's accuracy on the validation set itself. Returns (the
    accuracies mnist() returned, the accuracies the grader measured; a measure that
    failed is -1)."""
    data = kit.data("mnist")
    train_x, val_x = _images(data["train_x"]), _images(data["val_x"])
    train_y = np.array(data["train_y"], dtype=np.int64)
    val_y = np.array(data["val_y"], dtype=np.int64)
    kit.student.hw1.mnist  # noqa: B018 - imports the student's module (a missing one is reported)
    module = sys.modules["hw1.mnist"]
    original = module.__dict__.get("validate")
    measured = []

    def watched(model, *args, **kwargs):
        value = original(model, *args, **kwargs)
        try:
            measured.append(_accuracy(kit, model, val_x, val_y))
        except Exception:  # noqa: BLE001 - the student's own validate() worked: keep going
            measured.append(-1.0)
        return value

    if callable(original):
        module.validate = watched
    np.random.seed(int(seed))
    try:
        result = module.mnist(train_x.copy(), train_y.copy(), val_x.copy(), val_y.copy())
    finally:
        if callable(original):
            module.validate = original
    return _floats(result, "mnist()"), tuple(measured)


class _Recorder:
    def __init__(self):
        self.events = []
        self.sizes = []
        self.train_rows = []
        self.val_rows = []


# event codes returned by train_loop
ZERO_GRAD, FORWARD_TRAIN, FORWARD_EVAL, CRITERION, BACKWARD, STEP = 1, 2, 3, 4, 5, 6


def _probe_model(kit, recorder, logits):
    """A Module whose output for a row is `logits[row id]` (the id is the row's first
    feature), recording each forward pass and the mode it ran in."""
    Tensor, _, _ = _modules(kit)
    Module = kit.student.mytorch.nn.module.Module

    class ProbeModel(Module):
        def forward(self, x):
            data = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
            rows = np.rint(data.reshape(len(data), -1)[:, 0]).astype(np.int64)
            training = bool(self.is_train)
            recorder.events.append(FORWARD_TRAIN if training else FORWARD_EVAL)
            recorder.sizes.append(len(rows))
            (recorder.train_rows if training else recorder.val_rows).extend(rows.tolist())
            return Tensor(logits[np.clip(rows, 0, len(logits) - 1)].copy())

    return ProbeModel()


def validate_probe(kit, rows, labels, logits):
    """The student's hw1.mnist.validate(model, val_x, val_y) with a probe model whose
    output for validation row i is logits[i]. Returns (the accuracy returned, the modes
    of the forward passes (True: training mode), validation rows seen)."""
    recorder = _Recorder()
    model = _probe_model(kit, recorder, np.asarray(logits, dtype=np.float64))
    model.train()
    val_x = np.zeros((len(rows), 784))
    val_x[:, 0] = rows
    accuracy = kit.student.hw1.mnist.validate(model, val_x, np.array(labels, dtype=np.int64))
    try:
        value = float(np.asarray(getattr(accuracy, "data", accuracy)).reshape(()))
    except (TypeError, ValueError):
        raise TypeError(f"validate() returned {type(accuracy).__name__}, not a number") from None
    modes = tuple(event == FORWARD_TRAIN for event in recorder.events)
    return value, modes, np.array(recorder.val_rows, dtype=np.int64)


def train_loop(kit, n_train, n_val, num_epochs, seed):
    """The student's hw1.mnist.train(model, optimizer, criterion, ...) with probes: a model
    recording its forward passes, an optimizer recording zero_grad() and step(), a
    criterion whose loss records backward(). Row i of the data holds i in its first
    feature. Returns (the accuracies returned, the event codes in order, the batch size
    of each forward pass, the training rows seen, the validation rows seen)."""
    Tensor, _, _ = _modules(kit)
    recorder = _Recorder()
    rng = np.random.default_rng(int(seed))
    train_y = rng.integers(0, 10, int(n_train))
    val_y = rng.integers(0, 10, int(n_val))
    logits = rng.standard_normal((max(int(n_train), int(n_val)), 10))
    # right on the first rows of the validation set only: each batch has its own accuracy
    right = int(rng.integers(int(n_val) // 3, 2 * int(n_val) // 3))
    index = np.arange(int(n_val))
    logits[index, val_y] = np.where(index < right, logits[index].max(axis=1) + 1, logits[index].min(axis=1) - 1)
    model = _probe_model(kit, recorder, logits)

    class ProbeLoss(Tensor):
        def backward(self, *args, **kwargs):
            recorder.events.append(BACKWARD)

    class ProbeCriterion:
        def __call__(self, predicted, target):
            recorder.events.append(CRITERION)
            return ProbeLoss(np.array(1.0))

        forward = __call__

    class ProbeOptimizer:
        def __init__(self):
            self.params = []
            self.lr = 0.1

        def zero_grad(self):
            recorder.events.append(ZERO_GRAD)

        def step(self):
            recorder.events.append(STEP)

    train_x = np.zeros((int(n_train), 784))
    train_x[:, 0] = np.arange(int(n_train))
    val_x = np.zeros((int(n_val), 784))
    val_x[:, 0] = np.arange(int(n_val))
    np.random.seed(int(seed))
    result = kit.student.hw1.mnist.train(model, ProbeOptimizer(), ProbeCriterion(), train_x, train_y,
                                         val_x, val_y, num_epochs=int(num_epochs))
    accuracies = _floats(result, "train()")
    return (accuracies, tuple(recorder.events), tuple(recorder.sizes),
            np.array(recorder.train_rows, dtype=np.int64), np.array(recorder.val_rows, dtype=np.int64))
