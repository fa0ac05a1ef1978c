"""Checks of the toy package assignment (engine tests)."""

from __future__ import annotations

import numpy as np

from grader.checks import Context, Registry
from grader.compare import assert_close

registry = Registry()
check = registry.check


@check("square_matches_reference", calls=["square"])
def square_matches_reference(ctx: Context) -> None:
    x = np.array([-2.0, 0.5, 3.0])
    assert_close(ctx.call("square", x), ctx.expected("square", x), what=f"square({x})")


@check("scalar_gradients", calls=["product_rule"])
def scalar_gradients(ctx: Context) -> None:
    got = ctx.call("product_rule", 3.0, -2.0)
    assert_close(np.asarray(got), np.asarray(ctx.expected("product_rule", 3.0, -2.0)),
                 what="(df/da, df/db) of f = a * b + a at a = 3, b = -2")


@check("slope_found", calls=["fit_slope"])
def slope_found(ctx: Context) -> None:
    xs = np.linspace(-1.0, 1.0, 9)
    ys = 2.5 * xs
    assert_close(ctx.call("fit_slope", xs, ys), 2.5, what="fit_slope(xs, 2.5 * xs)", scalar_ok=True)
