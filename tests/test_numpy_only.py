"""A numpy assignment on a machine without torch: every command works.

Each command runs in a subprocess whose PYTHONPATH starts with a folder
holding a fake `torch` package whose __init__.py raises ImportError, so that
`import torch` fails there exactly as where torch is not installed. The
assignment is tests/assignments/toy_numpy (a student class driven by the
harness, a data fixture, batched calls); the handout's own grade.sh and the
Autolab bundle run the same way.
"""

from __future__ import annotations

import csv
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

from conftest import NO_TORCH, no_torch_environment
from grader.starter import make_starter
from handout.solutions import fill_stubs

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "assignments" / "toy_numpy"
REFERENCE = (TOY / "reference_toy.py").read_text(encoding="utf-8")
TOTAL = re.compile(r"^total\s+([\d.]+)\s+([\d.]+)\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """The environment of a machine without torch (and with the tests' course secret)."""
    return no_torch_environment(tmp_path_factory.mktemp("no-torch"))


def run(env: dict[str, str], command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert NO_TORCH not in done.stdout + done.stderr, \
        f"{' '.join(command)} imported torch:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def grader(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(env, [sys.executable, "-m", "grader", *args])


def totals(output: str) -> tuple[float, float]:
    found = TOTAL.findall(output)
    assert found, f"no total line in:\n{output}"
    return float(found[-1][0]), float(found[-1][1])


def solution(text: str) -> str:
    return fill_stubs(text, REFERENCE)


def buggy(text: str) -> str:
    """A solution whose column_means sums instead of averaging (loses the `means` question)."""
    return solution(text).replace("return X.mean(axis=0)", "return X.sum(axis=0)")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("submissions")
    starter = make_starter(REFERENCE)
    files = {"solved": solution(starter), "starter": starter, "buggy": buggy(starter)}
    for name, text in files.items():
        (folder / name).mkdir()
        (folder / name / "toy.py").write_text(text)
    return {name: folder / name / "toy.py" for name in files}


def test_the_stand_in_really_hides_torch(env):
    done = subprocess.run([sys.executable, "-c", "import numpy, hypothesis, yaml; import torch"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "ImportError" in done.stderr and NO_TORCH in done.stderr


def test_help_lists_every_command(env):
    done = grader(env, "--help")
    assert done.returncode == 0, done.stderr
    for command in ("grade", "grade-all", "validate", "handout", "examples", "mutant"):
        assert command in done.stdout
    assert "unavailable" not in done.stderr, done.stderr


def test_grade_as_a_table_and_as_json(env, submissions):
    table = grader(env, "grade", str(TOY), str(submissions["solved"]))
    assert table.returncode == 0, table.stderr
    assert totals(table.stdout) == (30.0, 30.0)
    report = json.loads(grader(env, "grade", str(TOY), str(submissions["buggy"]), "--format", "json",
                               "--reveal", "all").stdout)
    graded = {q["name"]: q["score"] for q in report["questions"] if not q.get("manual")}
    assert graded == {"scaling": 10.0, "accumulator": 10.0, "means": 0.0}
    starter = json.loads(grader(env, "grade", str(TOY), str(submissions["starter"]), "--format", "json").stdout)
    assert starter["score"] == 0 and starter["max_score"] == 30


def test_validate_proves_the_checks(env):
    done = grader(env, "validate", str(TOY))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: the checks give full marks to the reference and catch every mutant" in done.stdout
    assert re.search(r"mutation score: (\d+)/\1 mutants caught", done.stdout), done.stdout


@pytest.fixture(scope="module")
def built(env, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built")
    done = grader(env, "handout", str(TOY), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert not (TOY / "secret.txt").exists(), "the tests' secret comes from the environment"
    return out / "toy_numpy"


def test_handout_and_bundles_speak_numpy_and_carry_the_harness_and_data(built):
    handout = built / "handout"
    for name in ("README.md", "grade.sh"):
        text = (handout / name).read_text()
        assert "numpy" in text and "torch" not in text.replace("(no torch)", ""), name
    assert (handout / "local_grader" / "public" / "harness.py").read_bytes() == (TOY / "harness.py").read_bytes()
    assert (handout / "local_grader" / "public" / "data" / "points.npz").read_bytes() == \
        (TOY / "data" / "points.npz").read_bytes()
    with tarfile.open(built / "handout.tar") as archive:
        names = archive.getnames()
    assert not any(n.endswith("reference_toy.py") for n in names)
    assert "BEGIN SOLUTION" not in (built / "handout.tar").read_bytes().decode("latin-1")

    with zipfile.ZipFile(built / "gradescope" / "autograder.zip") as bundle:
        setup = bundle.read("setup.sh").decode()
        requirements = bundle.read("requirements.txt").decode()
        zipped = set(bundle.namelist())
    assert "pip install" in setup and "torch==" not in setup and "download.pytorch.org" not in setup
    assert "import torch" not in setup and "import numpy" in setup
    assert not any(line.startswith("torch") for line in requirements.splitlines())
    with tarfile.open(built / "autolab" / "autograde.tar") as archive:
        tarred = set(archive.getnames())
    for shipped in (zipped, tarred):
        for path in ("harness.py", "data/points.npz", "reference_toy.py", "checks.py", "assignment.yaml"):
            assert f"assignments/toy_numpy/{path}" in shipped, path
        assert not any(n.startswith("handout/") for n in shipped)
    makefile = (built / "autolab" / "autograde-Makefile").read_text()
    assert "torch==" not in makefile and "numpy" in makefile
    assert "torch" not in (built / "autolab" / "README.md").read_text().replace("no torch", "")


def test_the_students_grade_sh_on_the_starter_and_a_solution(env, built, tmp_path):
    with tarfile.open(built / "handout.tar") as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp_path, filter="tar")
        else:
            archive.extractall(tmp_path)
    lab = tmp_path / "toy_numpy"
    untouched = run(env, ["./grade.sh"], cwd=lab)
    assert untouched.returncode == 0, untouched.stderr
    assert totals(untouched.stdout) == (0.0, 30.0), untouched.stdout
    assert "Accumulator.__init__: your code here" in untouched.stdout
    script = lab / "toy.py"
    script.write_text(solution(script.read_text()))
    solved = run(env, ["./grade.sh"], cwd=lab)
    assert solved.returncode == 0, solved.stderr
    assert totals(solved.stdout) == (30.0, 30.0), solved.stdout
    assert "Traceback" not in solved.stdout + solved.stderr
    handin = run(env, ["./make_handin.sh"], cwd=lab)
    assert handin.returncode == 0, handin.stderr

    # Autolab, as it runs the bundle: make in a folder with autograde.tar, the Makefile, handin.tar
    job = tmp_path / "autolab"
    job.mkdir()
    shutil.copy(built / "autolab" / "autograde.tar", job / "autograde.tar")
    shutil.copy(built / "autolab" / "autograde-Makefile", job / "Makefile")
    shutil.copy(lab / "handin.tar", job / "handin.tar")
    graded = run({k: v for k, v in env.items() if k != "GRADECHECK_SECRET"}, ["make"], cwd=job)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr
    scores = json.loads(graded.stdout.rstrip("\n").splitlines()[-1])["scores"]
    assert scores == {"scaling": 10.0, "accumulator": 10.0, "means": 10.0}


def test_replay_covers_expected_answers_of_drivers(env, tmp_path):
    """Checks that ask ctx.expected for a driver's answer on the reference: the handout
    replays the recorded answers, and still judges the student's own code."""
    copy = tmp_path / "toy_numpy"
    shutil.copytree(TOY, copy, ignore=shutil.ignore_patterns("__pycache__", "secret.txt"))
    checks = (copy / "checks.py").read_text()
    for old, new in (("10.0 + np.cumsum(values)", 'ctx.expected("accumulate", 10.0, tuple(values))'),
                     ("points.mean(axis=0)", 'ctx.expected("means_of_points")')):
        checks = checks.replace(old, new)  # (toy_numpy may already ask for one of them)
    assert 'ctx.expected("accumulate"' in checks and 'ctx.expected("means_of_points")' in checks
    (copy / "checks.py").write_text(checks)
    done = grader(env, "handout", str(copy), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    lab = tmp_path / "out" / "toy_numpy" / "handout"
    recorded = json.loads((lab / "local_grader" / "public" / "recorded.json").read_text())
    asked = {call[0] for record in recorded["checks"].values() for call in record["calls"]}
    assert {"expected:accumulate", "expected:means_of_points", "scale"} <= asked
    script = lab / "toy.py"
    starter = script.read_text()
    for text, expected in ((solution(starter), (30.0, 30.0)), (buggy(starter), (20.0, 30.0)),
                           (starter, (0.0, 30.0))):
        script.write_text(text)
        graded = run(env, ["./grade.sh"], cwd=lab)
        assert graded.returncode == 0, graded.stderr
        assert totals(graded.stdout) == expected, graded.stdout


def test_grade_all_grades_a_class(env, submissions, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, path in submissions.items():
        shutil.copy(path, folder / f"{name}.py")
    out = tmp_path / "out"
    done = grader(env, "grade-all", str(TOY), str(folder), "--out", str(out), "--jobs", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {r["student"]: float(r["total"]) for r in csv.DictReader((out / "gradebook.csv").open())}
    assert rows == {"solved": 30.0, "starter": 0.0, "buggy": 20.0}
