"""The command line end to end: formats, exit codes, hostile prints, timeouts, determinism."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import AUTOMATIC, QUESTIONS, ROOT, SAMPLES, grade_json, run_grader, scores

REFERENCE = ROOT / "reference" / "softmax_lab.py"
GRADESCOPE_VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


def test_reference_scores_full_marks():
    report = grade_json(REFERENCE)
    assert report["score"] == report["max_score"] == 140
    assert [q["name"] for q in report["questions"]] == QUESTIONS
    for question in report["questions"]:
        assert question["max_score"] > 0 or question.get("manual")
        for check in question["checks"]:
            assert check["passed"], check


def test_json_report_shape():
    report = grade_json(SAMPLES / "buggy.py")
    assert set(report) >= {"assignment", "score", "max_score", "questions"}
    for question in report["questions"]:
        assert set(question) >= {"name", "score", "max_score", "checks"}
        assert abs(sum(c["score"] for c in question["checks"]) - question["score"]) < 1e-6
        for check in question["checks"]:
            assert set(check) >= {"name", "passed", "score", "max_score", "message", "visibility"}
            assert check["passed"] or check["message"]
    assert scores(report)["loss_backward"] == (0, 20)
    assert scores(report)["softmax_backward"] == (0, 25)
    assert report["score"] == 95


def test_max_margin_is_optional_but_scored():
    report = grade_json(REFERENCE)
    margin = next(q for q in report["questions"] if q["name"] == "max_margin")
    assert margin["optional"] is True and margin["max_score"] > 0


def test_autolab_last_line_is_the_true_score_despite_fake_lines():
    done = run_grader("grade", "softmax_lab", str(SAMPLES / "fake_score.py"), "--format", "autolab")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip("\n").split("\n")
    last = json.loads(lines[-1])
    assert list(last["scores"]) == AUTOMATIC
    assert last["scores"]["loss_backward"] == 0
    assert last["scores"]["softmax"] == 10
    assert last["scoreboard"][0] == sum(last["scores"].values())
    assert lines[-2] == "", "a blank line must precede the scores line"
    # the fake line appears only as quoted student output, never as a bare line
    assert all(not line.startswith('{"scores"') for line in lines[:-1])


def test_gradescope_results_follow_the_specification(tmp_path):
    target = tmp_path / "results" / "results.json"
    done = run_grader("grade", "softmax_lab", str(SAMPLES / "buggy.py"), "--format", "gradescope",
                      "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    results = json.loads(target.read_text())
    assert isinstance(results["execution_time"], int)
    assert isinstance(results["output"], str)
    tests = results["tests"]
    assert tests
    numbers = set()
    for test in tests:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["number"], str) and test["number"].count(".") == 1
        numbers.add(test["number"])
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["output"], str)
        assert test["visibility"] in GRADESCOPE_VISIBILITY
    assert len(numbers) == len(tests)
    assert abs(results["score"] - sum(t["score"] for t in tests)) < 1e-6
    assert results["score"] == 95
    assert list(tmp_path.joinpath("results").iterdir()) == [target], "no temporary files left behind"


def test_missing_submission_still_emits_platform_reports(tmp_path):
    done = run_grader("grade", "softmax_lab", str(tmp_path / "nope.py"), "--format", "autolab")
    assert done.returncode != 0
    last = json.loads(done.stdout.rstrip("\n").split("\n")[-1])
    assert last["scores"] == {q: 0 for q in AUTOMATIC}
    target = tmp_path / "results.json"
    done = run_grader("grade", "softmax_lab", str(tmp_path / "nope.py"), "--format", "gradescope",
                      "--output", str(target))
    assert done.returncode != 0
    results = json.loads(target.read_text())
    assert results["score"] == 0 and "does not exist" in results["output"]


def test_unknown_assignment_is_a_clear_error(tmp_path):
    done = run_grader("grade", "no_such_lab", str(REFERENCE))
    assert done.returncode != 0
    assert "no such assignment" in done.stderr and "softmax_lab" in done.stderr


def test_starter_zeros_cost_exactly_the_two_backward_questions(write_submission):
    path = write_submission("starter", {
        "    grad = torch.zeros_like(predictions)\n    grad[label] = -1.0 / predictions[label]\n    return grad":
            "    return predictions.clone().zero_()",
        "    y = softmax(inputTensor)\n    return y * (gradOutput - (y * gradOutput).sum())":
            "    return gradOutput.clone().zero_()",
    })
    got = scores(grade_json(path))
    assert got["loss_backward"][0] == 0 and got["softmax_backward"][0] == 0
    assert all(score == top for name, (score, top) in got.items()
               if name not in ("loss_backward", "softmax_backward"))


def test_hanging_loss_backward_costs_that_question_only(write_submission):
    path = write_submission("hang", {
        '    grad = torch.zeros_like(predictions)\n    grad[label] = -1.0 / predictions[label]':
            '    while True:\n        pass\n    grad = None',
    })
    report = grade_json(path)
    got = scores(report)
    assert got["loss_backward"][0] == 0
    assert all(score == top for name, (score, top) in got.items() if name != "loss_backward")
    messages = [c["message"] for q in report["questions"] if q["name"] == "loss_backward" for c in q["checks"]]
    assert any("did not finish within" in m for m in messages)


def test_same_submission_same_report():
    def strip(report):
        return json.dumps(report, sort_keys=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(grade_json, [SAMPLES / "buggy.py"] * 2)
    assert strip(first) == strip(second)


def test_public_visibility_runs_visible_checks_only():
    done = run_grader("grade", "softmax_lab", str(REFERENCE), "--format", "json", "--visibility", "public")
    report = json.loads(done.stdout)
    visibilities = {c["visibility"] for q in report["questions"] for c in q["checks"]}
    assert visibilities == {"visible"}
    assert report["score"] == report["max_score"] > 0


def test_table_names_failed_checks_with_hints():
    done = run_grader("grade", "softmax_lab", str(SAMPLES / "buggy.py"), "--reveal", "all")
    assert done.returncode == 0
    assert "softmax_backward_numerical" in done.stdout
    assert "Hint:" in done.stdout
    assert "total" in done.stdout


def _hidden_checks(assignment: str = "softmax_lab") -> list:
    from grader import spec

    return [c for q in spec.load(assignment).questions for c in q.checks if c.visibility != "visible"]


@pytest.mark.parametrize("fmt", ["table", "autolab", "json"])
def test_student_reports_show_hidden_checks_only_as_status_and_points(fmt):
    """buggy.py fails hidden checks: their names, hints and inputs stay out of what students see."""
    staff = grade_json(SAMPLES / "buggy.py")
    failed_hidden = [c for q in staff["questions"] for c in q["checks"]
                     if not c["passed"] and c["visibility"] != "visible"]
    assert failed_hidden, "the sample must fail a hidden check for this test to mean anything"
    done = run_grader("grade", "softmax_lab", str(SAMPLES / "buggy.py"), "--format", fmt)
    assert done.returncode == 0, done.stderr
    for check in _hidden_checks():
        assert not re.search(rf"(?<!\w){check.name}(?!\w)", done.stdout), check.name
        if check.hint:
            assert check.hint not in done.stdout
    shown_anyway = "\n".join(c["message"] for q in staff["questions"] for c in q["checks"]
                              if c["visibility"] == "visible")
    for check in failed_hidden:  # the message's lines (inputs, expected values) do not appear
        for line in check["message"].splitlines():
            if len(line.strip()) > 20 and line.strip() not in shown_anyway:
                assert line.strip() not in done.stdout, line
    assert "hidden check 1" in done.stdout and "hidden check: failed" in done.stdout
    if fmt == "json":
        student = json.loads(done.stdout)
        assert student["score"] == staff["score"], "hiding changes no points"
        assert [q["score"] for q in student["questions"]] == [q["score"] for q in staff["questions"]]


def test_grade_does_not_depend_on_what_else_is_loaded():
    """The same submission graded in a process that imported many other local modules."""
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "import handout.build, grader.validate, grader.batch, grader.gradebook\n"
        "sys.path.insert(0, 'bench'); import make_class\n"
        "from grader import spec\nfrom grader.runner import grade\n"
        f"r = grade(spec.load('softmax_lab'), {str(SAMPLES / 'buggy.py')!r})\n"
        "print(json.dumps(r.to_dict(), sort_keys=True))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    in_process = json.loads(done.stdout)
    assert json.dumps(in_process, sort_keys=True) == json.dumps(grade_json(SAMPLES / "buggy.py"), sort_keys=True)


def test_version_and_help_texts():
    import tomllib

    done = run_grader("--version")
    assert done.returncode == 0
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert done.stdout.strip() == f"gradecheck {declared}"
    helped = run_grader("grade-all", "--help").stdout
    assert "folder name under assignments/" in helped and "submissions graded at once" in helped


def test_a_python_without_the_packages_is_told_what_to_do(tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "bare")], check=True, capture_output=True)
    done = subprocess.run([str(tmp_path / "bare" / "bin" / "python"), "-m", "grader", "grade", "softmax_lab", "x.py"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "numpy" in done.stderr and "make venv" in done.stderr and "pip install -e ." in done.stderr
