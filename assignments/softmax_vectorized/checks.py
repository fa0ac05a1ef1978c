"""Checks of the softmax_vectorized assignment (numpy, row-vector convention).

Student functions get float64 arrays (float32 too in the contract checks,
which compare those answers with the same function's float64 answers) and
int64 labels. Expectations come from the reference in float64, run with the
conventions of the spec's `extra:` mapping (reg_convention, smoothing), which
the checks write into the reference module's REG_CONVENTION and SMOOTHING
before each use. Tolerances are the spec's dtype's (float32); losses are
judged against max(|loss|, 1) and gradients against the size of the terms
they sum (see LOSS_SCALE), so float32 arithmetic inside a submission passes.

Numerical-gradient checks take central differences of the student's OWN
returned loss along random sign directions and sampled coordinates
(grader.gradcheck); a gradient that is not that of the student's loss passes
only if it is the right gradient (the loss is then judged by the comparison
with the reference).

The vectorisation check runs the course's driver in harness.py, which
counts the lines of the student's file executed for 5 and for 500 examples:
deterministic, unlike timing.

Inputs are chosen so that one bug costs one question: the gradient and
comparison checks use moderate scores (stability is judged on its own,
with rows whose scores differ by thousands), and the training data is
generated here, from the check's seeded generator, with label orders and
offsets the student cannot predict.

The catalogue in mutants.yaml (`python -m grader validate softmax_vectorized`)
proves that these checks catch the usual mistakes; when one survives,
strengthen a check here, never the mutant.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import Context, Registry
from grader.compare import as_array, assert_close, describe, judged_dtype, relative_error, tolerance_for
from grader.contract import expect_untouched
from grader.gradcheck import Probe, mismatches, sampled_check
from grader.outcome import CheckFailed

registry = Registry()
check = registry.check

F64, F32 = np.float64, np.float32

REG_TERMS = {"full": "reg * sum(W*W)", "half": "0.5 * reg * sum(W*W)"}
REG_GRADIENTS = {"full": "2 * reg * W", "half": "reg * W"}
SMOOTHINGS = {"uniform": "(1 - eps) * onehot + eps / C",
              "others": "1 - eps at the label and eps / (C - 1) at every other class"}


# -- settings and the reference ------------------------------------------------------

def reg_convention(ctx: Context) -> str:
    value = ctx.assignment.extra.get("reg_convention", "full")
    if value not in REG_TERMS:
        raise ValueError(f"extra.reg_convention must be one of {', '.join(REG_TERMS)}, got {value!r}")
    return value


def smoothing(ctx: Context) -> str:
    value = ctx.assignment.extra.get("smoothing", "uniform")
    if value not in SMOOTHINGS:
        raise ValueError(f"extra.smoothing must be one of {', '.join(SMOOTHINGS)}, got {value!r}")
    return value


def other(value: str, table: dict[str, str]) -> str:
    return next(key for key in table if key != value)


def ref(ctx: Context, function: str, *args: Any, reg: str | None = None, smooth: str | None = None):
    """Call the reference's `function` on float64 copies, under the course's conventions
    (or the ones given)."""
    module = ctx.reference
    module.REG_CONVENTION = reg or reg_convention(ctx)
    module.SMOOTHING = smooth or smoothing(ctx)
    converted = [np.array(a, dtype=F64 if a.dtype.kind == "f" else a.dtype) if isinstance(a, np.ndarray) else a
                 for a in args]
    result = getattr(module, function)(*converted)
    if isinstance(result, tuple):
        return tuple(np.asarray(r, dtype=F64) for r in result)
    return np.asarray(result, dtype=F64)


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """A stable softmax over the last axis, in float64 (the judge's own)."""
    shifted = np.asarray(z, dtype=F64) - np.max(z, axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=-1, keepdims=True)


# Scales for comparisons: entry i passes when |got_i - expected_i| <= rtol * (|expected_i| + scale).
# A loss is judged against max(|loss|, 1); a gradient against the size of the terms it sums
# (|X|^T (softmax + onehot) / N, ...), not against its own size, which cancellation can make
# tiny: a gradient computed in float32 then differs from the exact one by float32 rounding of
# those terms, far below the tolerance, while a wrong term still shows.
LOSS_SCALE = 1.0


def rms(array: np.ndarray) -> float:
    array = np.asarray(array, dtype=F64)
    return float(np.sqrt(np.mean(array**2))) if array.size else 0.0


def score_terms(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(softmax(scores) + targets) / N: bounds the size of each term of the gradient
    (softmax(scores) - targets) / N with respect to the scores."""
    return (softmax_rows(scores) + targets) / scores.shape[0]


def onehot(y: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[np.asarray(y, dtype=np.int64)]


def weight_gradient_scale(X, W, y, reg: float, b=None) -> float:
    """The size of the terms dW sums: |X|^T |dscores| and the regularisation's 2 * reg * |W|."""
    X64, W64 = np.asarray(X, dtype=F64), np.asarray(W, dtype=F64)
    scores = X64 @ W64 + (0.0 if b is None else np.asarray(b, dtype=F64))
    terms = np.abs(X64).T @ score_terms(scores, onehot(y, W64.shape[1]))
    return rms(terms) + rms(2.0 * reg * W64)


# -- reading what came back ---------------------------------------------------------

def parts(value: Any, names: tuple[str, ...], what: str) -> tuple:
    """The items of a returned tuple (or list) of len(names) values, or fail saying so."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise CheckFailed(f"{what} returned {describe(value)}; expected a tuple ({', '.join(names)})")
    return tuple(value)


def number(value: Any, what: str) -> float:
    """A returned single number (Python number, numpy scalar, 0-d or one-entry array) as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
        raise CheckFailed(f"{what} is {describe(value)}; expected a single number")
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "fiu":
        raise CheckFailed(f"{what} is {describe(value)}; expected a single number")
    return float(array.reshape(-1)[0])


def close(got: Any, expected: np.ndarray, *, scalar: bool = False, scale: float | None = None) -> bool:
    """Whether `got` passes assert_close against `expected` (same tolerance, no message)."""
    return passes(lambda: assert_close(got, expected, what="value", scalar_ok=scalar, scale=scale))


def compare(got: Any, expected: np.ndarray, *, what: str, inputs: str, name: str, note: str = "",
            scalar: bool = False, scale: float | None = None, dtypes=(F64,)) -> None:
    """assert_close, with `note` (a diagnosis of ours) put before its message."""
    try:
        assert_close(got, expected, what=what, inputs=inputs, name=name, scalar_ok=scalar, scale=scale,
                     input_dtypes=list(dtypes))
    except CheckFailed as failure:
        raise CheckFailed(f"{note}\n{failure.message}" if note else failure.message) from None


def call_batch(ctx: Context, function: str, arg_sets: list[tuple]) -> list[Any]:
    """One round trip for many calls when the engine offers it."""
    many = getattr(ctx, "call_many", None)
    if many is not None:
        return list(many(function, arg_sets))
    return [ctx.call(function, *args) for args in arg_sets]


def passes(judge: Callable[[], None]) -> bool:
    """Whether a judging thunk (one that raises CheckFailed) passes."""
    try:
        judge()
    except CheckFailed:
        return False
    return True


def finite_parts(value: Any) -> bool:
    """False when a returned tuple holds a NaN or an infinity among its numbers and arrays."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    for item in items:
        if isinstance(item, (int, float, np.ndarray)) and not isinstance(item, bool):
            array = np.asarray(item)
            if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
                return False
    return True


def same_in_float32(ctx: Context, function: str, args: tuple, names: tuple[str, ...], what: str,
                    inputs: str) -> None:
    """Call `function` on float32 copies of the floating arrays of `args` and fail unless it
    answers what it answers for the same values in float64, at float32's tolerance. Right
    or wrong: the comparison checks judge that; this judges handling float32 inputs."""
    def floating(array: Any, dtype: type) -> Any:
        return array.astype(dtype) if isinstance(array, np.ndarray) and array.dtype.kind == "f" else array

    args32 = tuple(floating(a, F32) for a in args)
    own = ctx.call(function, *[floating(a, F64) for a in args32])
    got = ctx.call(function, *args32)
    if len(names) > 1:
        own, got = parts(own, names, what), parts(got, names, what)
    else:
        own, got = (own,), (got,)
    for index, (name, mine, theirs) in enumerate(zip(names, got, own)):
        if name == "loss":
            expected, scalar = np.asarray(number(theirs, f"the loss {what} returned"), dtype=F64), True
        elif isinstance(theirs, np.ndarray) and theirs.dtype.kind in "fiu":
            expected, scalar = np.asarray(theirs, dtype=F64), False
        else:
            continue  # what comes back for float64 inputs is judged by the other checks
        label = f"{what}[{index}] ({name})" if len(names) > 1 else what
        compare(mine, expected, what=f"{label} for float32 inputs", name=name, scalar=scalar, dtypes=(F32,),
                inputs=f"float32 {inputs}; expected what it returns for the same values in float64")


def expect_number(value: Any, what: str) -> float:
    """Contract: a finite single number (float, numpy scalar, 0-d or one-entry array)."""
    result = number(value, what)
    if not np.isfinite(result):
        raise CheckFailed(f"{what} is {result!r}; expected a finite number")
    return result


def expect_float_array(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Contract: a finite floating numpy array of exactly `shape`."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{what} is {describe(value)}; expected a numpy array of shape {shape}")
    if value.dtype.kind != "f":
        raise CheckFailed(f"{what} has dtype {value.dtype}; expected floating point values")
    if tuple(value.shape) != tuple(shape):
        raise CheckFailed(f"{what} has shape {tuple(value.shape)}; expected {tuple(shape)}")
    if not np.all(np.isfinite(value)):
        raise CheckFailed(f"{what} holds NaN or infinite values: {describe(value)}")
    return value


# -- numerical gradients of the student's own loss -----------------------------------

def own_gradient_mismatches(ctx: Context, function: str, args: tuple, index: int, grad: np.ndarray,
                            seed: int, name: str, names: tuple[str, ...], scale: float) -> list[Probe]:
    """Probes where `grad` (the student's gradient for args[index], item `names.index(name)`
    of the returned tuple) disagrees with central differences of the loss the student's
    own function returns (item 0).

    When some disagree but `grad` is the right gradient (the reference's, at the judged
    tolerance, entries judged against `scale`), nothing is reported: only the loss is off, or too coarse to differentiate
    (a loss computed in float32), and the comparison with the reference judges the loss.
    So this check fails exactly when the gradient is neither that of the student's own
    loss nor the right one."""
    x = np.asarray(args[index], dtype=F64)

    def own(batch: np.ndarray) -> np.ndarray:
        arg_sets = [tuple(np.array(row) if k == index else a for k, a in enumerate(args)) for row in batch]
        values = call_batch(ctx, function, arg_sets)
        return np.array([number(parts(v, names, f"{function}(...)")[0], f"the loss {function} returned")
                         for v in values])

    probes = sampled_check(own, x, grad, rng=np.random.default_rng(seed), eps=1e-6, name=name)
    bad = mismatches(probes, tolerance_for(judged_dtype()))
    if bad and close(grad, ref(ctx, function, *args)[names.index(name)], scale=scale):
        return []
    return bad


def probe_report(bad: list[Probe]) -> str:
    lines = []
    for probe in bad[:4]:
        label = probe.label
        if label.startswith("<"):
            label += " (u: random signs on a share of the entries)"
        lines.append(f"  {label}: central differences of your loss give {probe.numerical:.6g}, "
                     f"your gradient gives {probe.analytic:.6g}")
    if len(bad) > 4:
        lines.append(f"  ... {len(bad) - 4} more probes disagree")
    return "\n".join(lines)


# -- strategies ---------------------------------------------------------------------

def floats(bound: float) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def matrix(rows: int, cols: int, bound: float) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(F64, (rows, cols), elements=floats(bound))


def labels(n: int, classes: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1))


REGS = [0.0, 0.1, 0.5, 2.0]


@st.composite
def loss_problems(draw, max_n: int = 10, max_d: int = 8, max_c: int = 6):
    """(W, X, y, reg) with moderate scores: |X W| stays below about 16."""
    n, d, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_d)), draw(st.integers(2, max_c))
    return (draw(matrix(d, c, 1.0)), draw(matrix(n, d, 2.0)), draw(labels(n, c)), draw(st.sampled_from(REGS)))


def seeded_loss_problem(n: int, d: int, c: int, reg: float, seed: int):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (d, c)), rng.uniform(-2, 2, (n, d)), rng.integers(0, c, n), reg)


# (W, X, y, reg) from a few hypothesis-drawn numbers, plus a seed for the probes: cheap to shrink
seeded_loss_problems = st.builds(
    lambda n, d, c, reg, seed, probes: (seeded_loss_problem(n, d, c, reg, seed), probes),
    st.integers(1, 10), st.integers(1, 8), st.integers(2, 6), st.sampled_from(REGS),
    st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))


def loss_inputs(W, X, y, reg) -> str:
    return f"W = {describe(W)}, X = {describe(X)}, y = {describe(y)}, reg = {reg:g}"


# -- questions 1 and 2: the softmax loss, naive and vectorised ------------------------

def judge_loss(ctx: Context, function: str, value: Any, W, X, y, reg) -> None:
    """Fail unless `value` is the right (loss, dW); name the other regularisation convention
    (or a missing term) when the answer matches it."""
    what = f"{function}(W, X, y, reg)"
    inputs = loss_inputs(W, X, y, reg)
    loss, dW = parts(value, ("loss", "dW"), what)
    expected_loss, expected_dW = ref(ctx, "softmax_loss_vectorized", W, X, y, reg)
    scale = weight_gradient_scale(X, W, y, reg)
    loss_ok = close(loss, expected_loss, scalar=True, scale=LOSS_SCALE)
    dW_ok = close(dW, expected_dW, scale=scale)
    if loss_ok and dW_ok:
        return
    mine = reg_convention(ctx)
    theirs = other(mine, REG_TERMS)
    notes = []
    if reg > 0 and np.any(W != 0):
        other_loss, other_dW = ref(ctx, "softmax_loss_vectorized", W, X, y, reg, reg=theirs)
        bare_loss, bare_dW = ref(ctx, "softmax_loss_vectorized", W, X, y, 0.0)
        if not loss_ok and close(loss, other_loss, scalar=True, scale=LOSS_SCALE):
            notes.append(f"Your loss matches {REG_TERMS[theirs]}; this assignment uses {REG_TERMS[mine]}.")
        elif not loss_ok and close(loss, bare_loss, scalar=True, scale=LOSS_SCALE):
            notes.append(f"Your loss leaves out the regularisation term {REG_TERMS[mine]}.")
        if not dW_ok and close(dW, other_dW, scale=scale):
            notes.append(f"Your dW matches the gradient of {REG_TERMS[theirs]} ({REG_GRADIENTS[theirs]}); "
                         f"this assignment uses {REG_TERMS[mine]}, whose gradient is {REG_GRADIENTS[mine]}.")
        elif not dW_ok and close(dW, bare_dW, scale=scale):
            notes.append(f"Your dW leaves out the gradient of the regularisation term, {REG_GRADIENTS[mine]}.")
    note = "\n".join(notes)
    if not loss_ok:
        compare(loss, expected_loss, what=f"{what}[0] (the loss)", inputs=inputs, name="loss", note=note,
                scalar=True, scale=LOSS_SCALE)
    compare(dW, expected_dW, what=f"{what}[1] (dW)", inputs=inputs, name="dW", note=note, scale=scale)


def lab_problem(ctx: Context):
    """A CIFAR-10-shaped batch: 3073 features (the last one a constant 1), 10 classes, pixel-like
    scales and a strong regularisation, so the regularisation term weighs in the loss."""
    rng = ctx.rng
    W = rng.standard_normal((3073, 10)) * 1e-4
    X = rng.standard_normal((24, 3073)) * 60.0
    X[:, -1] = 1.0
    y = rng.integers(0, 10, 24)
    return W, X, y, 2.5e3


def matches_reference(ctx: Context, function: str) -> None:
    @ctx.for_all(loss_problems())
    def body(problem):
        W, X, y, reg = problem
        judge_loss(ctx, function, ctx.call(function, W, X, y, reg), W, X, y, reg)

    W, X, y, reg = lab_problem(ctx)
    judge_loss(ctx, function, ctx.call(function, W, X, y, reg), W, X, y, reg)


def gradient_numerical(ctx: Context, function: str) -> None:
    @ctx.for_all(seeded_loss_problems, max_examples=6)
    def body(drawn):
        (W, X, y, reg), seed = drawn
        what = f"{function}(W, X, y, reg)"
        loss, dW = parts(ctx.call(function, W, X, y, reg), ("loss", "dW"), what)
        number(loss, f"the loss {function} returned")
        grad = as_array(dW, W.shape, what=f"{what}[1] (dW)")
        bad = own_gradient_mismatches(ctx, function, (W, X, y, reg), 0, grad, seed, "dW", ("loss", "dW"),
                                      weight_gradient_scale(X, W, y, reg))
        if bad:
            raise CheckFailed(f"The dW that {what} returned is not the gradient of the loss it returned "
                              f"(nor of the right loss), for {loss_inputs(W, X, y, reg)}:\n{probe_report(bad)}")


def loss_at_zero(ctx: Context, function: str) -> None:
    for n, d, c in ((6, 5, 10), (3, 4, 3), (1, 2, 2)):
        W = np.zeros((d, c))
        X = ctx.rng.uniform(-2, 2, (n, d))
        y = ctx.rng.integers(0, c, n)
        loss, _ = parts(ctx.call(function, W, X, y, 0.5), ("loss", "dW"), f"{function}(W, X, y, reg)")
        value = number(loss, f"the loss {function} returned")
        if not abs(value - np.log(c)) <= 1e-6 * np.log(c) + 1e-9:
            raise CheckFailed(f"{function}(W, X, y, 0.5) with W = 0 (shape {d} x {c}) returned the loss "
                              f"{value:.6g}; with W = 0 every class has probability 1/{c}, so the loss must be "
                              f"log({c}) = {np.log(c):.6g} (the regularisation term is 0). "
                              f"X = {describe(X)}, y = {describe(y)}")


def stability_problems():
    """(W, X, y, reg) whose scores X @ W reach +-1000, with rows about 2000 apart.

    Each label's score stays within 10 of its row's largest, so the label's
    probability cannot underflow (not even in float32) once each row's own
    maximum is subtracted, and taking the logarithm of the probabilities is
    enough: what is judged is that shift (a shift by the matrix's maximum
    leaves whole rows at exp(-2000) = 0), not how the logarithm is taken.
    """
    scores = np.array([[1000.0, 999.0, 990.0, 995.0],
                       [-1000.0, -1002.0, -999.0, -1001.0],
                       [0.5, -0.5, 0.0, 0.25],
                       [800.0, 790.0, 300.0, 500.0]])
    yield np.eye(4), scores, np.array([0, 2, 3, 1]), 0.0
    yield np.eye(4) * 2.0, scores / 2.0, np.array([1, 0, 0, 1]), 0.01
    yield np.array([[1.0, 0.5, 0.99]]), np.array([[900.0], [-700.0], [0.001]]), np.array([2, 1, 1]), 0.1


def loss_right(ctx: Context, function: str, W, X, y, reg) -> bool:
    return passes(lambda: judge_loss(ctx, function, ctx.call(function, W, X, y, reg), W, X, y, reg))


def stable(ctx: Context, function: str) -> None:
    """Judged only where the function is right on the same problem with scores 100 times
    smaller: a wrong answer costs the comparison checks, not this one."""
    for W, X, y, reg in stability_problems():
        if not loss_right(ctx, function, W, X / 100.0, y, reg):
            continue
        value = ctx.call(function, W, X, y, reg)
        if not finite_parts(value):
            raise CheckFailed(f"{function}(W, X, y, reg) returned NaN or infinity for large scores "
                              f"(X @ W = {describe(X @ W, 16)}, y = {describe(y)}, reg = {reg:g}) although it "
                              f"is right when the scores are 100 times smaller: {describe(value)}")
        judge_loss(ctx, function, value, W, X, y, reg)


def contract(ctx: Context, function: str) -> None:
    rng = ctx.rng
    W, X, y = rng.uniform(-0.1, 0.1, (20, 10)), rng.uniform(-3, 3, (7, 20)), rng.integers(0, 10, 7)
    what = f"{function}(W, X, y, reg)"
    loss, dW = parts(ctx.call(function, W, X, y, 0.1), ("loss", "dW"), what)
    expect_number(loss, f"the loss {function} returned")
    expect_float_array(dW, W.shape, f"the dW {function} returned")
    same_in_float32(ctx, function, (W, X, y, 0.1), ("loss", "dW"), what, loss_inputs(W, X, y, 0.1))
    expect_untouched(ctx.mutated, ctx.assignment.functions)


@check("naive_matches_reference", calls=["softmax_loss_naive"])
def naive_matches_reference(ctx: Context) -> None:
    matches_reference(ctx, "softmax_loss_naive")


@check("naive_gradient_numerical", calls=["softmax_loss_naive"])
def naive_gradient_numerical(ctx: Context) -> None:
    gradient_numerical(ctx, "softmax_loss_naive")


@check("naive_loss_at_zero", calls=["softmax_loss_naive"])
def naive_loss_at_zero(ctx: Context) -> None:
    loss_at_zero(ctx, "softmax_loss_naive")


@check("naive_stable", calls=["softmax_loss_naive"])
def naive_stable(ctx: Context) -> None:
    stable(ctx, "softmax_loss_naive")


@check("naive_contract", calls=["softmax_loss_naive"])
def naive_contract(ctx: Context) -> None:
    contract(ctx, "softmax_loss_naive")


@check("vectorized_matches_reference", calls=["softmax_loss_vectorized"])
def vectorized_matches_reference(ctx: Context) -> None:
    matches_reference(ctx, "softmax_loss_vectorized")


@check("vectorized_gradient_numerical", calls=["softmax_loss_vectorized"])
def vectorized_gradient_numerical(ctx: Context) -> None:
    gradient_numerical(ctx, "softmax_loss_vectorized")


@check("vectorized_loss_at_zero", calls=["softmax_loss_vectorized"])
def vectorized_loss_at_zero(ctx: Context) -> None:
    loss_at_zero(ctx, "softmax_loss_vectorized")


@check("vectorized_stable", calls=["softmax_loss_vectorized"])
def vectorized_stable(ctx: Context) -> None:
    stable(ctx, "softmax_loss_vectorized")


@check("vectorized_contract", calls=["softmax_loss_vectorized"])
def vectorized_contract(ctx: Context) -> None:
    contract(ctx, "softmax_loss_vectorized")


LOOP_SIZES = (5, 500)


@check("vectorized_has_no_example_loop", calls=["loss_line_counts"])
def vectorized_has_no_example_loop(ctx: Context) -> None:
    """Lines of the student's file run for 5 and for 500 examples (harness.py): a loop over
    the examples runs at least one more line per example."""
    small, large = LOOP_SIZES
    seed = int(ctx.rng.integers(0, 2**31 - 1))
    counts = ctx.call("loss_line_counts", 3073, 10, LOOP_SIZES, seed)
    if not isinstance(counts, (tuple, list)) or len(counts) != 2:
        raise CheckFailed(f"the grader's line counter returned {describe(counts)}")  # pragma: no cover
    few, many = (int(c) for c in counts)
    allowed = (large - small) // 4
    if many - few > allowed:
        raise CheckFailed(
            f"softmax_loss_vectorized(W, X, y, reg) ran {many} lines of your file for a batch of {large} "
            f"examples but {few} for a batch of {small} (W of shape 3073 x 10): its work in Python grows "
            f"with the number of examples, so it loops over them (directly, in a comprehension, or by "
            f"calling a function that does). A vectorised version runs the same lines for any batch size; "
            f"more than {allowed} extra lines for {large - small} extra examples is a loop.")


@check("vectorized_agrees_with_naive", calls=["softmax_loss_vectorized", "softmax_loss_naive"])
def vectorized_agrees_with_naive(ctx: Context) -> None:
    """Your two versions must agree; when they do not, the one the reference sides with is right
    (a wrong naive version costs its own question, not this one)."""

    @ctx.for_all(loss_problems(max_n=16, max_d=12, max_c=8), max_examples=8)
    def body(problem):
        W, X, y, reg = problem
        fast = parts(ctx.call("softmax_loss_vectorized", W, X, y, reg), ("loss", "dW"),
                     "softmax_loss_vectorized(W, X, y, reg)")
        try:
            slow = parts(ctx.call("softmax_loss_naive", W, X, y, reg), ("loss", "dW"),
                         "softmax_loss_naive(W, X, y, reg)")
        except CheckFailed:
            return  # nothing to compare with: question 1 reports the naive version
        expected_loss, expected_dW = ref(ctx, "softmax_loss_vectorized", W, X, y, reg)
        slow_loss = np.asarray(slow[0], dtype=F64) if isinstance(slow[0], (int, float, np.ndarray)) else None
        slow_dW = np.asarray(slow[1], dtype=F64) if isinstance(slow[1], np.ndarray) else None
        if slow_loss is None or slow_dW is None or slow_loss.size != 1 or slow_dW.shape != W.shape:
            return
        scale = weight_gradient_scale(X, W, y, reg)
        same = close(fast[0], slow_loss.reshape(()), scalar=True, scale=LOSS_SCALE) and \
            close(fast[1], slow_dW, scale=scale)
        fast_right = close(fast[0], expected_loss, scalar=True, scale=LOSS_SCALE) and \
            close(fast[1], expected_dW, scale=scale)
        if same or fast_right:
            return
        slow_right = close(slow_loss.reshape(()), expected_loss, scalar=True, scale=LOSS_SCALE) and \
            close(slow_dW, expected_dW, scale=scale)
        fast_loss = number(fast[0], "the loss softmax_loss_vectorized returned") \
            if isinstance(fast[0], (int, float, np.ndarray)) else float("nan")
        fast_dW = np.asarray(fast[1], dtype=F64) if isinstance(fast[1], np.ndarray) else None
        gap = relative_error(fast_dW, slow_dW) if fast_dW is not None and fast_dW.shape == slow_dW.shape \
            else float("inf")
        verdict = ("your naive version gives the expected values here, so the vectorised one is off"
                   if slow_right else "neither gives the expected values")
        raise CheckFailed(
            f"softmax_loss_vectorized and softmax_loss_naive disagree for {loss_inputs(W, X, y, reg)}:\n"
            f"  loss: vectorized {fast_loss:.6g}, naive {float(slow_loss.reshape(-1)[0]):.6g} "
            f"(expected {float(expected_loss):.6g})\n"
            f"  dW: relative error between the two ||a - b|| / ||a + b|| = {gap:.3g}\n"
            f"{verdict[0].upper() + verdict[1:]}.")


# -- question 3: the softmax Jacobian ------------------------------------------------------

JACOBIAN_SCALE = 0.01  # entries are at most 0.25; differences are judged against this much


def score_vectors(bound: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    return st.integers(1, 10).flatmap(lambda c: hnp.arrays(F64, (c,), elements=floats(bound)))


def read_jacobian(value: Any, c: int, what: str) -> np.ndarray:
    return as_array(value, (c, c), what=what)


@check("jacobian_matches_reference", calls=["softmax_jacobian"])
def jacobian_matches_reference(ctx: Context) -> None:
    @ctx.for_all(score_vectors())
    def body(z):
        got = ctx.call("softmax_jacobian", z)
        compare(got, ref(ctx, "softmax_jacobian", z), what="softmax_jacobian(z)", inputs=f"z = {describe(z)}",
                name="J", scale=JACOBIAN_SCALE)


@check("jacobian_numerical", calls=["softmax_jacobian"])
def jacobian_numerical(ctx: Context) -> None:
    @ctx.for_all(score_vectors())
    def body(z):
        eps = 1e-6
        steps = np.eye(z.size) * eps
        numerical = (softmax_rows(z + steps) - softmax_rows(z - steps)).T / (2 * eps)  # [i, j] = ds_i / dz_j
        got = ctx.call("softmax_jacobian", z)
        compare(got, numerical, what="softmax_jacobian(z)",
                inputs=f"z = {describe(z)} (compared with central differences of softmax)", name="J",
                scale=JACOBIAN_SCALE)


@check("jacobian_rows_sum_to_zero", calls=["softmax_jacobian"])
def jacobian_rows_sum_to_zero(ctx: Context) -> None:
    @ctx.for_all(score_vectors())
    def body(z):
        J = read_jacobian(ctx.call("softmax_jacobian", z), z.size, "softmax_jacobian(z)")
        sums = J.sum(axis=1)
        if not np.all(np.abs(sums) <= 1e-6):
            raise CheckFailed(f"each row of softmax_jacobian(z) should sum to 0 (softmax(z) always sums to 1), "
                              f"but the rows sum to {describe(sums)} for z = {describe(z)}")


@check("jacobian_symmetric", calls=["softmax_jacobian"])
def jacobian_symmetric(ctx: Context) -> None:
    @ctx.for_all(score_vectors())
    def body(z):
        J = read_jacobian(ctx.call("softmax_jacobian", z), z.size, "softmax_jacobian(z)")
        gap = np.abs(J - J.T)
        if not np.all(gap <= 1e-6):
            i, j = np.unravel_index(int(np.argmax(gap)), gap.shape)
            raise CheckFailed(f"softmax_jacobian(z) should be symmetric (diag(s) - s s^T is), but for "
                              f"z = {describe(z)} J[{i}, {j}] = {J[i, j]:.6g} while J[{j}, {i}] = {J[j, i]:.6g}")


JACOBIAN_LARGE = [np.array([1000.0, 999.0, -1000.0]), np.array([-1000.0, -1001.0, -1002.0, -1000.5]),
                  np.array([800.0, 0.0, -800.0, 799.0, 1.0])]


@check("jacobian_stable", calls=["softmax_jacobian"])
def jacobian_stable(ctx: Context) -> None:
    for z in JACOBIAN_LARGE:
        small = z / 100.0
        if not passes(lambda: compare(ctx.call("softmax_jacobian", small), ref(ctx, "softmax_jacobian", small),
                                      what="J", inputs="", name="J", scale=JACOBIAN_SCALE)):
            continue  # wrong anyway: the comparison checks say so
        got = ctx.call("softmax_jacobian", z)
        if not finite_parts(got):
            raise CheckFailed(f"softmax_jacobian(z) returned NaN or infinity for large scores z = {describe(z)}, "
                              f"although it is right for z / 100: {describe(got)}")
        compare(got, ref(ctx, "softmax_jacobian", z), what="softmax_jacobian(z)",
                inputs=f"large scores z = {describe(z)}", name="J", scale=JACOBIAN_SCALE)


@check("jacobian_contract", calls=["softmax_jacobian"])
def jacobian_contract(ctx: Context) -> None:
    z = np.linspace(-2.0, 3.0, 6)
    expect_float_array(ctx.call("softmax_jacobian", z), (6, 6), "softmax_jacobian(z) for z of shape (6,)")
    same_in_float32(ctx, "softmax_jacobian", (z,), ("J",), "softmax_jacobian(z)", f"z = {describe(z)}")
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- question 4: linear layer + softmax cross-entropy -------------------------------------

LINEAR_NAMES = ("loss", "dW", "db")


@st.composite
def linear_problems(draw, max_n: int = 10, max_d: int = 8, max_c: int = 6):
    n, d, c = draw(st.integers(1, max_n)), draw(st.integers(1, max_d)), draw(st.integers(2, max_c))
    return (draw(matrix(n, d, 2.0)), draw(matrix(d, c, 1.0)), draw(hnp.arrays(F64, (c,), elements=floats(3.0))),
            draw(labels(n, c)))


def linear_inputs(X, W, b, y) -> str:
    return f"X = {describe(X)}, W = {describe(W)}, b = {describe(b)}, y = {describe(y)}"


def judge_linear(ctx: Context, value: Any, X, W, b, y, *, inputs: str | None = None) -> None:
    what = "linear_softmax_backward(X, W, b, y)"
    inputs = inputs or linear_inputs(X, W, b, y)
    loss, dW, db = parts(value, LINEAR_NAMES, what)
    expected = ref(ctx, "linear_softmax_backward", X, W, b, y)
    terms = score_terms(np.asarray(X, dtype=F64) @ np.asarray(W, dtype=F64) + np.asarray(b, dtype=F64),
                        onehot(y, np.shape(W)[1]))
    compare(loss, expected[0], what=f"{what}[0] (the loss)", inputs=inputs, name="loss", scalar=True,
            scale=LOSS_SCALE)
    compare(dW, expected[1], what=f"{what}[1] (dW)", inputs=inputs, name="dW",
            scale=weight_gradient_scale(X, W, y, 0.0, b))
    compare(db, expected[2], what=f"{what}[2] (db)", inputs=inputs, name="db", scale=rms(terms.sum(axis=0)))


@check("linear_backward_matches_reference", calls=["linear_softmax_backward"])
def linear_backward_matches_reference(ctx: Context) -> None:
    @ctx.for_all(linear_problems())
    def body(problem):
        X, W, b, y = problem
        judge_linear(ctx, ctx.call("linear_softmax_backward", X, W, b, y), X, W, b, y)


def seeded_linear_problem(n: int, d: int, c: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, (n, d)), rng.uniform(-1, 1, (d, c)), rng.uniform(-3, 3, c), rng.integers(0, c, n)


# (X, W, b, y) from a few drawn numbers, plus a seed for the probes
seeded_linear_problems = st.builds(
    lambda n, d, c, seed, probes: (seeded_linear_problem(n, d, c, seed), probes),
    st.integers(1, 10), st.integers(1, 8), st.integers(2, 6), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))


@check("linear_backward_numerical", calls=["linear_softmax_backward"])
def linear_backward_numerical(ctx: Context) -> None:
    @ctx.for_all(seeded_linear_problems, max_examples=6)
    def body(drawn):
        (X, W, b, y), seed = drawn
        what = "linear_softmax_backward(X, W, b, y)"
        args = (X, W, b, y)
        loss, dW, db = parts(ctx.call("linear_softmax_backward", *args), LINEAR_NAMES, what)
        number(loss, "the loss linear_softmax_backward returned")
        terms = score_terms(X @ W + b, onehot(y, W.shape[1]))
        bad = own_gradient_mismatches(ctx, "linear_softmax_backward", args, 1,
                                      as_array(dW, W.shape, what=f"{what}[1] (dW)"), seed, "dW", LINEAR_NAMES,
                                      weight_gradient_scale(X, W, y, 0.0, b))
        bad += own_gradient_mismatches(ctx, "linear_softmax_backward", args, 2,
                                       as_array(db, b.shape, what=f"{what}[2] (db)"), seed + 1, "db", LINEAR_NAMES,
                                       rms(terms.sum(axis=0)))
        if bad:
            raise CheckFailed(f"The gradients that {what} returned are not those of the loss it returned "
                              f"(nor of the right loss), for {linear_inputs(*args)}:\n{probe_report(bad)}")


@check("linear_backward_stable", calls=["linear_softmax_backward"])
def linear_backward_stable(ctx: Context) -> None:
    # rows about 2000 apart, each label within 5 of its row's largest score (see stability_problems)
    scores = np.array([[1000.0, 999.0, 990.0], [-1000.0, -1003.0, -1001.0], [700.0, 400.0, 698.0]])
    W, y = np.eye(3), np.array([1, 0, 2])
    for b in (np.zeros(3), np.array([0.0, 3.0, -2.0])):
        small = scores / 100.0, b / 100.0
        if not passes(lambda: judge_linear(ctx, ctx.call("linear_softmax_backward", small[0], W, small[1], y),
                                           small[0], W, small[1], y)):
            continue  # wrong anyway: the comparison checks say so
        got = ctx.call("linear_softmax_backward", scores, W, b, y)
        if not finite_parts(got):
            raise CheckFailed("linear_softmax_backward(X, W, b, y) returned NaN or infinity for large scores "
                              f"(X @ W + b = {describe(scores @ W + b)}, y = {describe(y)}) although it is right "
                              f"when they are 100 times smaller: {describe(got)}")
        judge_linear(ctx, got, scores, W, b, y)


@check("linear_backward_contract", calls=["linear_softmax_backward"])
def linear_backward_contract(ctx: Context) -> None:
    rng = ctx.rng
    X, W, b, y = rng.uniform(-2, 2, (9, 7)), rng.uniform(-1, 1, (7, 4)), rng.uniform(-1, 1, 4), rng.integers(0, 4, 9)
    what = "linear_softmax_backward(X, W, b, y)"
    loss, dW, db = parts(ctx.call("linear_softmax_backward", X, W, b, y), LINEAR_NAMES, what)
    expect_number(loss, f"the loss {what} returned")
    expect_float_array(dW, W.shape, f"the dW {what} returned (X of shape (9, 7), W of shape (7, 4))")
    expect_float_array(db, b.shape, f"the db {what} returned (b of shape (4,))")
    same_in_float32(ctx, "linear_softmax_backward", (X, W, b, y), LINEAR_NAMES, what, linear_inputs(X, W, b, y))
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- question 5: label smoothing -------------------------------------------------------

EPSILONS = [0.0, 0.05, 0.1, 0.2, 0.5]


@st.composite
def smoothing_labels(draw, max_n: int = 10, max_c: int = 8):
    n, c = draw(st.integers(1, max_n)), draw(st.integers(2, max_c))
    return draw(labels(n, c)), c, draw(st.sampled_from(EPSILONS))


@st.composite
def smoothing_problems(draw, max_n: int = 10, max_c: int = 8, bound: float = 5.0):
    n, c = draw(st.integers(1, max_n)), draw(st.integers(2, max_c))
    return draw(matrix(n, c, bound)), draw(labels(n, c)), draw(st.sampled_from(EPSILONS))


def smoothing_note(ctx: Context, matches_other: bool, subject: str) -> str:
    mine = smoothing(ctx)
    theirs = other(mine, SMOOTHINGS)
    if not matches_other:
        return ""
    return (f"{subject} matches the other way of smoothing, {SMOOTHINGS[theirs]}; "
            f"this assignment uses {SMOOTHINGS[mine]}.")


@check("smooth_labels_matches_reference", calls=["smooth_labels"])
def smooth_labels_matches_reference(ctx: Context) -> None:
    @ctx.for_all(smoothing_labels())
    def body(problem):
        y, c, eps = problem
        got = ctx.call("smooth_labels", y, c, eps)
        expected = ref(ctx, "smooth_labels", y, c, eps)
        if close(got, expected, scale=1.0):
            return
        theirs = other(smoothing(ctx), SMOOTHINGS)
        note = smoothing_note(ctx, close(got, ref(ctx, "smooth_labels", y, c, eps, smooth=theirs), scale=1.0),
                              "Your smooth_labels")
        compare(got, expected, what=f"smooth_labels(y, {c}, {eps:g})", inputs=f"y = {describe(y)}",
                name="targets", note=note, scale=1.0)


def judge_smoothing(ctx: Context, value: Any, Z, y, eps, *, inputs: str | None = None) -> None:
    what = f"label_smoothing_loss(Z, y, {eps:g})"
    inputs = inputs or f"Z = {describe(Z)}, y = {describe(y)}"
    loss, dZ = parts(value, ("loss", "dZ"), what)
    expected_loss, expected_dZ = ref(ctx, "label_smoothing_loss", Z, y, eps)
    scale = rms(score_terms(np.asarray(Z, dtype=F64), ref(ctx, "smooth_labels", y, np.shape(Z)[1], eps)))
    loss_ok = close(loss, expected_loss, scalar=True, scale=LOSS_SCALE)
    dZ_ok = close(dZ, expected_dZ, scale=scale)
    if loss_ok and dZ_ok:
        return
    theirs = other(smoothing(ctx), SMOOTHINGS)
    other_loss, other_dZ = ref(ctx, "label_smoothing_loss", Z, y, eps, smooth=theirs)
    matches_other = (loss_ok or close(loss, other_loss, scalar=True, scale=LOSS_SCALE)) and \
        (dZ_ok or close(dZ, other_dZ, scale=scale))
    note = smoothing_note(ctx, matches_other, "Your loss")
    compare(loss, expected_loss, what=f"{what}[0] (the loss)", inputs=inputs, name="loss", note=note,
            scalar=True, scale=LOSS_SCALE)
    compare(dZ, expected_dZ, what=f"{what}[1] (dZ)", inputs=inputs, name="dZ", note=note, scale=scale)


@check("label_smoothing_loss_matches_reference", calls=["label_smoothing_loss"])
def label_smoothing_loss_matches_reference(ctx: Context) -> None:
    @ctx.for_all(smoothing_problems())
    def body(problem):
        Z, y, eps = problem
        judge_smoothing(ctx, ctx.call("label_smoothing_loss", Z, y, eps), Z, y, eps)


def seeded_smoothing_problem(n: int, c: int, eps: float, seed: int):
    rng = np.random.default_rng(seed)
    return rng.uniform(-5, 5, (n, c)), rng.integers(0, c, n), eps


# (Z, y, eps) from a few drawn numbers, plus a seed for the probes
seeded_smoothing_problems = st.builds(
    lambda n, c, eps, seed, probes: (seeded_smoothing_problem(n, c, eps, seed), probes),
    st.integers(1, 10), st.integers(2, 8), st.sampled_from(EPSILONS[1:]), st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1))


@check("label_smoothing_numerical", calls=["label_smoothing_loss"])
def label_smoothing_numerical(ctx: Context) -> None:
    @ctx.for_all(seeded_smoothing_problems, max_examples=6)
    def body(drawn):
        (Z, y, eps), seed = drawn
        what = f"label_smoothing_loss(Z, y, {eps:g})"
        loss, dZ = parts(ctx.call("label_smoothing_loss", Z, y, eps), ("loss", "dZ"), what)
        number(loss, "the loss label_smoothing_loss returned")
        bad = own_gradient_mismatches(ctx, "label_smoothing_loss", (Z, y, eps), 0,
                                      as_array(dZ, Z.shape, what=f"{what}[1] (dZ)"), seed, "dZ", ("loss", "dZ"),
                                      rms(score_terms(Z, ref(ctx, "smooth_labels", y, Z.shape[1], eps))))
        if bad:
            raise CheckFailed(f"The dZ that {what} returned is not the gradient of the loss it returned "
                              f"(nor of the right loss), for Z = {describe(Z)}, y = {describe(y)}:\n"
                              f"{probe_report(bad)}")


@check("smooth_labels_sum_to_one", calls=["smooth_labels"])
def smooth_labels_sum_to_one(ctx: Context) -> None:
    @ctx.for_all(smoothing_labels())
    def body(problem):
        y, c, eps = problem
        targets = as_array(ctx.call("smooth_labels", y, c, eps), (y.size, c), what=f"smooth_labels(y, {c}, {eps:g})")
        sums = targets.sum(axis=1)
        if not np.all(np.abs(sums - 1) <= 1e-6) or not np.all(targets >= 0):
            raise CheckFailed(f"each row of smooth_labels(y, {c}, {eps:g}) should be a distribution (entries >= 0 "
                              f"summing to 1); for y = {describe(y)} the rows sum to {describe(sums)} and the "
                              f"smallest entry is {targets.min():.6g}")
        label_share = targets[np.arange(y.size), y]
        if not np.all(label_share >= targets.max(axis=1) - 1e-9):
            raise CheckFailed(f"in smooth_labels(y, {c}, {eps:g}) the label should keep the largest share of each "
                              f"row; for y = {describe(y)} got {describe(targets)}")


@check("label_smoothing_stable", calls=["label_smoothing_loss"])
def label_smoothing_stable(ctx: Context) -> None:
    # huge scores, but within a row they stay within 50 of each other: every class has a
    # smoothed target, so no probability may underflow, with or without a log-softmax
    Z = np.array([[1000.0, 999.0, 990.0], [-1000.0, -1001.0, -999.0], [800.0, 760.0, 750.0]])
    y = np.array([0, 2, 1])
    for eps in (0.1, 0.0):
        small = Z / 100.0
        if not passes(lambda: judge_smoothing(ctx, ctx.call("label_smoothing_loss", small, y, eps), small, y, eps)):
            continue  # wrong anyway: the comparison checks say so
        got = ctx.call("label_smoothing_loss", Z, y, eps)
        if not finite_parts(got):
            raise CheckFailed(f"label_smoothing_loss(Z, y, {eps:g}) returned NaN or infinity for large scores "
                              f"Z = {describe(Z)}, y = {describe(y)}, although it is right for Z / 100: "
                              f"{describe(got)}")
        judge_smoothing(ctx, got, Z, y, eps, inputs=f"large scores Z = {describe(Z)}, y = {describe(y)}")


@check("label_smoothing_contract", calls=["smooth_labels", "label_smoothing_loss"])
def label_smoothing_contract(ctx: Context) -> None:
    rng = ctx.rng
    y = rng.integers(0, 5, 6)
    expect_float_array(ctx.call("smooth_labels", y, 5, 0.1), (6, 5), "smooth_labels(y, 5, 0.1) for 6 labels")
    Z = rng.uniform(-3, 3, (6, 5))
    what = "label_smoothing_loss(Z, y, 0.1)"
    loss, dZ = parts(ctx.call("label_smoothing_loss", Z, y, 0.1), ("loss", "dZ"), what)
    expect_number(loss, f"the loss {what} returned")
    expect_float_array(dZ, Z.shape, f"the dZ {what} returned (Z of shape (6, 5))")
    same_in_float32(ctx, "label_smoothing_loss", (Z, y, 0.1), ("loss", "dZ"), what,
                    f"Z = {describe(Z)}, y = {describe(y)}")
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- question 6: training -------------------------------------------------------------

TOY_MEANS = ((-2.0, -2.0), (2.0, 2.0), (-2.0, 2.0))


def gaussian_classes(rng: np.random.Generator, means, per_class: int, order: np.ndarray):
    """`per_class` unit-variance points around each mean; the points of means[k] get label order[k]."""
    means = np.asarray(means, dtype=F64)
    X = np.concatenate([rng.normal(mean, 1.0, (per_class, means.shape[1])) for mean in means])
    y = np.repeat(np.asarray(order, dtype=np.int64), per_class)
    shuffle = rng.permutation(len(y))
    return X[shuffle], y[shuffle]


def train(ctx: Context, X, y, classes: int, lr: float, epochs: int, about: str):
    """Call train_softmax; return (W, b, history) with W and b read as float64 arrays."""
    what = f"train_softmax(X, y, {classes}, {lr:g}, {epochs})"
    W, b, history = parts(ctx.call("train_softmax", X, y, classes, lr, epochs), ("W", "b", "history"),
                          f"{what} on {about}")
    d = X.shape[1]
    W = as_array(W, (d, classes), what=f"the W of {what} on {about}")
    b = as_array(b, (classes,), what=f"the b of {what} on {about}")
    return W, b, history


def accuracy(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    scores = X @ W + b
    if not np.all(np.isfinite(scores)):
        return 0.0
    return float(np.mean(np.argmax(scores, axis=1) == y))


def reach(ctx: Context, means, lr: float, epochs: int, need: float, order: np.ndarray, about: str) -> None:
    rng = ctx.rng
    classes = len(means)
    X, y = gaussian_classes(rng, means, 100, order)
    X_test, y_test = gaussian_classes(rng, means, 200, order)
    W, b, _ = train(ctx, X, y, classes, lr, epochs, about)
    score = accuracy(W, b, X_test, y_test)
    if score < need:
        raise CheckFailed(
            f"train_softmax(X, y, {classes}, {lr:g}, {epochs}) on {about} ({len(y)} training points, labels "
            f"{describe(np.asarray(order))} for the means in that order) returned weights with "
            f"{100 * score:.1f}% accuracy on {len(y_test)} held-out points of the same classes; at least "
            f"{100 * need:.0f}% is required. Returned W = {describe(W)}, b = {describe(b)}")


@check("train_reaches_accuracy", calls=["train_softmax"])
def train_reaches_accuracy(ctx: Context) -> None:
    """The toy problem twice, with two different orders of the labels (so fixed weights fail one)."""
    first = ctx.rng.permutation(3)
    for order in (first, np.roll(first, 1)):
        reach(ctx, TOY_MEANS, 0.5, 100, 0.90, order,
              "three 2-D Gaussian classes with means (-2, -2), (2, 2), (-2, 2) and unit variance")


@check("train_other_classes", calls=["train_softmax"])
def train_other_classes(ctx: Context) -> None:
    offset = ctx.rng.uniform(-1, 1, 2)
    four = [tuple(np.append(np.array(m) + offset, 0.0)) for m in ((0, 0), (4, 0), (0, 4), (4, 4))]
    reach(ctx, four, 0.3, 200, 0.85, ctx.rng.permutation(4),
          "four 3-D Gaussian classes with means " + ", ".join(f"({m[0]:.2f}, {m[1]:.2f}, 0)" for m in four))
    two = [tuple(np.array(m) + offset) for m in ((0, 0), (3, 3))]
    reach(ctx, two, 0.3, 200, 0.85, ctx.rng.permutation(2),
          "two 2-D Gaussian classes with means " + ", ".join(f"({m[0]:.2f}, {m[1]:.2f})" for m in two))


def small_training_problem(ctx: Context):
    X, y = gaussian_classes(ctx.rng, TOY_MEANS, 10, ctx.rng.permutation(3))
    return X, y, 3, 0.5, 8


@check("train_matches_reference", calls=["train_softmax"])
def train_matches_reference(ctx: Context) -> None:
    X, y, classes, lr, epochs = small_training_problem(ctx)
    about = f"X = {describe(X)}, y = {describe(y, 30)}"
    W, b, _ = train(ctx, X, y, classes, lr, epochs, "30 points of the toy problem")
    expected_W, expected_b, _ = ref(ctx, "train_softmax", X, y, classes, lr, epochs)
    what = f"train_softmax(X, y, {classes}, {lr:g}, {epochs})"
    note = f"After {epochs} steps of full-batch gradient descent from W = 0, b = 0 the parameters differ."
    compare(W, expected_W, what=f"the W of {what}", inputs=about, name="W", note=note)
    compare(b, expected_b, what=f"the b of {what}", inputs=about, name="b", note=note)


def mean_loss(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    probs = softmax_rows(X @ W + b)
    return float(-np.mean(np.log(probs[np.arange(len(y)), y])))


@check("train_history", calls=["train_softmax"])
def train_history(ctx: Context) -> None:
    """One loss per epoch, measured before each step (the first is log C, at W = 0) or after
    it (the last is the loss of the returned W, b), and never rising: judged on the
    history itself, whatever the parameters (train_matches_reference judges those)."""
    X, y, classes, lr, epochs = small_training_problem(ctx)
    what = f"train_softmax(X, y, {classes}, {lr:g}, {epochs})"
    about = f"X = {describe(X)}, y = {describe(y, 30)}"
    W, b, history = parts(ctx.call("train_softmax", X, y, classes, lr, epochs), ("W", "b", "history"), what)
    if isinstance(history, np.ndarray) and history.ndim == 1:
        history = list(history)
    if not isinstance(history, (list, tuple)) or len(history) != epochs:
        raise CheckFailed(f"{what} returned the history {describe(history)}; expected a list of {epochs} "
                          f"losses, one per epoch, for {about}")
    values = np.array([number(v, f"an entry of the history of {what}") for v in history])
    shown = np.array2string(values, precision=6, separator=", ")
    if not np.all(np.isfinite(values)):
        raise CheckFailed(f"the history of {what} holds NaN or infinity: {shown}")
    if np.any(np.diff(values) > 1e-9 * np.abs(values[:-1])):
        raise CheckFailed(f"the history of {what} rises: {shown}; gradient descent with this step size lowers "
                          f"the loss at every epoch ({about})")
    first = abs(values[0] - np.log(classes)) <= 1e-6 * np.log(classes)
    last = False
    if isinstance(W, np.ndarray) and isinstance(b, np.ndarray) and W.shape == (X.shape[1], classes) \
            and b.size == classes:
        final = mean_loss(np.asarray(W, dtype=F64), np.asarray(b, dtype=F64).reshape(-1), X, y)
        last = abs(values[-1] - final) <= 1e-4 * abs(final)
    if not (first or last):
        raise CheckFailed(f"the history of {what} is {shown}: neither does it start at log({classes}) = "
                          f"{np.log(classes):.6g} (the loss at W = 0, b = 0, measured before the first step) nor "
                          f"end at the loss of the W and b it returned (measured after the last step), for {about}")


@check("train_contract", calls=["train_softmax"])
def train_contract(ctx: Context) -> None:
    X, y = gaussian_classes(ctx.rng, TOY_MEANS, 5, np.arange(3))
    what = "train_softmax(X, y, 3, 0.5, 4)"
    W, b, history = parts(ctx.call("train_softmax", X, y, 3, 0.5, 4), ("W", "b", "history"), what)
    expect_float_array(W, (2, 3), f"the W of {what} (X of shape {X.shape})")
    expect_float_array(b, (3,), f"the b of {what}")
    if not isinstance(history, (list, tuple, np.ndarray)) or len(history) != 4:
        raise CheckFailed(f"the history of {what} is {describe(history)}; expected a list of 4 losses")
    for value in history:
        expect_number(value, f"an entry of the history of {what}")
    expect_untouched(ctx.mutated, ctx.assignment.functions)
