"""The platform bundles, played the way Autolab and Gradescope run them.

Autolab: a folder with autograde.tar, the Makefile and handin.tar; `make`;
the last line of output is the scores. Gradescope: autograder.zip unpacked
into a root laid out like /autograder (source/, submission/, results/);
run_autograder writes results/results.json. The handins come from the
handout's own make_handin.sh; every script runs with this interpreter
(GRADECHECK_PYTHON) and the root is a temporary folder
(GRADECHECK_AUTOGRADER_ROOT).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader import spec
from handout import build_all
from handout.archive import unzip
from handout.solutions import fill_stubs

ASSIGNMENT = "softmax_lab"
ZERO_LOSS_BACKWARD = "return torch.zeros_like(predictions)"
GRADESCOPE_VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


@pytest.fixture(scope="module")
def assignment():
    return spec.load(ASSIGNMENT)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    return build_all(ASSIGNMENT, tmp_path_factory.mktemp("build"))


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    # Autolab starts `make` itself: drop what an enclosing `make test` passes down
    outer = {"MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}
    environment = {k: v for k, v in os.environ.items() if k not in outer}
    environment["GRADECHECK_PYTHON"] = sys.executable
    environment.update(env)
    return subprocess.run(command, check=False, cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=300)


def make_handin(built: dict[str, Path], folder: Path, *, buggy: bool) -> Path:
    """Unpack the handout, solve it (loss_backward returning zeros if buggy), run make_handin.sh."""
    with tarfile.open(built["handout_tar"]) as archive:
        archive.extractall(folder)
    lab = folder / ASSIGNMENT
    script = lab / "softmax_lab.py"
    reference = spec.load(ASSIGNMENT).reference.read_text()
    everything = set(spec.load(ASSIGNMENT).functions)
    only = everything - {"loss_backward"} if buggy else None
    text = fill_stubs(script.read_text(), reference, only=only)
    if buggy:
        stub = r'^( *)# TODO: implement this function\.\n *raise NotImplementedError\("loss_backw'
        text = re.sub(stub + ".*", rf"\1{ZERO_LOSS_BACKWARD}", text, flags=re.MULTILINE)
        assert ZERO_LOSS_BACKWARD in text
    script.write_text(text)
    result = run(["./make_handin.sh"], lab)
    assert result.returncode == 0, result.stderr
    return lab / "handin.tar"


@pytest.fixture(scope="module")
def good_handin(built, tmp_path_factory) -> Path:
    return make_handin(built, tmp_path_factory.mktemp("good"), buggy=False)


@pytest.fixture(scope="module")
def buggy_handin(built, tmp_path_factory) -> Path:
    return make_handin(built, tmp_path_factory.mktemp("buggy"), buggy=True)


# -- Autolab -------------------------------------------------------------------------

def autolab(built: dict[str, Path], handin: Path, folder: Path, **env: str) -> dict:
    shutil.copy(built["autograde_tar"], folder / "autograde.tar")
    shutil.copy(built["autograde_makefile"], folder / "Makefile")
    shutil.copy(handin, folder / "handin.tar")
    result = run(["make"], folder, **env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    last = result.stdout.rstrip("\n").splitlines()[-1]
    return json.loads(last)


def test_autolab_gives_full_marks_to_the_solution(built, good_handin, assignment, tmp_path):
    line = autolab(built, good_handin, tmp_path)
    assert line["scores"] == {q.name: q.points for q in assignment.questions if not q.manual}
    assert line["scoreboard"][0] == assignment.automatic_points


def test_autolab_takes_exactly_loss_backward_from_the_buggy_handin(built, buggy_handin, assignment,
                                                                  tmp_path):
    scores = autolab(built, buggy_handin, tmp_path)["scores"]
    expected = {q.name: q.points for q in assignment.questions if not q.manual}
    expected["loss_backward"] = 0
    assert scores == expected


def test_autolab_prints_zero_scores_when_the_grader_cannot_run(built, good_handin, assignment,
                                                               tmp_path):
    line = autolab(built, good_handin, tmp_path, GRADECHECK_PYTHON=str(tmp_path / "no-python"))
    assert line["scores"] == {q.name: 0 for q in assignment.questions if not q.manual}


def test_autolab_notes_list_each_problem_and_its_maximum(built, assignment):
    notes = built["autolab_notes"].read_text()
    for question in assignment.questions:
        assert re.search(rf"^\| `{question.name}` \| {question.points:g} \|", notes, re.MULTILINE)


# -- Gradescope ----------------------------------------------------------------------

def gradescope_root(built: dict[str, Path], folder: Path) -> Path:
    """Unzip autograder.zip as Gradescope does (modes kept) into folder/source."""
    source = folder / "source"
    names = unzip(built["autograder_zip"], source)
    assert "setup.sh" in names and "run_autograder" in names
    for name in ("submission", "results"):
        (folder / name).mkdir()
    shutil.copy(source / "run_autograder", folder / "run_autograder")  # where Gradescope puts it
    return folder


def run_autograder(root: Path, *, failing: bool = False, **env: str) -> dict:
    result = run([str(root / "run_autograder")], root, GRADECHECK_AUTOGRADER_ROOT=str(root), **env)
    assert (result.returncode != 0) == failing, result.stderr
    # no temporary file left behind (figures of a student's run sit beside results.json)
    left = sorted(p.name for p in (root / "results").iterdir() if p.suffix != ".png")
    assert left == ["results.json"]
    return json.loads((root / "results" / "results.json").read_text())


def check_results(results: dict) -> None:
    """results.json as Gradescope specifies it, field by field."""
    assert isinstance(results["execution_time"], (int, float))
    assert isinstance(results.get("output", ""), str)
    assert results["tests"], "no tests"
    for test in results["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["number"], str) and re.fullmatch(r"\d+(\.\d+)*", test["number"])
        assert isinstance(test["score"], (int, float))
        assert isinstance(test["max_score"], (int, float))
        assert test["status"] in {"passed", "failed"}
        assert isinstance(test["output"], str)
        assert test["visibility"] in GRADESCOPE_VISIBILITY
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert len({t["number"] for t in results["tests"]}) == len(results["tests"])


def test_gradescope_grades_an_uploaded_file(built, good_handin, assignment, tmp_path):
    root = gradescope_root(built, tmp_path)
    with tarfile.open(good_handin) as archive:
        archive.extract("softmax_lab.py", root / "submission")
    results = run_autograder(root)
    check_results(results)
    assert results["score"] == pytest.approx(assignment.automatic_points)
    assert all(t["status"] == "passed" for t in results["tests"])
    # every visible check is a visible test; every other one a visible test with its points
    # but no name, and a 0-point hidden test with its name for the staff
    points = [t for t in results["tests"] if t["max_score"] > 0]
    assert all(t["visibility"] == "visible" for t in points), "students must see their total"
    visible = {c.name for q in assignment.questions for c in q.checks if c.visibility == "visible"}
    others = {c.name for q in assignment.questions for c in q.checks if c.visibility != "visible"}
    named = {t["name"].split(": ")[1].split(" ")[0]: t for t in results["tests"]
             if not t["name"].split(": ")[1].startswith("hidden check")}
    assert {n for n, t in named.items() if t["visibility"] == "visible"} == visible
    assert {n for n, t in named.items() if t["visibility"] == "hidden"} == others
    assert all(named[n]["max_score"] == 0 for n in others)
    assert len([t for t in results["tests"] if t["visibility"] == "visible"]) == \
        sum(len(q.checks) for q in assignment.questions)


def test_gradescope_grades_an_uploaded_handin_tar(built, buggy_handin, assignment, tmp_path):
    root = gradescope_root(built, tmp_path)
    shutil.copy(buggy_handin, root / "submission" / "handin.tar")
    results = run_autograder(root)
    check_results(results)
    lost = assignment.question("loss_backward").points
    assert results["score"] == pytest.approx(assignment.automatic_points - lost)
    failed = {t["name"].split(":")[0] for t in results["tests"] if t["status"] == "failed"}
    assert failed == {"loss_backward"}


def test_gradescope_writes_zero_results_when_the_grader_cannot_run(built, assignment, tmp_path):
    root = gradescope_root(built, tmp_path)
    (root / "submission" / "softmax_lab.py").write_text("pass\n")
    results = run_autograder(root, failing=True, GRADECHECK_PYTHON=str(tmp_path / "no-python"))
    check_results(results)
    assert results["score"] == 0
    assert "could not grade" in results["output"]
    assert sum(t["max_score"] for t in results["tests"]) == assignment.automatic_points


def test_setup_sh_installs_into_the_system_python(built):
    with zipfile.ZipFile(built["autograder_zip"]) as archive:
        setup = archive.read("setup.sh").decode()
        requirements = archive.read("requirements.txt").decode()
    assert subprocess.run(["bash", "-n"], check=False, input=setup, text=True).returncode == 0
    assert "python3 -m pip install" in setup and "torch==2.13.0" in setup and "/whl/cpu" in setup
    assert not re.search(r"python3\.\d+|deadsnakes|pyenv|conda", setup)  # Python 3.10 stays
    # the example bank is recorded in the image, where run_autograder looks for it
    assert 'GRADECHECK_CACHE="$HERE/.gradecheck-cache" python3 -m grader examples softmax_lab' in setup
    assert 'python3 -m compileall -q "$HERE"' in setup  # no submission compiles the grader again
    assert "examples softmax_lab --mutants" in setup  # the catalogue's shrink traces, in the image
    with zipfile.ZipFile(built["autograder_zip"]) as archive:
        assert "assignments/softmax_lab/mutants.yaml" in archive.namelist()  # what --mutants grades
    with zipfile.ZipFile(built["autograder_zip"]) as archive:
        assert 'GRADECHECK_CACHE="$ROOT/source/.gradecheck-cache"' in archive.read("run_autograder").decode()
    pinned = dict(line.split("==") for line in requirements.splitlines() if "==" in line)
    assert set(pinned) == {"numpy", "hypothesis", "nbformat", "pyyaml"}
