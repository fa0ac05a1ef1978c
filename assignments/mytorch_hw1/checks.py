"""Checks of the mytorch_hw1 assignment (MyTorch: autograd, MLPs, SGD, MNIST).

Every check calls a driver of harness.py (the student's package runs in the worker)
and compares what comes back with the same driver run on the reference in the judge
(`ctx.expected`), or with rules the judge states (the train loop, MNIST accuracy).

Tolerances: the operations and the autograd engine are judged in float64 at 1e-10
(|got - expected| <= 1e-10 * (|expected| + rms(expected)), entry by entry); layers,
networks and the loss at numpy's allclose(rtol=1e-5, atol=1e-8).

Each question is charged only for its own mistakes, as far as a package allows: the
drivers call the operations' Function classes directly through a ContextManager, build
the autograd graphs from the grader's own exact operations, seed networks with the
grader's weighted sum, give the MLP question the grader's affine layers, and hand SGD
its gradients (see harness.py). Examples come from the check's seeded generator
(salted with the course secret on the server) or from hypothesis (derandomized).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import Context, Registry
from grader.compare import describe, diagnose, relative_error
from grader.outcome import CheckFailed

registry = Registry()
check = registry.check

OP_TOL = 1e-10
MLP_RTOL, MLP_ATOL = 1e-5, 1e-8
F64 = np.float64
BATCH_SIZE = 100


# -- comparing -------------------------------------------------------------------------

def show(value) -> str:
    """A small array in full, a larger one by its shape."""
    if isinstance(value, np.ndarray):
        if value.size <= 12:
            return str(np.round(np.asarray(value, dtype=F64), 4).tolist())
        return f"<array of shape {tuple(value.shape)}>"
    return describe(value)


def _index(flat: int, shape: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]" if shape else ""


def same(got, expected, what: str, *, mlp: bool = False, hint: str = "", context: str = "") -> None:
    """Fail unless `got` (from the worker) matches `expected` (the reference's answer):
    None where None is expected, the exact shape, and values within the tolerance.
    `context` (how the values were made, e.g. the graph's code) follows the numbers."""
    tail = (f"\n{context}" if context else "") + (f"\nHint: {hint}" if hint else "")
    if expected is None:
        if got is not None:
            raise CheckFailed(f"{what} should be None, but it is {show(got)}.{tail}")
        return
    expected = np.asarray(expected, dtype=F64)
    if got is None:
        raise CheckFailed(f"{what} is None: no gradient reached it (expected {show(expected)}).{tail}")
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{what} is {describe(got)}; expected an array of shape {expected.shape}.{tail}")
    if got.shape != expected.shape:
        message = f"{what} has shape {tuple(got.shape)}; expected {tuple(expected.shape)}."
        if got.size > expected.size and got.ndim >= expected.ndim:
            message += (" A gradient must have the shape of its tensor: sum it over the axes that "
                        "broadcasting added or stretched.")
        raise CheckFailed(message + tail)
    got = np.asarray(got, dtype=F64)
    scale = float(np.sqrt(np.mean(expected ** 2))) if expected.size else 0.0
    if not np.all(np.isfinite(got)):
        bad = ~np.isfinite(got)
    elif mlp:
        bad = ~(np.abs(got - expected) <= MLP_ATOL + MLP_RTOL * np.abs(expected))
    else:
        bad = ~(np.abs(got - expected) <= OP_TOL * (np.abs(expected) + max(scale, 1e-300)))
    if not bad.any():
        return
    tolerance = f"allclose with rtol {MLP_RTOL:g}, atol {MLP_ATOL:g}" if mlp else f"tolerance {OP_TOL:g}"
    error = relative_error(got, expected)
    lines = [f"{what} is wrong.",
             f"Relative error ||got - expected|| / ||got + expected|| = {error:.3g} ({tolerance})."]
    flat_bad = bad.reshape(-1)
    order = np.argsort(-np.where(flat_bad, np.nan_to_num(np.abs(got - expected), nan=np.inf).reshape(-1), -1))
    shown = [int(i) for i in order[:4] if flat_bad[int(i)]]
    for flat in shown:
        lines.append(f"  at {_index(flat, expected.shape) or '(the value)'}: expected "
                     f"{expected.reshape(-1)[flat]:.8g}, got {got.reshape(-1)[flat]:.8g}")
    if int(bad.sum()) > len(shown):
        lines.append(f"  ... and {int(bad.sum()) - len(shown)} more entries of {expected.size}")
    if expected.size <= 12:
        lines.append(f"  expected {show(expected)}\n  got      {show(got)}")
    cause = diagnose(got, expected, MLP_RTOL if mlp else 1e-8)
    if cause:
        lines.append(f"Diagnosis: {cause}.")
    if context:
        lines.append(context)
    if hint:
        lines.append(f"Hint: {hint}")
    raise CheckFailed("\n".join(lines))


def fail(message: str) -> None:
    raise CheckFailed(message)


def values(rng: np.random.Generator, shape, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    return np.asarray(rng.uniform(low, high, shape), dtype=F64)


def away_from_zero(rng: np.random.Generator, shape) -> np.ndarray:
    return np.asarray(rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape), dtype=F64)


# -- Sub, Mul, Div ----------------------------------------------------------------------

OP_NAMES = {"sub": "Sub", "mul": "Mul", "div": "Div"}
SYMBOL = {"sub": "-", "mul": "*", "div": "/"}
SAME_SHAPES = [(3,), (2, 3), (1, 1), (2, 3, 2), ()]
BROADCAST = [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3, 4)),
             ((3, 4), ()), ((5, 4), (1, 4)), ((2, 1, 3), (4, 1))]
OP_HINTS = {
    "sub": "d(a - b)/da = 1 and d(a - b)/db = -1, times grad_output.",
    "mul": "d(a * b)/da = b and d(a * b)/db = a, times grad_output.",
    "div": "d(a / b)/da = 1 / b and d(a / b)/db = -a / b**2, times grad_output.",
}


def _operands(ctx: Context, op: str, shape_a, shape_b):
    a = values(ctx.rng, shape_a)
    b = away_from_zero(ctx.rng, shape_b) if op == "div" else values(ctx.rng, shape_b)
    grad = values(ctx.rng, np.broadcast_shapes(shape_a, shape_b))
    return a, b, grad


def _call_op(ctx: Context, op: str, pairs, backward: bool = True) -> list:
    """(shapes, arguments, answer, expected) of the op's driver for each pair of shapes
    (forward only, grad None, unless `backward`)."""
    arguments = [_operands(ctx, op, sa, sb) for sa, sb in pairs]
    if not backward:
        arguments = [(a, b, None) for a, b, _ in arguments]
    driver = f"{op}_call"
    answers = ctx.call_many(driver, arguments)
    return [((sa, sb), args, answer, ctx.expected(driver, *args))
            for (sa, sb), args, answer in zip(pairs, arguments, answers)]


def _op_where(name: str, shapes, args) -> str:
    (sa, sb), (a, b, grad) = shapes, args
    shown = f", grad_output = {show(grad)}" if grad is not None else ""
    return f"{name} with a of shape {sa}, b of shape {sb} (a = {show(a)}, b = {show(b)}{shown})"


def op_forward(ctx: Context, op: str) -> None:
    name = OP_NAMES[op]
    for shapes, args, answer, expected in _call_op(ctx, op, [(s, s) for s in SAME_SHAPES] + BROADCAST[:4],
                                                   backward=False):
        where = _op_where(name, shapes, args)
        same(answer[0], expected[0], f"{name}.forward(ctx, a, b)'s value, for {where},")
        if not answer[3]:
            fail(f"{name}.forward(ctx, a, b) changed the data of its inputs, for {where}. "
                 "An operation must return a new Tensor and leave a and b alone.")


def op_backward(ctx: Context, op: str, broadcast: bool) -> None:
    name = OP_NAMES[op]
    pairs = BROADCAST if broadcast else [(s, s) for s in SAME_SHAPES]
    for shapes, args, answer, expected in _call_op(ctx, op, pairs):
        where = _op_where(name, shapes, args)
        same(answer[1], expected[1], f"{name}.backward's gradient for a (the first operand), for {where},",
             hint=OP_HINTS[op])
        same(answer[2], expected[2], f"{name}.backward's gradient for b (the second operand), for {where},",
             hint=OP_HINTS[op])


def op_operator(ctx: Context, op: str) -> None:
    symbol = SYMBOL[op]
    a = values(ctx.rng, (2, 3))
    b = away_from_zero(ctx.rng, (3,)) if op == "div" else values(ctx.rng, (3,))
    number = 2.5
    got = ctx.call(f"{op}_operators", a, b, number)
    expected = ctx.expected(f"{op}_operators", a, b, number)
    shown = [f"Tensor(a) {symbol} Tensor(b)", f"Tensor(a) {symbol} {number}", f"{number} {symbol} Tensor(a)"]
    for index, text in enumerate(shown):
        same(got[index], expected[index], f"{text} with a = {show(a)}, b = {show(b)}")
    facts = ["its requires_grad is False", "its is_leaf is True", "its grad_fn is None"]
    broken = [fact for fact, holds in zip(facts, got[3]) if not holds]
    if broken:
        fail(f"The result of Tensor(a, requires_grad=True) {symbol} Tensor(b) is not linked into the graph: "
             f"{', '.join(broken)}. The operator must go through {OP_NAMES[op]}.apply(...), which makes "
             "the result require grad, a non-leaf, with the operation's node as its grad_fn.")


def _register_op_checks(op: str) -> None:
    @check(f"{op}_forward", calls=[f"{op}_call"])
    def forward(ctx: Context) -> None:
        op_forward(ctx, op)

    @check(f"{op}_backward", calls=[f"{op}_call"])
    def backward(ctx: Context) -> None:
        op_backward(ctx, op, broadcast=False)

    @check(f"{op}_backward_broadcast", calls=[f"{op}_call"])
    def backward_broadcast(ctx: Context) -> None:
        op_backward(ctx, op, broadcast=True)

    @check(f"{op}_operator", calls=[f"{op}_operators"])
    def operator(ctx: Context) -> None:
        op_operator(ctx, op)


for _op in OP_NAMES:
    _register_op_checks(_op)


# -- autograd: graphs ------------------------------------------------------------------

BINARY_STEPS = ("add", "sub", "mul", "ratio")
UNARY_STEPS = ("neg", "square", "tanh", "sum", "sum0", "scale", "shift")
LEAF_SHAPES = [(2, 3), (3,), (1, 3), (2, 1), ()]


def _step_shape(op: str, shape_i, shape_j):
    if op in BINARY_STEPS:
        return tuple(np.broadcast_shapes(shape_i, shape_j))
    if op == "sum":
        return ()
    if op == "sum0":
        return tuple(shape_i[1:])
    return tuple(shape_i)


def _name(index: int, leaves: int, names=None) -> str:
    if names and index in names:
        return names[index]
    return f"x{index}" if index < leaves else f"n{index}"


def _expression(step, leaves: int, names=None) -> str:
    op, i, j, number = step
    a, b = _name(i, leaves, names), _name(j, leaves, names)
    return {"add": f"{a} + {b}", "sub": f"{a} - {b}", "mul": f"{a} * {b}",
            "ratio": f"{a} / (1 + {b} * {b})", "neg": f"-{a}", "square": f"{a} * {a}",
            "tanh": f"tanh({a})", "sum": f"{a}.sum()", "sum0": f"{a}.sum(axis=0)",
            "scale": f"{a} * {number:g}", "shift": f"{a} + {number:g}"}[op]


def describe_graph(leaves, requires, program, reduce, times, names=None) -> str:
    """The graph as the code that builds it (the grader's exact operations stand behind
    each operator, so only the engine is judged)."""
    lines = []
    for index, (value, flag) in enumerate(zip(leaves, requires)):
        lines.append(f"    {_name(index, len(leaves), names)} = Tensor({show(np.asarray(value))}"
                     + (", requires_grad=True)" if flag else ")   # a constant"))
    for k, step in enumerate(program):
        lines.append(f"    {_name(len(leaves) + k, len(leaves), names)} = {_expression(step, len(leaves), names)}")
    last = _name(len(leaves) + len(program) - 1, len(leaves), names)
    call = f"{last}.sum().backward()" if reduce else f"{last}.backward()"
    lines.append("    " + (f"{call}  # twice" if times == 2 else call))
    return "\n".join(lines)


def run_graph(ctx: Context, leaves, requires, program, reduce=False, times=1):
    args = (tuple(np.asarray(v, dtype=F64) for v in leaves), tuple(bool(r) for r in requires),
            tuple(program), bool(reduce), int(times))
    return args, ctx.call("graph", *args), ctx.expected("graph", *args)


def judge_graph_values(args, got, expected, title: str, names=None) -> None:
    """The output's value and the gradient of every leaf that should receive one."""
    leaves = args[0]
    context = f"{title}:\n{describe_graph(*args, names=names)}"
    same(got[0], expected[0], "The output's value", context=context)
    for index, (mine, theirs) in enumerate(zip(got[1], expected[1])):
        if theirs is None:
            continue
        name = _name(index, len(leaves), names)
        if mine is None:
            fail(f"{name}.grad is None after backward(), but {name} requires grad and the output "
                 f"depends on it (expected {show(np.asarray(theirs))}).\n{context}")
        same(mine, theirs, f"{name}.grad (shape {np.shape(leaves[index])}) after backward()", context=context)


@st.composite
def random_graphs(draw):
    """A small random graph: 1-4 leaves (leaf 0 requires grad), 1-5 steps, the steps
    nobody uses joined into the output by additions."""
    count = draw(st.integers(1, 4))
    shapes = [draw(st.sampled_from(LEAF_SHAPES)) for _ in range(count)]
    requires = [True] + [draw(st.booleans()) for _ in range(count - 1)]
    elements = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    leaves = [draw(hnp.arrays(F64, shape, elements=elements)) for shape in shapes]
    value_shapes = list(shapes)
    program = []
    for k in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(BINARY_STEPS + UNARY_STEPS))
        i = 0 if k == 0 else draw(st.integers(0, len(value_shapes) - 1))
        j = draw(st.integers(0, len(value_shapes) - 1)) if op in BINARY_STEPS else 0
        if op == "sum0" and not value_shapes[i]:
            op = "sum"
        number = float(draw(st.sampled_from([-1.5, 0.5, 2.0, 3.0]))) if op in ("scale", "shift") else 0.0
        program.append((op, i, j, number))
        value_shapes.append(_step_shape(op, value_shapes[i], value_shapes[j]))
    used = {index for op, i, j, _ in program for index in ((i, j) if op in BINARY_STEPS else (i,))}
    last = len(value_shapes) - 1
    for index in range(count, last):
        if index not in used:
            program.append(("add", len(value_shapes) - 1, index, 0.0))
            value_shapes.append(_step_shape("add", value_shapes[-1], value_shapes[index]))
    return tuple(leaves), tuple(requires), tuple(program), draw(st.booleans())


WORKED = (("mul", 0, 1, 0.0), ("add", 0, 3, 0.0), ("add", 4, 2, 0.0), ("shift", 5, 0, 3.0))


WORKED_NAMES = {0: "a", 1: "b", 2: "c", 3: "ab", 4: "d", 5: "dc", 6: "e"}


@check("worked_example", calls=["graph"])
def worked_example(ctx: Context) -> None:
    a, b, c = (values(ctx.rng, (2, 2)) for _ in range(3))
    args, got, expected = run_graph(ctx, (a, b, c), (True, True, True), WORKED)
    title = "The worked example d = a + a * b, e = d + c + 3"
    judge_graph_values(args, got, expected, title, names=WORKED_NAMES)
    code = describe_graph(*args, names=WORKED_NAMES)
    kept = [WORKED_NAMES[3 + position] for position, holds in enumerate(got[2]) if holds]
    if kept:
        fail(f"{', '.join(kept)} (intermediate results) hold a .grad after e.backward(); only leaves that "
             f"require grad keep gradients, intermediate results keep grad None.\n{title}:\n{code}")
    if got[3][0]:
        fail(f"The constant 3 has a .grad after e.backward(); constants keep grad None.\n{title}:\n{code}")


@check("random_graphs", calls=["graph"])
def random_graphs_check(ctx: Context) -> None:
    @ctx.for_all(random_graphs())
    def body(graph):
        leaves, requires, program, reduce = graph
        args, got, expected = run_graph(ctx, leaves, requires, program, reduce)
        judge_graph_values(args, got, expected, "In this graph")


# Graphs with constants, Python numbers, a leaf the output does not use and a leaf that
# does not require grad: which tensors hold a .grad afterwards.
KEEP_GRAD_GRAPHS = [
    ([(2, 3), (2, 3), (3,)], (True, False, True), (("mul", 0, 1, 0.0), ("scale", 3, 0, 2.0),
                                                  ("add", 4, 0, 0.0))),
    ([(3,), (3,), (3,)], (True, True, False), (("shift", 0, 0, 1.0), ("mul", 3, 2, 0.0),
                                              ("sum", 4, 0, 0.0))),
    ([(2, 2), ()], (True, True), (("square", 0, 0, 0.0), ("mul", 2, 1, 0.0), ("sum0", 3, 0, 0.0))),
]


@check("only_leaves_keep_grad", calls=["graph"])
def only_leaves_keep_grad(ctx: Context) -> None:
    for shapes, requires, program in KEEP_GRAD_GRAPHS:
        leaves = [values(ctx.rng, shape) for shape in shapes]
        args, got, expected = run_graph(ctx, leaves, requires, program, reduce=True)
        code = describe_graph(*args)
        for index, (mine, theirs, flag) in enumerate(zip(got[1], expected[1], requires)):
            if theirs is None and mine is not None:
                why = "it does not require grad (a constant)" if not flag else "the output does not use it"
                fail(f"x{index}.grad is {show(mine)} after backward(), but it must stay None: {why}.\n"
                     f"In this graph:\n{code}")
            if theirs is not None and mine is None:
                fail(f"x{index}.grad is None after backward(); x{index} requires grad and the output "
                     f"depends on it.\nIn this graph:\n{code}")
            if theirs is not None and got[4][index] != "Tensor":
                fail(f"x{index}.grad is a {got[4][index]}; it must be a Tensor.\nIn this graph:\n{code}")
        for position, holds in enumerate(got[2]):
            if holds:
                node = len(leaves) + position
                name = f"n{node}" if node < len(leaves) + len(program) else "the summed output"
                fail(f"{name}, an intermediate result, has a .grad after backward(); only leaves that "
                     f"require grad keep gradients (intermediates keep grad None).\nIn this graph:\n{code}")
        if any(got[3]):
            fail("A Python number used in the graph (turned into a constant Tensor) has a .grad after "
                 f"backward(); constants keep grad None.\nIn this graph:\n{code}")
        if not got[5]:
            fail(f"The output does not require grad, though x0 requires grad.\nIn this graph:\n{code}")


ACCUMULATION_GRAPHS = [
    # x0 * x0 * x0: the leaf reached three times
    ([(3,)], (True,), (("mul", 0, 0, 0.0), ("mul", 1, 0, 0.0)), 1),
    # d = a + a * b; e = d * d: d reached along two paths, a along four
    ([(2, 2), (2, 2)], (True, True), (("mul", 0, 1, 0.0), ("add", 0, 2, 0.0), ("mul", 3, 3, 0.0)), 1),
    # backward() twice: the second pass adds to the first
    ([(2, 3), (3,)], (True, True), (("mul", 0, 1, 0.0), ("tanh", 2, 0, 0.0)), 2),
]


@check("accumulation", calls=["graph"])
def accumulation(ctx: Context) -> None:
    titles = ["A leaf used several times (its gradients must add up)",
              "A result used along two paths (every path's gradient must reach the leaves)",
              "backward() called twice (the second call adds to .grad)"]
    for (shapes, requires, program, times), title in zip(ACCUMULATION_GRAPHS, titles):
        leaves = [values(ctx.rng, shape) for shape in shapes]
        args, got, expected = run_graph(ctx, leaves, requires, program, reduce=True, times=times)
        judge_graph_values(args, got, expected, title)


@check("graph_nodes", calls=["graph_nodes"])
def graph_nodes(ctx: Context) -> None:
    rules = ctx.call("graph_nodes")
    broken = [rule for rule, holds in rules if not holds]
    if broken:
        fail("Function.apply does not link the graph as the handout says (x requires grad, c is a "
             "constant):\n" + "\n".join(f"  - {rule}" for rule in broken))


@check("backward_seeds", calls=["graph", "leaf_backward"])
def backward_seeds(ctx: Context) -> None:
    program = (("mul", 0, 1, 0.0), ("neg", 2, 0, 0.0))
    leaves = [values(ctx.rng, (2, 3)), values(ctx.rng, (3,))]
    args, got, expected = run_graph(ctx, leaves, (True, True), program, reduce=False)
    judge_graph_values(args, got, expected, "backward() on a result of shape (2, 3) (the seed is ones of "
                                            "that shape)")
    leaf = values(ctx.rng, (2, 2))
    same(ctx.call("leaf_backward", leaf), ctx.expected("leaf_backward", leaf),
         "x.grad after x.backward() on a leaf x = Tensor(..., requires_grad=True) of shape (2, 2)")


@check("reshape", calls=["reshape"])
def reshape(ctx: Context) -> None:
    cases = [((2, 6), (3, 4), False), ((2, 6), (4, -1), False), ((3, 4), (12,), True), ((6,), (2, 1, 3), True)]
    for source, shape, as_tuple in cases:
        x = values(ctx.rng, source)
        target = np.empty(source).reshape(shape).shape
        weights = values(ctx.rng, target)
        got = ctx.call("reshape", x, shape, weights, as_tuple)
        expected = ctx.expected("reshape", x, shape, weights, as_tuple)
        call = f"x.reshape({shape})" if as_tuple else f"x.reshape({', '.join(map(str, shape))})"
        same(got[0], expected[0], f"y = {call} for x of shape {source}")
        same(got[1], expected[1], f"x.grad after y = {call}, x of shape {source}, and backward of "
                                  "sum(y * W) (the grader's weighted sum)")


# -- Linear ----------------------------------------------------------------------------

def _linear_case(ctx: Context, batch: int, fan_in: int, fan_out: int):
    return (values(ctx.rng, (batch, fan_in)), values(ctx.rng, (fan_out, fan_in), -1, 1),
            values(ctx.rng, (fan_out,), -1, 1), values(ctx.rng, (batch, fan_out)))


LINEAR_SIZES = [(4, 3, 2), (1, 5, 3), (6, 2, 1), (3, 4, 4)]


@check("linear_forward", calls=["linear"])
def linear_forward(ctx: Context) -> None:
    for batch, fan_in, fan_out in LINEAR_SIZES:
        x, weight, bias, _ = _linear_case(ctx, batch, fan_in, fan_out)
        got = ctx.call("linear", x, weight, bias, None, False)
        expected = ctx.expected("linear", x, weight, bias, None, False)
        same(got[0], expected[0], f"Linear({fan_in}, {fan_out})(x) for x of shape {x.shape} (y = x @ W.T + b)",
             mlp=True)


@check("linear_backward", calls=["linear"])
def linear_backward(ctx: Context) -> None:
    for batch, fan_in, fan_out in LINEAR_SIZES:
        x, weight, bias, upstream = _linear_case(ctx, batch, fan_in, fan_out)
        got = ctx.call("linear", x, weight, bias, upstream, False)
        expected = ctx.expected("linear", x, weight, bias, upstream, False)
        where = f"of Linear({fan_in}, {fan_out}) for x of shape {x.shape}, backward of sum(y * G)"
        same(got[1], expected[1], f"weight.grad (shape {weight.shape}) {where},", mlp=True,
             hint="dL/dW = grad_y.T @ x, of W's shape (out_features, in_features).")
        same(got[2], expected[2], f"bias.grad (shape {bias.shape}) {where},", mlp=True,
             hint="dL/db sums grad_y over the batch.")


@check("linear_input_gradient", calls=["linear"])
def linear_input_gradient(ctx: Context) -> None:
    for batch, fan_in, fan_out in LINEAR_SIZES[:3]:
        x, weight, bias, upstream = _linear_case(ctx, batch, fan_in, fan_out)
        got = ctx.call("linear", x, weight, bias, upstream, True)
        expected = ctx.expected("linear", x, weight, bias, upstream, True)
        same(got[3], expected[3], f"x.grad (x of shape {x.shape}, requires_grad=True) through "
                                  f"Linear({fan_in}, {fan_out}), backward of sum(y * G),", mlp=True,
             hint="dL/dx = grad_y @ W.")


@check("matmul_transpose", calls=["matmul_call", "transpose_call"])
def matmul_transpose(ctx: Context) -> None:
    for shape_a, shape_b in [((3, 4), (4, 2)), ((1, 5), (5, 1)), ((2, 3, 4), (4, 5))]:
        a, b = values(ctx.rng, shape_a), values(ctx.rng, shape_b)
        grad = values(ctx.rng, np.matmul(a, b).shape)
        got = ctx.call("matmul_call", a, b, grad)
        expected = ctx.expected("matmul_call", a, b, grad)
        where = f"for a of shape {shape_a}, b of shape {shape_b}"
        same(got[0], expected[0], f"MatMul.forward(ctx, a, b) {where}")
        same(got[1], expected[1], f"MatMul.backward's gradient for a {where},", hint="grad_a = grad @ b.T")
        same(got[2], expected[2], f"MatMul.backward's gradient for b {where},", hint="grad_b = a.T @ grad")
    for shape in [(3, 4), (2, 3, 4)]:
        a = values(ctx.rng, shape)
        grad = values(ctx.rng, shape[::-1])
        got = ctx.call("transpose_call", a, grad)
        expected = ctx.expected("transpose_call", a, grad)
        same(got[0], expected[0], f"Transpose.forward(ctx, a) for a of shape {shape}")
        same(got[1], expected[1], f"Transpose.backward's gradient for a of shape {shape},",
             hint="The gradient of a transpose is the transpose of grad_output.")


# -- MLP: ReLU, Sequential, deeper networks ---------------------------------------------

@check("relu", calls=["relu_call", "relu_module"])
def relu(ctx: Context) -> None:
    a = values(ctx.rng, (3, 4))
    a[0, :2] = 0.0  # the gradient at 0 is 0, as in torch
    grad = values(ctx.rng, (3, 4))
    got = ctx.call("relu_call", a, grad)
    expected = ctx.expected("relu_call", a, grad)
    where = f"for a = {show(a)}"
    same(got[0], expected[0], f"ReLU.forward(ctx, a) (mytorch/nn/functional.py) {where}")
    same(got[1], expected[1], f"ReLU.backward's gradient (mytorch/nn/functional.py) {where}, grad_output = "
                              f"{show(grad)},", hint="grad_output where a > 0, and 0 where a <= 0 (0 at 0).")
    same(ctx.call("relu_module", a), ctx.expected("relu_module", a),
         f"ReLU()(Tensor(a)) (the module in mytorch/nn/activations.py) {where}")


def _network(ctx: Context, sizes, batch: int):
    x = values(ctx.rng, (batch, sizes[0]))
    weights = tuple(values(ctx.rng, (fan_out, fan_in), -1, 1) for fan_in, fan_out in zip(sizes, sizes[1:]))
    biases = tuple(values(ctx.rng, (fan_out,), -0.5, 0.5) for fan_out in sizes[1:])
    upstream = values(ctx.rng, (batch, sizes[-1]))
    return x, weights, biases, upstream


def _network_text(sizes) -> str:
    parts = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        parts.append(f"A{index + 1}({fan_in}->{fan_out})")
        if index < len(sizes) - 2:
            parts.append("ReLU()")
    return "Sequential(" + ", ".join(parts) + ")"


NETWORKS = [((5, 4, 3), 6), ((3, 6, 6, 2), 4), ((4, 3, 5, 3, 2), 5), ((2, 1), 3)]


@check("mlp_forward", calls=["mlp"])
def mlp_forward(ctx: Context) -> None:
    for sizes, batch in NETWORKS:
        args = _network(ctx, sizes, batch)[:3] + (None,)
        got, expected = ctx.call("mlp", *args), ctx.expected("mlp", *args)
        same(got[0], expected[0], f"The output of {_network_text(sizes)} on x of shape {args[0].shape} "
                                  "(A: the grader's affine layers, with your ReLU and Sequential)", mlp=True)


@check("mlp_gradients", calls=["mlp"])
def mlp_gradients(ctx: Context) -> None:
    @ctx.for_all(st.lists(st.integers(1, 6), min_size=2, max_size=5), st.integers(1, 5), st.integers(0, 2**16))
    def body(sizes, batch, seed):
        rng = np.random.default_rng(seed)
        x = values(rng, (batch, sizes[0]))
        weights = tuple(values(rng, (o, i), -1, 1) for i, o in zip(sizes, sizes[1:]))
        biases = tuple(values(rng, (o,), -0.5, 0.5) for o in sizes[1:])
        upstream = values(rng, (batch, sizes[-1]))
        args = (x, weights, biases, upstream)
        got, expected = ctx.call("mlp", *args), ctx.expected("mlp", *args)
        net = _network_text(sizes)
        where = (f"in {net} (A: the grader's affine layers) on x of shape {x.shape}, after backward of "
                 f"sum(out * G) (data seed {seed})")
        same(got[0], expected[0], f"The output {where}", mlp=True)
        for k, (mine, theirs) in enumerate(zip(got[1], expected[1])):
            same(mine, theirs, f"A{k + 1}.weight.grad {where}", mlp=True)
        for k, (mine, theirs) in enumerate(zip(got[2], expected[2])):
            same(mine, theirs, f"A{k + 1}.bias.grad {where}", mlp=True)
        same(got[3], expected[3], f"x.grad {where}", mlp=True)


# -- cross-entropy ----------------------------------------------------------------------

@check("exp_log_sum", calls=["exp_call", "log_call", "sum_call"])
def exp_log_sum(ctx: Context) -> None:
    cases = [("exp", (3, 4), None, False), ("log", (3, 4), None, False), ("sum", (3, 4), None, False),
             ("sum", (3, 4), 1, True), ("sum", (3, 4), 0, False), ("sum", (2, 3, 2), -1, False)]
    for op, shape, axis, keepdims in cases:
        a = values(ctx.rng, shape, 0.2, 2.0) if op == "log" else values(ctx.rng, shape)
        out_shape = np.sum(a, axis=axis, keepdims=keepdims).shape if op == "sum" else shape
        grad = values(ctx.rng, out_shape)
        args = (a, grad, axis, keepdims) if op == "sum" else (a, grad)
        got = ctx.call(f"{op}_call", *args)
        expected = ctx.expected(f"{op}_call", *args)
        name = op.capitalize()
        call = f"{name}.forward(ctx, a{'' if op != 'sum' else f', axis={axis}, keepdims={keepdims}'})"
        same(got[0], expected[0], f"{call} for a of shape {shape}")
        same(got[1], expected[1], f"{name}.backward's gradient after {call}, a of shape {shape},")


def _logits(ctx: Context, batch: int, classes: int, scale: float):
    return values(ctx.rng, (batch, classes)) * scale, ctx.rng.integers(0, classes, batch)


@check("ce_loss", calls=["ce_call"])
def ce_loss(ctx: Context) -> None:
    for batch, classes in [(4, 3), (1, 5), (10, 10), (7, 2)]:
        logits, labels = _logits(ctx, batch, classes, 2.0)
        got = ctx.call("ce_call", logits, labels, False)
        expected = ctx.expected("ce_call", logits, labels, False)
        same(np.asarray(got[0]).reshape(()) if isinstance(got[0], np.ndarray) and got[0].size == 1 else got[0],
             expected[0], f"CrossEntropyLoss()(x, y) for x of shape {logits.shape} = {show(logits)}, "
                          f"y = {labels.tolist()}", mlp=True)


@check("ce_gradient", calls=["ce_call"])
def ce_gradient(ctx: Context) -> None:
    for batch, classes in [(4, 3), (1, 5), (10, 10), (7, 2)]:
        logits, labels = _logits(ctx, batch, classes, 2.0)
        got = ctx.call("ce_call", logits, labels, True)
        expected = ctx.expected("ce_call", logits, labels, True)
        same(got[1], expected[1], f"x.grad after CrossEntropyLoss()(x, y).backward(), x of shape "
                                  f"{logits.shape} = {show(logits)}, y = {labels.tolist()},", mlp=True,
             hint="dL/dx = (softmax(x) - onehot(y)) / N for the mean over the batch.")


@check("ce_stable", calls=["ce_call"])
def ce_stable(ctx: Context) -> None:
    """Cross-entropy is the same for x and for x minus each row's maximum: large logits
    must give what the shifted ones give (judged against the student's own answers, so
    that only stability is at stake here)."""
    for scale in (300.0, 3000.0):
        logits, labels = _logits(ctx, 6, 4, scale)
        shifted = logits - logits.max(axis=1, keepdims=True)
        large = ctx.call("ce_call", logits, labels, True)
        small = ctx.call("ce_call", shifted, labels, True)
        where = (f"for logits as large as {np.abs(logits).max():.0f} (x = {show(np.round(logits))}, "
                 f"y = {labels.tolist()})")
        same_as = "what your loss gives for x minus each row's maximum (the same cross-entropy)"
        value = small[0].reshape(()) if isinstance(small[0], np.ndarray) and small[0].size == 1 else small[0]
        same(value, ctx.expected("ce_call", shifted, labels, False)[0],
             f"The loss for x minus each row's maximum, x = {show(shifted)}, y = {labels.tolist()}, "
             "(stability is judged once the loss itself is right)", mlp=True)
        for index, what in ((0, "The loss"), (1, "x.grad")):
            mine, reference = large[index], small[index]
            if isinstance(mine, np.ndarray) and isinstance(reference, np.ndarray) and mine.size == reference.size:
                mine = mine.reshape(reference.shape)
            if isinstance(mine, np.ndarray) and not np.all(np.isfinite(mine)):
                fail(f"{what} {where} holds NaN or infinity: exp() overflows.")
            if isinstance(reference, np.ndarray) and np.all(np.isfinite(reference)):
                same(mine, reference, f"{what} {where}, compared with {same_as},", mlp=True)


# -- SGD and momentum -------------------------------------------------------------------

PARAM_SHAPES = [(3, 2), (2,), (1, 4)]


def _sgd_case(ctx: Context, steps: int, shapes=PARAM_SHAPES, none_at=None):
    params = tuple(values(ctx.rng, shape) for shape in shapes)
    grads = []
    for step in range(steps):
        grads.append(tuple(None if none_at == (step, k) else values(ctx.rng, shape)
                           for k, shape in enumerate(shapes)))
    return params, tuple(grads)


def judge_sgd(got, expected, title: str, params) -> None:
    before = list(params)
    for step, (mine, theirs) in enumerate(zip(got[0], expected[0])):
        for k, (a, b) in enumerate(zip(mine, theirs)):
            if (isinstance(a, np.ndarray) and a.shape == np.shape(before[k]) and np.array_equal(a, before[k])
                    and not np.array_equal(b, before[k])):
                fail(f"{title}: parameter {k} (shape {np.shape(b)}) did not change at step {step + 1}. step() "
                     "must update each parameter in place (param.data = ...); rebinding a local name or "
                     "replacing the Tensor in a list leaves the model's parameter as it was.")
            same(a, b, f"{title}: parameter {k} (shape {np.shape(b)}) after step {step + 1}")
        before = list(mine)


def judge_integrity(flags) -> None:
    rules = ["optimizer.params still holds the same Tensor objects (update them in place, through .data)",
             "each parameter is still a leaf with grad_fn None (step() must not build a graph)",
             "each parameter still requires grad",
             "each parameter's .data is still a numpy array of floats (not a Tensor)"]
    broken = [rule for rule, holds in zip(rules, flags) if not holds]
    if broken:
        fail("After step(), these no longer hold:\n" + "\n".join(f"  - {rule}" for rule in broken))


@check("sgd_step", calls=["sgd"])
def sgd_step(ctx: Context) -> None:
    for lr in (0.1, 0.03):
        params, grads = _sgd_case(ctx, 3)
        got = ctx.call("sgd", params, grads, lr, None)
        expected = ctx.expected("sgd", params, grads, lr, None)
        judge_sgd(got, expected, f"SGD(params, lr={lr}) with gradients set by hand before each step()", params)


@check("sgd_in_place", calls=["sgd", "sgd_model"])
def sgd_in_place(ctx: Context) -> None:
    params, grads = _sgd_case(ctx, 2)
    judge_integrity(ctx.call("sgd", params, grads, 0.1, None)[1])
    params, grads = _sgd_case(ctx, 1)
    got = ctx.call("sgd_model", params, grads[0], 0.1)
    expected = ctx.expected("sgd_model", params, grads[0], 0.1)
    for k, (mine, theirs) in enumerate(zip(got[0], expected[0])):
        same(mine, theirs, f"model.p{k}, a parameter of a Module, after SGD(model.parameters(), lr=0.1).step()")
    judge_integrity(got[1])


@check("sgd_zero_grad", calls=["zero_grad"])
def sgd_zero_grad(ctx: Context) -> None:
    params, grads = _sgd_case(ctx, 1)
    states, after = ctx.call("zero_grad", params, grads[0])
    kept = [k for k, state in enumerate(states) if state not in ("None", "zeros")]
    if kept:
        fail(f"After optimizer.zero_grad(), parameter(s) {kept} still hold their gradient; zero_grad() "
             "must clear every parameter's .grad (set it to None).")
    for k, (value, original) in enumerate(zip(after, params)):
        same(value, original, f"Parameter {k} after zero_grad() then step() (no gradient left: no change)")


@check("sgd_skips_missing_grads", calls=["sgd"])
def sgd_skips_missing_grads(ctx: Context) -> None:
    params, grads = _sgd_case(ctx, 2, none_at=(0, 1))
    got = ctx.call("sgd", params, grads, 0.1, None)
    expected = ctx.expected("sgd", params, grads, 0.1, None)
    judge_sgd(got, expected, "SGD(params, lr=0.1) where parameter 1 has grad None at step 1 (left alone)",
              params)


@check("momentum_steps", calls=["sgd"])
def momentum_steps(ctx: Context) -> None:
    for lr, momentum in ((0.05, 0.9), (0.1, 0.5)):
        params, grads = _sgd_case(ctx, 4)
        got = ctx.call("sgd", params, grads, lr, momentum)
        expected = ctx.expected("sgd", params, grads, lr, momentum)
        judge_sgd(got, expected, f"SGD(params, lr={lr}, momentum={momentum})", params)


@check("momentum_first_step", calls=["sgd"])
def momentum_first_step(ctx: Context) -> None:
    params, grads = _sgd_case(ctx, 1)
    got = ctx.call("sgd", params, grads, 0.1, 0.9)
    expected = ctx.expected("sgd", params, grads, 0.1, 0.9)
    judge_sgd(got, expected, "SGD(params, lr=0.1, momentum=0.9), first step (the buffers start at zero, "
                             "so it equals a plain SGD step)", params)


@check("momentum_per_parameter", calls=["sgd"])
def momentum_per_parameter(ctx: Context) -> None:
    shapes = [(2, 2), (2, 2), (4,)]
    params, grads = _sgd_case(ctx, 3, shapes=shapes)
    got = ctx.call("sgd", params, grads, 0.05, 0.8)
    expected = ctx.expected("sgd", params, grads, 0.05, 0.8)
    judge_sgd(got, expected, "SGD(params, lr=0.05, momentum=0.8) over parameters of shapes (2, 2), (2, 2), "
                             "(4,) (one momentum buffer per parameter)", params)


# -- hw1/mnist.py -----------------------------------------------------------------------

def min_accuracy(ctx: Context) -> float:
    return float(ctx.assignment.extra.get("mnist_min_accuracy", 0.85))


@check("mnist_accuracy", calls=["mnist_accuracies"])
def mnist_accuracy(ctx: Context) -> None:
    """mnist() on the fixture must reach the spec's accuracy. The grader measures the
    trained model's accuracy itself each time validate() is called, and judges that
    (the returned list must agree with it)."""
    returned, measured = ctx.call("mnist_accuracies", 0)
    threshold = min_accuracy(ctx)
    if not returned:
        fail("mnist() returned an empty list; it must return the validation accuracies, one per epoch.")
    # the plot the course asks students for, drawn from their run
    ctx.figure("validation_accuracy", title="Validation accuracy per epoch",
               lines={"returned by mnist()": list(returned),
                      "measured by the grader": [m if m >= 0 else float("nan") for m in measured]})
    shown = ", ".join(f"{a:.4f}" for a in returned)
    if not all(0.0 <= a <= 1.0 for a in returned):
        fail(f"mnist() returned accuracies [{shown}]; an accuracy is a fraction in [0, 1].")
    reached = returned[-1]
    if not measured:
        fail(f"mnist() returned [{shown}] without ever calling validate(model, val_x, val_y) of hw1/mnist.py, "
             "so the grader could not measure the trained model: train() must measure each epoch's "
             "accuracy with validate().")
    if measured[-1] >= 0:
        if abs(measured[-1] - returned[-1]) > 1e-6:
            fail(f"mnist() returned [{shown}], but when validate() was last called the model predicted "
                 f"{measured[-1]:.4f} of the validation set right (measured by the grader).")
        reached = measured[-1]
    if reached < threshold:
        fail(f"mnist() reached a validation accuracy of {reached:.4f} after the last epoch "
             f"(all epochs: [{shown}]); at least {threshold:g} is required.")


@check("mnist_validate", calls=["validate_probe"])
def mnist_validate(ctx: Context) -> None:
    n = 250  # not a multiple of the batch size
    labels = ctx.rng.integers(0, 10, n)
    logits = ctx.rng.standard_normal((n, 10))
    # the model is right on the first `right` rows only, so that every batch has its own accuracy
    right = int(ctx.rng.integers(120, 180))
    logits[np.arange(n), labels] = np.where(np.arange(n) < right, logits.max(axis=1) + 1, logits.min(axis=1) - 1)
    rows = np.arange(n)
    accuracy, modes, seen = ctx.call("validate_probe", rows, labels, logits)
    expected = float(np.mean(np.argmax(logits, axis=1) == labels))
    if any(modes):
        fail("validate() ran the model in training mode; call model.eval() before the validation passes.")
    if not isinstance(seen, np.ndarray) or sorted(seen.tolist()) != list(range(n)):
        count = len(seen) if isinstance(seen, np.ndarray) else 0
        fail(f"validate() passed {count} rows through the model, not each of the {n} validation rows once.")
    if not isinstance(accuracy, float) or abs(accuracy - expected) > 1e-9:
        percent = isinstance(accuracy, float) and abs(accuracy - 100 * expected) < 1e-6
        hint = " (an accuracy is a fraction in [0, 1], not a percentage)" if percent else ""
        fail(f"validate() returned {accuracy!r} for a model whose predictions (arg-max of its output) match "
             f"{round(expected * n)} of {n} labels: expected {expected:.6g}{hint}.")


EVENT_NAMES = {1: "zero_grad()", 2: "model(x) in training mode", 3: "model(x) in eval mode",
               4: "criterion(out, y)", 5: "loss.backward()", 6: "optimizer.step()"}


@check("mnist_train_loop", calls=["train_loop"])
def mnist_train_loop(ctx: Context) -> None:
    n_train, n_val, epochs = 300, 120, 2
    seed = int(ctx.rng.integers(0, 2**16))
    got = ctx.call("train_loop", n_train, n_val, epochs, seed)
    expected = ctx.expected("train_loop", n_train, n_val, epochs, seed)
    accuracies, events, sizes, train_rows, val_rows = got
    problems = []
    batches = -(-n_train // BATCH_SIZE) * epochs
    counts = {code: events.count(code) for code in EVENT_NAMES}
    for code, name in ((2, "training forward passes"), (5, "loss.backward() calls"), (6, "optimizer.step() calls")):
        if counts[code] != batches:
            problems.append(f"{counts[code]} {name}; expected {batches} ({epochs} epochs of "
                            f"{n_train // BATCH_SIZE} batches of {BATCH_SIZE})")
    last_forward = 0
    for code in events:
        if code in (2, 3):
            last_forward = code
        elif code == 5 and last_forward == 3:
            problems.append("a training batch ran in eval mode: call model.train() at the start of each "
                            "epoch (validate() puts the model in eval mode)")
            break
    backward_seen = zero_since_step = False
    for code in events:
        if code == 1:
            zero_since_step = True
        elif code == 5:
            if not zero_since_step:
                problems.append("a loss.backward() with no optimizer.zero_grad() since the previous step: "
                                "gradients pile up across batches")
                break
            backward_seen = True
        elif code == 6:
            if not backward_seen:
                problems.append("an optimizer.step() with no loss.backward() before it")
                break
            backward_seen = zero_since_step = False
    train_sizes = [size for code, size in zip([e for e in events if e in (2, 3)], sizes) if code == 2]
    if any(size != BATCH_SIZE for size in train_sizes):
        problems.append(f"training batches of sizes {sorted(set(train_sizes))}; expected {BATCH_SIZE}")
    rows = train_rows.tolist() if isinstance(train_rows, np.ndarray) else []
    for epoch in range(epochs):
        chunk = rows[epoch * n_train:(epoch + 1) * n_train]
        if sorted(chunk) != list(range(n_train)):
            problems.append(f"epoch {epoch + 1} does not train on each of the {n_train} rows exactly once")
            break
    validation = val_rows.tolist() if isinstance(val_rows, np.ndarray) else []
    if counts[3] == 0:
        problems.append("no forward pass in eval mode: validate() (with model.eval()) is never run")
    elif sorted(validation) != sorted(list(range(n_val)) * epochs):
        problems.append(f"the validation set is not passed through the model once per epoch ({len(validation)} "
                        f"rows seen in eval mode, expected {n_val * epochs})")
    if len(accuracies) != epochs:
        problems.append(f"train() returned {len(accuracies)} accuracies; expected one per epoch ({epochs})")
    elif any(abs(a - b) > 1e-9 for a, b in zip(accuracies, expected[0])):
        problems.append(f"train() returned accuracies {list(accuracies)}; the model's validation accuracy "
                        f"is {list(expected[0])}")
    if problems:
        fail(f"train(model, optimizer, criterion, ..., num_epochs={epochs}) on {n_train} training rows with "
             "the grader's probe model, optimizer and loss:\n" + "\n".join(f"  - {p}" for p in problems))
