"""Package handins (several files, relative and absolute imports), on the
self-contained assignment tests/assignments/toy_package."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from grader import spec as spec_module
from grader.errors import SpecError

from conftest import ROOT, grade_json, run_grader, scores

TOY = ROOT / "tests" / "assignments" / "toy_package"
FULL = {"ops": (10.0, 10.0), "scalar": (10.0, 10.0), "training": (10.0, 10.0)}


def solved(tmp_path: Path, name: str = "handin") -> Path:
    """The reference's layout with its solution markers removed: a correct handin."""
    folder = tmp_path / name
    shutil.copytree(TOY / "reference", folder)
    for path in folder.rglob("*.py"):
        lines = [line for line in path.read_text().splitlines(keepends=True) if "SOLUTION" not in line]
        path.write_text("".join(lines))
    return folder


def messages(report: dict) -> dict[str, str]:
    return {c["name"]: c["message"] for q in report["questions"] for c in q["checks"]}


def test_a_package_folder_grades_with_relative_and_absolute_imports(tmp_path):
    assert scores(grade_json(solved(tmp_path), str(TOY))) == FULL


def test_a_handin_tar_with_the_package_nested_in_a_folder_is_found(tmp_path):
    folder = solved(tmp_path, "my_hw")
    (folder / "notes.txt").write_text("my notes")
    archive = tmp_path / "handin.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname="my_hw")
    assert scores(grade_json(archive, str(TOY))) == FULL


def test_a_module_that_fails_to_import_costs_only_what_needs_it(tmp_path):
    folder = solved(tmp_path)
    (folder / "minigrad" / "ops.py").write_text("def square(x)\n    return x\n")
    report = grade_json(folder, str(TOY))
    # train.py imports minigrad.ops: it cannot be graded either; the Scalar class can
    assert scores(report) == {"ops": (0.0, 10.0), "scalar": (10.0, 10.0), "training": (0.0, 10.0)}
    message = messages(report)["square_matches_reference"]
    assert "minigrad.ops.square could not be found: SyntaxError" in message
    assert "(minigrad/ops.py, line 1: def square(x))" in message


def test_a_wrong_method_of_a_student_class_shows_its_file_in_the_package(tmp_path):
    folder = solved(tmp_path)
    value = folder / "minigrad" / "value.py"
    value.write_text(value.read_text().replace("parent.backward(seed * local)", "parent.backward(seed / 0)"))
    report = grade_json(folder, str(TOY))
    assert scores(report) == {**FULL, "scalar": (0.0, 10.0)}
    message = messages(report)["scalar_gradients"]
    assert "ZeroDivisionError" in message and "minigrad/value.py" in message and "/tmp" not in message


def test_a_handin_missing_one_entry_says_what_is_missing(tmp_path):
    folder = solved(tmp_path)
    (folder / "train.py").unlink()
    report = grade_json(folder, str(TOY))
    assert report["score"] == 0
    assert "does not hold minigrad/, train.py side by side" in " ".join(report.get("notes", []))


def test_a_single_file_is_refused_with_the_reason(tmp_path):
    folder = solved(tmp_path)
    done = run_grader("grade", str(TOY), str(folder / "train.py"), "--format", "json")
    assert done.returncode == 0
    assert "grades a folder or a handin .tar holding minigrad/, train.py" in done.stdout


def test_a_package_spec_checks_the_reference_mirrors_the_layout(tmp_path):
    folder = tmp_path / "toy_package"
    shutil.copytree(TOY, folder)
    (folder / "reference" / "train.py").unlink()
    with pytest.raises(SpecError, match="must mirror the student's layout"):
        spec_module.load(folder)
