"""`grader validate` and `grader mutant`: the checks are proved against the catalogue.

The full validation of an assignment grades ~50 files, so it runs once per
session (a module-scoped cache shared by the tests that need it) and those
tests are marked ``slow``. Spec-breaking tests work on copies of the
assignment folder in tmp_path and grade nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from grader import cli, spec
from grader.commands.validate import exit_status, render
from grader.errors import SpecError
from grader.validate import Validation, lint, mutant_paths, read_mutant, validate

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (REPO / "assignments").iterdir() if (p / "assignment.yaml").is_file())
_validated: dict[str, Validation] = {}


def validated(name: str) -> Validation:
    """Validate an assignment once per session."""
    if name not in _validated:
        _validated[name] = validate(spec.load(name))
    return _validated[name]


def copy_assignment(tmp_path: Path, name: str = "softmax_lab", *, mutants: tuple[str, ...] = ()) -> Path:
    """A copy of assignments/NAME (its reference stays in reference/), with only `mutants`."""
    target = tmp_path / name  # the spec's name must match the folder's
    shutil.copytree(REPO / "assignments" / name, target, ignore=shutil.ignore_patterns("mutants", "__pycache__"))
    if mutants:
        (target / "mutants").mkdir()
        for mutant in mutants:
            shutil.copy(REPO / "assignments" / name / "mutants" / f"{mutant}.py", target / "mutants")
    return target


def edit_spec(folder: Path, change) -> None:
    """Apply `change` to the parsed assignment.yaml of `folder` and write it back."""
    path = folder / "assignment.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def question(data: dict, name: str) -> dict:
    return next(q for q in data["questions"] if q["name"] == name)


# -- the catalogue ----------------------------------------------------------------

@pytest.mark.slow
def test_softmax_lab_validates():
    result = validated("softmax_lab")
    text = render(result)
    assert exit_status(result) == 0, text
    assert len(result.mutants) >= 30
    assert result.caught == len(result.mutants), text
    assert f"mutation score: {len(result.mutants)}/{len(result.mutants)} mutants caught" in text
    questions = {q.name for q in spec.load("softmax_lab").questions}
    covered = {name for m in result.mutants for name in m.declared}
    assert covered == questions, f"questions no mutant targets: {sorted(questions - covered)}"
    for mutant in result.mutants:
        assert set(mutant.lost) == set(mutant.declared), (mutant.name, mutant.lost, mutant.declared)


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_assignment_validates(name):
    """How `make test` runs validate for every assignment under assignments/."""
    result = validated(name)
    assert result.ok, render(result)


def test_mutant_docstrings_are_well_formed():
    for name in ASSIGNMENTS:
        assignment = spec.load(name)
        for path in mutant_paths(assignment):
            mutant = read_mutant(path, assignment)
            assert not mutant.problem, f"{path}: {mutant.problem}"
            assert mutant.mistake, f"{path}: the docstring's first line should state the mistake"


# -- weakening the checks is noticed ------------------------------------------------

@pytest.mark.slow
def test_deleting_a_check_names_the_surviving_mutants(tmp_path, capsys):
    # softmax_no_max_shift overflows only beyond logits of ~88, which no check
    # but softmax_stable reaches (shift invariance stays below 60)
    folder = copy_assignment(tmp_path, mutants=("softmax_no_max_shift", "linear_no_bias"))

    def drop_stability_check(data):
        checks = question(data, "softmax")["checks"]
        checks[:] = [c for c in checks if c["name"] != "softmax_stable"]

    edit_spec(folder, drop_stability_check)
    status = cli.main(["validate", str(folder)])
    out = capsys.readouterr().out
    assert status == 1, out
    shortfalls = out[out.index("FAILED"):]
    assert "mutant softmax_no_max_shift: survives: keeps full points on softmax" in shortfalls
    assert "linear_no_bias" not in shortfalls  # another question's mutant is unaffected
    assert "mutation score: 1/2 mutants caught" in out
    # the check left behind in checks.py is named too
    assert "'softmax_stable' is registered but no question" in shortfalls


def test_an_unlisted_check_fails_the_lint(tmp_path):
    folder = copy_assignment(tmp_path)
    edit_spec(folder, lambda data: question(data, "linear")["checks"].pop())  # linear_contract
    findings = {f.name: f for f in lint(spec.load(folder))}
    assert not findings["every registered check is listed"].ok
    assert "'linear_contract' is registered but no question" in \
        findings["every registered check is listed"].detail


# -- broken specs fail with the file and the key -------------------------------------------

def broken(tmp_path: Path, change) -> SpecError:
    folder = copy_assignment(tmp_path)
    edit_spec(folder, change)
    with pytest.raises(SpecError) as info:
        lint(spec.load(folder))
    assert info.value.file == str(folder / "assignment.yaml")
    return info.value


def test_misspelt_function_in_a_question(tmp_path):
    error = broken(tmp_path, lambda data: question(data, "loss_backward").update(functions=["loss_backwards"]))
    assert error.key == "questions[3].functions"
    assert "'loss_backwards' is not declared under functions" in error.problem


def test_misspelt_function_everywhere_in_the_spec(tmp_path):
    def rename(data):
        data["functions"]["softmx"] = data["functions"].pop("softmax")
        question(data, "softmax")["functions"] = ["softmx"]

    error = broken(tmp_path, rename)
    assert error.key == "questions[0].checks[0].name"
    assert "calls softmax, which question 'softmax' does not cover" in error.problem


def test_points_that_do_not_add_up(tmp_path):
    error = broken(tmp_path, lambda data: question(data, "linear").update(points=15))
    assert error.key == "total_points"
    assert "add up to 105" in error.problem


def test_check_under_the_wrong_question(tmp_path):
    def move(data):
        softmax_checks = question(data, "softmax")["checks"]
        stable = next(c for c in softmax_checks if c["name"] == "softmax_stable")
        softmax_checks.remove(stable)
        question(data, "linear")["checks"].append(stable)

    error = broken(tmp_path, move)
    assert error.key == "questions[1].checks[4].name"
    assert "'softmax_stable' calls softmax, which question 'linear' does not cover" in error.problem


def test_check_that_does_not_exist(tmp_path):
    error = broken(tmp_path, lambda data: question(data, "loss")["checks"][0].update(name="loss_matches_refrence"))
    assert error.key == "questions[2].checks[0].name"
    assert "'loss_matches_refrence' is not a check in checks.py" in error.problem


def test_broken_spec_exits_2_naming_file_and_key(tmp_path, capsys):
    folder = copy_assignment(tmp_path)
    edit_spec(folder, lambda data: data.update(total_points=90))
    assert cli.main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'assignment.yaml'}: total_points: is 90" in err


def test_spec_and_reference_signatures_must_agree(tmp_path):
    folder = copy_assignment(tmp_path)

    def rename_parameter(data):
        data["functions"]["softmax"] = ["logits"]

    edit_spec(folder, rename_parameter)
    findings = {f.name: f for f in lint(spec.load(folder))}
    assert not findings["reference signatures"].ok
    assert "functions.softmax: the spec says (logits) but the reference takes (a)" in \
        findings["reference signatures"].detail


# -- grader mutant ------------------------------------------------------------------

def test_mutant_command_writes_a_template_and_refuses_to_overwrite(tmp_path, capsys):
    folder = copy_assignment(tmp_path)
    assert cli.main(["mutant", str(folder), "my_bug"]) == 0
    path = folder / "mutants" / "my_bug.py"
    source = path.read_text(encoding="utf-8")
    assert source.startswith('"""Mutant: <')
    assert "def softmax(a):" in source
    # validate refuses the template until it is filled in ...
    assignment = spec.load(folder)
    assert "must name questions" in read_mutant(path, assignment).problem
    # ... and a filled-in docstring over unchanged code
    path.write_text(source.replace("Loses: <question, ...>", "Loses: softmax"), encoding="utf-8")
    assert "its code is the reference's" in read_mutant(path, assignment).problem

    capsys.readouterr()
    assert cli.main(["mutant", str(folder), "my_bug"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["mutant", str(folder), "My-Bug"]) == 2
    assert "name='My-Bug'" in capsys.readouterr().err
