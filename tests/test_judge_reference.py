"""The softmax lab's judge_reference (float64 numpy formulas) answers as the reference
does: the checks compare students with it, and a grade with the bank on disk never
imports torch in the judge."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader import spec
from grader.checks import import_file

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = spec.load("softmax_lab")
REFERENCE = import_file(ASSIGNMENT.reference, "gradecheck_reference_test_judge_reference")
FORMULAS = import_file(ASSIGNMENT.judge_reference, "gradecheck_formulas_test_judge_reference")
EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def functions(module) -> set[str]:
    return {name for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")}


def by_reference(name: str, *args):
    """The reference's answer in float64, as numpy (labels stay integer tensors)."""
    converted = [torch.from_numpy(a.copy()) if isinstance(a, np.ndarray) else a for a in args]
    result = getattr(REFERENCE, name)(*converted)
    if isinstance(result, tuple):
        return tuple(r.numpy() for r in result)
    return result.numpy()


def same(name: str, *args) -> None:
    expected = by_reference(name, *args)
    got = getattr(FORMULAS, name)(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    pairs = zip(got, expected) if isinstance(expected, tuple) else [(got, expected)]
    assert isinstance(got, tuple) == isinstance(expected, tuple), name
    for mine, theirs in pairs:
        mine = np.asarray(mine)
        assert mine.shape == theirs.shape, (name, mine.shape, theirs.shape)
        # the same formula, summed in another order: equal to rounding, relative to the result's size
        scale = 1.0 + (float(np.abs(theirs).max()) if theirs.size else 0.0)
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-13 * scale, err_msg=name)


def floats(shape, bound=10.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(-bound, bound))


def probabilities(n):
    return hnp.arrays(np.float64, (n, 1), elements=st.floats(0.05, 1.0)).map(lambda p: p / p.sum())


def test_every_function_but_train_has_its_formula():
    assert functions(FORMULAS) == functions(REFERENCE) - {"train"}


@EXAMPLES
@given(st.integers(1, 12).flatmap(lambda n: floats((n, 1), 50.0)))
def test_softmax(a):
    same("softmax", a)
    same("softmax", a + 900.0)  # stable for huge logits


@EXAMPLES
@given(st.integers(1, 6), st.integers(1, 8), st.integers(1, 3), st.data())
def test_linear_with_stacks_of_weights_and_biases(c, d, stack, data):
    x, weight, bias = data.draw(floats((d, 1))), data.draw(floats((c, d))), data.draw(floats((c, 1)))
    same("linear", x, weight, bias)
    same("linear", x, data.draw(floats((stack, c, d))), bias)
    same("linear", x, weight, data.draw(floats((stack, c, 1))))
    gradient = data.draw(floats((c, 1)))
    same("linear_backward", x, weight, bias, gradient)


@EXAMPLES
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(st.integers(0, n - 1), probabilities(n), floats((n, 1)))))
def test_losses_and_their_gradients(problem):
    label, p, g = problem
    for name in ("loss", "loss_softmax_backward", "loss_backward"):
        same(name, label, p)
    same("softmax_backward", g, p)
    same("max_margin_loss", label, g, 1.0)
    same("max_margin_loss_backward", label, g, 0.5)


@EXAMPLES
@given(st.integers(1, 12), st.integers(1, 5), st.integers(1, 5), st.data())
def test_color_histogram(bins, height, width, data):
    img = data.draw(hnp.arrays(np.float64, (3, height, width), elements=st.floats(0.0, 1.0)))
    same("color_histogram", img, bins)


@EXAMPLES
@given(st.integers(1, 6), st.integers(1, 6), st.data())
def test_optimiser_steps(c, d, data):
    arrays = [data.draw(floats(shape)) for shape in [(c, d), (c, 1)] * 3]
    weight, bias, gw, gb, vw, vb = arrays
    same("sgd_step", weight, bias, gw, gb, 0.1, 0.01)
    same("momentum_step", weight, bias, gw, gb, vw, vb, 0.05, 0.01, 0.9)


@EXAMPLES
@given(st.integers(2, 12), st.integers(1, 8), st.data())
def test_batch_functions(classes, size, data):
    logits = data.draw(floats((classes, size), 20.0))
    labels = data.draw(hnp.arrays(np.int64, (size,), elements=st.integers(0, classes - 1)))
    same("softmax_batch", logits)
    p = by_reference("softmax_batch", logits)
    same("loss_batch", labels, p)
    same("loss_softmax_backward_batch", labels, p)
    x, gradient = data.draw(floats((5, size))), data.draw(floats((classes, size)))
    same("linear_backward_batch", x, data.draw(floats((classes, 5))), data.draw(floats((classes, 1))), gradient)


@pytest.mark.slow
def test_a_grade_with_its_bank_on_disk_imports_no_torch_in_the_judge(tmp_path):
    """The bank is recorded (with the reference, so with torch) by one process; a grade by
    the next reads it and never imports torch, for a right submission or a wrong one."""
    # this machine's own GRADECHECK_* settings aside (GRADECHECK_EXAMPLES=live turns banks off)
    env = {name: value for name, value in os.environ.items() if not name.startswith("GRADECHECK_")}
    env["GRADECHECK_CACHE"] = str(tmp_path / "cache")
    samples = ROOT / "assignments" / "softmax_lab" / "samples"
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from grader import spec\n"
        "from grader.runner import grade\n"
        "scores = [grade(spec.load('softmax_lab'), Path(p)).to_dict()['score'] for p in sys.argv[1:]]\n"
        "print(json.dumps({'scores': scores, 'torch': 'torch' in sys.modules}))\n")
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script, str(samples / "correct.py"), str(samples / "buggy.py")],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert runs[0]["torch"], "recording the bank runs the reference, which imports torch"
    assert not runs[1]["torch"]
    assert runs[1]["scores"] == runs[0]["scores"] and runs[1]["scores"][0] > runs[1]["scores"][1]
