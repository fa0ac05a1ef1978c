"""The engine's drivers, data fixtures, batched calls and per-check budgets, on the
self-contained numpy assignment tests/assignments/toy_numpy."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader import spec as spec_module
from grader.checks import Context, load_registry
from grader.errors import SpecError
from grader.outcome import CheckFailed
from grader.sandbox.outcomes import CallOutcome

from conftest import ROOT, grade_json, scores

TOY = ROOT / "tests" / "assignments" / "toy_numpy"
FULL = {"scaling": (10.0, 10.0), "accumulator": (10.0, 10.0), "means": (10.0, 10.0), "written": (0.0, 0.0)}
CORRECT = '''
import numpy as np

def scale(x, factor):
    return factor * np.array(x, dtype=np.float64)

class Accumulator:
    def __init__(self, start):
        self.items = [start]
    def add(self, value):
        self.items.append(value)
    def total(self):
        return sum(self.items)

def column_means(X):
    return np.einsum("nd->d", X) / X.shape[0]
'''


def submit(tmp_path: Path, source: str, name: str = "toy.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def check_messages(report: dict) -> dict[str, str]:
    return {c["name"]: c["message"] for q in report["questions"] for c in q["checks"]}


def test_a_correct_submission_in_its_own_style_gets_full_marks(tmp_path):
    assert scores(grade_json(submit(tmp_path, CORRECT), str(TOY))) == FULL


def test_a_missing_class_costs_only_the_checks_whose_driver_needs_it(tmp_path):
    source = CORRECT.replace("class Accumulator:", "class Summer:")
    report = grade_json(submit(tmp_path, source), str(TOY))
    assert scores(report) == {**FULL, "accumulator": (0.0, 10.0)}
    message = check_messages(report)["accumulator_totals"]
    assert "your code does not define Accumulator" in message
    assert "driver accumulate (which runs your Accumulator())" in message


def test_a_wrong_method_fails_through_the_driver_with_the_student_frame(tmp_path):
    source = CORRECT.replace("return sum(self.items)", "return sum(self.items[1:])")
    report = grade_json(submit(tmp_path, source), str(TOY))
    assert scores(report)["accumulator"] == (0.0, 10.0)
    assert scores(report)["means"] == (10.0, 10.0)


def test_drivers_read_the_staged_fixture_and_staff_can_point_it_at_real_data(tmp_path, monkeypatch):
    other = tmp_path / "real.npz"
    np.savez(other, X=np.full((5, 3), 7.0))
    submission = submit(tmp_path, CORRECT)
    monkeypatch.setenv("GRADECHECK_TOY_POINTS", str(other))
    assert scores(grade_json(submission, str(TOY))) == FULL
    # a submission that hard-codes the embedded fixture's means fails on the real data
    embedded = np.load(TOY / "data" / "points.npz")["X"].mean(axis=0)
    cheat = CORRECT.replace("return np.einsum(\"nd->d\", X) / X.shape[0]",
                            f"return np.array({embedded.tolist()!r})")
    report = grade_json(submit(tmp_path, cheat, "cheat.py"), str(TOY))
    assert scores(report)["means"] == (0.0, 10.0)


def test_the_staged_fixture_is_read_only_to_student_code(tmp_path):
    source = CORRECT.replace("def column_means(X):", '''def column_means(X):
    import glob, os
    here = os.path.dirname(os.path.abspath(__file__))
    for path in glob.glob(os.path.join(here, "..", "runtime", "data", "*.npz")):
        try:
            with open(path, "wb") as handle:
                handle.write(b"poisoned")
        except OSError:
            pass''')
    report = grade_json(submit(tmp_path, source), str(TOY))
    assert scores(report)["means"] == (10.0, 10.0)


def test_a_failing_call_in_a_batch_says_which_argument_set_failed(tmp_path):
    source = CORRECT.replace("def scale(x, factor):\n", "def scale(x, factor):\n    assert len(x) < 3\n")
    report = grade_json(submit(tmp_path, source), str(TOY))
    assert scores(report)["scaling"] == (0.0, 10.0)
    assert "(argument set 2 of the batch) AssertionError" in check_messages(report)["scale_matches_reference"]


def test_the_harness_broken_by_student_code_fails_driver_checks_only(tmp_path):
    source = "import builtins\n_real = builtins.__import__\n" \
             "def _no_numpy(name, *a, **k):\n    if name == 'numpy':\n        raise ImportError('no')\n" \
             "    return _real(name, *a, **k)\n" + CORRECT + "\nbuiltins.__import__ = _no_numpy\n"
    report = grade_json(submit(tmp_path, source), str(TOY))
    assert scores(report)["scaling"] == (10.0, 10.0)
    assert "the course's harness could not load" in check_messages(report)["accumulator_totals"]


def test_a_call_that_runs_out_of_time_says_how_far_its_driver_got(tmp_path):
    source = CORRECT.replace('return np.einsum("nd->d", X) / X.shape[0]', "while True:\n        pass")
    report = grade_json(submit(tmp_path, source), str(TOY))
    message = check_messages(report)["means_on_fixture"]
    assert "did not finish within 5 s (it had got to: column_means of the 40 points of the fixture)" in message


# -- the spec -------------------------------------------------------------------

def copy_toy(tmp_path: Path, edit: str, replacement: str) -> Path:
    folder = tmp_path / "toy_numpy"
    shutil.copytree(TOY, folder)
    spec = folder / "assignment.yaml"
    text = spec.read_text()
    assert edit in text, edit
    spec.write_text(text.replace(edit, replacement))
    return folder


@pytest.mark.parametrize("edit, replacement, key, problem", [
    ("accumulate: {params: [start, values]", "accumulate: {params: [start]", "drivers.accumulate.params",
     "takes ['start', 'values']"),
    ("uses: [Accumulator]", "uses: [Counter]", "drivers.accumulate.uses", "must list student functions"),
    ("means_of_points: {params: []", "means_of_everything: {params: []", "drivers.means_of_everything",
     "defines no public function"),
    ("file: data/points.npz", "file: data/nothing.npz", "data.points.file", "must be an .npz file"),
    ("budget_seconds: 8", "budget_seconds: -1", "budget_seconds", "must be above zero"),
    ("harness: harness", "harness: nowhere", "harness", "nowhere.py is not in"),
])
def test_a_bad_spec_names_the_key(tmp_path, edit, replacement, key, problem):
    folder = copy_toy(tmp_path, edit, replacement)
    with pytest.raises(SpecError) as raised:
        spec_module.load(folder)
    assert key in str(raised.value) and problem in str(raised.value)


def test_a_check_calling_an_undeclared_name_is_a_spec_error(tmp_path):
    folder = copy_toy(tmp_path, "x", "x")
    checks = folder / "checks.py"
    checks.write_text(checks.read_text().replace('calls=["means_of_points"]', 'calls=["means_of_all"]'))
    with pytest.raises(SpecError, match="means_of_all: neither a function nor a driver of the spec"):
        load_registry(spec_module.load(folder))


# -- a timeout poisons only calls with the same limit ------------------------------

class CountingSandbox:
    """Answers every call with a timeout, counting the calls that reach it."""

    def __init__(self):
        self.calls = 0
        self.last_call_seconds = 0.0

    def call(self, function, *args, timeout=None, driver=False, budget=None):
        self.calls += 1
        return CallOutcome("timeout", message="did not finish")


def test_a_timeout_in_a_long_check_does_not_condemn_shorter_checks_of_the_function():
    assignment = spec_module.load(TOY)
    registry = load_registry(assignment)
    sandbox, broken = CountingSandbox(), {}
    question = assignment.question("scaling")
    quick = question.checks[0]
    slow = type(quick)(**{**quick.__dict__, "call_seconds": 60.0})

    def context(check):
        return Context(sandbox=sandbox, reference=None, assignment=assignment, check=check,
                       registered=registry[quick.name], broken=broken)

    for check, expected_calls in ((slow, 1), (quick, 2), (quick, 2), (slow, 2)):
        with pytest.raises(CheckFailed):
            context(check).call("scale", np.ones(2), 1.0)
        assert sandbox.calls == expected_calls


class RecordingSandbox:
    """Answers every call at once, remembering the budget each call was given."""

    def __init__(self, seconds: float):
        self.budgets = []
        self.last_call_seconds = seconds

    def call(self, function, *args, timeout=None, driver=False, budget=None):
        self.budgets.append((function, driver, budget))
        return CallOutcome("ok", value=None)


def test_a_check_with_its_own_budget_spends_from_it_and_says_so_to_the_sandbox():
    assignment = spec_module.load(TOY)
    registry = load_registry(assignment)
    sandbox = RecordingSandbox(seconds=3.0)
    budgeted = assignment.question("means").checks[0]
    ctx = Context(sandbox=sandbox, reference=None, assignment=assignment, check=budgeted,
                  registered=registry[budgeted.name], broken={})
    ctx.call("means_of_points")
    ctx.call("means_of_points")
    shared = assignment.question("scaling").checks[0]
    Context(sandbox=sandbox, reference=None, assignment=assignment, check=shared,
            registered=registry[shared.name], broken={}).call("scale", np.ones(1), 1.0)
    assert sandbox.budgets == [("means_of_points", True, 8.0), ("means_of_points", True, 5.0),
                               ("scale", False, None)]


def test_drivers_run_on_the_reference_in_the_judge_so_their_checks_are_recorded():
    from grader.checks import import_file
    from grader.examples import record_bank

    assignment = spec_module.load(TOY)
    registry = load_registry(assignment)
    reference = import_file(assignment.reference, "gradecheck_reference_toy_for_test")
    bank = record_bank(assignment, registry, reference, salt="")
    recorded = bank.checks
    assert recorded["accumulator_totals"] is not None and recorded["means_on_fixture"] is not None
    assert recorded["scale_matches_reference"]  # a for_all with call_many before it


def test_a_part_of_the_handout_names_questions_of_the_spec(tmp_path):
    folder = copy_toy(tmp_path, "questions:\n", "parts:\n  a: [scaling, nowhere]\n\nquestions:\n")
    with pytest.raises(SpecError, match="parts.a: must list questions of the spec"):
        spec_module.load(folder)
    (folder / "assignment.yaml").write_text((folder / "assignment.yaml").read_text().replace(
        "[scaling, nowhere]", "[scaling, means]"))
    assert spec_module.load(folder).parts == {"a": ("scaling", "means")}


def test_a_failure_already_explained_in_the_question_is_said_once():
    from grader.outcome import Status
    from grader.results import CheckResult
    from grader.runner import say_once

    missing = "calling f() failed: your module does not define f()"
    results = [CheckResult("first", "q", Status.FAILED, missing, "visible", 1.0, 0.0),
               CheckResult("second", "q", Status.FAILED, missing + "\nHint: read the shape", "visible", 1.0, 0.0),
               CheckResult("secret", "q", Status.FAILED, missing, "hidden", 0.0, 0.1),
               CheckResult("third", "q", Status.FAILED, "something else", "visible", 0.0, 0.1)]
    messages = [r.message for r in say_once(results)]
    assert messages == [missing, "the same failure as first above", missing, "something else"]
