"""Checks of the softmax lab.

Student functions are called with the lab's dtypes and shapes (float32
columns, int labels); expectations come from the reference's float64 numpy
formulas (ctx.reference: the spec's judge_reference, held to the reference by
tests/test_judge_reference.py, so the judge imports no torch) and numerical
gradients are central differences of the reference forward, also in float64. Earning checks pass only for a right answer; property, stability
and contract checks can only take points away (see assignment.yaml).

Inputs are chosen so that one bug costs one question: softmax_backward is
judged on moderate logits (stability belongs to `softmax`), histogram pixels
stay clear of interior bin edges (where float32 rounding makes several right
answers disagree), and hinge margins stay clear of their kinks.

The catalogue in mutants.yaml (`python -m grader validate softmax_lab`) proves
that these checks catch the usual mistakes; when one survives, strengthen a
check here, never the mutant.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import Context, Registry
from grader.compare import (as_array, assert_close, describe, diagnose, judged_dtype, relative_error,
                            tolerance_for)
from grader.contract import ONE_VALUE_SHAPES, expect_array, expect_untouched
from grader.gradcheck import central_differences, mismatches, sampled_check
from grader.outcome import CheckFailed

registry = Registry()
check = registry.check

F32 = np.float32
CLASSES, FEATURES = 10, 3072


# -- strategies ---------------------------------------------------------------
# Made once and shared (functools.cache): hypothesis keeps a strategy's repr once worked
# out, and every for_all's signature is that repr (grader.checks); building it afresh
# for each check of each grade was a tenth of the judge's time.

@functools.cache
def column(n: int, bound: float) -> st.SearchStrategy[np.ndarray]:
    """A float32 (n, 1) column with entries in [-bound, bound]."""
    return hnp.arrays(F32, (n, 1), elements=st.floats(-bound, bound, width=32, allow_subnormal=False))


@functools.cache
def upstream(n: int, bound: float) -> st.SearchStrategy[np.ndarray]:
    """gradOutput for a backward function: a float32 (n, 1) column in [1 - bound, 1 + bound].
    Its simplest value (hypothesis's first example, and where it shrinks to) is all ones,
    not all zeros: a backward function is linear in gradOutput, so zeros show nothing."""
    return column(n, bound).map(lambda g: (g + F32(1)).astype(F32))


@functools.cache
def matrix(rows: int, cols: int, bound: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(F32, (rows, cols), elements=st.floats(-bound, bound, width=32, allow_subnormal=False))


@functools.cache
def labelled_logits(bound: float, n: int = CLASSES) -> st.SearchStrategy[tuple[int, np.ndarray]]:
    """(label, logits): hypothesis shrinks a failure towards label 3, not 0, so the minimal
    example shows an entry before the label as well as after it (label 0 still comes up)."""
    return st.tuples(st.integers(0, n - 1).map(lambda k: (k + 3) % n), column(n, bound))


@functools.cache
@st.composite
def histogram_inputs(draw, max_side: int = 6, max_bins: int = 12):
    """(img, bins): pixels at least 5% of a bin away from interior edges, plus exact 0.0 and 1.0."""
    bins = draw(st.integers(1, max_bins))
    height, width = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    shape = (3, height, width)
    # index `bins` stands for an exact 0.0 and `bins + 1` for an exact 1.0
    index = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, bins + 1)))
    frac = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.05, 0.95)))
    values = (np.minimum(index, bins - 1) + frac) / bins
    values = np.where(index == bins, 0.0, np.where(index == bins + 1, 1.0, values))
    return values.astype(F32), bins


ANY_LENGTH = st.integers(1, 12).flatmap(lambda n: column(n, 10.0))
LOGIT_SHIFT = st.floats(-50, 50, width=32)
SHUFFLE_SEED = st.integers(0, 2**32 - 1)


def ref64(function, *args):
    """Call a function of the checks' reference (the spec's judge_reference: float64 numpy
    formulas) on float64 copies of the floating array arguments; return float64 numpy
    arrays (a tuple for a tuple)."""
    converted = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]
    result = function(*converted)
    if isinstance(result, tuple):
        return tuple(np.asarray(r, dtype=np.float64) for r in result)
    return np.asarray(result, dtype=np.float64)


# Numerical gradients evaluate their forward on a whole stack of perturbed inputs
# (B, n, 1) at once: one reference call per stack, not one per row. The public checks
# ship to students (handout.public), so nothing here may compute what a student writes:
# softmax comes from the reference (softmax_batch, one column per row of the stack),
# and only what the docstrings state is written out (-log(predictions[label]), the hinge).

def softmax_rows(ctx: Context, batch: np.ndarray) -> np.ndarray:
    """The reference's softmax of each (n, 1) column of a (B, n, 1) stack, as (B, n)."""
    return ref64(ctx.reference.softmax_batch, batch.reshape(batch.shape[0], -1).T).T


def hinge_losses(label: int, batch: np.ndarray, delta: float) -> np.ndarray:
    """sum over j != label of max(0, s_j - s_label + delta), for each column of a stack."""
    s = batch.reshape(batch.shape[0], -1)
    margins = np.maximum(0.0, s - s[:, [label]] + delta)
    margins[:, label] = 0.0
    return margins.sum(axis=1)


def predictions_from(ctx: Context, logits: np.ndarray) -> np.ndarray:
    """Valid float32 predictions (a softmax output) for given logits."""
    return ref64(ctx.reference.softmax, logits).astype(F32)


# -- softmax ------------------------------------------------------------------

@check("softmax_matches_reference", calls=["softmax"])
def softmax_matches_reference(ctx: Context) -> None:
    @ctx.for_all(column(CLASSES, 20.0))
    def body(a):
        got = ctx.call("softmax", a)
        assert_close(got, ref64(ctx.reference.softmax, a), what="softmax(a)",
                     inputs=lambda: f"a = {describe(a)}", name="softmax(a)", input_dtypes=[a.dtype])


@check("softmax_any_length", calls=["softmax"])
def softmax_any_length(ctx: Context) -> None:
    @ctx.for_all(ANY_LENGTH)
    def body(a):
        got = ctx.call("softmax", a)
        try:
            assert_close(got, ref64(ctx.reference.softmax, a), what="softmax(a)",
                         inputs=lambda: f"a = {describe(a)}", name="softmax(a)", input_dtypes=[a.dtype])
        except CheckFailed as failure:
            raise CheckFailed(failure.message + length_or_not(ctx, a), status=failure.status,
                              hint=None if a.shape[0] != CLASSES and right_for_ten(ctx) else "") from None


def right_for_ten(ctx: Context) -> bool:
    """Whether the student's softmax is right on the lab's 10 classes (so a failure at
    another length is about the length)."""
    a = np.linspace(-2.0, 3.0, CLASSES, dtype=F32).reshape(CLASSES, 1)
    try:
        assert_close(ctx.call("softmax", a), ref64(ctx.reference.softmax, a), what="softmax(a)", name="softmax(a)",
                     input_dtypes=[F32])
    except CheckFailed:
        return False
    return True


def length_or_not(ctx: Context, a: np.ndarray) -> str:
    if a.shape[0] != CLASSES and right_for_ten(ctx):
        return f"\nYour softmax is right for {CLASSES} classes but not for {a.shape[0]}."
    return f"\nThe same mistake shows with {CLASSES} classes (softmax_matches_reference): it is not about the length."


@check("softmax_sums_to_one", calls=["softmax"])
def softmax_sums_to_one(ctx: Context) -> None:
    @ctx.for_all(column(CLASSES, 20.0))
    def body(a):
        got = np.asarray(ctx.call("softmax", a), dtype=np.float64)
        total = float(got.sum()) if got.size else 0.0
        if not abs(total - 1.0) <= 1e-4:
            raise CheckFailed(f"softmax(a) should sum to 1 but sums to {total:.6g} for a = {describe(a)}")


@check("softmax_shift_invariant", calls=["softmax"])
def softmax_shift_invariant(ctx: Context) -> None:
    @ctx.for_all(column(CLASSES, 10.0), LOGIT_SHIFT)
    def body(a, shift):
        shifted = (a + F32(shift)).astype(F32)
        returned = ctx.call("softmax", a), ctx.call("softmax", shifted)  # described as returned
        first, second = (np.asarray(r, dtype=np.float64) for r in returned)
        if first.shape != second.shape or relative_error(first, second) > 1e-3 or not np.isfinite(first).all():
            raise CheckFailed(f"softmax(a + c) should equal softmax(a): for c = {shift:g} and "
                              f"a = {describe(a)} got {describe(returned[1])} instead of {describe(returned[0])}")


STABILITY_CASES = [
    np.array([1000.0, -1000.0] + [0.0] * 8, dtype=F32),
    np.full(CLASSES, 1000.0, dtype=F32),
    np.full(CLASSES, -1000.0, dtype=F32),
    np.linspace(500.0, 1000.0, CLASSES).astype(F32),
    np.array([88.0, 89.0, 90.0, -200.0, 0, 0, 0, 0, 0, 0], dtype=F32),
]


@check("softmax_stable", calls=["softmax"])
def softmax_stable(ctx: Context) -> None:
    for case in STABILITY_CASES:
        a = case.reshape(CLASSES, 1)
        got = ctx.call("softmax", a)
        expected = ref64(ctx.reference.softmax, a)
        if isinstance(got, np.ndarray) and not np.isfinite(got).all():
            raise CheckFailed(f"softmax(a) returned NaN or infinity for large logits a = {describe(a)}: "
                              f"got {describe(got)}")
        assert_close(got, expected, what="softmax(a)", inputs=lambda: f"large logits a = {describe(a)}",
                     name="softmax(a)", input_dtypes=[a.dtype])


@check("softmax_contract", calls=["softmax"])
def softmax_contract(ctx: Context) -> None:
    a = np.linspace(-3, 3, CLASSES, dtype=F32).reshape(CLASSES, 1)
    got = ctx.call("softmax", a)
    expect_array(got, what="softmax(a)", library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- linear ---------------------------------------------------------------------

@functools.cache
@st.composite
def linear_inputs(draw, max_classes: int = 12, max_features: int = 40):
    c, d = draw(st.integers(1, max_classes)), draw(st.integers(1, max_features))
    return draw(column(d, 1.0)), draw(matrix(c, d)), draw(column(c, 1.0)), draw(column(c, 1.0))


def lab_linear_problem(seed: int):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (FEATURES, 1)).astype(F32)
    weight = (rng.standard_normal((CLASSES, FEATURES)) * 0.01).astype(F32)
    bias = (rng.standard_normal((CLASSES, 1)) * 0.1).astype(F32)
    grad = (rng.standard_normal((CLASSES, 1)) * 0.1).astype(F32)
    return x, weight, bias, grad


def read_pair(value, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise CheckFailed(f"{what} returned {describe(value)}; expected a pair (gradWeight, gradBias)")
    return value


@check("linear_matches_reference", calls=["linear"])
def linear_matches_reference(ctx: Context) -> None:
    @ctx.for_all(linear_inputs())
    def body(problem):
        x, weight, bias, _ = problem
        got = ctx.call("linear", x, weight, bias)
        assert_close(got, ref64(ctx.reference.linear, x, weight, bias), what="linear(x, weight, bias)",
                     inputs=lambda: f"x = {describe(x)}, weight = {describe(weight)}, bias = {describe(bias)}",
                     name="output", input_dtypes=[F32])

    x, weight, bias, _ = lab_linear_problem(0)
    assert_close(ctx.call("linear", x, weight, bias), ref64(ctx.reference.linear, x, weight, bias),
                 what="linear(x, weight, bias)", inputs="the lab's shapes (x (3072, 1), weight (10, 3072))",
                 name="output", input_dtypes=[F32])


@check("linear_backward_matches_reference", calls=["linear_backward"])
def linear_backward_matches_reference(ctx: Context) -> None:
    @ctx.for_all(linear_inputs())
    def body(problem):
        x, weight, bias, grad = problem
        got = read_pair(ctx.call("linear_backward", x, weight, bias, grad), "linear_backward")
        gw, gb = ref64(ctx.reference.linear_backward, x, weight, bias, grad)
        inputs = lambda: f"x = {describe(x)}, gradOutput = {describe(grad)}"
        assert_close(got[0], gw, what="linear_backward(...)[0] (gradWeight)", inputs=inputs,
                     name="gradWeight", input_dtypes=[F32])
        assert_close(got[1], gb, what="linear_backward(...)[1] (gradBias)", inputs=inputs,
                     name="gradBias", input_dtypes=[F32])


@check("linear_backward_numerical", calls=["linear_backward"])
def linear_backward_numerical(ctx: Context) -> None:
    """L = <gradOutput, linear(x, W, b)>: compare its numerical gradient in W and b."""
    for seed in range(3):
        x, weight, bias, grad = lab_linear_problem(seed)
        got = read_pair(ctx.call("linear_backward", x, weight, bias, grad), "linear_backward")
        grad64 = grad.astype(np.float64)

        def loss_of_weight(batch):  # one call of the reference on a stack of weights
            return (grad64 * ref64(ctx.reference.linear, x, batch, bias)).sum(axis=(1, 2))

        def loss_of_bias(batch):  # the reference's linear broadcasts a stack of biases too
            return (grad64 * ref64(ctx.reference.linear, x, weight, batch)).sum(axis=(1, 2))

        inputs = "the lab's shapes (x (3072, 1), weight (10, 3072), gradOutput (10, 1))"
        expect_numerical(got[0], loss_of_weight, weight, ctx, what="gradWeight", inputs=inputs)
        numerical_b = central_differences(loss_of_bias, bias)
        assert_close(got[1], numerical_b, what="linear_backward(...)[1] (gradBias)", inputs=inputs,
                     name="gradBias", input_dtypes=[F32])


def expect_numerical(got, f_batch, x, ctx: Context, *, what: str, inputs: str) -> None:
    """Compare a large analytic gradient with sampled numerical derivatives of f at x.

    Random-sign directions catch a single wrong entry; the sampled
    coordinates say where, and feed the diagnosis (sign, factor...).
    """
    analytic = as_array(got, x.shape, what=f"the returned {what}")
    rtol = tolerance_for(judged_dtype(), F32)
    probes = sampled_check(f_batch, x, analytic, rng=ctx.rng, name=what)
    bad = mismatches(probes, rtol)
    if not bad:
        return
    entries = [p for p in bad if not p.label.startswith("<")]
    lines = [f"{what} disagrees with the numerical gradient for {inputs}."]
    for p in (entries + [p for p in bad if p.label.startswith("<")])[:5]:
        lines.append(f"  {p.label}: expected {p.numerical:.6g}, got {p.analytic:.6g}")
    coordinates = [p for p in probes if not p.label.startswith("<")]
    cause = diagnose(np.array([p.analytic for p in coordinates]), np.array([p.numerical for p in coordinates]), rtol)
    if cause and cause != "the result holds NaN or infinity" or not entries:
        lines.append(f"Diagnosis: {cause or 'only a few entries are off: the random directions caught it'}.")
    raise CheckFailed("\n".join(lines))


@check("linear_contract", calls=["linear", "linear_backward"])
def linear_contract(ctx: Context) -> None:
    x, weight, bias, grad = lab_linear_problem(1)
    expect_array(ctx.call("linear", x, weight, bias), what="linear(x, weight, bias)",
                 library="torch", shapes=[(CLASSES, 1)])
    pair = read_pair(ctx.call("linear_backward", x, weight, bias, grad), "linear_backward")
    expect_array(pair[0], what="gradWeight", library="torch", shapes=[(CLASSES, FEATURES)])
    expect_array(pair[1], what="gradBias", library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- loss -------------------------------------------------------------------------

@check("loss_matches_reference", calls=["loss"])
def loss_matches_reference(ctx: Context) -> None:
    @ctx.for_all(labelled_logits(5.0))
    def body(problem):
        label, logits = problem
        p = predictions_from(ctx, logits)
        got = ctx.call("loss", label, p)
        expected = ref64(ctx.reference.loss, label, p).reshape(())
        assert_close(got, expected, what=f"loss({label}, predictions)", inputs=lambda: f"predictions = {describe(p)}",
                     name="loss", input_dtypes=[F32], scalar_ok=True)


@check("loss_softmax_backward_matches_reference", calls=["loss_softmax_backward"])
def loss_softmax_backward_matches_reference(ctx: Context) -> None:
    @ctx.for_all(labelled_logits(5.0))
    def body(problem):
        label, logits = problem
        p = predictions_from(ctx, logits)
        got = ctx.call("loss_softmax_backward", label, p)
        assert_close(got, ref64(ctx.reference.loss_softmax_backward, label, p),
                     what=f"loss_softmax_backward({label}, predictions)", inputs=lambda: f"predictions = {describe(p)}",
                     name="grad", input_dtypes=[F32])


@check("loss_softmax_backward_numerical", calls=["loss_softmax_backward"])
def loss_softmax_backward_numerical(ctx: Context) -> None:
    @ctx.for_all(labelled_logits(5.0))
    def body(problem):
        label, logits = problem
        p = predictions_from(ctx, logits)
        # the predictions the student sees are float32; differentiate at the logits that give them
        a = np.log(p.astype(np.float64))

        def f(batch):
            return -np.log(softmax_rows(ctx, batch)[:, label])

        numerical = central_differences(f, a, eps=1e-6)
        got = ctx.call("loss_softmax_backward", label, p)
        assert_close(got, numerical, what=f"loss_softmax_backward({label}, predictions)",
                     inputs=lambda: f"predictions = {describe(p)} (compared with central differences)",
                     name="grad", input_dtypes=[F32])


@check("loss_contract", calls=["loss", "loss_softmax_backward"])
def loss_contract(ctx: Context) -> None:
    p = predictions_from(ctx, np.linspace(-2, 2, CLASSES).reshape(CLASSES, 1))
    expect_array(ctx.call("loss", 3, p), what="loss(3, predictions)", library="torch",
                 shapes=ONE_VALUE_SHAPES)
    expect_array(ctx.call("loss_softmax_backward", 3, p), what="loss_softmax_backward(3, predictions)",
                 library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- loss_backward ------------------------------------------------------------------

@check("loss_backward_matches_reference", calls=["loss_backward"])
def loss_backward_matches_reference(ctx: Context) -> None:
    @ctx.for_all(labelled_logits(4.0))
    def body(problem):
        label, logits = problem
        p = predictions_from(ctx, logits)
        got = ctx.call("loss_backward", label, p)
        expected = ref64(ctx.reference.loss_backward, label, p)
        with where_wrong(got, expected, label):
            assert_close(got, expected, what=f"loss_backward({label}, predictions)",
                         inputs=lambda: f"predictions = {describe(p)}", name="grad", input_dtypes=[F32])


@check("loss_backward_numerical", calls=["loss_backward"])
def loss_backward_numerical(ctx: Context) -> None:
    @ctx.for_all(labelled_logits(4.0))
    def body(problem):
        label, logits = problem
        p = predictions_from(ctx, logits)

        def f(batch):
            return -np.log(batch.reshape(batch.shape[0], -1)[:, label])

        numerical = central_differences(f, p, eps=1e-5 * p.astype(np.float64))
        got = ctx.call("loss_backward", label, p)
        with where_wrong(got, numerical, label):
            assert_close(got, numerical, what=f"loss_backward({label}, predictions)",
                         inputs=lambda: f"predictions = {describe(p)} (compared with central differences)",
                         name="grad", input_dtypes=[F32])


@contextmanager
def where_wrong(got, expected: np.ndarray, label: int):
    """Add to a loss_backward failure where the returned gradient is wrong: at the
    label's entry, or at the others (which must be 0), and drop a diagnosis that does
    not fit the case."""
    try:
        yield
    except CheckFailed as failure:
        array = np.asarray(got, dtype=np.float64) if isinstance(got, np.ndarray) else None
        if array is None or array.shape != expected.shape or not np.isfinite(array).all():
            raise
        flat, want = array.reshape(-1), expected.reshape(-1)
        wrong = ~np.isclose(flat, want, rtol=1e-3, atol=1e-6 * max(1.0, float(np.abs(want).max())))
        others = [i for i in np.flatnonzero(wrong) if i != label]
        parts = []
        if wrong[label]:
            parts.append(f"at the label's entry (index {label}) you returned {flat[label]:.6g} instead of "
                         f"{want[label]:.6g} (= -1 / predictions[{label}])")
        if others:
            shown_entries = ", ".join(str(i) for i in others[:6]) + (", ..." if len(others) > 6 else "")
            parts.append(f"at entries other than the label (index {shown_entries}) you returned non-zero values: "
                         f"only predictions[label] appears in the loss, so the others must be 0")
        message = failure.message
        if parts and (others or not wrong[label]):
            # a factor or shift diagnosis says nothing useful when the off-label entries are wrong
            message = "\n".join(line for line in message.splitlines() if not line.startswith("Diagnosis:"))
        raise CheckFailed(message + ("\nWhere: " + "; ".join(parts) + "." if parts else ""),
                          status=failure.status) from None


@check("loss_backward_contract", calls=["loss_backward"])
def loss_backward_contract(ctx: Context) -> None:
    p = predictions_from(ctx, np.linspace(-2, 2, CLASSES).reshape(CLASSES, 1))
    expect_array(ctx.call("loss_backward", 7, p), what="loss_backward(7, predictions)",
                 library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- the chain: loss_backward then softmax_backward ------------------------------------------

CHAIN_CASES = [(3, np.array([0.5, -1.0, 2.0, 0.3, 0.0, -0.7, 1.2, 0.8, -2.0, 0.1])),
               (7, np.linspace(-1.5, 1.5, CLASSES)), (0, np.array([1.0, 0.0] * 5)),
               (9, np.array([-0.3, 0.9, 0.2, -1.1, 0.6, 1.4, -0.5, 0.0, 0.7, -0.9]))]


def own_function_right(ctx: Context, function: str) -> bool:
    """Whether the student's loss_backward or softmax_backward matches the reference on the
    chain's cases."""
    for label, logits in CHAIN_CASES:
        a = logits.astype(F32).reshape(CLASSES, 1)
        p = predictions_from(ctx, a)
        if function == "loss_backward":
            args, expected = (label, p), ref64(ctx.reference.loss_backward, label, p)
        else:
            g = ref64(ctx.reference.loss_backward, label, p).astype(F32)
            args, expected = (a, g), ref64(ctx.reference.softmax_backward, a, g)
        try:
            assert_close(ctx.call(function, *args), expected, what=function, name="grad", input_dtypes=[F32])
        except CheckFailed:
            return False
    return True


def chain_composes(ctx: Context, function: str) -> None:
    """A floor check: the student's own pair, softmax_backward(a, loss_backward(label,
    softmax(a))), gives softmax(a) - onehot(label). Only a question whose function is
    wrong needs it; there it says whether the chain is right (and a course may grant
    partial credit for it: `floor` in assignment.yaml)."""
    if own_function_right(ctx, function):
        return
    for label, logits in CHAIN_CASES:
        a = logits.astype(F32).reshape(CLASSES, 1)
        p = predictions_from(ctx, a)
        expected = ref64(ctx.reference.loss_softmax_backward, label, p)
        try:
            upstream = ctx.call("loss_backward", label, p)
            gradient = as_array(upstream, (CLASSES, 1), what="loss_backward's result").astype(F32)
            got = ctx.call("softmax_backward", a, gradient)
            assert_close(got, expected, what=f"softmax_backward(a, loss_backward({label}, softmax(a)))",
                         inputs=lambda: f"a = {describe(a)}", name="grad", input_dtypes=[F32])
        except CheckFailed as failure:
            raise CheckFailed("Your loss_backward and softmax_backward, chained as the lab's training uses them, "
                              "do not give dloss/da = softmax(a) - onehot(label) either:\n" + failure.message,
                              hint="") from None
    floor = ctx.spec.floor or 0.0
    credit = (f" This course gives {floor:.0%} of the question's points for a chain that is right."
              if floor > 0 else "")
    ctx.note("Your loss_backward and softmax_backward are not right on their own, but chained as the lab's "
             "training uses them, softmax_backward(a, loss_backward(label, softmax(a))), they give "
             "dloss/da = softmax(a) - onehot(label): the chain is right, and a classifier trained with it "
             f"learns.{credit}")


@check("loss_backward_chain_composes", calls=["loss_backward", "softmax_backward"])
def loss_backward_chain_composes(ctx: Context) -> None:
    chain_composes(ctx, "loss_backward")


@check("softmax_backward_chain_composes", calls=["loss_backward", "softmax_backward"])
def softmax_backward_chain_composes(ctx: Context) -> None:
    chain_composes(ctx, "softmax_backward")


# -- softmax_backward -------------------------------------------------------------------

MODERATE = 5.0


@check("softmax_backward_matches_reference", calls=["softmax_backward"])
def softmax_backward_matches_reference(ctx: Context) -> None:
    @ctx.for_all(column(CLASSES, MODERATE), upstream(CLASSES, MODERATE))
    def body(a, g):
        got = ctx.call("softmax_backward", a, g)
        assert_close(got, ref64(ctx.reference.softmax_backward, a, g),
                     what="softmax_backward(inputTensor, gradOutput)",
                     inputs=lambda: f"inputTensor = {describe(a)}, gradOutput = {describe(g)}",
                     name="grad", input_dtypes=[F32], scale=float(np.linalg.norm(g)) / np.sqrt(CLASSES))


@check("softmax_backward_numerical", calls=["softmax_backward"])
def softmax_backward_numerical(ctx: Context) -> None:
    @ctx.for_all(column(CLASSES, MODERATE), upstream(CLASSES, MODERATE))
    def body(a, g):
        g64 = g.astype(np.float64)

        def f(batch):
            return softmax_rows(ctx, batch) @ g64.reshape(-1)

        numerical = central_differences(f, a, eps=1e-6)
        got = ctx.call("softmax_backward", a, g)
        assert_close(got, numerical, what="softmax_backward(inputTensor, gradOutput)",
                     inputs=lambda: f"inputTensor = {describe(a)}, gradOutput = {describe(g)} "
                            "(compared with central differences)",
                     name="grad", input_dtypes=[F32], scale=float(np.linalg.norm(g)) / np.sqrt(CLASSES))


@check("softmax_backward_sums_to_zero", calls=["softmax_backward"])
def softmax_backward_sums_to_zero(ctx: Context) -> None:
    @ctx.for_all(column(CLASSES, MODERATE), upstream(CLASSES, MODERATE))
    def body(a, g):
        got = np.asarray(ctx.call("softmax_backward", a, g), dtype=np.float64)
        total = float(got.sum())
        if not abs(total) <= 1e-4 * (1 + float(np.abs(g).sum())):
            raise CheckFailed("softmax_backward's entries should sum to zero (softmax outputs always sum "
                              f"to one), but they sum to {total:.6g} for inputTensor = {describe(a)}, "
                              f"gradOutput = {describe(g)}")


@check("softmax_backward_ignores_constant_shift", calls=["softmax_backward"])
def softmax_backward_ignores_constant_shift(ctx: Context) -> None:
    # An answer linear in gradOutput (every softmax_backward we have seen) changes under a
    # shift c by c times its change under a shift of 1: c = 1 shows any dependence, and
    # hypothesis's first example already shows it, so a failure needs no shrinking.
    shift = 1

    @ctx.for_all(column(CLASSES, MODERATE), upstream(CLASSES, MODERATE))
    def body(a, g):
        first = np.asarray(ctx.call("softmax_backward", a, g), dtype=np.float64)
        second = np.asarray(ctx.call("softmax_backward", a, (g + F32(shift)).astype(F32)), dtype=np.float64)
        scale = 1e-4 * (1 + float(np.abs(g).sum()) + abs(shift))
        if first.shape != second.shape or not np.all(np.abs(first - second) <= scale):
            raise CheckFailed("adding a constant to gradOutput must not change softmax_backward's result "
                              f"(softmax outputs sum to one): with c = {shift:g}, inputTensor = {describe(a)}, "
                              f"gradOutput = {describe(g)} the results differ: {describe(first)} vs "
                              f"{describe(second)}")


@check("softmax_backward_chain_rule", calls=["softmax_backward"])
def softmax_backward_chain_rule(ctx: Context) -> None:
    @ctx.for_all(labelled_logits(MODERATE))
    def body(problem):
        label, a = problem
        y = ref64(ctx.reference.softmax, a)
        g = ref64(ctx.reference.loss_backward, label, y).astype(F32)
        got = ctx.call("softmax_backward", a, g)
        expected = y - np.eye(CLASSES)[:, [label]]
        # gradOutput is the reference's loss_backward, not the student's: say so, and show it
        assert_close(got, expected, what="softmax_backward(a, gradOutput)",
                     inputs=lambda: (f"label = {label}, a = {describe(a)} and gradOutput = {describe(g)}, the "
                             "reference's loss_backward(label, softmax(a)) (not yours); the result should "
                             "equal softmax(a) - onehot(label)"),
                     name="grad", input_dtypes=[F32], scale=1.0)


@check("softmax_backward_contract", calls=["softmax_backward"])
def softmax_backward_contract(ctx: Context) -> None:
    a = np.linspace(-2, 2, CLASSES, dtype=F32).reshape(CLASSES, 1)
    g = np.linspace(1, -1, CLASSES, dtype=F32).reshape(CLASSES, 1)
    expect_array(ctx.call("softmax_backward", a, g), what="softmax_backward(inputTensor, gradOutput)",
                 library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- color_histogram ------------------------------------------------------------------

def histogram_shapes(bins: int) -> list[tuple[int, ...]]:
    n = 3 * bins
    return [(n,), (n, 1), (1, n)]


def read_histogram(value, bins: int, what: str) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.size == 3 * bins:
        value = value.reshape(-1)
    return as_array(value, (3 * bins,), what=what)


@check("color_histogram_matches_reference", calls=["color_histogram"])
def color_histogram_matches_reference(ctx: Context) -> None:
    @ctx.for_all(histogram_inputs())
    def body(problem):
        img, bins = problem
        got = ctx.call("color_histogram", img, bins)
        expected = ref64(ctx.reference.color_histogram, img, bins)
        assert_close(read_histogram(got, bins, f"color_histogram(img, {bins})"), expected,
                     what=f"color_histogram(img, {bins})", inputs=lambda: f"img = {describe(img, 24)}",
                     name="hist", input_dtypes=[F32], scale=1.0)


def known_images():
    """(img, bins, expected) worked out by hand, independent of the reference."""
    cases = []
    zeros = np.zeros((3, 2, 2), F32)
    cases.append((zeros, 4, np.array([1, 0, 0, 0] * 3, float)))
    ones = np.ones((3, 2, 3), F32)
    cases.append((ones, 5, np.array([0, 0, 0, 0, 1] * 3, float)))
    rgb = np.stack([np.full((2, 2), 0.1), np.full((2, 2), 0.6), np.full((2, 2), 0.9)]).astype(F32)
    cases.append((rgb, 2, np.array([1, 0, 0, 1, 0, 1], float)))
    cases.append((rgb, 4, np.array([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], float)))
    # clear of every interior edge k / bins for bins = 1, 2 and 10 (0.7 in float32 is
    # 0.69999999: bin 7 or bin 6 depending on the precision of the product)
    mixed = np.array([[[0.0, 0.32], [0.63, 1.0]],
                      [[0.05, 0.05], [0.05, 0.95]],
                      [[0.45, 0.55], [0.74, 0.21]]], dtype=F32)
    cases.append((mixed, 2, np.array([0.5, 0.5, 0.75, 0.25, 0.5, 0.5])))
    cases.append((mixed, 1, np.array([1.0, 1.0, 1.0])))
    cases.append((mixed, 10, np.concatenate([
        np.eye(10)[[0, 3, 6, 9]].sum(0) / 4,
        np.eye(10)[[0, 0, 0, 9]].sum(0) / 4,
        np.eye(10)[[4, 5, 7, 2]].sum(0) / 4])))
    for bins in (7, 12):
        # a pixel 10% of a bin above each lower edge and one 10% below each upper edge:
        # bin k must be [k / bins, (k + 1) / bins), not edges rounded to 8-bit pixel steps
        ends = (np.arange(bins)[None, :] + np.array([[0.1], [0.9]])) / bins
        cases.append((np.stack([ends, ends[:, ::-1], ends[::-1]]).astype(F32), bins,
                      np.full(3 * bins, 1 / bins)))
    return cases


@check("color_histogram_known_images", calls=["color_histogram"])
def color_histogram_known_images(ctx: Context) -> None:
    for img, bins, expected in known_images():
        got = ctx.call("color_histogram", img, bins)
        assert_close(read_histogram(got, bins, f"color_histogram(img, {bins})"), expected,
                     what=f"color_histogram(img, {bins})", inputs=lambda: f"img = {describe(img, 12)}",
                     name="hist", input_dtypes=[F32], scale=1.0)


@check("color_histogram_blocks_sum_to_one", calls=["color_histogram"])
def color_histogram_blocks_sum_to_one(ctx: Context) -> None:
    @ctx.for_all(histogram_inputs())
    def body(problem):
        img, bins = problem
        hist = read_histogram(ctx.call("color_histogram", img, bins), bins, f"color_histogram(img, {bins})")
        sums = hist.reshape(3, bins).sum(axis=1)
        if not np.all(np.abs(sums - 1) <= 1e-4):
            raise CheckFailed(f"each channel's block of color_histogram(img, {bins}) should sum to 1 "
                              f"(fractions of the pixels); the R, G, B blocks sum to "
                              f"{', '.join(f'{s:.4g}' for s in sums)} for img = {describe(img, 24)}")


@check("color_histogram_non_negative", calls=["color_histogram"])
def color_histogram_non_negative(ctx: Context) -> None:
    @ctx.for_all(histogram_inputs())
    def body(problem):
        img, bins = problem
        hist = read_histogram(ctx.call("color_histogram", img, bins), bins, f"color_histogram(img, {bins})")
        if not np.all(hist >= 0):
            raise CheckFailed(f"color_histogram(img, {bins}) has negative entries: {describe(hist)}")


@check("color_histogram_permutation_invariant", calls=["color_histogram"])
def color_histogram_permutation_invariant(ctx: Context) -> None:
    @ctx.for_all(histogram_inputs(), SHUFFLE_SEED)
    def body(problem, seed):
        img, bins = problem
        flat = img.reshape(3, -1).copy()
        shuffle = np.random.default_rng(seed)
        for channel in flat:
            shuffle.shuffle(channel)
        shuffled = flat.reshape(img.shape)
        first = read_histogram(ctx.call("color_histogram", img, bins), bins, "color_histogram")
        second = read_histogram(ctx.call("color_histogram", shuffled, bins), bins, "color_histogram")
        if not np.allclose(first, second, atol=1e-5):
            raise CheckFailed(f"color_histogram should not depend on where pixels are: shuffling the pixels "
                              f"of img = {describe(img, 24)} changed the result from {describe(first)} "
                              f"to {describe(second)}")


@check("color_histogram_counts_edges", calls=["color_histogram"])
def color_histogram_counts_edges(ctx: Context) -> None:
    for bins in (1, 3, 8):
        for value, position in ((0.0, 0), (1.0, bins - 1)):
            img = np.full((3, 3, 2), value, dtype=F32)
            hist = read_histogram(ctx.call("color_histogram", img, bins), bins, f"color_histogram(img, {bins})")
            expected = np.tile(np.eye(bins)[position], 3)
            if not np.allclose(hist, expected, atol=1e-5):
                raise CheckFailed(f"an image whose pixels are all exactly {value} should put everything in "
                                  f"bin {position} of each channel (bins = {bins}); got {describe(hist)}")


@check("color_histogram_contract", calls=["color_histogram"])
def color_histogram_contract(ctx: Context) -> None:
    img = np.linspace(0, 1, 3 * 4 * 5, dtype=F32).reshape(3, 4, 5)
    expect_array(ctx.call("color_histogram", img, 6), what="color_histogram(img, 6)",
                 library="torch", shapes=histogram_shapes(6))
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- max_margin -----------------------------------------------------------------------

KINK_GAP = 1e-2


@functools.cache
@st.composite
def hinge_inputs(draw, max_classes: int = 12):
    """(label, scores, delta) with every margin at least KINK_GAP away from its kink.

    The number of classes varies (2 to `max_classes`): the loss is defined for
    any number, and a loop over range(10) must not pass for reading the shape.
    """
    n = draw(st.integers(2, max_classes))
    label = draw(st.integers(0, n - 1))
    scores = draw(column(n, 5.0))
    delta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    margins = scores.astype(np.float64) - scores[label, 0] + delta
    margins[label] = 1.0
    assume(np.all(np.abs(margins) > KINK_GAP))
    return label, scores, delta


@check("max_margin_loss_matches_reference", calls=["max_margin_loss"])
def max_margin_loss_matches_reference(ctx: Context) -> None:
    @ctx.for_all(hinge_inputs())
    def body(problem):
        label, scores, delta = problem
        got = ctx.call("max_margin_loss", label, scores, delta)
        expected = ref64(ctx.reference.max_margin_loss, label, scores, delta).reshape(())
        assert_close(got, expected, what=f"max_margin_loss({label}, scores, {delta})",
                     inputs=lambda: f"scores = {describe(scores)}", name="loss", input_dtypes=[F32],
                     scalar_ok=True, scale=1.0)


@check("max_margin_backward_matches_reference", calls=["max_margin_loss_backward"])
def max_margin_backward_matches_reference(ctx: Context) -> None:
    @ctx.for_all(hinge_inputs())
    def body(problem):
        label, scores, delta = problem
        got = ctx.call("max_margin_loss_backward", label, scores, delta)
        assert_close(got, ref64(ctx.reference.max_margin_loss_backward, label, scores, delta),
                     what=f"max_margin_loss_backward({label}, scores, {delta})",
                     inputs=lambda: f"scores = {describe(scores)}", name="grad", input_dtypes=[F32], scale=1.0)


@check("max_margin_backward_numerical", calls=["max_margin_loss_backward"])
def max_margin_backward_numerical(ctx: Context) -> None:
    @ctx.for_all(hinge_inputs())
    def body(problem):
        label, scores, delta = problem

        def f(batch):
            return hinge_losses(label, batch, delta)

        numerical = central_differences(f, scores, eps=1e-4)  # margins are >= 1e-2 from a kink
        got = ctx.call("max_margin_loss_backward", label, scores, delta)
        assert_close(got, numerical, what=f"max_margin_loss_backward({label}, scores, {delta})",
                     inputs=lambda: f"scores = {describe(scores)} (compared with central differences)",
                     name="grad", input_dtypes=[F32], scale=1.0)


@check("max_margin_loss_properties", calls=["max_margin_loss"])
def max_margin_loss_properties(ctx: Context) -> None:
    @ctx.for_all(hinge_inputs())
    def body(problem):
        label, scores, delta = problem
        value = np.asarray(ctx.call("max_margin_loss", label, scores, delta), dtype=np.float64)
        if value.size != 1 or not value.reshape(-1)[0] >= -1e-6:
            raise CheckFailed(f"max_margin_loss must be one non-negative value; got {describe(value)} "
                              f"for label = {label}, scores = {describe(scores)}, delta = {delta}")
        satisfied = scores.copy()
        satisfied[label, 0] = F32(scores.max() + delta + 1.0)
        value = np.asarray(ctx.call("max_margin_loss", label, satisfied, delta), dtype=np.float64)
        if value.size != 1 or not abs(value.reshape(-1)[0]) <= 1e-5:
            raise CheckFailed(f"when every margin is satisfied the loss must be 0; got {describe(value)} "
                              f"for label = {label}, scores = {describe(satisfied)}, delta = {delta}")


@check("max_margin_contract", calls=["max_margin_loss", "max_margin_loss_backward"])
def max_margin_contract(ctx: Context) -> None:
    scores = np.linspace(-1, 1.3, CLASSES, dtype=F32).reshape(CLASSES, 1)
    expect_array(ctx.call("max_margin_loss", 2, scores, 1.0), what="max_margin_loss(2, scores, 1.0)",
                 library="torch", shapes=ONE_VALUE_SHAPES)
    expect_array(ctx.call("max_margin_loss_backward", 2, scores, 1.0),
                 what="max_margin_loss_backward(2, scores, 1.0)", library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- training: the optimiser steps --------------------------------------------------------

STEP_SETTINGS = [(0.1, 0.0), (0.05, 0.1), (0.5, 0.01)]  # (learningRate, weightDecay)


def step_problem(ctx: Context, classes: int = 4, features: int = 6, steps: int = 1):
    """Random float32 weight, bias (never zero: a decayed bias must show) and `steps` gradients."""
    weight = ctx.rng.standard_normal((classes, features)).astype(F32)
    bias = (ctx.rng.standard_normal((classes, 1)) + 1.0).astype(F32)
    grads_w = tuple(ctx.rng.standard_normal((classes, features)).astype(F32) for _ in range(steps))
    grads_b = tuple(ctx.rng.standard_normal((classes, 1)).astype(F32) for _ in range(steps))
    return weight, bias, grads_w, grads_b


def read_tuple(value, count: int, what: str, names: str):
    if not isinstance(value, (tuple, list)) or len(value) != count:
        raise CheckFailed(f"{what} returned {describe(value)}; expected a tuple of {count} tensors ({names})")
    return value


def explain_step(got: np.ndarray, variants: dict[str, np.ndarray]) -> str:
    """A sentence naming the known mistake `got` matches, if one does."""
    array = np.asarray(got, dtype=np.float64) if isinstance(got, np.ndarray) else None
    if array is None:
        return ""
    for description, variant in variants.items():
        if array.shape == variant.shape and relative_error(array, variant) < 1e-4:
            return f"\nWhat you returned is {description}."
    return ""


def judge_step_result(got, expected, *, what: str, inputs: str | Callable[[], str],
                      variants: dict[str, np.ndarray]) -> None:
    try:
        assert_close(got, expected, what=what, inputs=inputs, name="result", input_dtypes=[F32])
    except CheckFailed as failure:
        raise CheckFailed(str(failure) + explain_step(got, variants), status=failure.status) from None


@check("sgd_step_matches_reference", calls=["sgd_step"])
def sgd_step_matches_reference(ctx: Context) -> None:
    for lr, decay in STEP_SETTINGS:
        weight, bias, (gw,), (gb,) = step_problem(ctx)
        got = read_tuple(ctx.call("sgd_step", weight, bias, gw, gb, lr, decay), 2, "sgd_step",
                         "newWeight, newBias")
        new_w, new_b = ref64(ctx.reference.sgd_step, weight, bias, gw, gb, lr, decay)
        w64, g64, b64 = weight.astype(np.float64), gw.astype(np.float64), bias.astype(np.float64)
        inputs = lambda: (f"learningRate = {lr:g}, weightDecay = {decay:g}, weight = {describe(weight)}, "
                          f"gradWeight = {describe(gw)}")
        judge_step_result(got[0], new_w, what="sgd_step(...)[0] (newWeight)", inputs=inputs, variants={
            "weight - learningRate * gradWeight: the weight decay term is missing": w64 - lr * g64,
            "weight - learningRate * (gradWeight - weightDecay * weight): the decay has the wrong sign":
                w64 - lr * (g64 - decay * w64),
            "weight - learningRate * gradWeight - weightDecay * weight: the decay is not scaled by the "
            "learning rate": w64 - lr * g64 - decay * w64,
            "weight + learningRate * gradWeight: a step up the gradient, not down": w64 + lr * g64,
        })
        b_inputs = lambda: (f"learningRate = {lr:g}, weightDecay = {decay:g}, bias = {describe(bias)}, "
                            f"gradBias = {describe(gb)}")
        judge_step_result(got[1], new_b, what="sgd_step(...)[1] (newBias)", inputs=b_inputs, variants={
            "bias - learningRate * (gradBias + weightDecay * bias): the bias is decayed too, but weight "
            "decay applies to the weight only": b64 - lr * (gb + decay * b64),
        })


@check("sgd_step_several_steps", calls=["sgd_steps"])
def sgd_step_several_steps(ctx: Context) -> None:
    weight, bias, gws, gbs = step_problem(ctx, CLASSES, FEATURES, steps=3)
    weight = (weight * 0.01).astype(F32)
    got = ctx.call("sgd_steps", weight, bias, gws, gbs, 0.01, 0.001)
    expected, state = [], (weight, bias)
    for gw, gb in zip(gws, gbs):  # the reference's steps, each fed what the previous returned
        state = ref64(ctx.reference.sgd_step, *state, gw, gb, 0.01, 0.001)
        expected.append(state)
    for step, (state, reference) in enumerate(zip(got, expected), start=1):
        for index, name in enumerate(("newWeight", "newBias")):
            assert_close(state[index], reference[index], what=f"{name} after step {step}",
                         inputs="three steps of sgd_step at the lab's shapes (weight (10, 3072)), "
                                "learningRate = 0.01, weightDecay = 0.001, each fed what the previous returned",
                         name=name, input_dtypes=[F32])


@check("sgd_step_contract", calls=["sgd_step"])
def sgd_step_contract(ctx: Context) -> None:
    weight, bias, (gw,), (gb,) = step_problem(ctx, CLASSES, 20)
    got = read_tuple(ctx.call("sgd_step", weight, bias, gw, gb, 0.1, 0.01), 2, "sgd_step", "newWeight, newBias")
    expect_array(got[0], what="newWeight", library="torch", shapes=[(CLASSES, 20)])
    expect_array(got[1], what="newBias", library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


MOMENTUM_SETTINGS = [(0.1, 0.0, 0.9), (0.05, 0.01, 0.5)]  # (learningRate, weightDecay, momentum)


@check("momentum_step_matches_reference", calls=["momentum_step"])
def momentum_step_matches_reference(ctx: Context) -> None:
    for lr, decay, mu in MOMENTUM_SETTINGS:
        weight, bias, (gw,), (gb,) = step_problem(ctx)
        vw = ctx.rng.standard_normal(weight.shape).astype(F32)  # a velocity carried from earlier steps
        vb = ctx.rng.standard_normal(bias.shape).astype(F32)
        got = read_tuple(ctx.call("momentum_step", weight, bias, gw, gb, vw, vb, lr, decay, mu), 4,
                         "momentum_step", "newWeight, newBias, newVelocityWeight, newVelocityBias")
        expected = ref64(ctx.reference.momentum_step, weight, bias, gw, gb, vw, vb, lr, decay, mu)
        w64, g64, v64 = (a.astype(np.float64) for a in (weight, gw, vw))
        step = g64 + decay * w64
        inputs = lambda: (f"learningRate = {lr:g}, weightDecay = {decay:g}, momentum = {mu:g}, "
                          f"weight = {describe(weight)}, gradWeight = {describe(gw)}, "
                          f"velocityWeight = {describe(vw)} (not zero: carried from earlier steps)")
        judge_step_result(got[2], expected[2], what="momentum_step(...)[2] (newVelocityWeight)", inputs=inputs,
                          variants={
                              "the gradient alone: the velocity passed in is not carried over": step,
                              "momentum * velocity + (1 - momentum) * gradient: an average, but the velocity "
                              "accumulates the whole gradient": mu * v64 + (1 - mu) * step,
                              "momentum * velocity - gradient: the sign convention differs (the velocity adds "
                              "the gradient and the parameters move by -learningRate * velocity)": mu * v64 - step,
                              "momentum * velocity + learningRate * gradient: the learning rate belongs to the "
                              "parameter update, not the velocity": mu * v64 + lr * step,
                          })
        judge_step_result(got[0], expected[0], what="momentum_step(...)[0] (newWeight)", inputs=inputs, variants={
            "weight - learningRate * velocity with the velocity passed in: the parameters moved before the "
            "velocity was updated": w64 - lr * v64,
            "a plain SGD step: the velocity is not used": w64 - lr * step,
        })
        judge_step_result(got[1], expected[1], what="momentum_step(...)[1] (newBias)",
                          inputs=lambda: f"{inputs()}, bias = {describe(bias)}, velocityBias = {describe(vb)}",
                          variants={})
        judge_step_result(got[3], expected[3], what="momentum_step(...)[3] (newVelocityBias)",
                          inputs=lambda: f"{inputs()}, gradBias = {describe(gb)}, velocityBias = {describe(vb)}",
                          variants={})


@check("momentum_step_several_steps", calls=["momentum_steps"])
def momentum_step_several_steps(ctx: Context) -> None:
    weight, bias, gws, gbs = step_problem(ctx, 5, 8, steps=4)
    got = ctx.call("momentum_steps", weight, bias, gws, gbs, 0.1, 0.01, 0.9)
    expected, state = [], (weight, bias, np.zeros_like(weight), np.zeros_like(bias))
    for gw, gb in zip(gws, gbs):  # from zero velocities, each step fed what the previous returned
        w, b, vw, vb = state
        state = ref64(ctx.reference.momentum_step, w, b, gw, gb, vw, vb, 0.1, 0.01, 0.9)
        expected.append(state)
    names = ("newWeight", "newBias", "newVelocityWeight", "newVelocityBias")
    for step, (state, reference) in enumerate(zip(got, expected), start=1):
        for index, name in enumerate(names):
            assert_close(state[index], reference[index], what=f"{name} after step {step}",
                         inputs="four steps of momentum_step from zero velocities, learningRate = 0.1, "
                                "weightDecay = 0.01, momentum = 0.9, each fed the parameters and velocities "
                                "the previous step returned",
                         name=name, input_dtypes=[F32])


@check("momentum_step_contract", calls=["momentum_step"])
def momentum_step_contract(ctx: Context) -> None:
    weight, bias, (gw,), (gb,) = step_problem(ctx, CLASSES, 20)
    vw, vb = np.ones_like(weight), np.ones_like(bias)
    got = read_tuple(ctx.call("momentum_step", weight, bias, gw, gb, vw, vb, 0.1, 0.01, 0.9), 4, "momentum_step",
                     "newWeight, newBias, newVelocityWeight, newVelocityBias")
    for value, name, shape in zip(got, ("newWeight", "newBias", "newVelocityWeight", "newVelocityBias"),
                                  [(CLASSES, 20), (CLASSES, 1)] * 2):
        expect_array(value, what=name, library="torch", shapes=[shape])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- training: mini-batches ----------------------------------------------------------------

@functools.cache
@st.composite
def batch_logits(draw, bound: float = 10.0):
    """(labels (B,) int64, logits (C, B) float32) with C in [2, 12] and B in [1, 8]."""
    classes, size = draw(st.integers(2, 12)), draw(st.integers(1, 8))
    labels = draw(hnp.arrays(np.int64, (size,), elements=st.integers(0, classes - 1)))
    return labels, draw(matrix(classes, size, bound))


@check("softmax_batch_matches_reference", calls=["softmax_batch"])
def softmax_batch_matches_reference(ctx: Context) -> None:
    @ctx.for_all(batch_logits(20.0))
    def body(problem):
        _, a = problem
        got = ctx.call("softmax_batch", a)
        expected = ref64(ctx.reference.softmax_batch, a)
        try:
            assert_close(got, expected, what="softmax_batch(a)", inputs=lambda: f"a = {describe(a)} ({a.shape[1]} columns)",
                         name="predictions", input_dtypes=[F32])
        except CheckFailed as failure:
            rows = ref64(ctx.reference.softmax_batch, a.T).T
            whole = ref64(ctx.reference.softmax, a)
            raise CheckFailed(str(failure) + explain_step(got, {
                "the softmax of each row: the classes run down each column (dim 0)": rows,
                "one softmax over the whole matrix: each column must be normalised on its own": whole,
            }), status=failure.status) from None


def batch_predictions(ctx: Context, a: np.ndarray) -> np.ndarray:
    return ref64(ctx.reference.softmax_batch, a).astype(F32)


@check("loss_batch_matches_reference", calls=["loss_batch"])
def loss_batch_matches_reference(ctx: Context) -> None:
    @ctx.for_all(batch_logits(5.0))
    def body(problem):
        labels, a = problem
        p = batch_predictions(ctx, a)
        got = ctx.call("loss_batch", labels, p)
        expected = ref64(ctx.reference.loss_batch, labels, p).reshape(())
        assert_close(got, expected, what="loss_batch(labels, predictions)",
                     inputs=lambda: f"labels = {labels.tolist()}, predictions = {describe(p)}",
                     name="loss", input_dtypes=[F32], scalar_ok=True)


@check("loss_softmax_backward_batch_matches_reference", calls=["loss_softmax_backward_batch"])
def loss_softmax_backward_batch_matches_reference(ctx: Context) -> None:
    @ctx.for_all(batch_logits(5.0))
    def body(problem):
        labels, a = problem
        p = batch_predictions(ctx, a)
        got = ctx.call("loss_softmax_backward_batch", labels, p)
        expected = ref64(ctx.reference.loss_softmax_backward_batch, labels, p)
        try:
            assert_close(got, expected, what="loss_softmax_backward_batch(labels, predictions)",
                         inputs=lambda: f"labels = {labels.tolist()}, predictions = {describe(p)}",
                         name="grad", input_dtypes=[F32])
        except CheckFailed as failure:
            raise CheckFailed(str(failure) + explain_step(got, {
                f"the sum of the examples' gradients: divide by the batch size ({len(labels)}), since the "
                "loss is the batch's mean": expected * len(labels),
            }), status=failure.status) from None


@functools.cache
@st.composite
def batch_linear_inputs(draw):
    classes, features, size = draw(st.integers(1, 10)), draw(st.integers(1, 20)), draw(st.integers(1, 8))
    return (draw(matrix(features, size)), draw(matrix(classes, features)), draw(matrix(classes, 1)),
            draw(matrix(classes, size)))


@check("linear_backward_batch_matches_reference", calls=["linear_backward_batch"])
def linear_backward_batch_matches_reference(ctx: Context) -> None:
    @ctx.for_all(batch_linear_inputs())
    def body(problem):
        x, weight, bias, grad = problem
        got = read_pair(ctx.call("linear_backward_batch", x, weight, bias, grad), "linear_backward_batch")
        gw, gb = ref64(ctx.reference.linear_backward_batch, x, weight, bias, grad)
        size = x.shape[1]
        inputs = lambda: f"x = {describe(x)} ({size} columns), gradOutput = {describe(grad)}"
        judge_step_result(got[0], gw, what="linear_backward_batch(...)[0] (gradWeight)", inputs=inputs,
                          variants={f"the batch's mean: linear_backward_batch sums over the batch (the mean's "
                                    f"1/B is already in gradOutput)": gw / size} if size > 1 else {})
        judge_step_result(got[1], gb, what="linear_backward_batch(...)[1] (gradBias)", inputs=inputs,
                          variants={f"the batch's mean: linear_backward_batch sums over the batch (the mean's "
                                    f"1/B is already in gradOutput)": gb / size} if size > 1 else {})


@check("minibatch_contract", calls=["softmax_batch", "loss_batch", "loss_softmax_backward_batch",
                                    "linear_backward_batch"])
def minibatch_contract(ctx: Context) -> None:
    size = 5
    labels = np.array([3, 0, 9, 3, 7], dtype=np.int64)
    a = np.linspace(-2, 2, CLASSES * size, dtype=F32).reshape(CLASSES, size)
    expect_array(ctx.call("softmax_batch", a), what="softmax_batch(a)", library="torch", shapes=[(CLASSES, size)])
    p = batch_predictions(ctx, a)
    expect_array(ctx.call("loss_batch", labels, p), what="loss_batch(labels, predictions)", library="torch",
                 shapes=ONE_VALUE_SHAPES)
    expect_array(ctx.call("loss_softmax_backward_batch", labels, p), what="loss_softmax_backward_batch(...)",
                 library="torch", shapes=[(CLASSES, size)])
    x = np.linspace(0, 1, FEATURES * size, dtype=F32).reshape(FEATURES, size)
    weight = np.full((CLASSES, FEATURES), 0.01, dtype=F32)
    pair = read_pair(ctx.call("linear_backward_batch", x, weight, np.zeros((CLASSES, 1), F32), p),
                     "linear_backward_batch")
    expect_array(pair[0], what="gradWeight", library="torch", shapes=[(CLASSES, FEATURES)])
    expect_array(pair[1], what="gradBias", library="torch", shapes=[(CLASSES, 1)])
    expect_untouched(ctx.mutated, ctx.assignment.functions)


# -- training: train() ----------------------------------------------------------------------

# the fields of harness.train_run's tuple, in order
RUN_FIELDS = ("weight", "bias", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "measured_train_loss",
              "measured_train_accuracy", "measured_val_loss", "measured_val_accuracy")


# one grading job's training runs, by its sandbox and the run's arguments: the accuracy and
# the history of the same run are judged by two checks, and a run costs a quarter second
_RUNS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def train_run(ctx: Context, *args) -> dict:
    """harness.train_run's answer as a dict of RUN_FIELDS (each run once per grading job)."""
    try:
        runs = _RUNS.setdefault(ctx.sandbox, {})
    except TypeError:  # a sandbox that cannot be weakly referenced: no sharing
        runs = {}
    if args in runs:
        return dict(runs[args])
    values = ctx.call("train_run", *args)
    if not isinstance(values, tuple) or len(values) != len(RUN_FIELDS):
        raise RuntimeError(f"harness.train_run returned {describe(values)}")
    run = dict(zip(RUN_FIELDS, values))
    for key in ("weight", "bias"):
        run[key] = np.asarray(run[key], dtype=np.float64)
    runs[args] = run
    return dict(run)

def training_settings(ctx: Context, kind: str) -> tuple[int, float, float, int]:
    """(epochs, learningRate, the accuracy to reach, bins) of a training check; `kind` is
    "train" (pixels) or "histogram". Staff-supplied data (the fixture's env) has its own
    threshold."""
    extra = ctx.assignment.extra
    fixture = ctx.assignment.data["cifar"]
    staff = fixture.path() != fixture.file
    epochs = int(extra.get("train_epochs", 3))
    threshold = float(extra.get(f"{kind}_min_accuracy{'_staff_data' if staff else ''}",
                                extra.get(f"{kind}_min_accuracy", 0.5)))
    if kind == "histogram":
        return epochs, float(extra.get("histogram_learning_rate", 5.0)), threshold, int(extra.get("histogram_bins", 8))
    return epochs, float(extra.get("train_learning_rate", 0.01)), threshold, 0


def describe_run(epochs: int, lr: float, bins: int, data: str) -> str:
    features = f"{bins}-bin colour histograms of" if bins else "the pixels of"
    return (f"train(..., epochs={epochs}, learningRate={lr:g}, weightDecay=0, momentum=0, batchSize=1) on "
            f"{features} {data}")


def shown(values) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


def accuracy_failure(run: dict, threshold: float, what: str) -> str:
    """Why a run's measured validation accuracy is short of `threshold`, with what to look at."""
    measured = run["measured_val_accuracy"]
    lines = [f"{what}: the weights it returned classify {measured:.3f} of the validation set right "
             f"(measured by the grader); at least {threshold:g} is required."]
    if not np.isfinite(run["weight"]).all() or not np.isfinite(run["bias"]).all():
        lines.append("The weights hold NaN or infinity: the training diverged (a step up the gradient, or a "
                     "learning rate applied twice?).")
    elif measured <= 0.15:
        moved = float(np.abs(run["weight"]).max())
        if moved < 1e-6:
            lines.append("The weights are all zero: were the updates ever applied (sgd_step returns new tensors)?")
        else:
            lines.append("That is about chance (0.1 for 10 classes): check the sign of the update and that "
                         "linear_backward receives dloss/da = softmax(a) - onehot(label) and the same x.")
    return "\n".join(lines)


def draw_run(ctx: Context, run: dict, title: str, prefix: str, *, weights: bool) -> None:
    ctx.figure(f"{prefix}_loss", title=f"{title}: loss per epoch",
               lines={"train_loss": run["train_loss"], "val_loss": run["val_loss"]})
    ctx.figure(f"{prefix}_accuracy", title=f"{title}: accuracy per epoch",
               lines={"train_accuracy": run["train_accuracy"], "val_accuracy": run["val_accuracy"]})
    if weights and run["weight"].shape[1] == FEATURES:
        ctx.figure(f"{prefix}_weights", title=f"{title}: the learned weights of each class as an image",
                   images=[row.reshape(3, 32, 32) for row in run["weight"]])


@check("train_reaches_accuracy", calls=["train_run"])
def train_reaches_accuracy(ctx: Context) -> None:
    epochs, lr, threshold, _ = training_settings(ctx, "train")
    run = train_run(ctx, "fixture", 0, epochs, lr, 0.0, 0.0, 1, 0)
    draw_run(ctx, run, "train() on the lab's data", "train", weights=True)
    if run["measured_val_accuracy"] < threshold:
        raise CheckFailed(accuracy_failure(run, threshold, describe_run(epochs, lr, 0, "the lab's training set")))


@check("train_history_consistent", calls=["train_run"])
def train_history_consistent(ctx: Context) -> None:
    """The history train() returns agrees with its weights: the last epoch's validation
    figures exactly, the training figures roughly (a running mean during the epoch is fine)."""
    epochs, lr, _, _ = training_settings(ctx, "train")
    run = train_run(ctx, "fixture", 0, epochs, lr, 0.0, 0.0, 1, 0)  # the run train_reaches_accuracy judges
    what = describe_run(epochs, lr, 0, "the lab's training set")
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        values = run[key]
        if len(values) != epochs:
            raise CheckFailed(f"{what} returned {len(values)} value(s) of {key} ({shown(values)}); it must hold "
                              f"one per epoch ({epochs}).")
        if not all(np.isfinite(values)) or any(v < 0 for v in values):
            raise CheckFailed(f"{what} returned {key} = {shown(values)}: each must be a finite number >= 0.")
        if key.endswith("accuracy") and any(v > 1 for v in values):
            raise CheckFailed(f"{what} returned {key} = {shown(values)}: an accuracy is a fraction in [0, 1].")
    measured_acc, measured_loss = run["measured_val_accuracy"], run["measured_val_loss"]
    if abs(run["val_accuracy"][-1] - measured_acc) > 1.5 / 200:
        raise CheckFailed(f"{what} returned val_accuracy {shown(run['val_accuracy'])}, but the weights it returned "
                          f"classify {measured_acc:.3f} of the validation set right: the last epoch's figure "
                          f"must be the returned model's.")
    if not abs(run["val_loss"][-1] - measured_loss) <= 1e-3 * max(1.0, measured_loss):
        raise CheckFailed(f"{what} returned val_loss {shown(run['val_loss'])}, but the weights it returned have a "
                          f"mean validation loss of {measured_loss:.4f}: the last epoch's figure must be the mean "
                          f"negative log-likelihood of the returned model over the validation set.")
    train_acc, train_loss = run["measured_train_accuracy"], run["measured_train_loss"]
    if abs(run["train_accuracy"][-1] - train_acc) > 0.2:
        raise CheckFailed(f"{what} returned train_accuracy {shown(run['train_accuracy'])}, but the weights it "
                          f"returned classify {train_acc:.3f} of the training set right.")
    # a running mean over the last epoch sits well above the loss after it (per-example SGD is noisy)
    if not 0.5 * train_loss - 0.05 <= run["train_loss"][-1] <= 3.0 * train_loss + 1.0:
        raise CheckFailed(f"{what} returned train_loss {shown(run['train_loss'])}, but the weights it returned have "
                          f"a mean training loss of {train_loss:.4f}: the figure is not the mean loss of the "
                          f"epoch's examples (a sum, or a single example's?).")


def unseen_seed(ctx: Context) -> int:
    return 1000 + int(ctx.rng.integers(0, 100000))


@check("train_unseen_data", calls=["train_run"])
def train_unseen_data(ctx: Context) -> None:
    epochs, lr, _, _ = training_settings(ctx, "train")
    threshold = float(ctx.assignment.extra.get("train_min_accuracy", 0.5))
    seed = unseen_seed(ctx)
    run = train_run(ctx, seed, 0, epochs, lr, 0.0, 0.0, 1, 0)
    if run["measured_val_accuracy"] < threshold:
        raise CheckFailed(accuracy_failure(run, threshold, describe_run(
            epochs, lr, 0, f"data it has not seen (harness.cifar_like({seed}, 800, 200): ten other classes)")) +
            "\nThe weights must be learned from the data train() is given.")


@check("histogram_training_reaches_accuracy", calls=["train_run"])
def histogram_training_reaches_accuracy(ctx: Context) -> None:
    epochs, lr, threshold, bins = training_settings(ctx, "histogram")
    run = train_run(ctx, "fixture", bins, epochs, lr, 0.0, 0.0, 1, 0)
    draw_run(ctx, run, "train() on colour histograms", "histogram", weights=False)
    if run["measured_val_accuracy"] < threshold:
        raise CheckFailed(accuracy_failure(run, threshold, describe_run(epochs, lr, bins, "the lab's training set")))


@check("histogram_training_unseen_data", calls=["train_run"])
def histogram_training_unseen_data(ctx: Context) -> None:
    epochs, lr, _, bins = training_settings(ctx, "histogram")
    threshold = float(ctx.assignment.extra.get("histogram_min_accuracy", 0.3))
    seed = unseen_seed(ctx)
    run = train_run(ctx, seed, bins, epochs, lr, 0.0, 0.0, 1, 0)
    if run["measured_val_accuracy"] < threshold:
        raise CheckFailed(accuracy_failure(run, threshold, describe_run(
            epochs, lr, bins, f"data it has not seen (harness.cifar_like({seed}, 800, 200))")) +
            "\nThe weights must be learned from the data train() is given.")
