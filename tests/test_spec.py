"""assignment.yaml validation: every problem names the file and the key."""

from __future__ import annotations

import shutil

import pytest
import yaml

from grader import spec
from grader.checks import load_registry
from grader.errors import SpecError

SOURCE = spec.ASSIGNMENTS / "softmax_lab"


@pytest.fixture
def copy(tmp_path):
    """A writable copy of the softmax lab folder and a function to edit its YAML."""
    folder = tmp_path / "softmax_lab"
    shutil.copytree(SOURCE, folder, ignore=shutil.ignore_patterns("mutants", "samples", "__pycache__"))

    def edit(change):
        data = yaml.safe_load((folder / "assignment.yaml").read_text())
        change(data)
        (folder / "assignment.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return folder

    return edit


def error_of(folder) -> SpecError:
    with pytest.raises(SpecError) as caught:
        assignment = spec.load(folder)
        load_registry(assignment)
    return caught.value


def test_the_shipped_spec_loads():
    assignment = spec.load("softmax_lab")
    assert [q.name for q in assignment.questions] == [
        "softmax", "linear", "loss", "loss_backward", "softmax_backward", "color_histogram", "max_margin",
        "sgd", "momentum", "minibatch", "training", "histogram_training", "softmax_gradient_derivation"]
    assert assignment.question("max_margin").optional
    assert sum(q.points for q in assignment.questions) == assignment.total_points == 150
    assert assignment.automatic_points == 140
    load_registry(assignment)


def test_points_that_do_not_add_up(copy):
    error = error_of(copy(lambda d: d.update(total_points=99)))
    assert error.key == "total_points" and "add up to 150" in error.problem
    assert error.file.endswith("assignment.yaml")


def test_misspelt_function_name(copy):
    def change(data):
        data["questions"][0]["functions"] = ["sofmax"]
    error = error_of(copy(change))
    assert error.key == "questions[0].functions" and "'sofmax'" in error.problem


def test_check_that_does_not_exist(copy):
    def change(data):
        data["questions"][1]["checks"][0]["name"] = "linear_matches_refrence"
    error = error_of(copy(change))
    assert error.key == "questions[1].checks[0].name" and "linear_matches_refrence" in error.problem


def test_check_calling_a_function_of_another_question(copy):
    def change(data):
        data["questions"][0]["checks"].append({"name": "loss_contract", "deducts": 0.1})
        data["questions"][2]["checks"] = [c for c in data["questions"][2]["checks"] if c["name"] != "loss_contract"]
    error = error_of(copy(change))
    assert "questions[0].checks" in error.key and "does not cover" in error.problem


def test_function_exercised_by_no_check(copy):
    def change(data):
        data["questions"][1]["checks"] = [c for c in data["questions"][1]["checks"]
                                          if c["name"] in ("linear_matches_reference",)]
    error = error_of(copy(change))
    assert error.key == "questions[1].functions" and "linear_backward" in error.problem


@pytest.mark.parametrize("change, key, words", [
    (lambda d: d["questions"][0]["checks"][0].update(visibility="secret"), "questions[0].checks[0].visibility", "one of"),
    (lambda d: d["questions"][0]["checks"][0].update(deducts=0.5), "questions[0].checks[0].earns", "exactly one"),
    (lambda d: d["questions"][0]["checks"][2].update(deducts=2), "questions[0].checks[2].deducts", "at most 1"),
    (lambda d: d["questions"][1].update(name="softmax"), "questions[1].name", "used by two"),
    (lambda d: d["questions"][1].update(name="lin:ear"), "questions[1].name", "colons"),
    (lambda d: d.update(library="jax"), "library", "torch or numpy"),
    (lambda d: d.update(limits={"memory_mb": -1}), "limits.memory_mb", "above zero"),
    (lambda d: d.update(limit={}), "limit", "not a known key"),
    (lambda d: d.pop("functions"), "functions", "required"),
    (lambda d: d["questions"][0].update(points="ten"), "questions[0].points", "must be a"),
    (lambda d: d.update(judge_reference="softmax_lab_float46"), "judge_reference", "not in reference/"),
    (lambda d: d.update(judge_reference="../secret"), "judge_reference", "not in reference/"),
    (lambda d: d.update(judge_reference="formulas.py"), "judge_reference", "not a file of"),
    (lambda d: d.update(judge_reference="softmax_lab"), "judge_reference", "the reference itself"),
    (lambda d: d.update(judge_reference=3), "judge_reference", "must be a"),
])
def test_bad_values_name_their_key(copy, change, key, words):
    error = error_of(copy(change))
    assert error.key == key and words in error.problem


def test_without_a_judge_reference_the_checks_call_the_reference(copy):
    assignment = spec.load(copy(lambda d: d.pop("judge_reference")))
    assert assignment.judge_reference is None
    assert assignment.reference in assignment.source_files()


def test_yaml_syntax_error(copy, tmp_path):
    folder = copy(lambda d: None)
    (folder / "assignment.yaml").write_text("name: [unclosed\n")
    error = error_of(folder)
    assert error.key == "(syntax)" and "assignment.yaml" in str(error)
