"""Feedback students can act on (issue #15's findings on real handins of the lab)."""

from __future__ import annotations

from conftest import grade_json


def messages(report: dict) -> dict[str, str]:
    return {c["name"]: c["message"] for q in report["questions"] for c in q["checks"]}


def test_the_chain_rule_check_says_which_grad_output_it_fed_in(write_submission):
    path = write_submission("backward_returns_grad_output", {
        "    return y * (gradOutput - (y * gradOutput).sum())": "    return gradOutput.clone()"})
    message = messages(grade_json(path))["softmax_backward_chain_rule"]
    assert "softmax_backward(a, gradOutput) returned the wrong values" in message
    assert "the reference's loss_backward(label, softmax(a)) (not yours)" in message
    assert "gradOutput = [" in message


def test_the_shift_invariance_message_shows_the_dtype_the_student_returned(write_submission):
    path = write_submission("shift_dependent_softmax", {
        "    exps = torch.exp(shifted)": "    exps = torch.exp(shifted * (1 + 1e-2 * a.mean()))"})
    message = messages(grade_json(path))["softmax_shift_invariant"]
    assert "softmax(a + c) should equal softmax(a)" in message
    assert "torch.float32" in message or "float32" in message
    assert "float64" not in message


def test_a_missing_function_is_explained_once_per_question(write_submission):
    path = write_submission("no_histogram", {"def color_histogram(": "def colour_histogram("})
    report = grade_json(path)
    question = next(q for q in report["questions"] if q["name"] == "color_histogram")
    visible = [c["message"] for c in question["checks"] if c["visibility"] == "visible"]
    assert sum("does not define color_histogram()" in m for m in visible) == 1
    first = next(c["name"] for c in question["checks"] if c["visibility"] == "visible")
    assert all(c["message"] == f"the same failure as {first} above"
               for c in question["checks"] if c["visibility"] == "visible" and c["name"] != first)
