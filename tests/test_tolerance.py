"""Tolerances come from the assignment's declared dtype, never from what a submission returns."""

from __future__ import annotations

import pytest

from conftest import grade_json, scores
from grader import compare

WRONG_GRADIENTS = {  # gradWeight 0.3% too large, returned in the dtype under test
    "    gradWeight = torch.mm(gradOutput, x.t())\n":
        "    gradWeight = (torch.mm(gradOutput, x.t()) * 1.003).to(DTYPE)\n",
    "    gradBias = gradOutput.clone()\n": "    gradBias = gradOutput.clone().to(DTYPE)\n",
}


def test_assert_close_ignores_the_returned_dtype():
    import numpy as np

    expected = np.linspace(1, 2, 50)
    compare.judge_at("float32")
    with pytest.raises(compare.CheckFailed):
        compare.assert_close((expected * 1.003).astype(np.float16), expected, what="f(x)")
    with pytest.raises(compare.CheckFailed):
        compare.assert_close((expected * 1.003).astype(np.float32), expected, what="f(x)")
    compare.assert_close(expected.astype(np.float32), expected, what="f(x)")


@pytest.mark.slow
def test_float16_buys_no_looser_tolerance(write_submission):
    graded = {}
    for dtype in ("float16", "float32"):
        path = write_submission(f"wrong_{dtype}", WRONG_GRADIENTS, prefix=f"import torch\nDTYPE = torch.{dtype}\n")
        graded[dtype] = scores(grade_json(path))
    assert graded["float16"] == graded["float32"], graded
    assert graded["float32"]["linear"][0] < graded["float32"]["linear"][1], "0.3% off must cost points"
    others = {q: s for q, s in graded["float32"].items() if q != "linear"}
    assert all(score == full for score, full in others.values()), others
