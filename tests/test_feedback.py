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


COMPENSATING = {
    # wrong alone: -1 at the label (no 1/p) ...
    "    grad[label] = -1.0 / predictions[label]": "    grad[label] = -1.0",
    # ... and softmax(a) + gradOutput (no Jacobian), which together give softmax(a) - onehot(label)
    "    return y * (gradOutput - (y * gradOutput).sum())": "    return y + gradOutput",
}


def _scores(report: dict) -> dict[str, float]:
    return {q["name"]: q["score"] for q in report["questions"]}


def test_a_chain_that_is_right_although_its_parts_are_not_is_said(write_submission):
    report = grade_json(write_submission("compensating_pair", COMPENSATING))
    said = messages(report)
    for check in ("loss_backward_chain_composes", "softmax_backward_chain_composes"):
        assert "the chain is right" in said[check], said[check]
        assert "This course gives" not in said[check]  # the shipped spec grants no credit for it
    scores = _scores(report)
    assert scores["loss_backward"] == 0 and scores["softmax_backward"] == 0
    checks = {c["name"]: c for q in report["questions"] for c in q["checks"]}
    assert checks["loss_backward_chain_composes"]["passed"]


def test_a_course_can_give_partial_credit_for_a_right_chain(write_submission, tmp_path):
    import shutil

    import yaml

    from conftest import ROOT
    lab = ROOT / "assignments" / "softmax_lab"
    copy = tmp_path / "softmax_lab"
    shutil.copytree(lab, copy, ignore=shutil.ignore_patterns("__pycache__", "secret.txt", "samples"))
    spec = yaml.safe_load((copy / "assignment.yaml").read_text())
    for question in spec["questions"]:
        for check in question.get("checks", []):
            if check["name"].endswith("_chain_composes"):
                check["floor"] = 0.4
    (copy / "assignment.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    report = grade_json(write_submission("compensating_pair", COMPENSATING), str(copy))
    scores = _scores(report)
    assert scores["loss_backward"] == 8.0 and scores["softmax_backward"] == 10.0, scores
    assert "This course gives 40% of the question's points" in messages(report)["softmax_backward_chain_composes"]
    # a correct submission is untouched by the floor, and a wrong chain earns nothing from it
    full = _scores(grade_json(write_submission("correct", {}), str(copy)))
    assert full["loss_backward"] == 20 and full["softmax_backward"] == 25
    wrong = grade_json(write_submission("only_loss_backward_wrong", {
        "    grad[label] = -1.0 / predictions[label]": "    grad[label] = -1.0"}), str(copy))
    assert _scores(wrong)["loss_backward"] == 0
    assert "do not give dloss/da" in messages(wrong)["loss_backward_chain_composes"]
    assert "Hint:" not in messages(wrong)["loss_backward_chain_composes"]


def test_a_gradient_wrong_off_the_label_is_said_to_be_wrong_there(write_submission):
    path = write_submission("loss_backward_every_entry", {
        "    grad = torch.zeros_like(predictions)\n    grad[label] = -1.0 / predictions[label]":
            "    grad = -1.0 / predictions"})
    message = messages(grade_json(path))["loss_backward_matches_reference"]
    assert "Where: at entries other than the label" in message
    assert "a factor missing or extra" not in message
    assert "loss_backward(0," not in message  # the minimal example keeps entries on both sides of the label


def test_the_length_hint_shows_only_when_the_length_is_the_problem(write_submission):
    length_bug = grade_json(write_submission("ten_classes_only", {
        "    shifted = a - a.max()": "    shifted = a[:10] - a.max()"}))
    message = messages(length_bug)["softmax_any_length"]
    assert "right for 10 classes but not for" in message and "Hint: Read the number of classes" in message
    other_bug = grade_json(write_submission("no_normalisation", {
        "    return exps / exps.sum()": "    return exps / (exps.sum() + 1)"}))
    message = messages(other_bug)["softmax_any_length"]
    assert "not about the length" in message and "Hint:" not in message
