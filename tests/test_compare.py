"""Comparisons and their messages to students."""

from __future__ import annotations

import numpy as np
import pytest

from grader.compare import as_array, assert_close, relative_error, tolerance_for
from grader.gradcheck import central_differences, sampled_check
from grader.outcome import CheckFailed
from grader.sandbox.client import Opaque


def failure(got, expected, **kw) -> str:
    with pytest.raises(CheckFailed) as caught:
        assert_close(got, expected, what="f(x)", **kw)
    return caught.value.message


def test_relative_error_is_the_course_measure():
    assert relative_error(np.array([1.0, 0]), np.array([1.0, 0])) == 0
    assert relative_error(np.array([0.0]), np.array([0.0])) == 0
    assert abs(relative_error(np.array([1.0]), np.array([3.0])) - 0.5) < 1e-12


def test_tolerance_follows_least_precise_dtype():
    assert tolerance_for(np.float64) < tolerance_for(np.float32) < tolerance_for(np.float16)
    assert tolerance_for(np.float64, np.float32) == tolerance_for(np.float32)


def test_one_value_shapes_are_accepted():
    for value in (np.array(2.0), np.array([2.0]), np.array([[2.0]]), 2.0):
        assert_close(value, np.array(2.0), what="loss", scalar_ok=True)


def test_wrong_entries_are_listed_with_their_index():
    expected = np.arange(1.0, 13.0).reshape(3, 4)
    got = expected.copy()
    got[1, 2] = -got[1, 2]
    message = failure(got, expected, name="gradWeight")
    assert "gradWeight[1, 2]: expected 7, got -7" in message
    assert "Relative error" in message


@pytest.mark.parametrize("distort, words", [
    (lambda e: -e, "sign is flipped"),
    (lambda e: 0.5 * e, "0.5 times"),
    (lambda e: np.roll(e, 1, axis=0), "shifted by one"),
    (lambda e: np.zeros_like(e), "all zeros"),
    (lambda e: e.T.copy(), "transposed"),
])
def test_diagnoses(distort, words):
    expected = np.random.default_rng(0).standard_normal((4, 4))
    assert words in failure(distort(expected), expected)


def test_transposed_shape_and_bad_types_are_explained():
    with pytest.raises(CheckFailed, match="looks transposed"):
        as_array(np.zeros((5, 2)), (2, 5), what="g")
    with pytest.raises(CheckFailed, match="returned None"):
        as_array(None, (2,), what="g")
    with pytest.raises(CheckFailed, match="list"):
        as_array([1.0, 2.0], (2,), what="g")
    with pytest.raises(CheckFailed, match="dict"):
        as_array(Opaque("dict", "{}"), (2,), what="g")


def test_nan_fails():
    assert "NaN" in failure(np.array([np.nan, 1.0]), np.array([0.5, 0.5]))


def test_central_differences_match_an_analytic_gradient():
    w = np.random.default_rng(1).standard_normal((3, 5))
    f = lambda batch: np.sin(batch).sum(axis=(1, 2))  # noqa: E731
    assert np.allclose(central_differences(f, w), np.cos(w), atol=1e-8)


def test_sampled_check_flags_a_single_wrong_entry_when_sampled():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6))
    g = rng.standard_normal((4, 6))
    f = lambda batch: (batch * g).sum(axis=(1, 2))  # noqa: E731
    assert all(p.error() < 1e-6 for p in sampled_check(f, x, g, rng=rng, coordinates=24))
    wrong = g.copy()
    wrong[2, 3] *= 1.5
    assert any(p.error() > 1e-3 for p in sampled_check(f, x, wrong, rng=rng, coordinates=24))


def test_rounding_noise_reads_as_zero_and_a_sign_flip_gets_no_meaningless_error():
    expected = np.array([1.0, -1.0, -1.11022e-10, 0.5])
    got = -expected
    message = failure(got, expected, name="grad")
    assert "1.11022e-10" not in message
    noisy = failure(np.array([1.0, 2.5, 0.3]), np.array([1.0, 2.0, -1.11022e-10]), name="g")
    assert "g[2]: expected 0, got 0.3" in noisy
    assert "not meaningful here, since got is close to -expected" in message
    assert "e+0" not in message  # no relative error of 1.34e+08
    assert "Diagnosis: the sign is flipped." in message
    other = failure(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.5]), name="y")
    assert "Relative error ||got - expected|| / ||got + expected|| = " in other
