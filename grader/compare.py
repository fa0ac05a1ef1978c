"""Compare what a student's function returned with what was expected.

Everything here raises `CheckFailed` with a message written for the student:
what came back, what was expected, the relative error ||a - b|| / ||a + b||
and, for arrays, the worst entries and a diagnosis where one fits.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Callable, Sequence

import numpy as np

from .outcome import CheckFailed
from .sandbox.client import Opaque
from .sandbox.protocol import dtype_name

# Relative tolerance by the least precise dtype involved (inputs or result).
TOLERANCE = {"float16": 5e-3, "bfloat16": 2e-2, "float32": 1e-4, "float64": 1e-7}
PRECISION_ORDER = ["bfloat16", "float16", "float32", "float64"]


# The dtype results are judged at (the assignment's `dtype`), whatever the student returns:
# returning float16 must not buy float16's looser tolerance.
_JUDGED_AT: ContextVar[str] = ContextVar("judged_at", default="float32")


def judge_at(dtype: str) -> None:
    """Judge every later comparison of this context at `dtype`'s tolerance (or stricter inputs')."""
    if dtype not in TOLERANCE:
        raise ValueError(f"cannot judge at {dtype!r}: one of {', '.join(TOLERANCE)}")
    _JUDGED_AT.set(dtype)


def judged_dtype() -> str:
    """The dtype comparisons are judged at (see `judge_at`)."""
    return _JUDGED_AT.get()


def tolerance_for(*dtypes: Any) -> float:
    """The relative tolerance suited to the least precise floating dtype given."""
    names = [dtype_name(np.dtype(d)) if not isinstance(d, str) else d for d in dtypes if d is not None]
    floating = [n for n in names if n in TOLERANCE]
    if not floating:
        return TOLERANCE["float32"]
    return TOLERANCE[min(floating, key=PRECISION_ORDER.index)]


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    """||got - expected|| / ||got + expected||, 0 when both are zero."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    num = float(np.linalg.norm(got - expected))
    den = float(np.linalg.norm(got + expected))
    if num == 0:
        return 0.0
    return num / den if den > 0 else float("inf")


def describe(value: Any, limit: int = 12) -> str:
    """A short human description of a value (arrays shown in full when small)."""
    if isinstance(value, Opaque):
        return f"a {value.type} ({value.repr})" if value.repr else f"a {value.type}"
    if isinstance(value, np.ndarray):
        if value.size <= limit:
            body = np.array2string(value.reshape(-1), precision=4, separator=", ",
                                   suppress_small=False, max_line_width=200)
            return f"{body} (shape {tuple(value.shape)}, {value.dtype})"
        finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
        span = f"values in [{finite.min():.4g}, {finite.max():.4g}]" if finite.size else "no finite values"
        return f"an array of shape {tuple(value.shape)}, {value.dtype}, {span}"
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return f"a {kind} of {len(value)}: (" + ", ".join(describe(v, 4) for v in value[:4]) + ")"
    return repr(value) if value is not None else "None"


def as_array(value: Any, shape: Sequence[int], *, what: str, scalar_ok: bool = False) -> np.ndarray:
    """Read a returned value as a float64 array of `shape`, or fail saying why.

    Accepts torch tensors and numpy arrays (decoded to numpy by the sandbox)
    and, when `scalar_ok`, plain numbers. Shapes that differ only by size-one
    dimensions are reshaped (the contract check judges exact shapes).
    """
    shape = tuple(shape)
    if isinstance(value, (bool, int, float)) and not isinstance(value, bool) and scalar_ok:
        value = np.asarray(value, dtype=np.float64)
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{what} returned {describe(value)}; expected a tensor of shape {shape}")
    if value.dtype.kind not in "fiub":
        raise CheckFailed(f"{what} returned an array of {value.dtype}; expected floating point values")
    size = int(np.prod(shape)) if shape else 1
    if value.shape != shape:
        squeezed = tuple(n for n in value.shape if n != 1)
        wanted = tuple(n for n in shape if n != 1)
        if value.size == size and squeezed == wanted:
            value = value.reshape(shape)
        elif len(shape) == 2 and value.shape == shape[::-1]:
            raise CheckFailed(f"{what} returned shape {tuple(value.shape)}; expected {shape} "
                              "(it looks transposed)")
        else:
            raise CheckFailed(f"{what} returned shape {tuple(value.shape)}; expected {shape}")
    return value.astype(np.float64)


def _index(flat: int, shape: tuple) -> str:
    if not shape:
        return ""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def diagnose(got: np.ndarray, expected: np.ndarray, rtol: float) -> str:
    """Name a likely cause when `got` is a simple distortion of `expected`."""
    if not np.all(np.isfinite(got)):
        return "the result holds NaN or infinity"
    norm = float(np.linalg.norm(expected))
    if norm == 0:
        return ""
    if float(np.linalg.norm(got)) == 0:
        return "the result is all zeros"
    if relative_error(-got, expected) <= rtol * 10:
        return "the sign is flipped"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and relative_error(got.T, expected) <= rtol * 10:
        return "the result looks transposed"
    factor = float(np.vdot(got, expected) / np.vdot(expected, expected))
    if abs(factor) > 1e-6 and abs(factor - 1) > 1e-3 and relative_error(got, factor * expected) <= rtol * 10:
        return f"the result is {factor:.4g} times the expected one (a factor missing or extra?)"
    for axis in range(got.ndim):
        if got.shape[axis] > 1:
            for step in (1, -1):
                if relative_error(np.roll(got, step, axis=axis), expected) <= rtol * 10:
                    return "the entries are shifted by one index (a 1-based label?)"
    wrong = ~np.isclose(got, expected, rtol=rtol * 10, atol=rtol * norm / np.sqrt(expected.size))
    if 0 < wrong.sum() <= 3 and expected.size > 3:
        return f"only {int(wrong.sum())} of {expected.size} entries are off"
    return ""


def _number(value: float, tiny: float) -> str:
    """A value as a message shows it: 6 significant digits, and 0 for rounding noise."""
    return "0" if np.isfinite(value) and abs(value) < tiny else f"{value:.6g}"


def _relative_error_line(got: np.ndarray, expected: np.ndarray, rtol: float) -> str:
    """The course's relative error, unless `got` is close to -expected: then its
    denominator ||got + expected|| is near zero and the figure would mean nothing."""
    total = float(np.linalg.norm(got)) + float(np.linalg.norm(expected))
    if np.all(np.isfinite(got)) and total > 0 and float(np.linalg.norm(got + expected)) < 1e-3 * total:
        return ("Relative error ||got - expected|| / ||got + expected||: not meaningful here, "
                "since got is close to -expected (||got + expected|| is almost 0).")
    return (f"Relative error ||got - expected|| / ||got + expected|| = "
            f"{relative_error(got, expected):.3g} (tolerance {rtol:g}).")


def assert_close(got: Any, expected: np.ndarray, *, what: str, inputs: str | Callable[[], str] = "",
                 name: str = "result", rtol: float | None = None, scale: float | None = None,
                 input_dtypes: Sequence[Any] = (), scalar_ok: bool = False) -> None:
    """Fail unless every entry of `got` is within tolerance of `expected`.

    Entry i passes when |got_i - expected_i| <= rtol * (|expected_i| + scale),
    where `scale` defaults to the root-mean-square of `expected` (so entries
    near zero are judged against the size of the whole result). `rtol`
    defaults to the tolerance of the least precise dtype among the inputs and
    the assignment's judged dtype (`judge_at`), never the returned value's:
    a float16 result is held to the float32 tolerance of a float32 lab.
    `inputs` may be a function giving the text: it is called only for a failure's
    message (describing arrays costs more than comparing them).
    """
    expected = np.asarray(expected, dtype=np.float64)
    array = as_array(got, expected.shape, what=what, scalar_ok=scalar_ok)
    if rtol is None:
        rtol = tolerance_for(judged_dtype(), *input_dtypes)
    if scale is None:
        scale = float(np.sqrt(np.mean(expected**2))) if expected.size else 0.0
    scale = max(scale, 1e-12)
    finite = np.all(np.isfinite(array))
    bad = ~(np.abs(array - expected) <= rtol * (np.abs(expected) + scale)) if finite else ~np.isfinite(array)
    if not bad.any():
        return
    if callable(inputs):
        inputs = inputs()
    lines = [f"{what} returned the wrong values" + (f" for {inputs}" if inputs else "") + "."]
    lines.append(_relative_error_line(array, expected, rtol))
    order = np.argsort(-np.where(bad, np.nan_to_num(np.abs(array - expected), nan=np.inf), -1).reshape(-1),
                       kind="stable")  # equal errors in index order
    shown = [int(i) for i in order[:5] if bad.reshape(-1)[int(i)]]
    # what rounding leaves of a zero (-1.1e-10 where the entries are about 1) reads as 0
    tiny = 1e-7 * scale
    for flat in shown:
        lines.append(f"  {name}{_index(flat, expected.shape)}: expected {_number(expected.reshape(-1)[flat], tiny)}, "
                     f"got {_number(array.reshape(-1)[flat], tiny)}")
    if int(bad.sum()) > len(shown):
        lines.append(f"  ... {int(bad.sum()) - len(shown)} more entries differ")
    cause = diagnose(array, expected, rtol)
    if cause:
        lines.append(f"Diagnosis: {cause}.")
    raise CheckFailed("\n".join(lines))
