"""Contract checks shared by assignments: type, exact shape, finiteness, no in-place edits."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .compare import describe
from .outcome import CheckFailed
from .sandbox.client import ReturnedArray

ONE_VALUE_SHAPES = ((), (1,), (1, 1))


def expect_array(value: Any, *, what: str, library: str, shapes: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Fail unless `value` is a finite floating array of `library` with one of `shapes`."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{what} returned {describe(value)}; expected a {library} tensor")
    if library == "torch" and isinstance(value, ReturnedArray) and value.lib != "torch":
        raise CheckFailed(f"{what} returned a numpy array; the lab expects a torch tensor "
                          "(torch.from_numpy converts one)")
    if value.dtype.kind != "f":
        raise CheckFailed(f"{what} returned values of dtype {value.dtype}; expected floating point")
    if tuple(value.shape) not in [tuple(s) for s in shapes]:
        wanted = " or ".join(str(tuple(s)) for s in shapes)
        raise CheckFailed(f"{what} returned shape {tuple(value.shape)}; expected {wanted}")
    if not np.all(np.isfinite(value)):
        raise CheckFailed(f"{what} returned NaN or infinite values: {describe(value)}")
    return value


def expect_untouched(mutated: dict[str, list[int]], params: Mapping[str, Sequence[str]]) -> None:
    """Fail if any call modified one of its arguments in place; `params` (the spec's
    `functions`) names the arguments."""
    for function, indices in mutated.items():
        known = params.get(function, ())
        names = [known[i] if i < len(known) else f"argument {i + 1}" for i in indices]
        raise CheckFailed(f"{function}() modified its argument(s) {', '.join(names)} in place; "
                          "the caller's arrays must be left unchanged (work on a copy: .clone() of a "
                          "tensor, .copy() of a numpy array)")
