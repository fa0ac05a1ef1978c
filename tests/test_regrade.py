"""grade-all regrades exactly what changed (#16): each report records the digests of
its submission and of the assignment; a replaced handin or an edited check makes those
reports out of date; --only STUDENT and --force choose what to grade."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_grader

TOY = ROOT / "tests" / "assignments" / "toy_numpy"


def _solution() -> str:
    lines = (TOY / "reference_toy.py").read_text().splitlines(keepends=True)
    return "".join(line for line in lines if "SOLUTION" not in line)


@pytest.fixture
def course(tmp_path) -> dict[str, Path]:
    assignment = tmp_path / "toy_numpy"
    shutil.copytree(TOY, assignment, ignore=shutil.ignore_patterns("__pycache__", "secret.txt"))
    folder = tmp_path / "class"
    folder.mkdir()
    for student in ("ada", "bo", "cy"):
        (folder / f"{student}.py").write_text(_solution())
    return {"assignment": assignment, "folder": folder, "out": tmp_path / "out"}


def _grade_all(course: dict[str, Path], *extra: str):
    done = run_grader("grade-all", str(course["assignment"]), str(course["folder"]), "--out", str(course["out"]),
                      "--jobs", "1", *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _graded(done) -> int:
    return int(done.stdout.split("graded ", 1)[1].split(" ", 1)[0])


def _report(course: dict[str, Path], student: str) -> dict:
    return json.loads((course["out"] / "reports" / f"{student}.json").read_text())


def test_a_report_records_what_it_was_graded_from(course):
    _grade_all(course)
    digests = _report(course, "ada")["digests"]
    assert set(digests) == {"submission", "assignment"} and all(len(v) == 64 for v in digests.values())
    assert _report(course, "bo")["digests"]["assignment"] == digests["assignment"]


def test_replacing_one_handin_regrades_exactly_that_report(course):
    _grade_all(course)
    again = _grade_all(course)
    assert _graded(again) == 0 and "3 of 3 submissions already graded and unchanged" in again.stderr
    before = {s: _report(course, s) for s in ("ada", "bo", "cy")}
    (course["folder"] / "bo.py").write_text(_solution().replace("return", "return 0 *", 1))
    changed = _grade_all(course)
    assert _graded(changed) == 1 and "1 report(s) out of date" in changed.stderr
    assert _report(course, "ada") == before["ada"] and _report(course, "cy") == before["cy"]
    assert _report(course, "bo")["score"] < before["bo"]["score"]


def test_editing_a_check_regrades_every_report(course):
    _grade_all(course)
    checks = course["assignment"] / "checks.py"
    checks.write_text(checks.read_text() + "\n# a comment: the checks changed\n")
    done = _grade_all(course)
    assert _graded(done) == 3 and "3 report(s) out of date" in done.stderr


def test_only_and_force_choose_what_is_graded(course):
    _grade_all(course)
    forced = _grade_all(course, "--only", "cy", "--force")
    assert _graded(forced) == 1
    (course["folder"] / "ada.py").write_text(_solution().replace("return", "return 0 *", 1))
    only_bo = _grade_all(course, "--only", "bo")
    assert _graded(only_bo) == 0  # bo's report is current; ada's change waits for a run that includes her
    assert _graded(_grade_all(course, "--force")) == 3
    unknown = run_grader("grade-all", str(course["assignment"]), str(course["folder"]), "--out", str(course["out"]),
                         "--only", "zed")
    assert unknown.returncode != 0 and "no submission of zed" in unknown.stderr and "ada, bo, cy" in unknown.stderr
