"""Checks of the toy numpy assignment (engine tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks import Context, Registry
from grader.compare import assert_close
from grader.contract import expect_untouched

registry = Registry()
check = registry.check


@check("scale_matches_reference", calls=["scale"])
def scale_matches_reference(ctx: Context) -> None:
    arrays = [np.arange(n, dtype=np.float64) for n in (1, 3, 5)]
    answers = ctx.call_many("scale", [(x, 2.0) for x in arrays])
    for x, answer in zip(arrays, answers):
        assert_close(answer, x * 2.0, what=f"scale(x, 2.0) with x = {x}")

    @ctx.for_all(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-5, 5)), st.floats(-3, 3))
    def body(x, factor):
        assert_close(ctx.call("scale", x, factor), ctx.reference.scale(x, factor),
                     what=f"scale({x}, {factor})")


@check("scale_contract", calls=["scale"])
def scale_contract(ctx: Context) -> None:
    ctx.call("scale", np.ones(3), 3.0)
    expect_untouched(ctx.mutated, ctx.assignment.functions)


@check("accumulator_totals", calls=["accumulate"])
def accumulator_totals(ctx: Context) -> None:
    values = [1.0, 2.5, -4.0]
    totals = ctx.call("accumulate", 10.0, tuple(values))
    expected = ctx.expected("accumulate", 10.0, tuple(values))
    ctx.figure("totals", title="Running totals", lines={"yours": totals, "expected": expected})
    assert_close(np.asarray(totals, dtype=np.float64), np.asarray(expected),
                 what="the running totals of Accumulator(10.0) after add(1.0), add(2.5), add(-4.0)")


@check("means_on_fixture", calls=["means_of_points"])
def means_on_fixture(ctx: Context) -> None:
    points = ctx.data("points")["X"]
    ctx.figure("points", title="The fixture's points, as a picture", images=[points[:8], points[8:16]])
    assert_close(ctx.call("means_of_points"), points.mean(axis=0),
                 what="column_means(X) of the fixture `points`")
