"""Questions graded by hand (manual: true): pending on every platform, never scored by
the grader, blank in the gradebook for the staff to fill in."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from grader import spec as spec_module
from grader.errors import SpecError

from conftest import ROOT, run_grader

TOY = ROOT / "tests" / "assignments" / "toy_numpy"


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("manual")
    lines = (TOY / "reference_toy.py").read_text().splitlines(keepends=True)
    path = folder / "toy.py"
    path.write_text("".join(line for line in lines if "SOLUTION" not in line))
    return path


def grade(solved: Path, fmt: str) -> str:
    done = run_grader("grade", str(TOY), str(solved), "--format", fmt, "--reveal", "all")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_table_says_the_written_question_is_pending_and_outside_the_total(solved):
    text = grade(solved, "table")
    assert "written      pending     5.00  graded by hand" in text
    assert "total          30.00    30.00" in text
    assert "Graded by hand, not in this total: written (5); 5 points pending (out of 35 in all)." in text


def test_json_marks_it_manual_with_its_rubric(solved):
    report = json.loads(grade(solved, "json"))
    assert (report["score"], report["max_score"], report["pending"]) == (30.0, 30.0, 5.0)
    written = report["questions"][-1]
    assert written["manual"] and written["pending"] == 5.0 and written["checks"] == []
    assert written["rubric"].startswith("Full marks")


def test_autolab_leaves_its_problem_for_the_staff(solved):
    line = json.loads(grade(solved, "autolab").strip().splitlines()[-1])
    assert line["scores"] == {"scaling": 10.0, "accumulator": 10.0, "means": 10.0}


def test_gradescope_has_no_test_for_it_and_says_it_is_pending(solved):
    results = json.loads(grade(solved, "gradescope"))
    assert not any(t["name"].startswith("written") for t in results["tests"])
    assert results["score"] == 30.0
    assert "5 points pending" in results["output"]


def test_grade_all_leaves_its_gradebook_column_blank(solved, tmp_path):
    submissions = tmp_path / "in"
    (submissions / "ada").mkdir(parents=True)
    shutil.copy(solved, submissions / "ada" / "toy.py")
    done = run_grader("grade-all", str(TOY), str(submissions), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "out" / "gradebook.csv").open()))
    assert rows[0]["written"] == "" and float(rows[0]["total"]) == 30.0


def edited_toy(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "toy_numpy"
    shutil.copytree(TOY, folder)
    spec = folder / "assignment.yaml"
    assert old in spec.read_text()
    spec.write_text(spec.read_text().replace(old, new))
    return folder


def test_a_rubric_belongs_to_a_manual_question_only(tmp_path):
    folder = edited_toy(tmp_path, "    manual: true\n", "    checks: [{name: scale_contract, earns: 1}]\n")
    with pytest.raises(SpecError, match="only a manual question"):
        spec_module.load(folder)


def test_a_manual_question_needs_a_rubric(tmp_path):
    rubric = next(line for line in (TOY / "assignment.yaml").read_text().splitlines()
                  if line.startswith("    rubric:"))
    folder = edited_toy(tmp_path, rubric, '    rubric: "  "')
    with pytest.raises(SpecError, match="needs a rubric"):
        spec_module.load(folder)


def test_a_manual_question_with_checks_is_refused(tmp_path):
    folder = tmp_path / "toy_numpy"
    shutil.copytree(TOY, folder)
    spec = folder / "assignment.yaml"
    spec.write_text(spec.read_text().replace("    manual: true\n", "    manual: true\n    functions: [scale]\n"))
    with pytest.raises(SpecError, match="graded by hand: it has no checks or functions"):
        spec_module.load(folder)
