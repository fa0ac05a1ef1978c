"""The judge's sampled gradient check on the lab's 10x3072 weight gradient.

It must catch single-entry, sign, layout and row errors, and never fail a
correct float32 or float64 gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.compare import tolerance_for
from grader.gradcheck import mismatches, sampled_check

CLASSES, FEATURES = 10, 3072


def lab_parts(seed: int):
    """x (3072, 1), bias (10, 1) and a label of problem `seed` (float64 of float32 values)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (FEATURES, 1)).astype(np.float32).astype(np.float64)
    bias = rng.standard_normal((CLASSES, 1)) * 0.1
    return x, bias, int(rng.integers(CLASSES))


def problem(seed: int):
    """f(W) = -log softmax(W x + b)[label] in float64, and its exact gradient."""
    x, bias, label = lab_parts(seed)
    weight = (np.random.default_rng(seed + 7).standard_normal((CLASSES, FEATURES)) * 0.01)
    weight = weight.astype(np.float32).astype(np.float64)

    def f_batch(weights: np.ndarray) -> np.ndarray:
        a = (weights.reshape(-1, FEATURES) @ x).reshape(-1, CLASSES, 1) + bias
        a = a - a.max(axis=1, keepdims=True)
        return np.log(np.exp(a).sum(axis=(1, 2))) - a[:, label, 0]

    a = weight @ x + bias
    y = np.exp(a - a.max())
    y /= y.sum()
    y[label] -= 1
    return f_batch, weight, y @ x.T


def failing(seed: int, grad: np.ndarray, dtype=np.float32) -> list:
    f_batch, weight, _ = problem(seed)
    probes = sampled_check(f_batch, weight, grad.astype(dtype).astype(np.float64),
                           rng=np.random.default_rng(seed + 1000))
    return mismatches(probes, tolerance_for(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_false_failures_over_200_problems(dtype):
    for seed in range(200):
        _, _, grad = problem(seed)
        assert not failing(seed, grad, dtype), seed


def distortions(grad: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    one_entry = grad.copy()
    # an entry of at least median size: a 1% change of a near-zero entry is
    # below float32 resolution in any measure
    typical = np.flatnonzero(np.abs(grad) >= np.median(np.abs(grad)))
    one_entry.reshape(-1)[rng.choice(typical)] *= 1.01
    row = grad.copy()
    row[rng.integers(CLASSES)] *= 0.5
    return {
        "one entry off by 1%": one_entry,
        "sign flipped": -grad,
        "transposed layout": np.ascontiguousarray(grad.T).reshape(CLASSES, FEATURES),
        "one row halved": row,
    }


@pytest.mark.parametrize("name", ["one entry off by 1%", "sign flipped", "transposed layout", "one row halved"])
def test_catches_plausible_errors(name):
    for seed in range(20):
        _, _, grad = problem(seed)
        assert failing(seed, distortions(grad, seed)[name]), (name, seed)


def float32_forward(seed: int, classes: int = CLASSES, features: int = FEATURES,
                    weight_seed: int | None = None):
    """What a correct student computes in float32 from the float32 forward pass,
    two ways (y @ x.T and an outer product), for problem `seed`."""
    if weight_seed is None:
        x, bias, label = lab_parts(seed)
        weight = np.random.default_rng(seed + 7).standard_normal((classes, features)) * 0.01
    else:
        rng = np.random.default_rng(weight_seed)
        x = rng.uniform(0, 1, (features, 1))
        bias = rng.standard_normal((classes, 1)) * 0.1
        label = 3
        weight = rng.standard_normal((classes, features)) * 0.01
    x32, w32, b32 = (v.astype(np.float32) for v in (x, weight, bias))
    a = w32 @ x32 + b32
    y = np.exp(a - a.max())
    y /= y.sum()
    y[label] -= 1
    return (y @ x32.T).astype(np.float64), np.outer(y[:, 0], x32[:, 0]).astype(np.float64)


def test_a_gradient_computed_in_float32_from_a_float32_forward_pass_passes():
    for seed in range(100):
        for grad in float32_forward(seed):
            assert not failing(seed, grad), seed


def test_one_entry_off_by_one_percent_is_caught_in_a_100_by_30720_gradient():
    """Issue #17's large case: the label's row dominates ||grad||, the float32 forward
    pass puts coherent errors in the others, and one ordinary entry is off by 1%."""
    classes, features = 100, 30720
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (features, 1))
    bias = rng.standard_normal((classes, 1)) * 0.1
    weight = rng.standard_normal((classes, features)) * 0.01

    def f_batch(weights: np.ndarray) -> np.ndarray:
        a = (weights.reshape(-1, features) @ x.astype(np.float32).astype(np.float64)).reshape(-1, classes, 1)
        a = a + bias.astype(np.float32)
        a = a - a.max(axis=1, keepdims=True)
        return np.log(np.exp(a).sum(axis=(1, 2))) - a[:, 3, 0]

    point = weight.astype(np.float32).astype(np.float64)
    grad, _ = float32_forward(0, classes, features, weight_seed=0)
    wrong = grad.copy()
    typical = np.flatnonzero(np.abs(grad) >= np.median(np.abs(grad)))
    wrong.reshape(-1)[np.random.default_rng(5).choice(typical)] *= 1.01
    check = lambda g: mismatches(sampled_check(f_batch, point, g, rng=np.random.default_rng(1)),  # noqa: E731
                                 tolerance_for(np.float32))
    assert not check(grad)
    assert check(wrong)


def test_the_inputs_it_evaluates_are_the_same_bytes_whatever_threads_blas_runs():
    """BLAS splits a long dot product by its thread count; the perturbed inputs (which a
    handout records the reference's answers for, by their bytes) must not depend on it."""
    import hashlib
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, numpy as np\n"
        "from grader.gradcheck import sampled_check\n"
        "rng = np.random.default_rng(5)\n"
        "x = rng.standard_normal((100, 10000)); grad = rng.standard_normal((100, 10000))\n"
        "seen = hashlib.sha256()\n"
        "def f(batch):\n"
        "    seen.update(np.ascontiguousarray(batch).tobytes())\n"
        "    return (batch * batch).sum(axis=(1, 2))\n"
        "probes = sampled_check(f, x, grad, rng=np.random.default_rng(1))\n"
        "seen.update(repr([(p.label, p.analytic, p.scale) for p in probes]).encode())\n"
        "print(seen.hexdigest())\n")
    digests = set()
    for threads in ("1", "4"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                              timeout=120, check=True)
        digests.add(done.stdout.strip())
    assert len(digests) == 1 and hashlib.sha256().hexdigest() not in digests
