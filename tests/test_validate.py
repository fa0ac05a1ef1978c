"""`grader validate` and `grader mutant`: the checks are proved against the catalogue.

The catalogue is assignments/NAME/mutants.yaml (grader.mutants): edits of the
reference applied at run time. The full validation of an assignment grades
~50 files, so it runs once per session (a module-scoped cache shared by the
tests that need it) and those tests are marked ``slow``. Spec-breaking tests
work on copies of the assignment folder in tmp_path and grade nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from grader import cli, mutants, spec
from grader.commands.validate import exit_status, render
from grader.errors import SpecError
from grader.mutants import MutantError
from grader.validate import Validation, lint, read_mutant, validate

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (REPO / "assignments").iterdir() if (p / "assignment.yaml").is_file())
_validated: dict[str, Validation] = {}


def validated(name: str) -> Validation:
    """Validate an assignment once per session."""
    if name not in _validated:
        _validated[name] = validate(spec.load(name))
    return _validated[name]


def copy_assignment(tmp_path: Path, name: str = "softmax_lab", *, mutants: tuple[str, ...] = (),
                    extra: tuple[dict, ...] = ()) -> Path:
    """A copy of assignments/NAME (its reference stays in reference/) whose mutants.yaml
    holds only the catalogued `mutants`, then the stanzas `extra` (none: no mutants.yaml)."""
    target = tmp_path / name  # the spec's name must match the folder's
    shutil.copytree(REPO / "assignments" / name, target,
                    ignore=shutil.ignore_patterns("mutants.yaml", "__pycache__"))
    if mutants or extra:
        catalogue = yaml.safe_load((REPO / "assignments" / name / "mutants.yaml").read_text(encoding="utf-8"))
        kept = [m for m in catalogue if m["name"] in mutants]
        assert sorted(m["name"] for m in kept) == sorted(mutants)
        write_mutants(target, kept + list(extra))
    return target


def write_mutants(folder: Path, stanzas: list) -> Path:
    path = folder / "mutants.yaml"
    path.write_text(yaml.safe_dump(stanzas, sort_keys=False), encoding="utf-8")
    return path


NO_BIAS = {"name": "no_bias", "description": "linear forgets the bias.", "function": "linear",
           "find": "return weight @ x + bias", "replace": "return weight @ x", "loses": ["linear"]}


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
    questions = {q.name for q in spec.load("softmax_lab").questions if not q.manual}
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


def test_every_catalogued_mutant_applies():
    for name in ASSIGNMENTS:
        assignment = spec.load(name)
        catalogue = mutants.load(assignment)
        assert catalogue, f"{name}: no mutants in mutants.yaml"
        for mutant in catalogue:
            result = read_mutant(mutant, assignment)
            assert not result.problem, f"{name}: {mutant.name}: {result.problem}"
            assert result.mistake and result.declared


def test_no_copies_of_the_reference_under_assignments():
    """Mutants are data: no assignment keeps a mutants/ folder of reference copies."""
    for folder in (REPO / "assignments").iterdir():
        assert not (folder / "mutants").exists(), f"{folder / 'mutants'}: convert it to mutants.yaml"


# -- mutants.yaml ---------------------------------------------------------------------

def test_a_mutant_is_an_edit_of_its_function_only():
    assignment = spec.load("softmax_lab")
    reference = assignment.reference.read_text(encoding="utf-8")
    (mutant,) = mutants.parse(yaml.safe_dump([NO_BIAS]), "m.yaml", assignment)
    mutated = mutants.mutate(assignment, mutant)
    assert mutated == reference.replace("    return weight @ x + bias\n", "    return weight @ x\n")
    assert "Return weight @ x + bias" in mutated  # the docstring (outside the find) is untouched


def test_edits_spanning_several_functions_apply_in_order():
    assignment = spec.load("softmax_lab")
    stanza = {"name": "both", "description": "two edits.", "loses": ["softmax", "loss"], "edits": [
        {"function": "softmax", "find": "shifted = a - a.max()", "replace": "shifted = a"},
        {"function": "loss", "find": "-torch.log(", "replace": "torch.log("}]}
    (mutant,) = mutants.parse(yaml.safe_dump([stanza]), "m.yaml", assignment)
    mutated = mutants.mutate(assignment, mutant)
    assert "    shifted = a\n" in mutated and "    return torch.log(predictions[label])\n" in mutated
    # the mutant's stanza, written back, reads the same
    assert mutants.parse(mutants.stanza(mutant), "m.yaml", assignment) == [mutant]


def test_a_find_that_no_longer_applies_names_file_mutant_and_function(tmp_path):
    stale = dict(NO_BIAS, name="stale_mm", find="return torch.mm(weight, x) + bias")
    folder = copy_assignment(tmp_path, extra=(stale,))
    assignment = spec.load(folder)
    (mutant,) = mutants.load(assignment)
    with pytest.raises(MutantError) as info:
        mutants.mutate(assignment, mutant)
    assert info.value.file == str(folder / "mutants.yaml")
    assert info.value.key == "stale_mm.find"
    assert "'return torch.mm(weight, x) + bias' does not occur in function linear of " \
           "reference/softmax_lab.py" in info.value.problem
    # validate reports it on that mutant, without grading it
    result = read_mutant(mutant, assignment)
    assert result.problem.startswith(f"does not apply: {folder / 'mutants.yaml'}: stale_mm.find: ")
    # a find that occurs twice is as ambiguous as one that is gone
    twice = dict(NO_BIAS, name="twice", function="softmax", find="exps")
    (mutant,) = mutants.parse(yaml.safe_dump([twice]), "m.yaml", assignment)
    assert "occurs 3 times in function softmax" in read_mutant(mutant, assignment).problem


@pytest.mark.parametrize("change, key, problem", [
    (lambda m: m.pop("loses"), "no_bias.loses", "is required"),
    (lambda m: m.pop("find"), "no_bias.find", "is required"),
    (lambda m: m.pop("name"), "[0].name", "is required"),
    (lambda m: m.update(loses=["linear", "lineer"]), "no_bias.loses", "'lineer' is not a question of the spec"),
    (lambda m: m.update(caught_by=["linear matches"]), "no_bias.caught_by", "'linear matches' is not a check name"),
    (lambda m: m.update(description="two\nlines"), "no_bias.description", "must be one non-empty line"),
    (lambda m: m.update(replace=m["find"]), "no_bias.replace", "the edit changes nothing"),
    (lambda m: m.update(edits=[]), "no_bias.find", "either edits: [...] or function/find/replace"),
    (lambda m: m.update(loss="linear"), "no_bias.loss", "is not a known key"),
])
def test_a_malformed_mutants_yaml_names_the_key(tmp_path, change, key, problem):
    stanza = dict(NO_BIAS)
    change(stanza)
    folder = copy_assignment(tmp_path, extra=(stanza,))
    with pytest.raises(SpecError) as info:
        mutants.load(spec.load(folder))
    assert (info.value.file, info.value.key) == (str(folder / "mutants.yaml"), key)
    assert problem in info.value.problem


def test_an_unknown_function_names_the_key(tmp_path):
    folder = copy_assignment(tmp_path, extra=(dict(NO_BIAS, function="lineer"),))
    assignment = spec.load(folder)
    (mutant,) = mutants.load(assignment)
    with pytest.raises(SpecError) as info:
        mutants.mutate(assignment, mutant)
    assert (info.value.file, info.value.key) == (str(folder / "mutants.yaml"), "no_bias.function")
    assert "reference/softmax_lab.py has no top-level function 'lineer'" in info.value.problem


def test_duplicate_mutant_names_are_refused(tmp_path):
    folder = copy_assignment(tmp_path, extra=(NO_BIAS, NO_BIAS))
    with pytest.raises(SpecError) as info:
        mutants.load(spec.load(folder))
    assert info.value.key == "[1].name" and "'no_bias' is used by an earlier mutant" in info.value.problem


# -- weakening the checks is noticed ------------------------------------------------

@pytest.mark.slow
def test_deleting_a_check_names_the_surviving_mutants(tmp_path, capsys):
    # softmax_no_max_shift overflows only beyond logits of ~88, which no check
    # but softmax_stable reaches (shift invariance stays below 60)
    stale = dict(NO_BIAS, name="stale_mm", find="return torch.mm(weight, x) + bias")
    folder = copy_assignment(tmp_path, mutants=("softmax_no_max_shift", "linear_no_bias"), extra=(stale,))

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
    assert "mutation score: 1/3 mutants caught" in out
    # a mutant that no longer applies is a shortfall of that mutant, not a crash
    assert f"mutant stale_mm: does not apply: {folder / 'mutants.yaml'}: stale_mm.find: " in shortfalls
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
    assert "add up to 155" in error.problem


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

def test_mutant_command_appends_a_stanza_that_applies(tmp_path, capsys):
    folder = copy_assignment(tmp_path, mutants=("linear_no_bias",))
    before = (folder / "mutants.yaml").read_text(encoding="utf-8")
    assert cli.main(["mutant", str(folder), "loss_no_log", "--function", "loss",
                     "--find=-torch.log(predictions[label])", "--replace=-predictions[label]",
                     "--loses", "loss", "--caught-by", "loss_matches_reference"]) == 0, capsys.readouterr().err
    assert "added mutant loss_no_log" in capsys.readouterr().out
    after = (folder / "mutants.yaml").read_text(encoding="utf-8")
    assert after.startswith(before)  # appended: what was there is kept as written
    assignment = spec.load(folder)
    catalogue = mutants.load(assignment)
    assert [m.name for m in catalogue] == ["linear_no_bias", "loss_no_log"]
    added = catalogue[1]
    assert added.loses == ("loss",) and added.caught_by == ("loss_matches_reference",)
    assert added.description  # a default one-line description of the edit
    result = read_mutant(added, assignment)
    assert not result.problem
    assert "    return -predictions[label]\n" in result.source

    # a multi-line edit round-trips through the file
    assert cli.main(["mutant", str(folder), "two_lines", "--function", "loss_softmax_backward",
                     "--find", "grad = predictions.clone()\n    grad[label] -= 1",
                     "--replace", "grad = predictions.clone()\n    grad[label] += 1",
                     "--loses", "loss", "--description", "loss_softmax_backward adds one at the label."]) == 0
    (two,) = [m for m in mutants.load(assignment) if m.name == "two_lines"]
    assert two.edits[0].find == "grad = predictions.clone()\n    grad[label] -= 1"
    assert "    grad[label] += 1\n" in read_mutant(two, assignment).source


@pytest.mark.parametrize("argv, message", [
    (["loss_no_log", "--function", "loss", "--find", "log(nothing)", "--replace", "x", "--loses", "loss"],
     "loss_no_log.find: 'log(nothing)' does not occur in function loss of reference/softmax_lab.py"),
    (["loss_no_log", "--function", "los", "--find", "log", "--replace", "x", "--loses", "loss"],
     "loss_no_log.function: reference/softmax_lab.py has no top-level function 'los'"),
    (["loss_no_log", "--function", "loss", "--find", "torch.log", "--replace", "torch.log2", "--loses", "los"],
     "loss_no_log.loses: 'los' is not a question of the spec"),
    (["linear_no_bias", "--function", "loss", "--find", "torch.log", "--replace", "x", "--loses", "loss"],
     "linear_no_bias: already exists"),
    (["loss_no_log", "--function", "loss", "--find", "torch.log(", "--replace", "torch.log((", "--loses", "loss"],
     "the edited reference does not parse"),
    (["loss_no_log", "--function", "loss", "--find", "torch.log(predictions", "--replace", "torch.log( predictions",
      "--loses", "loss"], "the edit leaves the reference's code unchanged"),
    (["My-Bug", "--function", "loss", "--find", "log", "--replace", "x", "--loses", "loss"], "name='My-Bug'"),
])
def test_mutant_command_refuses_a_stanza_that_does_not_apply(tmp_path, capsys, argv, message):
    folder = copy_assignment(tmp_path, mutants=("linear_no_bias",))
    before = (folder / "mutants.yaml").read_text(encoding="utf-8")
    assert cli.main(["mutant", str(folder), *argv]) == 2
    assert message in capsys.readouterr().err
    assert (folder / "mutants.yaml").read_text(encoding="utf-8") == before  # nothing written


def test_mutant_command_starts_a_catalogue(tmp_path):
    folder = copy_assignment(tmp_path)
    assert not (folder / "mutants.yaml").exists()
    assert cli.main(["mutant", str(folder), "no_bias", "--function", "linear", "--find",
                     "return weight @ x + bias", "--replace", "return weight @ x", "--loses", "linear"]) == 0
    assert [m.name for m in mutants.load(spec.load(folder))] == ["no_bias"]
